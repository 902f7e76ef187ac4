"""Charts for the reports, drawn with matplotlib in Chinese. The same figures give the same bytes: no dates or
software versions are written into a PNG, and the font is chosen the same way every time."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from typing import Any

from archive.errors import ArchiveError

# In order of preference; Debian's fonts-noto-cjk (installed by `make`) provides the first two.
CJK_FONTS = ("Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "SimHei",
             "Microsoft YaHei")
DPI = 150


class ReportError(ArchiveError):
    """A report cannot be made as asked (no Chinese font for its charts, a month that is not a month...)."""


@cache
def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display: charts are files
    import matplotlib.pyplot as plt

    return plt


@cache
def cjk_font() -> str:
    """The family name of a CJK font matplotlib can draw with; refused in one line when the system has none."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    raise ReportError("charts need a Chinese font and none is installed (looked for "
                      f"{', '.join(CJK_FONTS)}); install fonts-noto-cjk (`make` does) and run again")


def figure(width_cm: float = 16.0, height_cm: float = 8.0) -> tuple[Any, Any]:
    """A figure and its axes in the report's style, Chinese labels drawn in cjk_font()."""
    plt = _pyplot()
    plt.rcParams["font.family"] = [cjk_font()]
    plt.rcParams["axes.unicode_minus"] = False  # the CJK fonts lack U+2212
    plt.rcParams["svg.hashsalt"] = "archive"  # SVG ids from a fixed salt: the same chart, the same file
    fig, ax = plt.subplots(figsize=(width_cm / 2.54, height_cm / 2.54), dpi=DPI)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", linewidth=0.4, alpha=0.5)
    return fig, ax


