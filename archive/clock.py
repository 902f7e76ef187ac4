"""The one clock: every timestamp the archive writes and every "today" it judges by come from here."""

from __future__ import annotations

import datetime as dt


def utc_now() -> str:
    """Now in UTC, microseconds, with a Z: the form of every recorded time."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def today(zone: dt.tzinfo) -> dt.date:
    """Today's date where the archive is (settings ``[time] zone``)."""
    return dt.datetime.now(zone).date()


def now() -> dt.datetime:
    """Now, aware, in UTC: what recorded dates are compared with."""
    return dt.datetime.now(dt.UTC)
