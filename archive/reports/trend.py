"""Complaint trends (投诉趋势分析): counts per month by product, lot, category, customer or department, and the two
flags of a periodic trend review: a key whose complaints within a rolling window reach the [trend] threshold, and a
root cause that investigations found again and again. 药品生产质量管理规范 2010 第二百七十七条 and EU GMP chapter 8
ask for this review because a recurring problem may call for a recall.

Figures come from the record folders alone (live cases, and tombstones for destroyed ones: a destroyed case is
counted as destroyed, not dropped), so the same archive state and arguments always give the same figures."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive import vocab
from archive.errors import InputError
from archive.record import folders
from archive.record import reader as casefile
from archive.record.grammar import TOMBSTONE_SUFFIX
from archive.record.reader import CaseView
from archive.settings import Settings
from archive.store.layout import Layout

# Keys of cases the field says nothing about; counted in the table, never flagged (no product to recall).
UNKNOWN = "(none)"
DESTROYED = "(destroyed)"
PSEUDO_LABELS = {UNKNOWN: "(未填写)", DESTROYED: "(已销毁,明细不再保存)"}
BASIS = ("趋势回顾:定期回顾投诉,查找重复出现的问题及趋势,判断是否需要从市场召回药品"
         "(药品生产质量管理规范 2010 年修订 第二百七十七条;EU GMP 第 8 章)")
_MONTH = re.compile(r"\d{4}-\d{2}")
# Separators of what one person wrote as the end of a cause; dropped so "偏低。" and "偏低" are one cause.
_TRAILING = "。.;;,,、!!"


@dataclass(frozen=True)
class Entry:
    """One case as the trend counts it: its number, month of receipt, keys under --by and root cause."""
    number: str
    month: str
    keys: tuple[str, ...]
    root_cause: str | None


def month(option: str, value: str) -> str:
    if not _MONTH.fullmatch(value):
        raise InputError("command line", option, f"{value!r} is not a month YYYY-MM")
    try:
        dt.date.fromisoformat(value + "-01")
    except ValueError:
        raise InputError("command line", option, f"{value!r} is not a month YYYY-MM") from None
    return value


def by_key(value: str) -> str:
    key = vocab.key_of(vocab.TREND_BY, value)
    if key is None:
        raise InputError("command line", "--by", f"{value!r} is not one of: {vocab.listing(vocab.TREND_BY)}")
    return key


def months(start: str, end: str) -> list[str]:
    year, mon = int(start[:4]), int(start[5:])
    out = []
    while (text := f"{year:04d}-{mon:02d}") <= end:
        out.append(text)
        year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return out


def normalised_cause(text: str) -> str:
    """The same cause typed with other spaces, full- or half-width characters, case or a final full stop."""
    folded = "".join(unicodedata.normalize("NFKC", text).split()).casefold()
    return folded.rstrip(_TRAILING)


def _value(text: Any) -> str:
    return str(text).strip() if isinstance(text, str) and text.strip() else UNKNOWN


def keys_of(view: CaseView, by: str) -> tuple[str, ...]:
    case = view.case
    product = case.get("product") or {}
    if by == "department":
        return tuple(dict.fromkeys(_value(d) for d in view.departments)) or (UNKNOWN,)
    if by == "category":
        return (view.category,)
    if by == "customer":
        complainant = case.get("complainant") or {}
        return (_value(complainant.get("organization") or complainant.get("name")),)
    return (_value(product.get("name" if by == "product" else "lot")),)


def _in_range(path: Path, periods: set[str]) -> bool:
    """records/YYYY/MM/...: the folder's month is the month of receipt, so other months are never opened."""
    return f"{path.parent.parent.name}-{path.parent.name}" in periods


def entries(layout: Layout, periods: list[str], by: str) -> Iterator[Entry]:
    wanted = set(periods)
    for folder in folders.record_dirs(layout):
        if not _in_range(folder, wanted):
            continue
        view = casefile.load(folder)
        received = str(view.case["received_at"])[:7]
        if received not in wanted:
            continue
        cause = view.stages.get("investigation", {}).get("data", {}).get("root_cause")
        yield Entry(view.number, received, keys_of(view, by),
                    cause if isinstance(cause, str) and cause.strip() else None)
    for tomb in folders.tombstones(layout):
        if not _in_range(tomb, wanted):
            continue
        data = _tombstone(tomb)
        received = str(data.get("received_month") or f"{tomb.parent.parent.name}-{tomb.parent.name}")
        if received in wanted:
            key = str(data.get("category") or UNKNOWN) if by == "category" else DESTROYED
            yield Entry(tomb.name.removesuffix(TOMBSTONE_SUFFIX), received, (key,), None)


