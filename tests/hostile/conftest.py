"""A real node (`accord serve` on loopback, SQLite) with a token for every role, and a pinned
peer whose keys the tests hold, for the hostile-input suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from accord.cli.demo import RunningNode, pin, prepare_node, start_node
from accord.config import Settings
from accord.core.db import make_engine, session_factory, unit_of_work
from accord.core.permissions import Role
from accord.federation.keys import NodeIdentity
from accord.federation.node import init_node
from tests.helpers import role_tokens


def examples(default: int) -> int:
    """Examples per property: small in CI, more for a campaign (ACCORD_HOSTILE_EXAMPLES)."""
    return int(os.environ.get("ACCORD_HOSTILE_EXAMPLES", default))


@dataclass
class LiveNode:
    settings: Settings
    node: RunningNode
    tokens: dict[Role, str]
    peer: NodeIdentity
    """CN-MOJ: pinned by the node, its private keys held by the tests"""

    @property
    def url(self) -> str:
        return self.node.url


@pytest.fixture(scope="session")
def live_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveNode]:
    root: Path = tmp_path_factory.mktemp("hostile")
    settings, card, staff = prepare_node(root, "US-DOJ", "US", f"sqlite:///{root / 'us.db'}")
    peer_settings = Settings(data_dir=root / "CN-MOJ", database_url=f"sqlite:///{root / 'cn.db'}")
    peer, _ = init_node(peer_settings, name="CN-MOJ", country="CN", endpoint="http://127.0.0.1:9")
    pin(settings, peer.card(), card.name)
    tokens = {Role.LIAISON_OFFICER: staff.officer.token, Role.LEGAL_REVIEWER: staff.reviewer.token}
    engine = make_engine(settings.resolved_database_url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            roles = (Role.ANALYST, Role.DIALOGUE_COORDINATOR, Role.AUDITOR, Role.ADMINISTRATOR)
            tokens |= role_tokens(session, roles, prefix="hostile", unit=settings.intake_unit)
    finally:
        engine.dispose()
    node = start_node(settings, card, staff, root)
    try:
        yield LiveNode(settings, node, tokens, peer)
    finally:
        node.stop()
