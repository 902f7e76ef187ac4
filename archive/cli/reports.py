"""The QA manager's commands: `archive report monthly|trend` and `archive export register`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from archive import vocab
from archive.cli.app import main
from archive.cli.common import Coded, archive_command, emit

if TYPE_CHECKING:
    from archive.services.archive import Archive


@main.group()
def report() -> None:
    """Statistics for QA managers: the monthly 客户投诉案件统计表 and complaint trends."""


@main.group()
def export() -> None:
    """The register (投诉登记台账) as a spreadsheet."""


# ---------------------------------------------------------------- export register (sheets)

@archive_command(export, "register")
@click.option("--from", "start", metavar="YYYY-MM[-DD]", help="First month or day received.")
@click.option("--to", "end", metavar="YYYY-MM[-DD]", help="Last month or day received.")
@click.option("--status", type=Coded(vocab.STATUS), help="Only cases in this status (code or Chinese label).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The .xlsx or .csv file to write (outside the archive root; an existing file only with --force).")
@click.option("--force", is_flag=True, help="Replace an existing --out file.")
def export_register(arc: Archive, start: str | None, end: str | None, status: str | None, out: Path,
                    force: bool, as_json: bool) -> None:
    """The register (投诉登记台账) as a spreadsheet: one row per case, deadlines and lateness."""
    from archive.services.export import export_register as run

    result = run(arc, out, start=start, end=end, status=status, force=force)
    emit(as_json, result, lambda r: f"{r['file']}: {r['rows']} 件")


# ---------------------------------------------------------------- report trend
@archive_command(report, "trend")
@click.option("--from", "start", required=True, metavar="YYYY-MM", help="First month of the trend.")
@click.option("--to", "end", required=True, metavar="YYYY-MM", help="Last month of the trend.")
@click.option("--by", required=True, metavar="KEY",
              help="Count by product, lot, category, customer or department (or 产品, 批号, 类别, 客户, 部门).")
@click.option("--out", type=click.Path(path_type=Path),
              help="Also write the chart (PNG and SVG) into this folder, outside the archive root.")
@click.option("--force", is_flag=True, help="Replace chart files of the same name in --out.")
def report_trend(arc: Archive, start: str, end: str, by: str, out: Path | None, force: bool, as_json: bool) -> None:
    """Complaints per month by a key, and what a trend review flags (GMP 第二百七十七条): a key whose complaints
    in a rolling window reach [trend] threshold, and root causes found again; each flag names its cases."""
    from archive.cli import text
    from archive.services.trend import trend

    emit(as_json, trend(arc, start, end, by, out, force=force), text.trend_text)
