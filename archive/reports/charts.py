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
