"""The QA manager's commands: `archive report monthly|trend` and `archive export register`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

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


# ---------------------------------------------------------------- report monthly

@archive_command(report, "monthly")
@click.argument("month", metavar="YYYY-MM")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder (outside the archive root) for the 统计表 .docx, its PDF and the charts.")
@click.option("--force", is_flag=True, help="Replace files of an earlier run in --out.")
def report_monthly(arc: Archive, month: str, out: Path | None, force: bool, as_json: bool) -> None:
    """The monthly 客户投诉案件统计表: received, closed, open, counts by category and more, late replies."""
    from archive.services.monthly_report import report as monthly

    emit(as_json, monthly(arc, month, out, force=force), _monthly_text)


def _monthly_text(fig: dict[str, Any]) -> str:
    from archive import vocab
    from archive.reports.monthly_doc import MISSING

    def counts(name: str, vocabulary: Any = None) -> str:
        return ", ".join(f"{MISSING.get(k) or vocab.label(vocabulary, k)} {v}" for k, v in fig[name].items()) or "—"

    days = fig["days_to_close"]
    lines = [f"客户投诉案件统计表 {fig['month']} (截至 {fig['as_of']})",
             f"本月受理 {fig['received']}  本月结案 {fig['closed']}  月初未结 {fig['open_at_start']}  "
             f"月末未结 {fig['open_at_end']}",
             f"按类别: {counts('by_category', vocab.CATEGORY)}",
             f"按严重程度: {counts('by_severity', vocab.SEVERITY)}",
             f"按渠道: {counts('by_channel', vocab.CHANNEL)}",
             f"按时答复 {len(fig['reply_on_time'])}  逾期答复 {len(fig['reply_late'])}"
             + (f" ({', '.join(fig['reply_late'])})" if fig["reply_late"] else ""),
             f"结案天数 中位数 {days['median'] if days['median'] is not None else '—'}  "
             f"第90百分位 {days['p90'] if days['p90'] is not None else '—'}",
             f"逾期未办 {len(fig['overdue'])}  重新打开 {len(fig['reopened'])}  已销毁 {len(fig['destroyed'])}"]
    files = fig["files"]
    if files["docx"]:
        lines += [f"文件: {files['docx']}", f"      {files['pdf']}", *(f"      {c}" for c in files["charts"])]
    return "\n".join(lines)
