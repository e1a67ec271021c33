"""The fugitive declaration, exhaustively: every action from every state, for each side and for
each kind of notice (red: a wanted person; yellow: a missing person), against a table written by
hand from the design text (not derived from the declaration it checks)."""

from __future__ import annotations

from typing import Any

import pytest

from accord.cases.definitions.fugitive import FUGITIVE
from accord.cases.enums import Priority, Side
from accord.cases.workflow import fold
from accord.core.errors import InvalidInput, WorkflowViolation
from tests.cases.tables import check_cell

R, D = Side.REQUESTING, Side.REQUESTED
REVIEW_STATES = ["notice", "under_review"]
BEFORE_HANDOVER_OR_JUDGMENT = [
    *REVIEW_STATES,
    "accepted",
    "location_requested",
    "located",
    "not_found",
    "return_arranged",
    "prosecution_in_place",
]
OPEN = [*BEFORE_HANDOVER_OR_JUDGMENT, "handed_over", "judged", "found"]
FINAL = ["refused", "closed", "withdrawn"]

# (state, action) -> (sides allowed, target state; None = state unchanged)
EXPECTED: dict[tuple[str, str], tuple[set[Side], str | None]] = {
    # review on receipt, by the requested side; refusal with grounds during the review
    ("notice", "begin_review"): ({D}, "under_review"),
    ("under_review", "record_review"): ({D}, "accepted"),
    ("under_review", "record_missing_person_review"): ({D}, "accepted"),
    **{(s, "refuse"): ({D}, "refused") for s in REVIEW_STATES},
    # the requesting side asks for the location, again after "not found"
    ("accepted", "request_location"): ({R}, "location_requested"),
    ("not_found", "request_location"): ({R}, "location_requested"),
    ("location_requested", "report_located"): ({D}, "located"),
    ("location_requested", "report_not_found"): ({D}, "not_found"),
    ("location_requested", "report_found"): ({D}, "found"),
    # return (deportation, extradition, voluntary return) or prosecution in place
    ("located", "arrange_return"): ({D}, "return_arranged"),
    ("located", "prosecute_in_place"): ({D}, "prosecution_in_place"),
    ("return_arranged", "hand_over"): ({D}, "handed_over"),
    ("prosecution_in_place", "report_judgment"): ({D}, "judged"),
    # the requester closes after handover or judgment, or after "not found"
    ("handed_over", "close"): ({R}, "closed"),
    ("judged", "close"): ({R}, "closed"),
    ("not_found", "close"): ({R}, "closed"),
    ("found", "close"): ({R}, "closed"),
    **{(s, "withdraw"): ({R}, "withdrawn") for s in BEFORE_HANDOVER_OR_JUDGMENT},
    **{(s, "note"): ({R, D}, None) for s in OPEN},
    # a newer publication of the same notice, imported on either side
    **{(s, "update_notice"): ({R, D}, None) for s in OPEN},
}
ONLY = {
    # red notices: reviewed with dual criminality and the human-rights hold, located and
    # returned; yellow notices: reviewed for the person's safety, found, then closed
    "red": {"record_review", "report_located"},
    "yellow": {"record_missing_person_review", "report_found"},
}
FACTS = {
    "red": {"notice_kind": "red", "notice_id": "2022/23535"},
    "yellow": {"notice_kind": "yellow", "notice_id": "2021/5590"},
}
NOTICES = {
    "red": {
        "notice_id": "2022/23535",
        "name": "GARCIA",
        "arrest_warrants": [{"issuing_country": "CO", "charge": "drug trafficking"}],
    },
    "yellow": {"notice_kind": "yellow", "notice_id": "2021/5590", "name": "LIU"},
}

