from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from accord.cli.demo import RunningNode, Staff, pin, prepare_node, start_node
from accord.config import Settings
from accord.federation.schemas import NodeCard


@dataclass
class Started:
    settings: Settings
    card: NodeCard
    staff: Staff
    node: RunningNode
    root: Path

    def restart(self) -> None:
        self.node.stop()
        self.node = start_node(self.settings, self.card, self.staff, self.root)


@pytest.fixture
def nodes(tmp_path: Path, database_url: Callable[[str], str]) -> Iterator[tuple[Started, Started]]:
    """US-DOJ and CN-MOJ as real `accord serve` processes on loopback, peered."""
    us_settings, us_card, us_token = prepare_node(tmp_path, "US-DOJ", "US", database_url("us"))
    cn_settings, cn_card, cn_token = prepare_node(tmp_path, "CN-MOJ", "CN", database_url("cn"))
    pin(us_settings, cn_card, us_card.name)
    pin(cn_settings, us_card, cn_card.name)
    started: list[Started] = []
    try:
        for settings, card, token in (
            (us_settings, us_card, us_token),
            (cn_settings, cn_card, cn_token),
        ):
            node = start_node(settings, card, token, tmp_path)
            started.append(Started(settings, card, token, node, tmp_path))
        yield started[0], started[1]
    finally:
        for s in started:
            s.node.stop()


@pytest.fixture
def sqlite_nodes(tmp_path: Path) -> Iterator[tuple[Started, Started]]:
    """The same two nodes, on SQLite only: for the browser tests, slow enough on one store."""
    prepared = [
        prepare_node(tmp_path, name, country, f"sqlite:///{tmp_path / (country.lower() + '.db')}")
        for name, country in (("US-DOJ", "US"), ("CN-MOJ", "CN"))
    ]
    (us_settings, us_card, _), (cn_settings, cn_card, _) = prepared
    pin(us_settings, cn_card, us_card.name)
    pin(cn_settings, us_card, cn_card.name)
    started: list[Started] = []
    try:
        for settings, card, staff in prepared:
            node = start_node(settings, card, staff, tmp_path)
            started.append(Started(settings, card, staff, node, tmp_path))
        yield started[0], started[1]
    finally:
        for s in started:
            s.node.stop()
