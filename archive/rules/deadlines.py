"""Reply, investigation and 8D due dates, counted from the date of receipt in its own UTC offset."""

from __future__ import annotations

import datetime as dt
from typing import Any

from archive.rules.workdays import add_working_days, is_workday, year_known
from archive.settings import Settings


def received_date(case: dict[str, Any]) -> dt.date:
    return dt.datetime.fromisoformat(case["received_at"]).date()


def reply_due(case: dict[str, Any], settings: Settings) -> dt.date:
    day = received_date(case)
    if case["channel"] in settings.same_day_channels or (settings.urgent_same_day and case.get("urgent")):
        return day
    return add_working_days(day, settings.written_reply_working_days, settings)


def compute(case: dict[str, Any], category: str, settings: Settings) -> dict[str, Any]:
    day = received_date(case)
    eightd = add_working_days(day, settings.eightd_working_days, settings) if category == "quality" else None
    reply = reply_due(case, settings)
    return {
        "reply_due": reply.isoformat(),
        "investigation_due": (day + dt.timedelta(days=settings.investigation_days)).isoformat(),
        "eightd_due": eightd.isoformat() if eightd else None,
        "calendar_unknown": calendar_unknown([day, reply, *([eightd] if eightd else [])], settings),
    }


def calendar_unknown(days: list[dt.date], settings: Settings) -> list[int]:
    """Years a working-day deadline fell in that neither chinese-calendar nor the settings know: counted
    Monday to Friday, which misses that year's holidays and swapped workdays. Said, never silent."""
    return sorted({d.year for d in days if not year_known(d.year, settings)})


def working_days_late(due: dt.date, done: dt.date, settings: Settings) -> int:
    """How many working days ``done`` is after ``due`` (0 when on time): the "(逾期 N 个工作日)" on the
    forms and in `show`. Counted like the deadlines themselves, under the statutory calendar; a day done
    on a weekend after a Friday due date is one day late, never zero."""
    if done <= due:
        return 0
    late = 0
    day = due
    while day < done:
        day += dt.timedelta(days=1)
        if is_workday(day, settings):
            late += 1
    return max(late, 1)


def reply_due_after_triage(case: dict[str, Any], triage: dict[str, Any], settings: Settings) -> dt.date:
    """The reply due date once triage has spoken: triage may mark a case urgent after intake (same day)."""
    merged = {**case, **({"urgent": triage["urgent"]} if "urgent" in triage else {})}
    return reply_due(merged, settings)
