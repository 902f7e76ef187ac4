"""A folder's manifest: every file it holds (but the manifest itself) with size and SHA-256."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from archive.store.atomic import is_temp_name, write_bytes
from archive.store.hashing import sha256_bytes, sha256_file

MANIFEST = "manifest.json"


def manifest_bytes(folder: Path, number: str, previous: list[dict[str, Any]] | None = None) -> bytes:
    """With ``previous`` (the entries of the manifest being replaced), those entries are carried over as they
    are and only files new since then are hashed: an archived file is never re-read into a new manifest,
    so a change made behind the archive's back is not blessed by the next sanctioned change (verify still
    reports it), and large attachments are not hashed again on every update."""
    known = {f["path"]: f for f in previous or []}
    files = list(known.values())
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        # Every file of the folder, dotfiles too (an attachment may be named ".hidden.txt"); only a temp file
        # of an atomic write in progress or left by a killed writer is not content (no archived file has its name).
        if p.is_file() and rel != MANIFEST and not is_temp_name(p.name) and rel not in known:
            files.append({"path": rel, "size": p.stat().st_size, "sha256": sha256_file(p)})
    files.sort(key=lambda f: str(f["path"]))
    doc = {"number": number, "files": files}
    return (json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def write_manifest(folder: Path, number: str) -> str:
    data = manifest_bytes(folder, number)
    write_bytes(folder / MANIFEST, data)
    return sha256_bytes(data)


def read_manifest(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / MANIFEST).read_text(encoding="utf-8")))


def listed(folder: Path) -> set[str]:
    return {str(f["path"]) for f in read_manifest(folder)["files"]}
