"""`archive show` tells the whole case; triage re-timing, CAPA progress, identical re-applies, coded fields
given by their Chinese labels, local times, and the organisation named at init (issue 17)."""

from __future__ import annotations

import datetime as dt

from archive.rules.deadlines import late_working_days
from archive.settings import from_mapping


def test_late_working_days_counts_working_days_after_the_due_date() -> None:
    s = from_mapping({})
    fri = dt.date(2026, 11, 20)
    assert late_working_days(fri, fri, fri, s) is None  # met on the day
    assert late_working_days(fri, None, fri, s) is None  # not yet due
    assert late_working_days(fri, dt.date(2026, 11, 21), fri, s) == 1  # a Saturday is late, by at least 1
    assert late_working_days(fri, dt.date(2026, 11, 24), fri, s) == 2  # Mon, Tue
    assert late_working_days(fri, None, dt.date(2026, 11, 25), s) == 3  # unmet: judged by today
    # National Day week 2026 (Oct 1-7 holidays): due Sep 30, met Oct 8 → only Oct 8 is a working day
    assert late_working_days(dt.date(2026, 9, 30), dt.date(2026, 10, 8), fri, s) == 1
