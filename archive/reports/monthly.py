"""The monthly 客户投诉案件统计表: its figures, a pure function of the cases' facts, the month and the day judged.

Each case is first reduced to its facts (:func:`facts_of` for a live record folder, :func:`facts_of_tombstone`
for a destroyed one), so that the figures depend on nothing else: the same archive state, month and as-of day
give the same figures. Every count keeps the case numbers behind it (``cases``), which the appendix prints.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from archive.errors import InputError
from archive.record.reader import CaseView, stage_history
from archive.rules.deadlines import met_on
from archive.rules.workdays import is_workday
from archive.settings import Settings

# What a tombstone does not keep (severity, channel, department...) is counted under this key, so that a
# destroyed case is counted as destroyed, never silently dropped from a total.
UNRECORDED = "destroyed"
# The months the trend charts show, ending at the report's month.
TREND_MONTHS = 12
_ONE_DAY = dt.timedelta(days=1)
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class Facts:
    """What the monthly figures read of one case."""

    number: str
    received: dt.date
    category: str
    severity: str = UNRECORDED
    channel: str = UNRECORDED
    departments: tuple[str, ...] = ()
    responsibility: str | None = None
    product: str | None = None
    lot: str | None = None
    root_cause: str | None = None
    closed: dt.date | None = None  # the latest closure in force, if any
    # Each closure's day and the day it was reopened (None: still in force), oldest first.
    closures: tuple[tuple[dt.date, dt.date | None], ...] = ()
    destroyed: bool = False
    reply_due: dt.date | None = None
    replied: dt.date | None = None
    investigation_due: dt.date | None = None
    investigated: dt.date | None = None
    capa: tuple[tuple[dt.date, dt.date | None], ...] = field(default=())  # (due, done) per action

    @property
    def month(self) -> str:
        return self.received.isoformat()[:7]

    def closed_on(self, day: dt.date) -> bool:
        """Closed at the end of ``day``: its latest closure by then not reopened by then."""
        latest = [reopened for closed, reopened in self.closures if closed <= day]
        return bool(latest) and (latest[-1] is None or latest[-1] > day)

    def closed_within(self, start: dt.date, end: dt.date) -> dt.date | None:
        """The last closure dated from ``start`` to ``end`` (a case closed, reopened and closed again in one
        month is counted once)."""
        days = [closed for closed, _ in self.closures if start <= closed <= end]
        return days[-1] if days else None


def _day(value: str | None) -> dt.date | None:
    return met_on(value) if value else None


def _closures(view: CaseView, zone: dt.tzinfo) -> tuple[tuple[dt.date, dt.date | None], ...]:
    reopened = {r["derived"]["version_of_closure"]: dt.datetime.fromisoformat(r["recorded_at"]).astimezone(zone).date()
                for r in stage_history(view, "reopen")}
    return tuple((met_on(c["data"]["closed_at"]), reopened.get(c["version"]))
                 for c in stage_history(view, "closure") if c["data"].get("closed_at"))


def facts_of(view: CaseView, zone: dt.tzinfo = dt.UTC) -> Facts:
    """``zone``: the archive's, in which a reopen's recorded moment is dated."""
    data = {name: stage.get("data") or {} for name, stage in view.stages.items()}
    investigation = data.get("investigation", {})
    product = view.case.get("product") or {}
    deadlines = view.deadlines
    capa = data.get("capa") or []
    actions = capa if isinstance(capa, list) else capa.get("actions", [])
    return Facts(
        number=view.number, received=met_on(view.case["received_at"]), category=view.category,
        severity=view.severity, channel=view.case["channel"], departments=tuple(view.departments),
        responsibility=investigation.get("responsibility"), product=product.get("name"), lot=product.get("lot"),
        root_cause=(investigation.get("root_cause") or "").strip() or None,
        closed=_day(view.closed_at), closures=_closures(view, zone) if "closure" in view.stages else (),
        reply_due=_day(deadlines.get("reply_due")), replied=_day(data.get("response", {}).get("replied_at")),
        investigation_due=_day(deadlines.get("investigation_due")),
        investigated=_day(investigation.get("completed_at")),
        capa=tuple((dt.date.fromisoformat(a["due"]), dt.date.fromisoformat(a["done_at"]) if a.get("done_at")
                    else None) for a in actions),
    )


def facts_of_tombstone(tomb: dict[str, Any]) -> Facts:
    """A destroyed case: its tombstone keeps the month received, the category and the closure; it was
    received on some day of that month (the first is taken: only its month is ever counted)."""
    closed = _day(tomb.get("closed_at"))
    return Facts(number=str(tomb["number"]), received=dt.date.fromisoformat(f"{tomb['received_month']}-01"),
                 category=str(tomb.get("category") or "other"), closed=closed,
                 closures=((closed, None),) if closed else (), destroyed=True)


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    if not _MONTH.fullmatch(month):
        raise InputError("command line", "MONTH", f"{month!r} is not a month YYYY-MM (e.g. 2026-11)")
    start = dt.date.fromisoformat(f"{month}-01")
    following = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start, following - dt.timedelta(days=1)


def previous_months(month: str, count: int) -> list[str]:
    """``count`` months ending at ``month``, oldest first."""
    year, mon = int(month[:4]), int(month[5:])
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{mon:02d}")
        year, mon = (year, mon - 1) if mon > 1 else (year - 1, 12)
    return out[::-1]


def _count(cases: Iterable[Facts], key: Any) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Counts by ``key`` (a value, or a tuple of values such as departments), biggest first, and the numbers."""
    numbers: dict[str, list[str]] = {}
    for c in cases:
        value = key(c)
        missing = UNRECORDED if c.destroyed else "unrecorded"
        values = (value or (missing,)) if isinstance(value, tuple) else (value,)
        for v in values:
            numbers.setdefault(missing if v is None else str(v), []).append(c.number)
    order = sorted(numbers, key=lambda k: (-len(numbers[k]), k))
    return {k: len(numbers[k]) for k in order}, {k: numbers[k] for k in order}


