"""The register export over a large register (`python bench/report.py` runs it after the monthly report).

    python bench/report_export.py [--rows 100000]

The register is generated straight into register.sqlite of a fresh root (100,000 rows take hours by intake;
the export reads only the register). Each measured run is a child process of its own, so its peak memory
(ru_maxrss) is its alone:
- `export register` to .xlsx (XlsxWriter in constant_memory mode, what the archive uses) and to .csv,
  in-process calls of the service (`archive export register` minus the start-up);
- openpyxl's write-only mode writing the same sheet, for the choice of library;
- the floor: a plain `SELECT *` of the same rows with csv.writer.
Prints README table rows.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHANNELS = ("phone", "email", "letter", "fax", "in_person", "web")
CATEGORIES = ("quality", "packaging", "delivery", "service", "billing", "other")
STATUSES = ("registered", "investigating", "answered", "following_up", "closed")


def make_register(root: Path, rows: int) -> None:
    """A root whose register holds ``rows`` cases over 2025-01..2026-11, deadlines and stage dates set."""
    import datetime as dt

    from archive.derived.register import COLUMNS, SqliteRegister
    from archive.services.archive import Archive

    Archive.create(root, "bench")
    register = SqliteRegister(root / "register.sqlite")
    register.create()
    rnd = random.Random(20)
    start = dt.date(2025, 1, 1)
    cols = ("number", "received_at", "period", *COLUMNS[2:])
    sql = f"INSERT INTO cases ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
    conn = sqlite3.connect(root / "register.sqlite")
    serial: dict[str, int] = {}
    batch = []
    for _ in range(rows):
        day = start + dt.timedelta(days=rnd.randrange(699))
        period = day.isoformat()[:7]
        serial[period] = serial.get(period, 0) + 1
        status = rnd.choice(STATUSES)
        category = rnd.choice(CATEGORIES)
        reply_due = day + dt.timedelta(days=rnd.choice((0, 2, 4)))
        replied = (day + dt.timedelta(days=rnd.randrange(6))).isoformat() + "T10:00:00+08:00"
        row = {
            "number": f"{period[2:4]}{period[5:7]}{serial[period]:05}", "received_at": f"{day}T09:30:00+08:00",
            "period": period, "channel": rnd.choice(CHANNELS), "complainant": f"客户{rnd.randrange(5000)}",
            "organisation": f"华东医药连锁有限公司第{rnd.randrange(300)}分店", "product": "阿莫西林胶囊",
            "lot": f"B{rnd.randrange(10**9):09}", "category": category, "severity": rnd.choice(("minor", "major")),
            "triage_reasons": "[]", "departments": json.dumps(["质量部", "研发部"], ensure_ascii=False),
            "status": status, "reply_due": reply_due.isoformat(),
            "investigation_due": (day + dt.timedelta(days=7)).isoformat(),
            "eightd_due": (day + dt.timedelta(days=5)).isoformat() if category == "quality" else None,
            "retention_until": (day + dt.timedelta(days=3 * 365)).isoformat() if status == "closed" else None,
            "intake_sha256": f"{rnd.getrandbits(256):064x}", "duplicate_key": f"{rnd.getrandbits(256):064x}",
            "lapsed_approvals": "[]", "replied_at": replied if status != "registered" else None,
            "investigated_at": replied if status in ("answered", "following_up", "closed") else None,
            "closed_at": replied if status == "closed" else None, "hold": 0,
        }
        batch.append([row[c] for c in cols])
        if len(batch) == 10_000:
            conn.executemany(sql, batch)
            batch.clear()
    conn.executemany(sql, batch)
    conn.commit()
    conn.close()


def _child(kind: str, root: Path, out: Path) -> dict[str, Any]:
    """One measured run, in this (child) process."""
    began = time.perf_counter()
    if kind in ("xlsx", "csv"):
        from archive.services.archive import Archive
        from archive.services.export import export_register

        export_register(Archive.open(root, "bench"), out)
    elif kind == "openpyxl":
        _openpyxl(root, out)
    else:
        with sqlite3.connect(root / "register.sqlite") as conn, out.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            for row in conn.execute("SELECT * FROM cases ORDER BY number"):
                writer.writerow(row)
    seconds = time.perf_counter() - began
    return {"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "bytes": out.stat().st_size}


def _openpyxl(root: Path, out: Path) -> None:
    """The same sheet through openpyxl's write-only mode (the alternative the choice was made against)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from archive import clock
    from archive.reports import register_sheet
    from archive.services.archive import Archive

    arc = Archive.open(root, "bench")
    book = Workbook(write_only=True)
    sheet: Any = book.create_sheet("投诉登记台账")
    cols = register_sheet.COLUMNS
    for i, col in enumerate(cols, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = col.width
    sheet.freeze_panes = "A2"
    sheet.page_setup.orientation, sheet.page_setup.paperSize = "landscape", 9
    sheet.print_title_rows = "1:1"
    bold = Font(bold=True)
    header = []
    for col in cols:
        cell = WriteOnlyCell(sheet, value=col.header)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    dates = [i for i, col in enumerate(cols) if col.kind == "date"]
    n = 0
    for row in register_sheet.rows(arc.register.stream(), clock.today(arc.settings.zone), arc.settings):
        n += 1
        values: list[Any] = list(row)
        for i in dates:
            if values[i] is not None:
                cell = WriteOnlyCell(sheet, value=values[i])
                cell.number_format = "yyyy-mm-dd"
                values[i] = cell
        sheet.append(values)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{n + 1}"
    book.save(out)


def measure(kind: str, root: Path, out: Path) -> dict[str, Any] | None:
    done = subprocess.run([sys.executable, __file__, "--child", kind, str(root), str(out)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        print(f"# {kind}: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'failed'}",
              file=sys.stderr)
        return None
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def export_rows(rows: int) -> list[str]:
    """The export half's README rows."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        began = time.perf_counter()
        make_register(root, rows)
        print(f"# register of {rows:,} rows generated in {time.perf_counter() - began:.1f} s", file=sys.stderr)
        floor = measure("floor", root, Path(tmp) / "floor.csv")
        assert floor is not None
        base = (f"plain `SELECT *` + csv.writer: {floor['seconds']:.2f} s "
                f"({rows / floor['seconds']:,.0f} rows/s), {floor['peak_mb']:.0f} MB peak")
        out = []
        for kind, what in (("xlsx", "XlsxWriter constant_memory (used)"), ("csv", "UTF-8 with BOM"),
                           ("openpyxl", "the same sheet by openpyxl write-only (not used)")):
            m = measure(kind, root, Path(tmp) / f"register-{kind}.{'csv' if kind == 'csv' else 'xlsx'}")
            if m is None:
                continue
            out.append(f"| `export register` .{'csv' if kind == 'csv' else 'xlsx'}, {rows:,} rows, {what} | "
                       f"{m['seconds']:.1f} s ({rows / m['seconds']:,.0f} rows/s), {m['peak_mb']:.0f} MB peak, "
                       f"{m['bytes'] / 1e6:.1f} MB file | {base} | {m['seconds'] / floor['seconds']:.1f}× |")
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "ROOT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, root, out = args.child
        print(json.dumps(_child(kind, Path(root), Path(out))))
        return
    for row in export_rows(args.rows):
        print(row)


if __name__ == "__main__":
    main()