REVIEW = {
    "reviewer": "R",
    "treaty_basis": "extradition treaty",
    "dual_criminality": True,
    "neutrality_confirmed": True,
    "human_rights_confirmed": True,
    "reasons": "ordinary fraud; no risk on return",
}
VALID: dict[str, dict[str, Any]] = {
    "begin_review": {},
    "record_review": REVIEW,
    "refuse": {"grounds": ["political_offence"], "explanation": "political"},
    "request_location": {"leads": "last seen in Vancouver"},
    "report_located": {"place": "Vancouver", "located_on": "2026-03-01", "custody": True},
    "report_not_found": {"searches": "addresses visited, border records checked"},
    "arrange_return": {"route": "extradition", "conditions": "escort on 2026-04-01"},
    "prosecute_in_place": {"court": "BC Supreme Court", "reasons": "national of the state"},
    "hand_over": {
        "handed_over_on": "2026-04-01",
        "place": "YVR airport",
        "receiving_officers": "Officers A and B",
    },
    "report_judgment": {"court": "BC Supreme Court", "outcome": "convicted, 6 years"},
    "close": {"satisfied": True},
    "withdraw": {"reason": "warrant cancelled"},
    "note": {"text": "hello"},
    "record_missing_person_review": {
        "reviewer": "R",
        "legal_basis": "domestic law on missing persons",
        "neutrality_confirmed": True,
        "protective_purpose_confirmed": True,
        "reasons": "a minor; no sign she fled anyone",
    },
    "report_found": {"found_on": "2026-03-01", "whereabouts_disclosed": True},
    "update_notice": {},  # per kind, below
}

STATES = [s.name for s in FUGITIVE.states]
ACTIONS = [a.name for a in FUGITIVE.actions]


def test_table_covers_every_declared_action() -> None:
    assert set(VALID) == set(ACTIONS)
    assert {a for _, a in EXPECTED} == set(ACTIONS)


def test_states_are_those_of_the_design() -> None:
    assert set(STATES) == {*OPEN, *FINAL}
    assert FUGITIVE.initial == "notice"


@pytest.mark.parametrize("kind", ["red", "yellow"])
@pytest.mark.parametrize("side", [R, D], ids=["requesting", "requested"])
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("state", STATES)
def test_every_action_from_every_state_for_each_side(
    state: str, action: str, side: Side, kind: str
) -> None:
    payload = {"notice": NOTICES[kind]} if action == "update_notice" else VALID[action]
    other = "yellow" if kind == "red" else "red"
    cell = EXPECTED.get((state, action))
    if action in ONLY[other] and cell is not None and side in cell[0]:
        with pytest.raises(WorkflowViolation, match=f"this case holds a {kind} notice"):
            FUGITIVE.decide(
                state=state, action=action, side=side, payload=payload, facts=FACTS[kind]
            )
        return
    check_cell(
        FUGITIVE, EXPECTED, payload, state=state, action=action, side=side, facts=FACTS[kind]
    )


def test_an_update_must_be_of_the_notice_the_case_holds() -> None:
    with pytest.raises(WorkflowViolation, match="the update is yellow notice 2021/5590, but"):
        FUGITIVE.decide(
            state="accepted",
            action="update_notice",
            side=R,
            payload={"notice": NOTICES["yellow"]},
            facts=FACTS["red"],
        )


def test_final_states_are_refused_closed_and_withdrawn() -> None:
    assert {s.name for s in FUGITIVE.states if s.final} == set(FINAL)


def test_the_notice_reaches_the_requested_side_at_once() -> None:
    assert all(s.shared for s in FUGITIVE.states)


def test_requested_side_cannot_withdraw_the_notice() -> None:
    with pytest.raises(WorkflowViolation, match="belongs to the requesting side"):
        FUGITIVE.decide(state="located", action="withdraw", side=D, payload={"reason": "x"})


@pytest.mark.parametrize("state", ["handed_over", "judged"])
def test_no_withdrawal_once_handed_over_or_judged(state: str) -> None:
    with pytest.raises(WorkflowViolation, match=f"not allowed in state '{state}'"):
        FUGITIVE.decide(state=state, action="withdraw", side=R, payload={"reason": "x"})


