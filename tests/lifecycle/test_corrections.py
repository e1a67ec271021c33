"""Two real node processes on loopback, on SQLite and PostgreSQL: a correction of a person's
data made on the requesting side reaches the requested side, whose case and screening show
the new value; the old value is gone from both databases, the logs still verify as identical,
the peer's signed receipt is in the log, and the case API shows the correction without its
content. Corrections of what is not there, or not personal, are refused by name."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from accord.cli.demo import DemoFailure, wait_for
from accord.cli.scenarios import REMOVAL
from tests.e2e.conftest import Started
from tests.e2e.test_two_nodes import cli
from tests.lifecycle.test_retention_two_nodes import database_text, log_of
from tests.lifecycle.test_retention_two_nodes import same_head as same_known_head

pytestmark = pytest.mark.e2e

OLD = ("LIN Hui", "E12345678")
NEW = {"name": "LING Hui", "passport_number": "E87654321"}
RECORDS = [{"id": "R2", "name": "LING Hui", "birth_date": "1990-02-03", "sex": "F"}]
"""The requested side's record of the person as the correction names her."""


def opened_and_screened(us: Started, cn: Started) -> str:
    loaded = cn.node.post("/api/v1/identity/watchlist", {"persons": RECORDS})
    assert loaded["added"] == 1, loaded
    opened = us.node.post("/api/v1/cases", {**REMOVAL.opening, "peer": cn.card.name})
    reference: str = opened["reference"]
    wait_for(lambda: same_head(us, cn, reference), "CN to receive the batch")
    wait_for(lambda: bool(proposals(cn, reference)), "CN to screen the batch on receipt")
    return reference


def same_head(us: Started, cn: Started, reference: str) -> bool:
    """Both logs end in the same event (False while the peer does not hold the case yet)."""
    try:
        return same_known_head(us, cn, reference)
    except httpx.HTTPStatusError:
        return False


def proposals(side: Started, reference: str) -> dict[str, dict[str, Any]]:
    try:
        answer = side.node.get(f"/api/v1/identity/cases/{reference}/proposals")
    except Exception:  # not screened yet
        return {}
    return {p["person_id"]: p for p in answer["proposals"]}


def receipted(us: Started, cn: Started, reference: str, action: str) -> bool:
    log = log_of(us, reference)
    return (
        log[-1]["action"] == "erasure_receipt"
        and log[-2]["action"] == action
        and same_head(us, cn, reference)
    )


def test_a_correction_reaches_the_peer_erases_the_old_value_and_still_verifies(
    nodes: tuple[Started, Started],
) -> None:
    us, cn = nodes
    reference = opened_and_screened(us, cn)
    before = proposals(cn, reference)["P1"]
    assert before["name"] == "LIN Hui"
    for side in (us, cn):
        assert all(old in database_text(side.settings) for old in OLD)

    us.node.act(reference, "correct", {
        "rule": "GDPR art. 16", "reason": "the passport shows another spelling",
        "corrections": [{"seq": 1, "path": "/details/persons/0", "set": NEW}],
    })  # fmt: skip
    wait_for(lambda: receipted(us, cn, reference, "correct"), "CN's receipt of the correction")

    for side in (us, cn):
        person = side.node.get(f"/api/v1/cases/{reference}")["details"]["persons"][0]
        assert (person["name"], person["passport_number"]) == (NEW["name"], "E87654321")
    after = proposals(cn, reference)["P1"]
    assert after["name"] == "LING Hui"
    assert after["outcome"] == "verified" and after["candidate_id"] == "R2"

    log = log_of(us, reference)
    correction, receipt = log[-2], log[-1]
    assert receipt["actor_node"] == cn.card.name and receipt["signature"]
    assert receipt["payload"] == {"erasure_seq": correction["seq"], "parts_erased": 2}
    for side in (us, cn):
        verified = cli(side.settings, "case", "verify", reference)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "same" in verified.stdout
        found = [old for old in OLD if old in database_text(side.settings)]
        assert found == [], f"{side.card.name} still holds {found}"

    [entry] = us.node.get(f"/api/v1/cases/{reference}")["personal_data_history"]
    assert entry["action"] == "correct" and entry["rule"] == "GDPR art. 16"
    assert entry["actor_node"] == us.card.name and entry["receipt_by"] == cn.card.name
    assert [t["path"] for t in entry["targets"]] == [
        "/details/persons/0/name",
        "/details/persons/0/passport_number",
    ]
    assert not any(value in str(entry) for value in (*OLD, *NEW.values()))


REFUSED = (
    ({"seq": 1, "path": "/details/persons/9", "set": {"name": "X"}}, "holds nothing at"),
    ({"seq": 1, "path": "/details/persons/0", "set": {"sex": "M"}}, "'sex' is not personal"),
    ({"seq": 1, "path": "", "set": {"title": "X"}}, "'title' is not personal"),
    ({"seq": 7, "path": "/details", "set": {"name": "X"}}, "has no event 7"),
)


def test_a_correction_of_a_missing_path_or_a_field_that_is_not_personal_is_refused(
    nodes: tuple[Started, Started],
) -> None:
    us, cn = nodes
    opened = us.node.post("/api/v1/cases", {**REMOVAL.opening, "peer": cn.card.name})
    reference = opened["reference"]
    for correction, refusal in REFUSED:
        with pytest.raises(DemoFailure, match=refusal):
            us.node.act(reference, "correct", {"rule": "request 4", "corrections": [correction]})
    assert [e["action"] for e in log_of(us, reference)] == ["open"]
