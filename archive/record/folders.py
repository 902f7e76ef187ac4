"""Record folders: where a number's files live, which serials a month has used, and the manifest."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from archive.errors import NotFound
from archive.settings import NumberPattern
from archive.store.atomic import write_bytes
from archive.store.hashing import sha256_bytes, sha256_file
from archive.store.layout import Layout

MANIFEST = "manifest.json"
# Versioned archive files: STEM.vN.EXT, where a document's sidecar is STEM.vN.meta.json.
VERSIONED = re.compile(r"^(?P<stem>.+)\.v(?P<v>\d+)(?P<ext>(?:\.meta)?\.[a-z]+)$")
TOMBSTONE_SUFFIX = ".tombstone.json"
_SAFE_NUMBER = re.compile(r"[A-Za-z0-9_-]{1,64}")


def period_of(received_at: str) -> dt.date:
    """The numbering period is received_at's year-month in its own UTC offset, not converted."""
    moment = dt.datetime.fromisoformat(received_at)
    return dt.date(moment.year, moment.month, 1)


def used_serials(layout: Layout, pattern: NumberPattern, period: dt.date) -> set[int]:
    """Serials of live records and of tombstones: a destroyed number still counts as used."""
    month = layout.month_dir(period.year, period.month)
    if not month.is_dir():
        return set()
    out: set[int] = set()
    for entry in month.iterdir():
        name = entry.name.removesuffix(TOMBSTONE_SUFFIX)
        serial = pattern.serial_of(name)
        if serial is not None and pattern.format(period, serial) == name:
            out.add(serial)
    return out


def record_dirs(layout: Layout) -> list[Path]:
    if not layout.records.is_dir():
        return []
    return sorted((p for p in layout.records.glob("[0-9]*/[0-9]*/*") if p.is_dir()), key=lambda p: p.name)


def find_record(layout: Layout, number: str) -> Path:
    if not _SAFE_NUMBER.fullmatch(number):
        raise NotFound(f"{number!r} is not a case number")
    hits = [p for p in layout.records.glob(f"[0-9]*/[0-9]*/{number}") if p.is_dir()]
    if not hits:
        raise NotFound(f"case {number} not found")
    return hits[0]


def tombstones(layout: Layout) -> list[Path]:
    if not layout.records.is_dir():
        return []
    return sorted(layout.records.glob(f"[0-9]*/[0-9]*/*{TOMBSTONE_SUFFIX}"))


def manifest_bytes(record: Path, number: str, previous: list[dict[str, Any]] | None = None) -> bytes:
    """Every file the record folder holds (but the manifest itself), with size and SHA-256.

    With ``previous`` (the entries of the manifest being replaced), those entries are carried over as they
    are and only files new since then are hashed: an archived file is never re-read into a new manifest,
    so a change made behind the archive's back is not blessed by the next sanctioned change (verify still
    reports it), and large attachments are not hashed again on every update."""
    known = {f["path"]: f for f in previous or []}
    files = list(known.values())
    for p in sorted(record.rglob("*")):
        rel = p.relative_to(record).as_posix()
        if p.is_file() and p.name != MANIFEST and not p.name.startswith(".") and rel not in known:
            files.append({"path": rel, "size": p.stat().st_size, "sha256": sha256_file(p)})
    files.sort(key=lambda f: str(f["path"]))
    doc = {"number": number, "files": files}
    return (json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def write_manifest(record: Path, number: str) -> str:
    data = manifest_bytes(record, number)
    write_bytes(record / MANIFEST, data)
    return sha256_bytes(data)


def read_manifest(record: Path) -> dict[str, Any]:
    return dict(json.loads((record / MANIFEST).read_text(encoding="utf-8")))


def next_version(folder: Path, stem: str, suffix: str) -> int:
    """Next free version for files named ``{stem}.v{N}{suffix}``; versions are never reused."""
    pat = re.compile(re.escape(stem) + r"\.v(\d+)" + re.escape(suffix) + r"$")
    found = [int(m.group(1)) for p in folder.glob(f"{stem}.v*{suffix}") if (m := pat.match(p.name))]
    return max(found, default=0) + 1
