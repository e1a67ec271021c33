from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import Node, make_node, peer_up


@pytest.fixture
def pair(tmp_path: Path, database_url: Callable[[str], str]) -> Iterator[tuple[Node, Node]]:
    """Two peered nodes, US (requesting) and CN (requested), each on its own database."""
    us = make_node(tmp_path, database_url("us"), "US-DOJ", "US")
    cn = make_node(tmp_path, database_url("cn"), "CN-MOJ", "CN")
    peer_up(us, cn)
    yield us, cn
    us.runtime.close()
    cn.runtime.close()
