"""Uploaded case and stage files go through the CLI's own path: written to a temporary folder outside the
archive root (the system's temp folder), then read by services' `prepare(path)` as a file named on the command
line would be. The folder is removed when the request ends, whatever happened."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath, PureWindowsPath

from starlette.datastructures import FormData, UploadFile

from archive.errors import InputError


@contextmanager
def folder(root: Path) -> Iterator[Path]:
    made = Path(tempfile.mkdtemp(prefix="archive-web-"))
    try:
        # The archive's own temp rules (and its snapshot in tests) must never see an upload.
        if made.resolve().is_relative_to(root.resolve()):
            raise InputError("upload", "$", "the system's temp folder lies inside the archive root; set TMPDIR")
        yield made
    finally:
        shutil.rmtree(made, ignore_errors=True)


def safe_name(filename: str | None, default: str) -> str:
    """The last part of a browser's file name (some send C:\\...\\x.json); nothing that could name a folder."""
    name = PureWindowsPath(PurePosixPath(filename or "").name).name
    if name in ("", ".", "..") or "\x00" in name or name.startswith("."):
        return default
    return name


def uploads(form: FormData | None, field: str) -> list[UploadFile]:
    """The files sent in ``field``; a file input left empty sends a part without a name, which is no file."""
    if form is None:
        return []
    return [u for u in form.getlist(field) if isinstance(u, UploadFile) and u.filename]


def copy(upload: UploadFile, dest: Path) -> None:
    upload.file.seek(0)
    with dest.open("xb") as out:
        shutil.copyfileobj(upload.file, out, 1 << 20)


def place(tmp: Path, name: str, raw: bytes, attachments: list[UploadFile]) -> Path:
    """The case file at tmp/name and each attachment where the file's attachments[].path expects it: a
    relative path whose file name is the upload's (attachments/letter.pdf), else beside the case file. Where a
    path would leave the folder the file is put beside it, and intake refuses the path as the CLI does."""
    path = tmp / name
    path.write_bytes(raw)
    wanted = _attachment_paths(raw)
    for upload in attachments:
        upload_name = safe_name(upload.filename, "")
        if not upload_name:
            continue
        targets = [p for p in wanted if p.name == upload_name] or [PurePosixPath(upload_name)]
        for rel in targets:
            dest = tmp.joinpath(*rel.parts)
            if dest.exists() or dest == path:
                continue
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
                copy(upload, dest)
            except OSError:  # a path through the case file itself, say: intake names the missing attachment
                continue
    return path


def _attachment_paths(raw: bytes) -> list[PurePosixPath]:
    """attachments[].path of the file, only those that stay inside the folder; read loosely (prepare judges
    the file, this only decides where an uploaded attachment is put)."""
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return []
    items = doc.get("attachments") if isinstance(doc, dict) else None
    out = []
    for item in items if isinstance(items, list) else []:
        raw_path = item.get("path") if isinstance(item, dict) else None
        if not isinstance(raw_path, str) or not raw_path or "\x00" in raw_path or "\\" in raw_path:
            continue
        rel = PurePosixPath(raw_path)
        if rel.is_absolute() or any(part in ("..", ".", "") for part in rel.parts):
            continue
        out.append(rel)
    return out
