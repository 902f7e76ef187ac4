"""The access register (查阅登记) as `archive access-log` and the web's /access-log read it, filtered."""

from __future__ import annotations

import datetime as dt
from typing import Any

from archive.services.archive import Archive
from archive.store import access


def _local_day(time: str, zone: dt.tzinfo) -> dt.date | None:
    try:
        moment = dt.datetime.fromisoformat(time.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone).date()


def entries(arc: Archive, *, case: str | None = None, user: str | None = None, date_from: dt.date | None = None,
            date_to: dt.date | None = None) -> list[dict[str, Any]]:
    """Entries as stored, oldest first: of one case, of one login, between two dates (both inclusive, dates
    where the archive is, [time] zone). Reading only."""
    if date_from is not None and date_to is not None and date_from > date_to:
        from archive.errors import InputError

        raise InputError("command line", "--from", f"{date_from} is after --to {date_to}")
    out = []
    for entry in access.read(arc.layout.access_log):
        if case is not None and entry.get("number") != case:
            continue
        if user is not None and entry.get("login") != user:
            continue
        if date_from is not None or date_to is not None:
            day = _local_day(str(entry.get("time", "")), arc.settings.zone)
            if day is None or (date_from is not None and day < date_from) or (date_to is not None and day > date_to):
                continue
        out.append(entry)
    return out
