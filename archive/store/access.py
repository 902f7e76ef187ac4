"""The access register (查阅登记, audit/access.jsonl): who viewed, downloaded, searched or exported what, from
which address. One canonical JSON line per entry, hash-chained with the audit log's own helpers; appended only
by txn.record_access under the register's own lock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archive import vocab
from archive.store import audit

# Every entry has every key (null where it does not apply), so a reader never guesses.
FIELDS = ("login", "name", "role", "address", "action", "number", "path", "query", "detail")


def append(path: Path, fields: dict[str, Any]) -> dict[str, Any]:
    """Append one entry; a torn tail (a writer killed mid-line) is first cut and recorded by an entry in the
    same person's name, as the audit log does. The caller holds the register's lock."""
    if set(fields) != set(FIELDS):
        raise ValueError(f"an access entry has exactly the fields {', '.join(FIELDS)}")
    if fields["action"] not in vocab.ACCESS_ACTION:
        raise ValueError(f"unknown access action {fields['action']!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tail = audit.cut_torn_tail(path)
    if tail is not None:
        audit.chain(path, {**fields, "action": "tail-dropped", "number": None, "path": None, "query": None,
                           "detail": f"dropped {len(tail)} bytes after the last whole line",
                           **audit.dropped(tail)})
    return audit.chain(path, fields)


def read(path: Path) -> list[dict[str, Any]]:
    """Every readable entry in order (an unreadable line is verify's to report, not a reader's to fail on)."""
    return [entry for raw in audit.read_lines(path) if (entry := audit.parse_entry(raw)) is not None]
