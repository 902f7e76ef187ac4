"""GET/POST /cases/NUMBER/sign: sign a case's current documents with a meaning (起草, 审核, 批准), the private
key uploaded (field `key`, the PEM `archive keys create --out` writes) and its passphrase typed (field
`passphrase`). Key and passphrase live in this request's memory only: opened by
signing.open_credential_bytes, never written to disk, logged, kept in the session or shown in a page. The rules
are `archive sign`'s (services.signatures.sign): a certified key, owned by the logged-in person, the meanings in
order, one person not two meanings."""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import JSONResponse, Response

from archive import vocab
from archive.errors import ArchiveError, InputError, NotFound, StorageError
from archive.web import staging
from archive.web.routing import Ctx, page

# A PEM Ed25519 key is under 1 KB; anything much larger is not a key (and would be spooled to disk by the
# form parser past 1 MB, which the key must never be).
KEY_MAX_BYTES = 64 * 1024


def _documents(ctx: Ctx, number: str) -> list[dict[str, Any]]:
    """The case's current documents, each with its title and what is signed on its content (NotFound → 404)."""
    from archive.documents import templates
    from archive.integrity import approvals
    from archive.record import folders
    from archive.record import reader as casefile

    view = casefile.load(folders.find_record(ctx.arc.layout, number))
    titles = {t.id: t.title for t in templates.load(ctx.arc.layout.templates)}
    return [{"id": doc_id, "title": titles.get(doc_id, doc_id), "file": s["document"],
             "version": _version(s["document"]),
             "signed": {m: r["name"] for m, r in s["signed"].items()}, "unsigned": s["unsigned"],
             "lapsed": s["approval_lapsed"]}
            for doc_id, s in approvals.status(view).items()]


def _version(document: str) -> str:
    found = re.search(r"\.v(\d+)\.docx$", document)
    return found.group(1) if found else "?"


def _page(ctx: Ctx, number: str, status: int = 200, problem: str = "") -> Response:
    chosen = ctx.form.getlist("document") if ctx.form is not None else []
    return ctx.page("sign.html", status, title=f"电子签名 {number}", number=number,
                    documents=_documents(ctx, number), chosen=[c for c in chosen if isinstance(c, str)],
                    meaning=ctx.field("meaning"), meanings={m: vocab.MEANING[m] for m in vocab.DOCUMENT_MEANINGS},
                    problem=problem)


@page("/cases/{number}/sign", "sign")
def sign_form(ctx: Ctx) -> Response:
    return _page(ctx, ctx.request.path_params["number"])


@page("/cases/{number}/sign", "sign", methods=("POST",))
def sign(ctx: Ctx) -> Response:
    number = ctx.request.path_params["number"]
    documents = _documents(ctx, number)
    try:
        made, signer = _sign(ctx, number)
    except (NotFound, StorageError):
        raise
    except ArchiveError as exc:  # a wrong passphrase, a key not this person's, out of order: one line, 400
        if ctx.wants_json:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return _page(ctx, number, 400, problem=str(exc))
    if ctx.wants_json:
        return JSONResponse({"number": number, "files": made})  # `archive sign --json`
    titles = {d["id"]: d["title"] for d in documents}
    chosen = [titles.get(d, d) for d in _chosen(ctx)]
    return ctx.redirect(f"/cases/{number}", f"已签名:{'、'.join(chosen)}({vocab.MEANING[ctx.field('meaning')]}),"
                                            f"签名人 {signer}")


def _chosen(ctx: Ctx) -> list[str]:
    values = ctx.form.getlist("document") if ctx.form is not None else []
    return [v for v in values if isinstance(v, str) and v]


def _sign(ctx: Ctx, number: str) -> tuple[list[str], str]:
    from archive.integrity.signing import open_credential_bytes
    from archive.services.signatures import sign as do_sign

    chosen = _chosen(ctx)
    if not chosen:
        raise InputError("签名", "document", "请至少选择一份文件")
    meaning = ctx.field("meaning")
    if meaning not in vocab.DOCUMENT_MEANINGS:
        raise InputError("签名", "meaning", f"请选择签名含义:{vocab.listing(vocab.MEANING, vocab.DOCUMENT_MEANINGS)}")
    keys = staging.uploads(ctx.form, "key")
    if len(keys) != 1:
        raise InputError("签名", "key", "请上传一个私钥文件(archive keys create --out 写出的 PEM 文件)")
    keys[0].file.seek(0)
    pem = keys[0].file.read(KEY_MAX_BYTES + 1)
    if len(pem) > KEY_MAX_BYTES:
        raise InputError("签名", "key", "不是私钥文件(过大)")
    arc = ctx.writer()
    cred = open_credential_bytes(arc.layout.keys, pem, ctx.field("passphrase"),
                                 staging.safe_name(keys[0].filename, "key.pem"), arc.settings.zone)
    return do_sign(arc, number, cred, meaning, chosen), f"{cred.signer.title} {cred.signer.name}"
