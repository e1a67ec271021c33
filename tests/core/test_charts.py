"""Charts: Chinese is drawn in Noto Sans CJK even when matplotlib listed its fonts before the
CJK fonts were installed."""

from __future__ import annotations

import warnings

import pytest
from matplotlib import font_manager

from accord.core import charts


def test_cjk_fonts_are_added_when_matplotlib_listed_fonts_before_they_were_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # matplotlib's cached list from before `apt-get install fonts-noto-cjk`: no Noto CJK in it.
    stale = [f for f in font_manager.fontManager.ttflist if not f.name.startswith("Noto Sans CJK")]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    monkeypatch.setattr(charts, "cjk_fonts", charts.cjk_fonts.__wrapped__)
    font_manager.fontManager._findfont_cached.cache_clear()
    fig, ax = charts.figure(1.5)
    ax.set_title("各领域首次答复的中位时长")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font(s)" would be raised here
        svg = charts.to_svg(fig)
    assert "<svg" in svg
    assert "NotoSansCJK" in font_manager.findfont("Noto Sans CJK SC").replace("-", "")
    font_manager.fontManager._findfont_cached.cache_clear()
