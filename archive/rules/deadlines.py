"""Reply, investigation and 8D due dates, counted from the date of receipt in its own UTC offset."""

from __future__ import annotations

import datetime as dt
from typing import Any

from archive.rules.workdays import add_working_days
from archive.settings import Settings


def received_date(case: dict[str, Any]) -> dt.date:
    return dt.datetime.fromisoformat(case["received_at"]).date()


def reply_due(case: dict[str, Any], settings: Settings) -> dt.date:
    day = received_date(case)
    if case["channel"] in settings.same_day_channels or (settings.urgent_same_day and case.get("urgent")):
        return day
    return add_working_days(day, settings.written_reply_working_days, settings)


def compute(case: dict[str, Any], category: str, settings: Settings) -> dict[str, str | None]:
    day = received_date(case)
    eightd = add_working_days(day, settings.eightd_working_days, settings) if category == "quality" else None
    return {
        "reply_due": reply_due(case, settings).isoformat(),
        "investigation_due": (day + dt.timedelta(days=settings.investigation_days)).isoformat(),
        "eightd_due": eightd.isoformat() if eightd else None,
    }
