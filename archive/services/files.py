"""One file of a case's record for a download: only a path its manifest lists, found by looking the request's
path up in the manifest (never by joining an unchecked path), its bytes proven to be the ones the manifest
hashed; and, for a reader who may not see personal data, the masked form of it or a refusal. Reading only:
a masked form is rendered in a temporary folder outside the root."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.errors import InputError, NotFound, StateError
from archive.record import folders
from archive.record import grammar as g
from archive.record import reader as casefile
from archive.services.archive import Archive
from archive.store.hashing import sha256_bytes
from archive.store.manifest import MANIFEST, read_manifest

WHERE = "下载"


@dataclass(frozen=True)
class Served:
    path: str  # as the manifest lists it
    name: str  # the file name a browser saves it under
    data: bytes
    masked: bool = False


def check_path(path: str) -> None:
    """A request's path that cannot name a file of a record is refused before anything is looked up."""
    bad = ("\x00" in path or "\\" in path or path.startswith("/") or path[1:3] == ":/"
           or any(part in ("", ".", "..") for part in path.split("/")))
    if bad:
        raise InputError(WHERE, "path", f"{path!r} 不是案件文件的路径(不允许 ..、绝对路径、反斜杠或空字符)")


def _read(record: Path, rel: str) -> bytes:
    """The bytes of a listed file, refusing a symlink anywhere on its way and anything outside the record."""
    target = record
    for part in rel.split("/"):
        target = target / part
        try:
            mode = os.lstat(target).st_mode
        except OSError:
            raise StateError(f"{rel}: 清单中列出的文件不存在;请运行 `archive verify` 检查案卷") from None
        if stat.S_ISLNK(mode):
            raise StateError(f"{rel}: 是符号链接,拒绝读取;请运行 `archive verify` 检查案卷")
    if not stat.S_ISREG(mode):
        raise StateError(f"{rel}: 不是普通文件;请运行 `archive verify` 检查案卷")
    fd = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


def record_file(arc: Archive, number: str, path: str) -> Served:
    """The listed file ``path`` of case ``number``, after proving its SHA-256 is the manifest's. The manifest
    itself (not listed in itself) may be fetched too; verify proves it against the audit log."""
    check_path(path)
    record = folders.find_record(arc.layout, number, zone=arc.settings.zone)
    name = f"{number}-{path.rsplit('/', 1)[-1]}"
    if path == MANIFEST:
        return Served(MANIFEST, name, _read(record, MANIFEST))
    entries = {str(f["path"]): f for f in read_manifest(record)["files"]}
    entry = entries.get(path)
    if entry is None:
        raise NotFound(f"案件 {number} 的清单中没有文件 {path!r}")
    rel = str(entry["path"])
    data = _read(record, rel)
    if sha256_bytes(data) != entry["sha256"]:
        raise StateError(f"{rel}: 文件内容与清单的 SHA-256 不符,已拒绝下载;请运行 `archive verify {number}` "
                         "检查案卷")
    return Served(rel, name, data)


# ------------------------------------------------------------------------------------------------- masking

def _names(view: casefile.CaseView) -> list[str]:
    case = view.case
    names = [str(case.get("complainant", {}).get("name") or "")]
    patient = case.get("patient")
    if isinstance(patient, dict) and patient.get("name"):
        names.append(str(patient["name"]))
    return [n for n in names if n.strip()]


def masked_record(record: dict[str, Any]) -> dict[str, Any]:
    """case.json (or intake.json, a bare case) with personal fields and free text masked."""
    from archive.privacy.mask import mask_case, mask_update

    if "case" not in record:
        return mask_case(record)
    names = _names(casefile.CaseView(Path(), record))
    out = mask_update({k: v for k, v in record.items() if k != "case"}, names)
    out["case"] = mask_case(record["case"])
    return {k: out[k] for k in record}


def _masked_view(view: casefile.CaseView, stage_versions: dict[str, int]) -> casefile.CaseView:
    """The case as it stood for a rendered version (its stage versions), every personal datum masked."""
    from archive.privacy.mask import mask_update

    names = _names(view)
    stages = {}
    for name, version in stage_versions.items():
        data = json.loads((view.path / g.STAGES_DIR / g.versioned(name, int(version), ".json")).read_text(
            encoding="utf-8"))
        stages[name] = mask_update(data, names)
    holds = {k: mask_update(h, names) for k, h in view.holds.items()}
    return casefile.CaseView(view.path, masked_record(view.record), stages, dict(stage_versions),
                             dict(view.documents), holds)


# Masked forms made lately, by what they are made from (the record's manifest names every file's hash, the
# settings the organisation's name): an inspector's case page frames its PDFs on each visit, and LibreOffice
# takes seconds. Memory of this process only; nothing is written.
_MADE: OrderedDict[tuple[str, ...], bytes] = OrderedDict()
_MADE_MAX = 32
_made_lock = threading.Lock()


