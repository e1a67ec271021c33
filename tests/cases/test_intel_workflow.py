"""The intel declaration, exhaustively: every action from every state, for each side, against a
table written by hand from the design text (not derived from the declaration it checks)."""

from __future__ import annotations

from typing import Any

import pytest

from accord.cases.definitions.intel import INTEL
from accord.cases.enums import Priority, Side
from accord.cases.workflow import fold
from accord.core.errors import InvalidInput, WorkflowViolation
from tests.cases.tables import check_cell

R, D = Side.REQUESTING, Side.REQUESTED
OPEN = ["shared", "acknowledged", "clarification"]
FINAL = ["feedback_given"]

# (state, action) -> (sides allowed, target state; None = state unchanged)
EXPECTED: dict[tuple[str, str], tuple[set[Side], str | None]] = {
    ("shared", "acknowledge"): ({D}, "acknowledged"),
    # the recipient may ask for clarification; the sender answers
    ("acknowledged", "request_clarification"): ({D}, "clarification"),
    ("clarification", "clarify"): ({R}, "acknowledged"),
    ("acknowledged", "give_feedback"): ({D}, "feedback_given"),
    # design silent on notes: the common rule (either side, any open state)
    **{(s, "note"): ({R, D}, None) for s in OPEN},
}

VALID: dict[str, dict[str, Any]] = {
    "acknowledge": {},
    "request_clarification": {"questions": "which hub?"},
    "clarify": {"answers": "Cincinnati"},
    "give_feedback": {"outcome": "led_to_action", "details": "parcel seized"},
    "note": {"text": "hello", "handling_code": "H2"},
}

REFERRAL: dict[str, Any] = {
    "summary": "fentanyl precursors shipped by courier",
    "source_reliability": "B",
    "information_reliability": "2",
    "subjects": [{"kind": "person", "name": "X", "identifiers": {"passport": "E1"}}],
    "substances": [
        {"name": "4-AP", "cas_number": "23056-29-3", "quantity": "25", "unit": "kg"},
    ],
    "parcels": [{"carrier": "UPS", "tracking_number": "1Z999AA10123456784"}],
}

STATES = [s.name for s in INTEL.states]
ACTIONS = [a.name for a in INTEL.actions]


def test_table_covers_every_declared_action() -> None:
    assert set(VALID) == set(ACTIONS)
    assert {a for _, a in EXPECTED} == set(ACTIONS)


def test_states_are_those_of_the_design() -> None:
    assert set(STATES) == {*OPEN, *FINAL}
    assert INTEL.initial == "shared"


@pytest.mark.parametrize("side", [R, D], ids=["requesting", "requested"])
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("state", STATES)
def test_every_action_from_every_state_for_each_side(state: str, action: str, side: Side) -> None:
    check_cell(INTEL, EXPECTED, VALID[action], state=state, action=action, side=side)


def test_feedback_ends_the_referral() -> None:
    assert {s.name for s in INTEL.states if s.final} == set(FINAL)


def test_the_referral_is_shared_from_the_start() -> None:
    assert all(s.shared for s in INTEL.states)


def test_the_sender_cannot_ask_itself_for_clarification() -> None:
    with pytest.raises(WorkflowViolation, match="belongs to the requested side"):
        INTEL.decide(
            state="acknowledged",
            action="request_clarification",
            side=R,
            payload=VALID["request_clarification"],
        )


def test_clarification_goes_back_and_forth() -> None:
    case = fold(
        INTEL,
        Priority.ROUTINE,
        [
            ("open", "2026-01-01T00:00:00Z", {"details": REFERRAL}),
            ("acknowledge", "2026-01-02T00:00:00Z", {}),
            ("request_clarification", "2026-01-03T00:00:00Z", VALID["request_clarification"]),
            ("clarify", "2026-01-04T00:00:00Z", VALID["clarify"]),
            ("request_clarification", "2026-01-05T00:00:00Z", VALID["request_clarification"]),
            ("clarify", "2026-01-06T00:00:00Z", VALID["clarify"]),
        ],
    )
    assert case.state == "acknowledged"
    INTEL.decide(state=case.state, action="give_feedback", side=D, payload=VALID["give_feedback"])


# -- payload validation ----------------------------------------------------------------------


def test_a_referral_with_its_grades_is_accepted() -> None:
    clean = INTEL.validate_opening(REFERRAL)
    assert (clean["source_reliability"], clean["information_reliability"]) == ("B", "2")