def png(fig: Any) -> bytes:
    """The figure as PNG bytes, with no metadata that changes between runs (Software, creation time)."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    _pyplot().close(fig)
    return buf.getvalue()


def svg(fig: Any) -> bytes:
    """The figure as SVG bytes, without its creation date."""
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    _pyplot().close(fig)
    return buf.getvalue()


# ---------------------------------------------------------------- trend (archive report trend)
OTHERS = "其他"


@dataclass(frozen=True)
class TrendLine:
    """One line of the trend chart: its label, its count per period, and the flagged window (first and last
    month) when a flag names it."""
    label: str
    counts: list[int]
    window: tuple[str, str] | None = None


def trend_series(rows: list[dict[str, Any]], periods: list[str], top: int,
                 windows: dict[str, tuple[str, str]]) -> list[TrendLine]:
    """The ``top`` keys with most complaints one by one, the rest summed as 其他; ``windows``: flagged key ->
    the window its flag names."""
    lines = [TrendLine(str(r["label"]), [int(r["counts"][p]) for p in periods], windows.get(r["key"]))
             for r in rows[:top]]
    rest = rows[top:]
    if rest:
        lines.append(TrendLine(f"{OTHERS}({len(rest)} 项)",
                               [sum(int(r["counts"][p]) for r in rest) for p in periods]))
    return lines


def trend_figure(title: str, periods: list[str], lines: list[TrendLine]) -> Any:
    """Complaints per month, one line per key; a flagged key drawn thick with diamonds, its window shaded in
    its colour and named in the legend."""
    from matplotlib.ticker import MaxNLocator

    fig, ax = figure(18.0, 9.0)
    colours = _pyplot().get_cmap("tab10").colors
    for i, line in enumerate(lines):
        colour = colours[i % len(colours)]
        name = line.label
        if line.window is not None:
            first, last = periods.index(line.window[0]), periods.index(line.window[1])
            ax.axvspan(first - 0.15, last + 0.15, color=colour, alpha=0.10, linewidth=0)
            name = f"{line.label}(预警 {line.window[0]}..{line.window[1]})"
        ax.plot(range(len(periods)), line.counts, marker="D" if line.window else "o",
                markersize=5 if line.window else 3, linewidth=2.6 if line.window else 1.2, color=colour,
                linestyle="--" if line.label.startswith(OTHERS) else "-", label=name, zorder=3 if line.window else 2)
    ax.set_xticks(range(len(periods)), periods, rotation=45 if len(periods) > 8 else 0, fontsize=7)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(axis="y", labelsize=8)
    peak = max((max(line.counts, default=0) for line in lines), default=0)
    ax.set_ylim(0, peak * 1.15 + 0.5)  # headroom: a line at the peak is not drawn on the frame
    ax.set_ylabel("投诉件数", fontsize=8)
    ax.set_title(title, fontsize=10)
    if lines:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


# ---------------------------------------------------------------- monthly report (archive report monthly)

def _month_labels(months: list[str]) -> list[str]:
    """Months as 10月; the first one and each January with its year on a second line (side by side, 2025年12月 and
    2026年1月 ran into each other at a year's turn), so twelve months across a new year read."""
    return [f"{int(m[5:])}月\n{m[:4]}年" if i == 0 or m[5:] == "01" else f"{int(m[5:])}月"
            for i, m in enumerate(months)]


def category_trend(trend: list[dict[str, Any]], labels: dict[str, str]) -> Any:
    """Cases received month by month, stacked by category (the twelve months ending at the report's)."""
    fig, ax = figure(16.0, 7.5)
    months = [t["month"] for t in trend]
    codes = sorted({c for t in trend for c in t["by_category"]}, key=lambda c: list(labels).index(c)
                   if c in labels else len(labels))
    bottom = [0] * len(months)
    for code in codes:
        values = [t["by_category"].get(code, 0) for t in trend]
        ax.bar(range(len(months)), values, bottom=bottom, label=labels.get(code, code), width=0.7)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_xticks(range(len(months)), _month_labels(months), fontsize=7)
    ax.set_ylim(0, max(1, *bottom) * 1.35)  # room for the legend above the bars
    ax.set_ylabel("受理件数")
    ax.set_title("近十二个月投诉受理件数(按类别)", fontsize=10)
    ax.yaxis.get_major_locator().set_params(integer=True)
    if codes:
        ax.legend(fontsize=7, ncols=min(4, len(codes)), frameon=False, loc="upper left")
    return fig


def pareto_chart(counts: dict[str, int], title: str) -> Any:
    """A Pareto chart: counts biggest first, and the cumulative share on a second axis."""
    fig, ax = figure(16.0, 7.5)
    names = list(counts)[:10]
    values = [counts[n] for n in names]
    total = sum(counts.values()) or 1
    ax.bar(range(len(names)), values, color="#4c72b0", width=0.6)
    ax.set_xticks(range(len(names)), [n if len(n) <= 10 else n[:9] + "…" for n in names], fontsize=8)
    ax.set_ylabel("件数")
    ax.yaxis.get_major_locator().set_params(integer=True)
    cumulative, running = [], 0
    for v in values:
        running += v
        cumulative.append(100 * running / total)
    twin = ax.twinx()
    twin.plot(range(len(names)), cumulative, color="#c44e52", marker="o", linewidth=1.2)
    twin.set_ylim(0, 105)
    twin.set_ylabel("累计百分比(%)")
    twin.spines[["top"]].set_visible(False)
    ax.set_title(title, fontsize=10)
    return fig


def on_time_rate(trend: list[dict[str, Any]]) -> Any:
    """The share of replies given on time, month by month (a month with no reply due shows no point)."""
    fig, ax = figure(16.0, 6.5)
    months = [t["month"] for t in trend]
    xs = [i for i, t in enumerate(trend) if t["reply_on_time_rate"] is not None]
    ys = [100 * trend[i]["reply_on_time_rate"] for i in xs]
    ax.plot(xs, ys, marker="o", color="#55a868", linewidth=1.4)
    for x, y in zip(xs, ys, strict=True):
        ax.annotate(f"{y:.0f}%", (x, y), textcoords="offset points", xytext=(0, 5), ha="center", fontsize=7)
    ax.set_xticks(range(len(months)), _month_labels(months), fontsize=7)
    ax.set_xlim(-0.5, len(months) - 0.5)
    ax.set_ylim(0, 110)
    ax.set_ylabel("按时答复率(%)")
    ax.set_title("近十二个月按时答复率", fontsize=10)
    return fig
