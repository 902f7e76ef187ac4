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


def local_text(value: str | dt.datetime | None, zone: dt.tzinfo) -> str:
    """A recorded moment as people read it where the archive is, with its offset, as the forms print it:
    ``2026-11-03 13:15 (UTC+08:00)``. A date without a time is printed as it is; "" for nothing. The one
    format of times on the terminal (show, holds, keys list, retention certificates, errors)."""
    if value is None or value == "":
        return ""
    moment = value
    if isinstance(value, str):
        if "T" not in value:
            return value
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    assert isinstance(moment, dt.datetime)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(zone)
    offset = local.utcoffset() or dt.timedelta()
    sign = "-" if offset < dt.timedelta() else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{local:%Y-%m-%d %H:%M} (UTC{sign}{minutes // 60:02d}:{minutes % 60:02d})"