def _masked_form(arc: Archive, view: casefile.CaseView, rel: str) -> bytes:
    key = (str(arc.layout.root), view.number, rel, sha256_bytes((view.path / MANIFEST).read_bytes()),
           sha256_bytes(arc.settings_bytes or b""))
    with _made_lock:
        if key in _MADE:
            _MADE.move_to_end(key)
            return _MADE[key]
    data = _render_masked(arc, view, rel)
    with _made_lock:
        _MADE[key] = data
        while len(_MADE) > _MADE_MAX:
            _MADE.popitem(last=False)
    return data


# Printed beside the version on a masked copy: an inspector must not take it for the controlled original.
MASKED_MARK = "脱敏副本,非受控原件"


def _render_masked(arc: Archive, view: casefile.CaseView, rel: str) -> bytes:
    """A .docx or .pdf of the record rendered again from the masked case, in a folder outside the root."""
    from archive.documents import pdf
    from archive.documents import render as documents
    from archive.documents.templates import load
    from archive.integrity import signing

    docx = rel.removesuffix(".pdf") + ".docx" if rel.endswith(".pdf") else rel
    doc_id = g.document_id(docx)
    meta_path = view.path / documents.meta_name(docx)
    m = g.VERSIONED.match(docx.rsplit("/", 1)[-1])
    if doc_id is None or m is None or not meta_path.is_file():
        raise StateError(f"{rel}: 无法生成脱敏版本(缺少文件说明),已拒绝下载;可下载原件的角色见系统管理员")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    wanted = meta.get("template") or {}
    template = next((t for t in load(arc.layout.templates) if t.id == wanted.get("id")
                     and t.version == wanted.get("version") and t.sha256 == wanted.get("sha256")), None)
    if template is None:
        raise StateError(f"{rel}: 生成该文件的模板版本已不在模板登记中,无法生成脱敏版本,已拒绝下载")
    carried = signing.carried(view.path, doc_id, str(meta.get("content_sha256")))
    shown = {k: signing.display(r, arc.settings.zone) for k, r in carried.items()
             if k in set(meta.get("signatures") or [])}
    masked = _masked_view(view, meta.get("stage_versions") or {})
    data = documents.render_copy(arc.layout.templates, masked, template, arc.settings.organisation,
                                 int(m.group("v")), shown or None, arc.settings, mark=MASKED_MARK)
    if not rel.endswith(".pdf"):
        return data
    work = Path(tempfile.mkdtemp(prefix="archive-masked-"))
    try:
        source = work / docx.rsplit("/", 1)[-1]
        source.write_bytes(data)
        out = pdf.convert([source], work / "pdf", timeout=arc.settings.pdf_timeout)
        return out[0].read_bytes()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def masked_file(arc: Archive, served: Served, number: str, who_may: str) -> Served:
    """What a reader without personal data gets of a file: JSON masked, a form rendered again masked, a
    signature, a form's description or the manifest as it is; attachments (photos, letters) refused, their
    personal data cannot be masked. ``who_may``: the roles that may download the original, for the refusal."""
    from archive.privacy.mask import mask_text, mask_update

    rel = served.path
    top = rel.split("/", 1)[0]
    if top == g.SIGNATURES_DIR or rel.endswith(".meta.json"):
        return served
    view = casefile.load(folders.find_record(arc.layout, number, zone=arc.settings.zone))
    stem, dot, ext = served.name.rpartition(".")
    masked_name = f"{stem}-脱敏.{ext}" if dot else f"{served.name}-脱敏"
    if rel == MANIFEST:
        # The customer named the attachments (钱多多-13912345678.txt): their paths masked, the hashes kept.
        manifest = json.loads(served.data.decode("utf-8"))
        for entry in manifest.get("files", []):
            if str(entry.get("path", "")).startswith(g.ATTACHMENTS_DIR + "/"):
                entry["path"] = mask_text(entry["path"], _names(view))
        body = json.dumps(manifest, ensure_ascii=False, indent=1) + "\n"
        return Served(rel, masked_name, body.encode("utf-8"), True)
    if rel in (g.CASE_FILE, g.INTAKE_FILE):
        text = served.data.decode("utf-8")
        masked = masked_record(json.loads(text))
        indent = 1 if text.startswith("{\n") else None
        body = json.dumps(masked, ensure_ascii=False, indent=indent) + ("\n" if text.endswith("\n") else "")
        return Served(rel, masked_name, body.encode("utf-8"), True)
    if top in (g.STAGES_DIR, g.HOLDS_DIR) and rel.endswith(".json"):
        masked = mask_update(json.loads(served.data.decode("utf-8")), _names(view))
        return Served(rel, masked_name, (json.dumps(masked, ensure_ascii=False, indent=1) + "\n").encode("utf-8"),
                      True)
    if top == g.DOCUMENTS_DIR and rel.endswith((".docx", ".pdf")):
        return Served(rel, masked_name, _masked_form(arc, view, rel), True)
    raise StateError(f"{rel}: 附件及其文本含无法脱敏的个人信息,您的角色不能下载;{who_may}可以下载")
