"""Record folders: where a number's files live, and which serials a month has used."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from archive.errors import NotFound
from archive.record.grammar import TOMBSTONE_SUFFIX
from archive.settings import NumberPattern
from archive.store.layout import Layout

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


def number_taken(layout: Layout, number: str) -> bool:
    """A live record or a tombstone holds ``number`` in any year's folder."""
    return any(layout.records.glob(f"[0-9]*/[0-9]*/{number}")) or \
        any(layout.records.glob(f"[0-9]*/[0-9]*/{number}{TOMBSTONE_SUFFIX}"))


def record_dirs(layout: Layout) -> list[Path]:
    if not layout.records.is_dir():
        return []
    return sorted((p for p in layout.records.glob("[0-9]*/[0-9]*/*") if p.is_dir()), key=lambda p: p.name)


def find_record(layout: Layout, number: str, zone: dt.tzinfo | None = None) -> Path:
    """The folder of a live case; a destroyed one is answered from its tombstone (NotFound all the same: the
    case cannot be read or changed, but the number was given and its end is on record)."""
    if not _SAFE_NUMBER.fullmatch(number):
        raise NotFound(f"{number!r} is not a case number")
    hits = [p for p in layout.records.glob(f"[0-9]*/[0-9]*/{number}") if p.is_dir()]
    if not hits:
        tomb = next(iter(layout.records.glob(f"[0-9]*/[0-9]*/{number}{TOMBSTONE_SUFFIX}")), None)
        if tomb is not None:
            raise NotFound(_destroyed(number, tomb, zone))
        raise NotFound(f"case {number} not found")
    return hits[0]


def _destroyed(number: str, tombstone: Path, zone: dt.tzinfo | None) -> str:
    from archive import clock

    try:
        data = json.loads(tombstone.read_text(encoding="utf-8"))
        when, cert = str(data["destroyed_at"]), str(data["certificate"])
    except (OSError, ValueError, KeyError, TypeError):
        return f"case {number} was destroyed; its tombstone {tombstone.name} cannot be read"
    return f"case {number} was destroyed on {clock.local_text(when, zone or dt.UTC)} under certificate {cert}"


def tombstones(layout: Layout) -> list[Path]:
    if not layout.records.is_dir():
        return []
    return sorted(layout.records.glob(f"[0-9]*/[0-9]*/*{TOMBSTONE_SUFFIX}"))


def next_version(folder: Path, stem: str, suffix: str) -> int:
    """Next free version for files named ``{stem}.v{N}{suffix}``; versions are never reused."""
    pat = re.compile(re.escape(stem) + r"\.v(\d+)" + re.escape(suffix) + r"$")
    found = [int(m.group(1)) for p in folder.glob(f"{stem}.v*{suffix}") if (m := pat.match(p.name))]
    return max(found, default=0) + 1
