"""The spreadsheet conventions every export shares (the register, the destruction plan): Chinese headers in
bold, dates as date cells shown yyyy-mm-dd, the header row frozen and filtered, column widths set, A4
landscape printing fitted to the page width with the header row on every page; or the same columns as CSV
in UTF-8 with a BOM, which Excel and WPS open as Chinese.

The xlsx is written by XlsxWriter in constant_memory mode: each row goes to disk once the next begins, so
100,000 rows take a few tens of MB. Chosen by measurement (bench/report.py writes the same 100,000-row sheet
both ways, in one run): XlsxWriter 28 s and 52 MB peak, openpyxl's write-only mode 53 s and 62 MB (the
process itself, register read included, is ~50 MB: a plain SELECT * to csv peaks at 52 MB). openpyxl stays for
what reads workbooks (the tests read these sheets back with it, cell by cell).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class Column:
    header: str
    width: float  # in Excel's character widths; a Chinese character takes about two
    kind: Literal["text", "date", "number"] = "text"


@dataclass(frozen=True)
class Sheet:
    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]  # dates as datetime.date, absent values as None
    caption: str = ""  # printed in each page's header (the rows begin with the column headers)


def write_xlsx(path: Path, sheets: Sequence[Sheet]) -> int:
    """Write ``sheets`` at ``path``; returns the number of data rows written (all sheets)."""
    import xlsxwriter

    from archive.documents.context import printable

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                           "strings_to_formulas": False, "strings_to_urls": False})
    head = book.add_format({"bold": True, "align": "center", "valign": "vcenter", "text_wrap": True,
                            "border": 1})
    dated = book.add_format({"num_format": DATE_FORMAT})
    count = 0
    try:
        for spec in sheets:
            sheet = book.add_worksheet(spec.title)
            for i, col in enumerate(spec.columns):
                sheet.set_column(i, i, col.width)
                sheet.write_string(0, i, col.header, head)
            sheet.freeze_panes(1, 0)
            sheet.set_landscape()
            sheet.set_paper(9)  # A4
            sheet.fit_to_pages(1, 0)  # one page wide, as many down as the rows need
            sheet.repeat_rows(0)
            sheet.hide_gridlines(0)  # printed too: a register is read as a grid
            if spec.caption:
                sheet.set_header("&C" + spec.caption.replace("&", "&&"))
            sheet.set_footer("&C第 &P 页 共 &N 页")
            kinds = [col.kind for col in spec.columns]
            n = 0
            for n, row in enumerate(spec.rows, start=1):
                for i, value in enumerate(row):
                    if value is None or value == "":
                        continue
                    if kinds[i] == "date":
                        sheet.write_datetime(n, i, value, dated)
                    elif isinstance(value, (int, float)) and not isinstance(value, bool):
                        sheet.write_number(n, i, value)
                    else:
                        # Text stays text (a lot number is no formula); a control character prints as a
                        # space, as on the forms (the case JSON keeps it).
                        sheet.write_string(n, i, printable(value))
            sheet.autofilter(0, 0, n, len(spec.columns) - 1)
            count += n
    finally:
        book.close()
    return count


def write_csv(path: Path, sheet: Sheet) -> int:
    """One sheet as CSV: UTF-8 with a BOM, dates as YYYY-MM-DD, absent values empty, text as on the forms."""
    from archive.documents.context import printable

    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow([c.header for c in sheet.columns])
        for row in sheet.rows:
            out.writerow(["" if v is None else v.isoformat() if isinstance(v, dt.date) else
                          v if isinstance(v, (int, float)) else printable(v) for v in row])
            count += 1
    return count
