"""The briefing pack: HTML and PDF in English and Chinese; the PDF's pages, turned into PNG,
show the charts, and its text holds the Chinese (in the Noto CJK font)."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import pypdfium2
import pytest

from accord.cases.enums import OutcomeStatus
from accord.cli import scenarios
from accord.dialogue import brief
from accord.dialogue.brief import GUEST_COLOUR, HOST_COLOUR
from tests.cases.test_case_types import play
from tests.helpers import Node


def _colour_pixels(image, colour: str, tolerance: int = 12) -> int:  # type: ignore[no-untyped-def]
    target = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    rgb = image.convert("RGB")
    return sum(
        count
        for count, pixel in rgb.getcolors(maxcolors=1 << 20)
        if all(abs(a - b) <= tolerance for a, b in zip(pixel, target, strict=True))
    )


def _inflated(pdf: bytes) -> bytes:
    """The PDF with every compressed stream inflated (font names may sit in object streams)."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n", pdf):
        try:
            parts.append(zlib.decompressobj().decompress(pdf[match.end() :]))
        except zlib.error:
            continue
    return b"".join(parts)


@pytest.fixture
def played(pair: tuple[Node, Node]) -> tuple[Node, str]:
    us, cn = pair
    for scenario in (scenarios.MLA, scenarios.FUGITIVE, scenarios.REMOVAL, scenarios.CYBER):
        play(us, cn, scenario)
    reference, _, _ = play(us, cn, scenarios.ROUND)
    return us, reference


@pytest.mark.parametrize(
    ("lang", "expected", "absent"),
    [
        ("en", ["Agreed outcomes", "Law enforcement and cybersecurity dialogue", "Round 3",
                "Answer every pending legal assistance request within 60 days.", "Stuck cases"],
         "商定成果"),
        ("zh", ["商定成果", "执法及网络安全对话", "第3轮", "六十天内答复所有待办司法协助请求。",
                "积压案件", "记分卡"],
         "Agreed outcomes"),
    ],
)  # fmt: skip
def test_the_pdf_renders_with_charts_and_the_language(
    played: tuple[Node, str], tmp_path: Path, lang: str, expected: list[str], absent: str
) -> None:
    node, reference = played
    with node.runtime.reading() as session:
        pack = brief.build(session, reference=reference, lang=lang)  # type: ignore[arg-type]
    assert len(pack.charts) == 4 and all(c.svg.startswith("<svg") for c in pack.charts)
    pdf_bytes = brief.to_pdf(pack)
    assert pdf_bytes.startswith(b"%PDF")
    if lang == "zh":
        assert b"NotoSansCJK" in _inflated(pdf_bytes)  # the Chinese is set in Noto Sans CJK
    path = tmp_path / f"brief-{lang}.pdf"
    path.write_bytes(pdf_bytes)

    pdf = pypdfium2.PdfDocument(path)
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    flat = " ".join(text.split())
    for phrase in expected:
        assert phrase in flat, phrase
    assert absent not in flat
    host = guest = 0
    for i in range(len(pdf)):
        image = pdf[i].render(scale=1.5).to_pil()
        image.save(tmp_path / f"page-{lang}-{i + 1}.png")
        host += _colour_pixels(image, HOST_COLOUR)
        guest += _colour_pixels(image, GUEST_COLOUR)
    # the bars of both sides are drawn (the scenario cases went both ways)
    assert host > 500 and guest > 500


def test_the_html_embeds_svg_charts_and_links_nothing_outside(played: tuple[Node, str]) -> None:
    node, reference = played
    with node.runtime.reading() as session:
        html = brief.to_html(brief.build(session, reference=reference, lang="zh"))
    assert html.count('src="data:image/svg+xml;base64,') == 4
    assert "http://" not in html and "https://" not in html
    assert "商定成果" in html and "第3轮" in html


def _card(medians: dict[str, float | None]) -> dict[str, object]:
    def figures(node: str) -> dict[str, object]:
        values = {"received": 1, "first_response_median_days": medians[node]}
        return {"current": {k: {"value": v} for k, v in values.items()}}

    return {"areas": {"cybercrime": {node: figures(node) for node in medians}}}


def test_scaled_durations_read_in_the_unit_of_the_largest() -> None:
    same = str
    assert brief._scaled([[2.0, 0.5]], same) == ([[2.0, 0.5]], "days")
    assert brief._scaled([[3 / 24]], same) == ([[3.0]], "hours")
    assert brief._scaled([[4 / 1440]], same) == ([[4.0]], "minutes")
    assert brief._scaled([[2 / 86400, 0.0]], same) == ([[2.0, 0.0]], "seconds")


@pytest.mark.parametrize(
    ("medians", "empty"),
    [
        # Answered within seconds (as in the demo): a chart in seconds, not "no response".
        ({"us": 2 / 86400, "cn": None}, False),
        ({"us": 0.0, "cn": None}, False),
        ({"us": None, "cn": None}, True),
    ],
)
def test_the_response_chart_is_empty_only_without_any_response(
    medians: dict[str, float | None], empty: bool
) -> None:
    counts = {node: dict.fromkeys((s.value for s in OutcomeStatus), 0) for node in medians}
    charts = brief.charts(_card(medians), counts, list(medians), "en")
    response = charts[1].svg
    assert ("No response yet." in response) is empty
    if not empty:
        assert "seconds" in response  # the unit of the x axis
