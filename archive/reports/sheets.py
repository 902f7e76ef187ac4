"""The spreadsheet conventions every export shares (the register, the destruction plan): Chinese headers in
bold, dates as date cells shown yyyy-mm-dd, the header row frozen and filtered, column widths set, A4
landscape printing fitted to the page width with the header row on every page; or the same columns as CSV
in UTF-8 with a BOM, which Excel and WPS open as Chinese.

The xlsx is written by openpyxl in write-only mode: rows stream to disk one at a time, so 100,000 rows
take a few tens of MB (measured against XlsxWriter's constant_memory mode in bench/report.py: about the same
memory; openpyxl is already a dependency, and one library reads the sheets back in the tests too).
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
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    count = 0
    for spec in sheets:
        sheet: Any = book.create_sheet(spec.title)
        last = get_column_letter(len(spec.columns))
        for i, col in enumerate(spec.columns, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = col.width
        sheet.freeze_panes = "A2"
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = 9  # A4
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0  # as many pages down as the rows need
        sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        sheet.print_title_rows = "1:1"
        sheet.print_options.gridLines = True
        if spec.caption:
            sheet.oddHeader.center.text = spec.caption.replace("&", "&&")
        sheet.oddFooter.center.text = "第 &P 页 共 &N 页"
        header = []
        for col in spec.columns:
            cell = WriteOnlyCell(sheet, value=col.header)
            cell.font = bold
            cell.alignment = centre
            header.append(cell)
        sheet.append(header)
        dates = [i for i, col in enumerate(spec.columns) if col.kind == "date"]
        rows = 0
        for row in spec.rows:
            values: list[Any] = list(row)
            for i in dates:
                if values[i] is not None:
                    cell = WriteOnlyCell(sheet, value=values[i])
                    cell.number_format = DATE_FORMAT
                    values[i] = cell
            sheet.append(values)
            rows += 1
        sheet.auto_filter.ref = f"A1:{last}{rows + 1}"
        count += rows
    book.save(path)
    return count


def write_csv(path: Path, sheet: Sheet) -> int:
    """One sheet as CSV: UTF-8 with a BOM, dates as YYYY-MM-DD, absent values empty."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow([c.header for c in sheet.columns])
        for row in sheet.rows:
            out.writerow(["" if v is None else v.isoformat() if isinstance(v, dt.date) else v for v in row])
            count += 1
    return count
