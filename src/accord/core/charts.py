"""Charts as SVG with matplotlib (Agg, text drawn as paths: the SVG needs no font where it is
shown), in the fonts that also cover Chinese."""

from __future__ import annotations

import io
from typing import Any

FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "DejaVu Sans"]


def figure(height: float, width: float = 7.5) -> Any:
    """A new (figure, axes) pair with the house style."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

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
