"""Amounts on the web scorecard as each language writes them, never the wire's bare decimal."""

from __future__ import annotations

import re

import pytest

from accord.cli import scenarios
from tests.cases.test_case_types import play
from tests.web.conftest import Web


@pytest.mark.parametrize(
    ("lang", "shown"), [("en", "USD 2,500,000.50"), ("zh", "2,500,000.50 美元")]
)
def test_assets_returned_are_written_as_the_language_writes_money(
    web: Web, lang: str, shown: str
) -> None:
    play(web.us, web.cn, scenarios.ASSET)  # 2500000.50 USD returned
    client = web.client()
    web.sign_in(client, "dora", lang=lang)
    page = client.get("/dialogue").text
    links = re.findall(r'<a href="(/dialogue/figure[^"]*name=assets:USD)">([^<]+)</a>', page)
    assert links, "the scorecard links no amount returned"
    assert {text for _, text in links} == {shown}
    assert "2500000.50" not in page
    figure = client.get(links[0][0].replace("&amp;", "&")).text
    assert f"{'返还资产' if lang == 'zh' else 'Assets returned'}: {shown}" in figure
