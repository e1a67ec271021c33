"""The MLA declaration, exhaustively: every action from every state, for each side, against a
table written by hand from docs/architecture.md (not derived from the declaration it checks)."""

from __future__ import annotations

from typing import Any

import pytest

from accord.cases.definitions.mla import MLA
from accord.cases.enums import Side
from accord.core.errors import InvalidInput, WorkflowViolation

R, D = Side.REQUESTING, Side.REQUESTED
BEFORE_EXECUTION = [
    "draft",
    "legal_review",
    "submitted",
    "received",
    "under_review",
    "more_info",
    "accepted",
]
OPEN = [*BEFORE_EXECUTION, "in_execution", "partially_executed", "executed"]

# (state, action) -> (sides allowed, target state; None = state unchanged)
EXPECTED: dict[tuple[str, str], tuple[set[Side], str | None]] = {
    ("draft", "send_to_review"): ({R}, "legal_review"),
    ("legal_review", "return_to_draft"): ({R}, "draft"),
    ("legal_review", "approve_and_submit"): ({R}, "submitted"),
    ("submitted", "acknowledge"): ({D}, "received"),
    ("received", "begin_review"): ({D}, "under_review"),
    ("received", "refuse"): ({D}, "refused"),
    ("under_review", "request_more_info"): ({D}, "more_info"),
    ("under_review", "accept"): ({D}, "accepted"),
    ("under_review", "refuse"): ({D}, "refused"),
    ("more_info", "provide_info"): ({R}, "under_review"),
    ("accepted", "begin_execution"): ({D}, "in_execution"),
    ("in_execution", "return_evidence"): ({D}, "partially_executed"),
    ("partially_executed", "return_evidence"): ({D}, "partially_executed"),
    ("in_execution", "complete_execution"): ({D}, "executed"),
    ("partially_executed", "complete_execution"): ({D}, "executed"),
    ("executed", "close"): ({R}, "closed"),
    **{(s, "withdraw"): ({R}, "withdrawn") for s in BEFORE_EXECUTION},
    **{(s, "note"): ({R, D}, None) for s in OPEN},
}

REVIEW = {
    "reviewer": "R",
    "treaty_basis": "MLAA",
    "dual_criminality": True,
    "neutrality_confirmed": True,
    "reasons": "fine",
}
ITEM = {"description": "records", "sha256": "a" * 64}
VALID: dict[str, dict[str, Any]] = {
    "send_to_review": {},
    "return_to_draft": {"reviewer": "R", "reasons": "incomplete"},
    "approve_and_submit": REVIEW,
    "acknowledge": {},
    "begin_review": {},
    "request_more_info": {"questions": "which accounts?"},
    "provide_info": {"answers": "these"},
    "accept": REVIEW,
    "refuse": {"grounds": ["political_offence"], "explanation": "political"},
    "begin_execution": {},
    "return_evidence": {"items": [ITEM], "outstanding": "the rest"},
    "complete_execution": {"items": [ITEM], "summary": "done"},
    "close": {"satisfied": True},
    "withdraw": {"reason": "case dropped"},
    "note": {"text": "hello"},
}

STATES = [s.name for s in MLA.states]
ACTIONS = [a.name for a in MLA.actions]


def test_table_covers_every_declared_action() -> None:
    assert set(VALID) == set(ACTIONS)
    assert {a for _, a in EXPECTED} == set(ACTIONS)


@pytest.mark.parametrize("side", [R, D], ids=["requesting", "requested"])
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("state", STATES)
def test_every_action_from_every_state_for_each_side(state: str, action: str, side: Side) -> None:
    expected = EXPECTED.get((state, action))
    if expected is None or side not in expected[0]:
        with pytest.raises(WorkflowViolation):
            MLA.decide(state=state, action=action, side=side, payload=VALID[action])
        return
    declared, _ = MLA.decide(state=state, action=action, side=side, payload=VALID[action])
    assert declared.target == expected[1]


def test_final_states_are_refused_closed_and_withdrawn() -> None:
    assert {s.name for s in MLA.states if s.final} == {"refused", "closed", "withdrawn"}


def test_draft_and_legal_review_stay_on_the_requesting_side() -> None:
    assert {s.name for s in MLA.states if not s.shared} == {"draft", "legal_review"}


def test_requested_side_cannot_withdraw_request() -> None:
    with pytest.raises(WorkflowViolation, match="belongs to the requesting side"):
        MLA.decide(state="under_review", action="withdraw", side=D, payload={"reason": "x"})


def test_no_withdrawal_once_execution_has_begun() -> None:
    with pytest.raises(WorkflowViolation, match="not allowed in state 'in_execution'"):
        MLA.decide(state="in_execution", action="withdraw", side=R, payload={"reason": "x"})


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("neutrality_confirmed", "neutrality not confirmed"),
        ("dual_criminality", "dual criminality"),
    ],
)
def test_legal_review_cannot_pass_without_its_safeguards(field: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        MLA.decide(
            state="legal_review",
            action="approve_and_submit",
            side=R,
            payload={**REVIEW, field: False},
        )


def test_refusal_needs_an_enumerated_ground() -> None:
    with pytest.raises(InvalidInput, match="grounds"):
        MLA.decide(
            state="under_review",
            action="refuse",
            side=D,
            payload={"grounds": [], "explanation": "no"},
        )
    with pytest.raises(InvalidInput, match=r"grounds\.0"):
        MLA.decide(
            state="under_review",
            action="refuse",
            side=D,
            payload={"grounds": ["dislike"], "explanation": "no"},
        )


def test_evidence_hash_must_be_sha256_hex() -> None:
    with pytest.raises(InvalidInput, match="sha256"):
        MLA.decide(
            state="in_execution",
            action="return_evidence",
            side=D,
            payload={"items": [{"description": "x", "sha256": "xyz"}], "outstanding": "y"},
        )


def test_deadlines_follow_the_request_through_its_life() -> None:
    by_name = {a.name: a for a in MLA.actions}
    assert by_name["approve_and_submit"].starts == ("acknowledge", "decide")
    assert by_name["acknowledge"].stops == ("acknowledge",)
    assert "decide" in by_name["accept"].stops and by_name["accept"].starts == ("execute",)
    assert by_name["complete_execution"].stops == ("execute",)
