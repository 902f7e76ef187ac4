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


def retimed(case: dict[str, Any], category: str, urgent: bool, settings: Settings) -> dict[str, Any]:
    """The deadlines once triage decided the case's urgency and category: an urgent complaint is answered the
    day it was received (settings urgent_same_day), whatever its channel, even when that is found out later
    (its reply is then late, and says so); a quality complaint has an 8D deadline."""
    return compute({**case, "urgent": urgent}, category, settings)


def calendar_unknown(days: list[dt.date], settings: Settings) -> list[int]:
    """Years a working-day deadline fell in that neither chinese-calendar nor the settings know: counted
    Monday to Friday, which misses that year's holidays and swapped workdays. Said, never silent."""
    return sorted({d.year for d in days if not year_known(d.year, settings)})


def working_days_between(start: dt.date, end: dt.date, settings: Settings) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not after ``start``)."""
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_workday(day, settings):
            count += 1
    return count


def late_working_days(due: dt.date, done: dt.date | None, today: dt.date, settings: Settings) -> int | None:
    """How late a deadline was met (``done``) or, still unmet, is ``today``: the working days after ``due``
    up to that day, at least 1 once the day is past ``due`` (a reply due Friday and given on Saturday is
    late, though no working day passed). None when it is not late. The one rule behind every 逾期 N 个工作日
    mark, on the forms and in `show`."""
    end = done if done is not None else today
    if end <= due:
        return None
    return max(1, working_days_between(due, end, settings))


# Deadlines a stage meets, and the field of that stage that dates it.
MET_BY = {"reply": ("response", "replied_at"), "investigation": ("investigation", "completed_at")}


def met_on(value: str) -> dt.date:
    """The day a stage dated ``value`` met its deadline: its own calendar date, in its own UTC offset, as the
    deadline was counted from the day of receipt in its own offset."""
    return dt.datetime.fromisoformat(value).date()


def late_marks(in_force: dict[str, Any], stages: dict[str, Any], closed: bool, today: dt.date,
               settings: Settings) -> list[dict[str, Any]]:
    """The reply and investigation deadlines (``in_force``: reply_due, investigation_due) met late, or still
    unmet and past (judged by ``today``; a closed case's missing stage is no longer late), each with its
    逾期 N 个工作日 (late_working_days). ``stages``: the case's current stage data by name."""
    out = []
    for key, (stage, field) in MET_BY.items():
        due = in_force.get(f"{key}_due")
        done = (stages.get(stage) or {}).get(field)
        if not due or (done is None and closed):
            continue
        day = met_on(done) if done else None
        late = late_working_days(dt.date.fromisoformat(due), day, today, settings)
        if late:
            out.append({"deadline": key, "due": due, "done": day.isoformat() if day else None,
                        "working_days": late})
    return out

