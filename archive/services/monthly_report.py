"""`archive report monthly YYYY-MM`: the month's figures from the record folders and tombstones (never the
index), and with --out the 客户投诉案件统计表 (.docx and PDF) and its charts, written outside the root."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from archive import clock, vocab
from archive.errors import InputError
from archive.record import folders
from archive.record import reader as casefile
from archive.reports import monthly
from archive.services.archive import Archive

# The charts, by the template field that embeds each, and the file name each is written under.
CHARTS = (("chart_trend", "trend"), ("chart_pareto", "pareto"), ("chart_rate", "on-time"))


def facts(arc: Archive) -> list[monthly.Facts]:
    out = [monthly.facts_of(casefile.load(p), arc.settings.zone) for p in folders.record_dirs(arc.layout)]
    for tomb in folders.tombstones(arc.layout):
        out.append(monthly.facts_of_tombstone(json.loads(tomb.read_text(encoding="utf-8"))))
    return out


def report(arc: Archive, month: str, out: Path | None = None, *, force: bool = False) -> dict[str, Any]:
    """The figures; with ``out`` (a folder outside the root) also the document, its PDF and the charts. Every
    output name is checked before anything is drawn, and nothing is written inside the root."""
    start, _ = monthly.month_bounds(month)
    today = clock.today(arc.settings.zone)
    if start > today:
        raise InputError("command line", "MONTH", f"{month} has not begun (today is {today.isoformat()})")
    targets = _targets(arc, month, out, force) if out is not None else None
    fig = monthly.figures(facts(arc), month, today, arc.settings)
    fig["files"] = {"docx": None, "pdf": None, "json": None, "charts": []}
    if targets is not None:
        fig["files"] = _write(arc, fig, targets, today, force)
    return fig


def chart(fig: dict[str, Any], field: str) -> bytes:
    """One chart of the month's figures as PNG bytes, made in memory (the document embeds it; the web serves
    it); ``field`` is one of CHARTS."""
    from archive.reports import charts

    if field == "chart_trend":
        return charts.png(charts.category_trend(fig["trend"], dict(vocab.CATEGORY)))
    if field == "chart_pareto":
        return charts.png(charts.pareto_chart(
            {(vocab.label(vocab.CATEGORY, k) if fig["pareto"]["of"] == "category" else k): v
             for k, v in fig["pareto"]["counts"].items()},
            "根本原因排列图(帕累托图)" if fig["pareto"]["of"] == "root_cause" else "投诉类别排列图(帕累托图)"))
    if field == "chart_rate":
        return charts.png(charts.on_time_rate(fig["trend"]))
    raise InputError("command line", "chart", f"{field!r} is not one of {', '.join(f for f, _ in CHARTS)}")


def _targets(arc: Archive, month: str, out: Path, force: bool) -> dict[str, Path]:
    from archive.store import output

    if not out.is_dir():
        raise InputError("command line", "--out", f"{out}: no such folder")
    names = {"docx": f"monthly-{month}.docx", "pdf": f"monthly-{month}.pdf", "json": f"monthly-{month}.json",
             **{field: f"monthly-{month}-{name}.png" for field, name in CHARTS}}
    return {key: output.target(out / name, arc.layout.root, force=force) for key, name in names.items()}


def _write(arc: Archive, fig: dict[str, Any], targets: dict[str, Path], today: Any, force: bool) -> dict[str, Any]:
    from archive.documents import pdf
    from archive.reports import monthly_doc
    from archive.store import output

    monthly_doc.template(arc.layout.templates, today)  # a missing or altered template refused before drawing
    pictures = {field: chart(fig, field) for field, _ in CHARTS}
    ctx = monthly_doc.context(fig, arc.settings.organisation, arc.actor, today, targets["json"].name)
    docx = monthly_doc.render(arc.layout.templates, ctx, pictures, today)
    with tempfile.TemporaryDirectory(prefix="archive-monthly-") as work:
        source = Path(work) / targets["docx"].name
        source.write_bytes(docx)
        [made] = pdf.convert([source], Path(work) / "pdf", timeout=arc.settings.pdf_timeout)
        pdf_bytes = made.read_bytes()
    for field, data in pictures.items():
        output.write(targets[field], data, force=force)
    files = {"docx": str(targets["docx"]), "pdf": str(targets["pdf"]), "json": str(targets["json"]),
             "charts": [str(targets[field]) for field, _ in CHARTS]}
    # The figures with every case number behind them, beside the document: what its appendix stands on.
    numbers = {**fig, "files": files}
    output.write(targets["json"], (json.dumps(numbers, ensure_ascii=False, indent=1) + "\n").encode("utf-8"),
                 force=force)
    output.write(targets["docx"], docx, force=force)
    output.write(targets["pdf"], pdf_bytes, force=force)
    return files
