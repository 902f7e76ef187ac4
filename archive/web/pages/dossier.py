"""The inspector's dossier (检查档案) on the web: the cases picked by number or by a search query, exported by
the CLI's dossier service (one bookmarked PDF and a BagIt bag of the signed originals) into a temporary folder
outside the root, sent as one .zip, and removed. The originals are signed and cannot be masked, so a role that
does not see personal data is refused the export, with the setting that would allow it."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile
from starlette.responses import FileResponse, Response

from archive import clock, vocab
from archive.errors import InputError
from archive.web.routing import Ctx, page

if TYPE_CHECKING:
    from archive.integrity.signing import Credential

KEY_MAX_BYTES = 64 * 1024  # a private key file is a few hundred bytes


def refusal(ctx: Ctx) -> str | None:
    """Why this person may not export (None: they may)."""
    if ctx.sees_personal_data:
        return None
    role = vocab.ROLE.get(ctx.user.role, ctx.user.role) if ctx.user else ""
    return (f"{role}不能导出检查档案:档案中的原始记录已签名,无法脱敏后导出。如需允许,请系统管理员在 archive.toml 的 "
            "[web] see_personal_data 中加入该角色,并执行 archive settings apply")


@page("/dossier", "dossier")
def dossier_form(ctx: Ctx) -> Response:
    return ctx.page("dossier.html", title="检查档案导出", refused=refusal(ctx), numbers="", query="")


def _numbers(text: str) -> list[str]:
    return [n for n in re.split(r"[\s,,、;;]+", text) if n]


def _credential(ctx: Ctx, work: Path) -> Credential | None:
    """The signer's key from the form, opened with its passphrase. The file is written only because the key
    reader takes a path: into a private temporary folder (0600), and deleted before the export begins; neither
    the key nor the passphrase is kept."""
    from archive.integrity.signing import open_credential

    upload = ctx.form.get("key") if ctx.form is not None else None
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    data = upload.file.read(KEY_MAX_BYTES + 1)
    if not data:
        return None
    if len(data) > KEY_MAX_BYTES:
        raise InputError("检查档案", "key", "私钥文件过大,不是本档案的签名密钥文件")
    passphrase = ctx.field("passphrase")
    if not passphrase:
        raise InputError("检查档案", "passphrase", "用私钥签名须填写该私钥的口令")
    path = work / "signer.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        arc = ctx.arc
        return open_credential(arc.layout.keys, path, passphrase, arc.settings.zone)
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@page("/dossier", "dossier", methods=("POST",))
def dossier_export(ctx: Ctx) -> Response:
    from archive.services.dossier import export

    why = refusal(ctx)
    if why is not None:
        return ctx.page("error.html", 403, message=why, title="检查档案导出被拒绝")
    numbers, query = _numbers(ctx.field("numbers")), ctx.field("query").strip() or None
    if bool(numbers) == (query is not None):
        raise InputError("检查档案", "numbers/query", "请填写投诉编号或检索条件,二者选其一,未做任何导出")
    work = Path(tempfile.mkdtemp(prefix="archive-web-dossier-"))  # mode 0700, outside the root
    try:
        cred = _credential(ctx, work)
        arc = ctx.writer()
        if cred is not None:
            arc.acting_as(cred.signer.name, cred.signer.title, cred.signer.id,
                          "检查档案的 PDF 签名是密钥所有人本人的行为,须由其本人登录导出")
        stamp = clock.utc_now().replace(":", "").replace("-", "")[:15]
        folder = work / f"dossier-{stamp}"
        result = export(arc, numbers, query, folder, include_versions=ctx.field("include_versions") == "1",
                        signer=cred)
        bundle = work / f"{folder.name}.zip"
        with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(folder.rglob("*")):
                zf.write(path, path.relative_to(work).as_posix())
        shutil.rmtree(folder)
        cases = result["cases"]
        ctx.log("export", number=cases[0] if len(cases) == 1 else None,
                detail=f"检查档案 {len(cases)} 件:{' '.join(cases)}" + (f"(检索 {query})" if query else ""))
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return FileResponse(bundle, media_type="application/zip", filename=bundle.name,
                        content_disposition_type="attachment", headers=ctx.headers,
                        background=BackgroundTask(shutil.rmtree, work, ignore_errors=True))