def _tombstone(path: Path) -> dict[str, Any]:
    """What a destruction kept of a case; an unreadable tombstone (`verify` names it) still counts the case as
    destroyed in the month of its folder: a report never drops a number that was given."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def label(by: str, key: str) -> str:
    if key in PSEUDO_LABELS:
        return PSEUDO_LABELS[key]
    return vocab.label(vocab.CATEGORY, key) if by == "category" else key


def windows(periods: list[str], size: int) -> list[list[str]]:
    """Rolling windows of ``size`` months inside the range; a range shorter than one window is one window."""
    if len(periods) <= size:
        return [periods]
    return [periods[i:i + size] for i in range(len(periods) - size + 1)]


def _threshold_flags(by: str, cases: dict[str, list[Entry]], periods: list[str], settings: Settings
                     ) -> list[dict[str, Any]]:
    flags = []
    spans = windows(periods, settings.trend_window_months)
    for key, found in cases.items():
        if key in PSEUDO_LABELS:
            continue
        # The window with the most complaints (the earliest of equals) names the cases to look at.
        best = max(spans, key=lambda span: (sum(e.month in span for e in found), -periods.index(span[0])))
        inside = sorted(e.number for e in found if e.month in best)
        if len(inside) >= settings.trend_threshold:
            flags.append({"kind": "threshold", "key": key, "label": label(by, key),
                          "window": f"{best[0]}..{best[-1]}", "count": len(inside), "cases": inside})
    return sorted(flags, key=lambda f: (-f["count"], f["key"]))


def _root_cause_flags(found: Iterable[Entry], periods: list[str], settings: Settings) -> list[dict[str, Any]]:
    groups: dict[str, list[Entry]] = defaultdict(list)
    for e in sorted(found, key=lambda e: e.number):
        if e.root_cause is not None:
            groups[normalised_cause(e.root_cause)].append(e)
    flags = []
    for same in groups.values():
        if len(same) >= settings.trend_root_cause_cases:
            shown = same[0].root_cause.strip() if same[0].root_cause else ""
            flags.append({"kind": "root_cause", "key": shown, "label": shown, "window": f"{periods[0]}..{periods[-1]}",
                          "count": len(same), "cases": [e.number for e in same]})
    return sorted(flags, key=lambda f: (-f["count"], f["key"]))


def figures(layout: Layout, settings: Settings, start: str, end: str, by: str) -> dict[str, Any]:
    """The trend as --json gives it (files empty: the service adds the charts it writes)."""
    start, end, by = month("--from", start), month("--to", end), by_key(by)
    if start > end:
        raise InputError("command line", "--from/--to", f"--from {start} is after --to {end}")
    periods = months(start, end)
    found = sorted(entries(layout, periods, by), key=lambda e: e.number)
    per_key: dict[str, list[Entry]] = defaultdict(list)
    for e in found:
        for key in e.keys:
            per_key[key].append(e)
    rows: list[dict[str, Any]] = []
    for key, cases in per_key.items():
        counts = dict.fromkeys(periods, 0)
        for e in cases:
            counts[e.month] += 1
        rows.append({"key": key, "label": label(by, key), "counts": counts, "total": len(cases),
                     "cases": [e.number for e in cases]})
    rows.sort(key=lambda r: (r["key"] in PSEUDO_LABELS, -r["total"], r["key"]))
    return {"from": start, "to": end, "by": by, "by_label": vocab.TREND_BY[by], "periods": periods,
            "cases": len(found), "window_months": settings.trend_window_months,
            "threshold": settings.trend_threshold, "root_cause_cases": settings.trend_root_cause_cases,
            "basis": BASIS, "rows": rows,
            "flags": _threshold_flags(by, per_key, periods, settings) + _root_cause_flags(found, periods, settings),
            "files": {"charts": []}}