@pytest.mark.parametrize("field", ["source_reliability", "information_reliability"])
def test_both_reliability_grades_are_required(field: str) -> None:
    details = {k: v for k, v in REFERRAL.items() if k != field}
    with pytest.raises(InvalidInput, match=f"intel opening details: {field}: Field required"):
        INTEL.validate_opening(details)


@pytest.mark.parametrize(
    ("field", "value"),
    [("source_reliability", "D"), ("source_reliability", "1"), ("information_reliability", "5")],
)
def test_grades_outside_the_scales_are_refused_by_name(field: str, value: str) -> None:
    with pytest.raises(InvalidInput, match=f"intel opening details: {field}"):
        INTEL.validate_opening({**REFERRAL, field: value})


def test_a_cas_number_with_a_bad_check_digit_is_refused_by_name() -> None:
    substance = {"name": "water", "cas_number": "7732-18-6"}
    with pytest.raises(
        InvalidInput, match=r"substances\.0\.cas_number: .*'7732-18-6'.*check digit"
    ):
        INTEL.validate_opening({**REFERRAL, "substances": [substance]})


def test_a_well_formed_cas_number_passes() -> None:
    substance = {"name": "water", "cas_number": "7732-18-5"}
    clean = INTEL.validate_opening({**REFERRAL, "substances": [substance]})
    assert clean["substances"][0]["cas_number"] == "7732-18-5"


def test_a_bad_parcel_tracking_number_is_refused_by_name() -> None:
    parcel = {"carrier": "UPS", "tracking_number": "1Z 999"}
    with pytest.raises(InvalidInput, match=r"parcels\.0\.tracking_number"):
        INTEL.validate_opening({**REFERRAL, "parcels": [parcel]})


@pytest.mark.parametrize("outcome", ["useful", "led_to_action", "no_action"])
def test_each_feedback_outcome_of_the_design_is_accepted(outcome: str) -> None:
    _, clean = INTEL.decide(
        state="acknowledged", action="give_feedback", side=D, payload={"outcome": outcome}
    )
    assert clean["outcome"] == outcome


def test_an_unknown_feedback_outcome_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match=r"payload of 'give_feedback': outcome"):
        INTEL.decide(
            state="acknowledged", action="give_feedback", side=D, payload={"outcome": "great"}
        )


def test_a_clarification_request_must_ask_something() -> None:
    with pytest.raises(InvalidInput, match="questions"):
        INTEL.decide(
            state="acknowledged",
            action="request_clarification",
            side=D,
            payload={"questions": "   "},
        )


def test_a_note_carries_a_valid_handling_code() -> None:
    with pytest.raises(InvalidInput, match="handling_code"):
        INTEL.decide(
            state="shared", action="note", side=R, payload={"text": "x", "handling_code": "H9"}
        )


# -- deadlines -------------------------------------------------------------------------------


def test_deadline_owners() -> None:
    assert INTEL.deadline("acknowledge").owner is D
    assert INTEL.deadline("feedback").owner is D
    assert INTEL.deadline("clarify").owner is R


def test_deadlines_follow_the_referral_through_its_life() -> None:
    by_name = {a.name: a for a in INTEL.actions}
    assert INTEL.opening_starts == ("acknowledge",)
    assert by_name["acknowledge"].stops == ("acknowledge",)
    assert by_name["acknowledge"].starts == ("feedback",)
    assert by_name["request_clarification"].starts == ("clarify",)
    assert by_name["clarify"].stops == ("clarify",)
    assert by_name["give_feedback"].stops == ("feedback",)


def _open_deadlines(*steps: str) -> set[str]:
    events = [("open", "2026-01-01T00:00:00Z", {"details": REFERRAL})]
    events += [(a, f"2026-01-{i + 2:02d}T00:00:00Z", VALID[a]) for i, a in enumerate(steps)]
    return set(fold(INTEL, Priority.ROUTINE, events).deadlines)


def test_open_deadlines_as_the_referral_goes() -> None:
    assert _open_deadlines() == {"acknowledge"}
    assert _open_deadlines("acknowledge") == {"feedback"}
    asked = ("acknowledge", "request_clarification")
    assert _open_deadlines(*asked) == {"feedback", "clarify"}
    assert _open_deadlines(*asked, "clarify") == {"feedback"}
    assert _open_deadlines(*asked, "clarify", "give_feedback") == set()
