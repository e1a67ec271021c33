"""Two real node processes on loopback, on SQLite and PostgreSQL: the requesting side retracts
a person from a removal batch; the requested side applies it, the person leaves its case and
its screening index (screened for before and after, and again on demand), the person's data
is gone from both databases, the logs verify, the receipt is in the log. A retraction of what
is not an item, or of the other side's data, is refused by name."""

from __future__ import annotations

import pytest

from accord.cli.demo import DemoFailure, wait_for
from accord.cli.scenarios import REMOVAL
from tests.e2e.conftest import Started
from tests.e2e.test_two_nodes import cli
from tests.lifecycle.test_corrections import proposals, receipted, same_head
from tests.lifecycle.test_retention_two_nodes import database_text, log_of

pytestmark = pytest.mark.e2e

RECORDS = [{"id": "R2", "name": "HUANG Jun", "birth_date": "1987", "sex": "M"}]
RETRACTED = ("LIN Hui", "林慧", "E12345678", "1990-02-03")
"""What the batch said of the person retracted."""


def test_a_retracted_person_leaves_the_peers_case_and_screening_index(
    nodes: tuple[Started, Started],
) -> None:
    us, cn = nodes
    cn.node.post("/api/v1/identity/watchlist", {"persons": RECORDS})
    opened = us.node.post("/api/v1/cases", {**REMOVAL.opening, "peer": cn.card.name})
    reference = opened["reference"]
    wait_for(lambda: same_head(us, cn, reference), "CN to receive the batch")
    wait_for(lambda: bool(proposals(cn, reference)), "CN to screen the batch on receipt")
    assert sorted(proposals(cn, reference)) == ["P1", "P2", "P3"]
    assert "E12345678" in database_text(us.settings)

    with pytest.raises(DemoFailure, match="is not an item"):
        us.node.act(reference, "retract", {"reason": "x", "items": [
            {"seq": 1, "path": "/details/persons/0/name"}
        ]})  # fmt: skip
    us.node.act(reference, "retract", {
        "rule": "custody ended", "reason": "released before the request was answered",
        "items": [{"seq": 1, "path": "/details/persons/0"}],
    })  # fmt: skip
    wait_for(lambda: receipted(us, cn, reference, "retract"), "CN's receipt of the retraction")

    assert sorted(proposals(cn, reference)) == ["P2", "P3"]
    assert proposals(cn, reference)["P2"]["candidate_id"] == "R2"
    again = cn.node.post(f"/api/v1/identity/cases/{reference}/proposals", {})
    assert [p["person_id"] for p in again["proposals"]] == ["P2", "P3"]
    for side in (us, cn):
        case = side.node.get(f"/api/v1/cases/{reference}")
        assert [p["person_id"] for p in case["details"]["persons"]] == ["P2", "P3"]
        [entry] = case["personal_data_history"]
        assert entry["action"] == "retract" and entry["rule"] == "custody ended"
        assert entry["targets"] == [{"seq": 1, "path": "/details/persons/0"}]
        verified = cli(side.settings, "case", "verify", reference)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "same" in verified.stdout
        found = [value for value in RETRACTED if value in database_text(side.settings)]
        assert found == [], f"{side.card.name} still holds {found}"
    receipt = log_of(us, reference)[-1]
    assert receipt["actor_node"] == cn.card.name and receipt["payload"]["parts_erased"] > 0

    with pytest.raises(DemoFailure, match="recorded by the requesting side"):
        cn.node.act(reference, "retract", {"reason": "x", "items": [
            {"seq": 1, "path": "/details/persons/1"}
        ]})  # fmt: skip
