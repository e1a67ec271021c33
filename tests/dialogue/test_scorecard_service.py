"""The scorecard read from real case logs on both stores, the same on both nodes."""

from __future__ import annotations

from datetime import timedelta

from accord.cli import scenarios
from accord.core.clock import utcnow
from accord.dialogue import service
from tests.cases.test_case_types import play
from tests.helpers import Node


def test_both_nodes_compute_the_same_scorecard(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    for scenario in (scenarios.MLA, scenarios.REMOVAL, scenarios.ASSET, scenarios.FUGITIVE):
        play(us, cn, scenario)
    end = utcnow() + timedelta(minutes=1)
    start = end - timedelta(days=30)
    cards = []
    for node in (us, cn):
        with node.runtime.reading() as session:
            cards.append(service.scorecard(session, nodes=[us.name, cn.name], start=start, end=end))
    assert cards[0]["areas"] == cards[1]["areas"]
    overall = cards[0]["areas"]["all"]
    assert overall[us.name]["current"]["sent"]["value"] == 2  # MLA and removal
    assert overall[cn.name]["current"]["received"]["value"] == 2
    assert overall[us.name]["current"]["fugitives_returned"]["value"] == 1
    assert overall[us.name]["current"]["assets_returned"]["USD"]["value"] == "2500000.50"
    assert overall[cn.name]["current"]["removal_persons_verified"]["value"] == 2
    assert overall[cn.name]["current"]["completion_rate"]["value"] == 1.0
