"""Working days under the Chinese statutory calendar, with settings overrides for years it lacks."""

from __future__ import annotations

import datetime as dt
from functools import cache

import chinese_calendar

from archive.settings import Settings


@cache
def _known_years() -> range:
    days = list(chinese_calendar.constants.holidays) + list(chinese_calendar.constants.workdays)
    return range(min(days).year, max(days).year + 1)


@cache
def _statutory_workday(day: dt.date) -> bool:
    """chinese-calendar's answer, kept: it validates its range on every call (~30 µs), and an export judges
    the lateness of 100,000 rows day by day."""
    return bool(chinese_calendar.is_workday(day))


def is_workday(day: dt.date, settings: Settings) -> bool:
    if day in settings.extra_holidays:
        return False
    if day in settings.extra_workdays:
        return True
    if day.year in _known_years():
        return _statutory_workday(day)
    return day.weekday() < 5


def year_known(year: int, settings: Settings) -> bool:
    """The statutory calendar (or the settings' overrides) knows this year's holidays and swapped workdays."""
    return year in _known_years() or any(d.year == year for d in settings.extra_holidays | settings.extra_workdays)


def add_working_days(start: dt.date, count: int, settings: Settings) -> dt.date:
    """The ``count``-th working day after ``start`` (``start`` itself does not count)."""
    day = start
    left = count
    while left > 0:
        day += dt.timedelta(days=1)
        if is_workday(day, settings):
            left -= 1
    return day
