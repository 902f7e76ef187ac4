"""Charts for the reports, drawn with matplotlib in Chinese. The same figures give the same bytes: no dates or
software versions are written into a PNG, and the font is chosen the same way every time."""

from __future__ import annotations

import io
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