def test_after_not_found_the_requesting_side_may_ask_again_or_close() -> None:
    names = {a.name for a in FUGITIVE.available("not_found", R)}
    assert {"request_location", "close"} <= names
    # the requested side has only bookkeeping left: a note, a newer notice imported
    assert {a.name for a in FUGITIVE.available("not_found", D)} == {"note", "update_notice"}


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("neutrality_confirmed", "neutrality not confirmed"),
        ("human_rights_confirmed", "human-rights safeguards not confirmed"),
    ],
)
def test_review_on_receipt_cannot_pass_without_its_safeguards(field: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        FUGITIVE.decide(
            state="under_review",
            action="record_review",
            side=D,
            payload={**REVIEW, field: False},
        )


def test_review_must_state_the_human_rights_finding() -> None:
    review = {k: v for k, v in REVIEW.items() if k != "human_rights_confirmed"}
    with pytest.raises(InvalidInput, match="human_rights_confirmed: Field required"):
        FUGITIVE.decide(state="under_review", action="record_review", side=D, payload=review)


def test_refusal_needs_an_enumerated_ground() -> None:
    with pytest.raises(InvalidInput, match="grounds: Field required"):
        FUGITIVE.decide(
            state="under_review", action="refuse", side=D, payload={"explanation": "no"}
        )
    with pytest.raises(InvalidInput, match="grounds"):
        FUGITIVE.decide(
            state="under_review",
            action="refuse",
            side=D,
            payload={"grounds": [], "explanation": "no"},
        )
    with pytest.raises(InvalidInput, match=r"grounds\.0"):
        FUGITIVE.decide(
            state="notice",
            action="refuse",
            side=D,
            payload={"grounds": ["dislike"], "explanation": "no"},
        )


@pytest.mark.parametrize("route", ["deportation", "extradition", "voluntary_return"])
def test_each_return_route_of_the_design_is_accepted(route: str) -> None:
    _, clean = FUGITIVE.decide(
        state="located", action="arrange_return", side=D, payload={"route": route}
    )
    assert clean["route"] == route


def test_an_unknown_return_route_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match=r"payload of 'arrange_return': route"):
        FUGITIVE.decide(
            state="located", action="arrange_return", side=D, payload={"route": "rendition"}
        )


def test_located_needs_a_real_date() -> None:
    payload = {**VALID["report_located"], "located_on": "yesterday"}
    with pytest.raises(InvalidInput, match="located_on"):
        FUGITIVE.decide(
            state="location_requested", action="report_located", side=D, payload=payload
        )


# -- deadlines -------------------------------------------------------------------------------


def test_deadlines_are_the_requested_sides_to_meet() -> None:
    for name in ("review", "locate", "hand_over"):
        assert FUGITIVE.deadline(name).owner is D


def test_deadlines_follow_the_notice_through_its_life() -> None:
    by_name = {a.name: a for a in FUGITIVE.actions}
    assert FUGITIVE.opening_starts == ("review",)
    assert by_name["begin_review"].stops == ()
    assert by_name["record_review"].stops == ("review",)
    assert "review" in by_name["refuse"].stops
    assert by_name["request_location"].starts == ("locate",)
    assert by_name["report_located"].stops == ("locate",)
    assert by_name["report_not_found"].stops == ("locate",)
    assert by_name["arrange_return"].starts == ("hand_over",)
    assert by_name["hand_over"].stops == ("hand_over",)


def _open_deadlines(*steps: str) -> set[str]:
    events: list[tuple[str, str, dict[str, Any]]] = [("open", "2026-01-01T00:00:00Z", {})]
    events += [(a, f"2026-01-{i + 2:02d}T00:00:00Z", VALID[a]) for i, a in enumerate(steps)]
    return set(fold(FUGITIVE, Priority.ROUTINE, events).deadlines)


def test_open_deadlines_as_the_case_goes() -> None:
    assert _open_deadlines() == {"review"}
    assert _open_deadlines("begin_review") == {"review"}
    assert _open_deadlines("begin_review", "record_review") == set()
    located = ("begin_review", "record_review", "request_location")
    assert _open_deadlines(*located) == {"locate"}
    assert _open_deadlines(*located, "report_not_found") == set()
    assert _open_deadlines(*located, "report_not_found", "request_location") == {"locate"}
    assert _open_deadlines(*located, "report_located", "arrange_return") == {"hand_over"}
    assert _open_deadlines(*located, "report_located", "arrange_return", "hand_over") == set()
    assert _open_deadlines(*located, "withdraw") == set()


@pytest.mark.parametrize("field", ["nationalities", "languages_spoken_ids", "arrest_warrants"])
def test_notice_list_field_that_is_not_a_list_is_invalid_input(field: str) -> None:
    """Found by fuzzing: `"nationalities": 5` escaped as TypeError."""
    from accord.cases.definitions.fugitive import notice_from_interpol

    notice: dict[str, Any] = {"name": "ZHANG", "arrest_warrants": [{"charge": "fraud"}], field: 5}
    with pytest.raises(InvalidInput, match=f"{field} must be a list"):
        notice_from_interpol(notice)
