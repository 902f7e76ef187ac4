"""The QA manager's commands: `archive report monthly|trend` and `archive export register`."""

from __future__ import annotations

from archive.cli.app import main


@main.group()
def report() -> None:
    """Statistics for QA managers: the monthly 客户投诉案件统计表 and complaint trends."""


@main.group()
def export() -> None:
    """The register (投诉登记台账) as a spreadsheet."""
