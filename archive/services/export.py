"""`archive export register`: the register as a spreadsheet for the QA clerk, streamed from register.sqlite
(never the index, never a record written), to a file outside the root."""

from __future__ import annotations

import calendar
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive import clock
from archive.errors import InputError

if TYPE_CHECKING:
    from archive.services.archive import Archive

FORMATS = (".xlsx", ".csv")


def day_bound(option: str, value: str | None, *, end: bool) -> str | None:
    """--from/--to as a day: YYYY-MM-DD as given, YYYY-MM as its first (``end``: last) day."""
    if value is None:
        return None
    try:
        if len(value) == 7:
            first = dt.date.fromisoformat(value + "-01")
            day = first.replace(day=calendar.monthrange(first.year, first.month)[1]) if end else first
        else:
            day = dt.date.fromisoformat(value)
    except ValueError:
        raise InputError("command line", option, f"{value!r} is not a month YYYY-MM or a day YYYY-MM-DD") from None
    if len(value) not in (7, 10):
        raise InputError("command line", option, f"{value!r} is not a month YYYY-MM or a day YYYY-MM-DD")
    return day.isoformat()


def export_register(arc: Archive, out: Path, *, start: str | None = None, end: str | None = None,
                    status: str | None = None, force: bool = False) -> dict[str, Any]:
    """Write the register's cases received between ``start`` and ``end`` (months or days, inclusive), with
    ``status`` when given, at ``out`` (.xlsx or .csv). Everything is checked before anything is written."""
    from archive.reports import register_sheet, sheets
    from archive.store import output

    lo, hi = day_bound("--from", start, end=False), day_bound("--to", end, end=True)
    if lo and hi and lo > hi:
        raise InputError("command line", "--from/--to", f"--from {start} is after --to {end}")
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise InputError("command line", "--out", f"{out.name}: write the register as .xlsx or .csv")
    path = output.target(out, arc.layout.root, force=force)
    today = clock.today(arc.settings.zone)
    span = f"{lo or '最早'} 至 {hi or '最晚'}"
    sheet = sheets.Sheet(
        "投诉登记台账", register_sheet.COLUMNS,
        register_sheet.rows(arc.register.stream(received_from=lo, received_to=hi, status=status), today,
                            arc.settings),
        caption=f"{arc.settings.organisation} 客户投诉登记台账 {span}(截至 {today.isoformat()})")
    written: list[int] = []

    def produce(tmp: Path) -> None:
        written.append(sheets.write_xlsx(tmp, [sheet]) if suffix == ".xlsx" else sheets.write_csv(tmp, sheet))

    output.write_with(path, produce, force=force)
    return {"file": str(out), "format": suffix[1:], "rows": written[0], "from": lo, "to": hi, "status": status,
            "as_of": today.isoformat()}
