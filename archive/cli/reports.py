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
