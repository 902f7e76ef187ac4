"""`archive report trend`: the figures of reports/trend.py, and its chart written outside the root when asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archive.reports import trend as figures_of
from archive.services.archive import Archive
from archive.store import output


def trend(arc: Archive, start: str, end: str, by: str, out: Path | None = None, *, force: bool = False
          ) -> dict[str, Any]:
    """Counts per month by ``by``, the flags of a trend review, and with ``out`` (a folder outside the root)
    the chart as PNG and SVG there."""
    data = figures_of.figures(arc.layout, arc.settings, start, end, by)
    if out is not None:
        data["files"]["charts"] = [str(p) for p in _write_charts(arc, data, out, force=force)]
    return data


def _write_charts(arc: Archive, data: dict[str, Any], out: Path, *, force: bool) -> list[Path]:
    from archive.errors import InputError
    from archive.reports import charts

    if not out.is_dir():
        raise InputError("command line", "--out", f"{out}: not a folder; name an existing folder outside the root")
    stem = f"trend-{data['by']}-{data['from']}-{data['to']}"
    # Every name checked before anything is written: a refused run leaves no half of its charts.
    targets = {ext: output.target(out / f"{stem}.{ext}", arc.layout.root, force=force, option="--out")
               for ext in ("png", "svg")}
    encoders = {"png": charts.png, "svg": charts.svg}
    for ext, path in targets.items():
        # Drawn once per format: png() and svg() close the figure they are given.
        output.write(path, encoders[ext](chart_figure(arc, data)), force=force)
    return list(targets.values())


def chart_figure(arc: Archive, data: dict[str, Any]) -> Any:
    """The trend chart of ``data`` (what trend() returned) as a matplotlib figure, drawn in memory."""
    from archive.reports import charts

    windows = {f["key"]: tuple(f["window"].split("..")) for f in data["flags"] if f["kind"] == "threshold"}
    lines = charts.trend_series(data["rows"], data["periods"], arc.settings.trend_chart_keys, windows)
    title = f"客户投诉趋势(按{data['by_label']})  {data['from']} 至 {data['to']}"
    return charts.trend_figure(title, data["periods"], lines)
