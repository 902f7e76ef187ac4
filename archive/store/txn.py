"""One change to the archive as a journaled transaction, so a killed process is rolled back or forward.

The commit point is the record's manifest: once the manifest on disk has the hash the journal names,
the change happened, and recovery finishes it (audit entry, register row). Before that, recovery
removes what the change had begun to write. Only one process writes at a time (the archive lock).
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from archive.record.folders import MANIFEST
from archive.store import audit
from archive.store.atomic import write_bytes
from archive.store.hashing import sha256_file
from archive.store.layout import Layout

# Folders of a published record that later changes add files to; nothing else in a record ever changes.
CHANGEABLE = ("stages", "documents", "signatures")


@dataclass
class Journal:
    action: str
    number: str
    record: str  # record folder, relative to the root
    manifest_sha256: str
    audit: dict[str, Any]  # keyword arguments of audit.append, less op
    staging: str | None = None  # temporary folder that becomes the record (intake)
    # "record": a change to a record folder, committed by its manifest. "file": one new file outside any
    # record (a key, a retirement, a checkpoint); `record` is then its path and `manifest_sha256` its hash.
    kind: str = "record"
    op: str = field(default_factory=lambda: uuid.uuid4().hex)


def new_op_id() -> str:
    return uuid.uuid4().hex


def begin(layout: Layout, journal: Journal) -> None:
    data = json.dumps(asdict(journal), ensure_ascii=False, sort_keys=True).encode("utf-8")
    write_bytes(layout.journal, data)


def commit(layout: Layout, journal: Journal, refresh: Callable[[str], None]) -> dict[str, Any]:
    entry = audit.append(layout.audit_log, op=journal.op, **journal.audit)
    if journal.kind == "record":
        refresh(journal.number)
    layout.journal.unlink()
    return entry


def _committed(layout: Layout, j: Journal) -> bool:
    target = layout.root / j.record if j.kind == "file" else layout.root / j.record / MANIFEST
    return target.is_file() and sha256_file(target) == j.manifest_sha256


def recover(layout: Layout, refresh: Callable[[str], None]) -> str | None:
    """Finish or undo a change a dead process left behind. Returns what was done, for the caller to say."""
    outcome = None
    if layout.audit_log.exists():
        audit.drop_torn_tail(layout.audit_log)
    if layout.journal.exists():
        try:
            j = Journal(**json.loads(layout.journal.read_text(encoding="utf-8")))
        except (ValueError, TypeError):
            # A journal is written atomically, so an unreadable one is not ours to interpret.
            raise RuntimeError(f"{layout.journal}: unreadable journal; inspect it by hand") from None
        if _committed(layout, j):
            last = audit.last_entry(layout.audit_log) if layout.audit_log.exists() else None
            if last is None or last.get("op") != j.op:
                audit.append(layout.audit_log, op=j.op, **j.audit)
            if j.kind == "record":
                refresh(j.number)
            outcome = f"finished interrupted {j.action} of {j.number or j.record}"
        else:
            record = layout.root / j.record
            if j.kind == "record" and record.is_dir() and (record / MANIFEST).is_file():
                _remove_unlisted(record)
            outcome = f"rolled back interrupted {j.action} of {j.number or j.record}"
        layout.journal.unlink()
    if layout.work.exists():
        # Nothing under .work is referenced once no journal is open: staging folders of dead writers.
        for child in layout.work.iterdir():
            shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
    return outcome


def _remove_unlisted(record: Path) -> None:
    """Undo an uncommitted change to a published record: its new files are those the manifest lacks."""
    listed = {f["path"] for f in json.loads((record / MANIFEST).read_text(encoding="utf-8"))["files"]}
    for folder in CHANGEABLE:
        for path in sorted((record / folder).rglob("*")) if (record / folder).is_dir() else ():
            rel = path.relative_to(record).as_posix()
            if path.is_file() and rel not in listed:
                path.unlink()


def staging_dir(layout: Layout, op: str) -> Path:
    path = layout.work / op
    path.mkdir(parents=True)
    return path