class _Lateness:
    """late_working_days (its rule: working days after the due day up to the day met, or judged, at least 1)
    with each day's working-day status looked up once: chinese-calendar's check of a day is what a report over
    many cases spent its time on."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.workday: dict[dt.date, bool] = {}

    def __call__(self, due: dt.date, done: dt.date | None, as_of: dt.date) -> int | None:
        end = done if done is not None else as_of
        if end <= due:
            return None
        count, day = 0, due
        while day < end:
            day += _ONE_DAY
            if day not in self.workday:
                self.workday[day] = is_workday(day, self.settings)
            count += self.workday[day]
        return max(1, count)


def _deadline(cases: Iterable[Facts], due_of: Any, done_of: Any, start: dt.date, as_of: dt.date,
              late_days: _Lateness) -> dict[str, Any]:
    """Deadlines falling due from ``start`` to ``as_of``: met on time, or late (met late, or unmet and past).
    A case closed without the stage is not counted (it no longer has that deadline to meet)."""
    on_time: list[str] = []
    late: list[dict[str, Any]] = []
    for c in cases:
        due, done = due_of(c), done_of(c)
        if due is None or not start <= due <= as_of or c.destroyed or (done is None and c.closed is not None):
            continue
        days = late_days(due, done, as_of)
        if days:
            late.append({"number": c.number, "due": due.isoformat(), "done": done.isoformat() if done else None,
                         "working_days": days})
        else:
            on_time.append(c.number)
    total = len(on_time) + len(late)
    return {"on_time": on_time, "late": late, "rate": round(len(on_time) / total, 4) if total else None}


def _percentile(values: list[int], p: float) -> int | None:
    """Nearest-rank percentile: a day count a case really took."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def _shares(counts: dict[str, int], total: int) -> dict[str, float]:
    return {k: round(v / total, 4) for k, v in counts.items()} if total else {}


