"""Retention period (DESIGN.md): the later of closure + N years and product expiry + M years."""

from __future__ import annotations

import datetime as dt

from archive.settings import Settings


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def retention_until(closed_at: str, expiry_date: str | None, settings: Settings) -> dt.date:
    closed = dt.datetime.fromisoformat(closed_at).date()
    until = add_years(closed, settings.years_after_closure)
    if expiry_date:
        until = max(until, add_years(dt.date.fromisoformat(expiry_date), settings.years_after_expiry))
    return until
