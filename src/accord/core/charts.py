"""Charts as SVG with matplotlib (Agg, text drawn as paths: the SVG needs no font where it is
shown), in the fonts that also cover Chinese."""

from __future__ import annotations

import functools
import io
from typing import Any

FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "DejaVu Sans"]
CJK_FAMILY = "Noto Sans CJK"


@functools.cache
def cjk_fonts() -> int:
    """Make sure matplotlib knows the Noto CJK fonts: its font list is cached on first use, so
    fonts installed after that (`apt-get install fonts-noto-cjk` on a machine that had drawn a
    chart before) would be missing and Chinese drawn as empty boxes. Returns how many font files
    were added (0 when matplotlib already had them, or none is installed)."""
    from matplotlib import font_manager

    if any(f.name.startswith(CJK_FAMILY) for f in font_manager.fontManager.ttflist):
        return 0
    added = 0
    for path in font_manager.findSystemFonts():
        if "NotoSansCJK" in path.replace("-", "").replace("_", ""):
            font_manager.fontManager.addfont(path)
            added += 1
    return added


def figure(height: float, width: float = 7.5) -> Any:
    """A new (figure, axes) pair with the house style."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    cjk_fonts()
    plt.rcParams.update(
        {
            "font.family": FONTS,
            "svg.fonttype": "path",
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    return plt.subplots(figsize=(width, height), dpi=96)


def to_svg(fig: Any) -> str:
    """The figure as an <svg> element (no XML prologue), and the figure closed."""
    from matplotlib import pyplot as plt

    buffer = io.StringIO()
    fig.tight_layout()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]
