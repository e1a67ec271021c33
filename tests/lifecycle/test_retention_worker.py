"""The retention run as a scheduled worker: two real `accord serve` processes on loopback, and a
closed case whose agreed period has run out is erased on both nodes by the served node's own
worker, with no `accord retention apply`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from accord.cli.demo import play, wait_for
from accord.cli.scenarios import REMOVAL
from accord.composition import assemble
from accord.lifecycle import retention
from accord.runtime import Runtime
from tests.e2e.conftest import Started
from tests.lifecycle.test_retention_two_nodes import PERSONAL, database_text, log_of, same_head

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def retention_every_second(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The served nodes (started after this, by `nodes`) run retention every second."""
    monkeypatch.setenv("ACCORD_RETENTION_INTERVAL_SECONDS", "1")
    yield


def agree_in_process(side: Started, peer: str) -> None:
    """The agreement straight through the service: no CLI process at all in this test."""
    runtime = Runtime.open(side.settings, assemble())
    try:
        with runtime.transaction() as session:
            retention.agree_retention(
                session, peer=peer, case_type="removal", state="closed", days=0
            )
    finally:
        runtime.close()


def test_served_node_erases_a_due_case_on_its_own_schedule(
    nodes: tuple[Started, Started],
) -> None:
    us, cn = nodes
    reference = play(REMOVAL, us.node, cn.node)
    for side in (us, cn):
        assert any(secret in database_text(side.settings) for secret in PERSONAL)
    actions = [e["action"] for e in log_of(us, reference)]
    assert "erase" not in actions  # the worker ran all along, but nothing was agreed yet

    agree_in_process(us, cn.card.name)
    agree_in_process(cn, us.card.name)

    def receipted() -> bool:
        log = log_of(us, reference)
        return log[-1]["action"] == "erasure_receipt" and same_head(us, cn, reference)

    wait_for(receipted, "the worker's erasure and CN's receipt", timeout=60)
    log = log_of(us, reference)
    erase = next(e for e in log if e["action"] == "erase")
    assert erase["actor_officer"] == retention.RETENTION_OFFICER
    assert erase["payload"]["rule"] == "retention:removal/closed:0d"
    assert [e["action"] for e in log].count("erase") == 1  # later runs find nothing due
    for side in (us, cn):
        found = [s for s in PERSONAL if s in database_text(side.settings)]
        assert found == [], f"{side.card.name} still holds {found}"