def figures(all_cases: Iterable[Facts], month: str, today: dt.date, settings: Settings) -> dict[str, Any]:
    """The month's figures, judged as of the month's last day, or ``today`` while the month is running."""
    cases = sorted(all_cases, key=lambda c: c.number)
    late_days = _Lateness(settings)
    start, end = month_bounds(month)
    as_of = min(end, today)
    received = [c for c in cases if start <= c.received <= end]
    closed_day = {c.number: day for c in cases if (day := c.closed_within(start, end)) is not None}
    closed = [c for c in cases if c.number in closed_day]
    eve = start - dt.timedelta(days=1)
    open_at_start = [c for c in cases if c.received < start and not c.closed_on(eve)]
    open_at_end = [c for c in cases if c.received <= end and not c.closed_on(end)]
    by: dict[str, dict[str, int]] = {}
    behind: dict[str, dict[str, list[str]]] = {}
    for name, key in (("category", lambda c: c.category), ("severity", lambda c: c.severity),
                      ("channel", lambda c: c.channel), ("department", lambda c: c.departments),
                      ("responsibility", lambda c: c.responsibility), ("product", lambda c: c.product),
                      ("lot", lambda c: c.lot)):
        by[name], behind[name] = _count(received, key)
    # Responsibility is decided by the investigation: counted over the cases closed in the month too.
    by["responsibility_closed"], behind["responsibility_closed"] = _count(closed, lambda c: c.responsibility)
    reply = _deadline(cases, lambda c: c.reply_due, lambda c: c.replied, start, as_of, late_days)
    investigation = _deadline(cases, lambda c: c.investigation_due, lambda c: c.investigated, start, as_of,
                              late_days)
    days = [(closed_day[c.number] - c.received).days for c in closed if not c.destroyed]
    overdue = []
    for c in open_at_end:
        marks = [{"deadline": name, "due": due.isoformat(),
                  "working_days": late_days(due, None, as_of)}
                 for name, due, done in (("reply", c.reply_due, c.replied),
                                         ("investigation", c.investigation_due, c.investigated))
                 if due is not None and done is None and due < as_of]
        if marks and not c.destroyed:
            overdue.append({"number": c.number, "marks": marks})
    seen = {c.number for c in (*received, *closed, *open_at_end)}
    capa_due = [(c.number, due, done) for c in cases for due, done in c.capa if start <= due <= end]
    capa_done = [(n, due, done) for n, due, done in capa_due if done is not None and done <= as_of]
    capa_done_in_month = [(c.number, done) for c in cases for _, done in c.capa if done and start <= done <= end]
    return {
        "month": month,
        "as_of": as_of.isoformat(),
        "received": len(received),
        "closed": len(closed),
        "open_at_start": len(open_at_start),
        "open_at_end": len(open_at_end),
        "by_category": by["category"], "by_severity": by["severity"], "by_channel": by["channel"],
        "by_department": by["department"], "by_responsibility": by["responsibility"],
        "by_responsibility_closed": by["responsibility_closed"],
        "by_product": by["product"], "by_lot": by["lot"],
        "shares": {name: _shares(counts, len(received) if name != "responsibility_closed" else len(closed))
                   for name, counts in by.items()},
        "reply_on_time": reply["on_time"],
        "reply_late": [r["number"] for r in reply["late"]],
        "reply_late_detail": reply["late"],
        "reply_on_time_rate": reply["rate"],
        "investigation_on_time": investigation["on_time"],
        "investigation_late": [r["number"] for r in investigation["late"]],
        "investigation_late_detail": investigation["late"],
        "days_to_close": {"median": statistics.median(days) if days else None, "p90": _percentile(days, 0.9)},
        "overdue": overdue,
        "capa": {"due": len(capa_due), "done": len(capa_done), "done_in_month": len(capa_done_in_month),
                 "open": sorted({n for n, _, done in capa_due if done is None or done > as_of}),
                 "due_cases": sorted({n for n, _, _ in capa_due}),
                 "done_cases": sorted({n for n, _ in capa_done_in_month})},
        "reopened": [c.number for c in cases if c.number in seen and any(r is not None and r <= as_of
                                                                          for _, r in c.closures)],
        "destroyed": [c.number for c in cases if c.destroyed and c.number in seen],
        "cases": {"received": [c.number for c in received], "closed": [c.number for c in closed],
                  "open_at_start": [c.number for c in open_at_start], "open_at_end": [c.number for c in open_at_end],
                  **{f"by_{name}": numbers for name, numbers in behind.items()}},
        "trend": trend(cases, month, today, late_days),
        "pareto": pareto(closed or received),
    }


def trend(cases: list[Facts], month: str, today: dt.date, late_days: _Lateness) -> list[dict[str, Any]]:
    """The twelve months ending at ``month``: cases received by category, and the on-time reply rate."""
    out = []
    for m in previous_months(month, TREND_MONTHS):
        start, end = month_bounds(m)
        as_of = min(end, today)
        received = [c for c in cases if start <= c.received <= end]
        reply = _deadline(cases, lambda c: c.reply_due, lambda c: c.replied, start, as_of, late_days)
        out.append({"month": m, "received": len(received), "by_category": dict(Counter(c.category for c in received)),
                    "reply_on_time_rate": reply["rate"]})
    return out


def pareto(cases: list[Facts]) -> dict[str, Any]:
    """Root causes, biggest first, of the cases given; their categories when no root cause is recorded."""
    causes = [c.root_cause for c in cases if c.root_cause]
    if causes:
        return {"of": "root_cause", "counts": dict(sorted(Counter(causes).items(), key=lambda kv: (-kv[1], kv[0])))}
    counts = Counter(c.category for c in cases)
    return {"of": "category", "counts": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))}
