"""The removal declaration, exhaustively: every action from every state, for each side, against a
table written by hand from the design text (not derived from the declaration it checks); then the
per-person rules, every action against every status a person can be in."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

import pytest

from accord.cases.definitions.removal import REMOVAL
from accord.cases.enums import PersonStatus, Priority, Side
from accord.cases.workflow import CaseFold, fold
from accord.core.clock import parse_iso
from accord.core.errors import InvalidInput, WorkflowViolation
from tests.cases.tables import check_cell

R, D = Side.REQUESTING, Side.REQUESTED
OPEN = ["requested", "in_progress"]
FINAL = ["closed", "withdrawn"]
PER_PERSON = [
    "confirm_identity",
    "deny_identity",
    "issue_travel_document",
    "record_removal",
    "record_not_removed",
]

# (state, action) -> (sides allowed, target state; None = state unchanged)
EXPECTED: dict[tuple[str, str], tuple[set[Side], str | None]] = {
    ("requested", "acknowledge"): ({D}, "in_progress"),
    # per person, only while the batch is in progress; the batch itself does not move
    ("in_progress", "confirm_identity"): ({D}, None),
    ("in_progress", "deny_identity"): ({D}, None),
    ("in_progress", "issue_travel_document"): ({D}, None),
    ("in_progress", "record_removal"): ({R}, None),
    ("in_progress", "record_not_removed"): ({R}, None),
    ("in_progress", "close"): ({R}, "closed"),
    # design silent on withdrawal and notes: the common rules (requester withdraws while open;
    # either side notes in any open state)
    **{(s, "withdraw"): ({R}, "withdrawn") for s in OPEN},
    **{(s, "note"): ({R, D}, None) for s in OPEN},
}

# The person statuses from which each per-person action is allowed (design: pending → verified /
# not verified; verified → travel document issued; documented → removed or not removed). A
# verified person may also be recorded as not removed before any document is issued (released or
# absconded): otherwise such a person could never be settled and the batch never closed.
ALLOWED_FROM: dict[str, set[PersonStatus]] = {
    "confirm_identity": {PersonStatus.PENDING},
    "deny_identity": {PersonStatus.PENDING},
    "issue_travel_document": {PersonStatus.VERIFIED},
    "record_removal": {PersonStatus.DOCUMENTED},
    "record_not_removed": {PersonStatus.VERIFIED, PersonStatus.DOCUMENTED},
}
LEADS_TO: dict[str, PersonStatus] = {
    "confirm_identity": PersonStatus.VERIFIED,
    "deny_identity": PersonStatus.NOT_VERIFIED,
    "issue_travel_document": PersonStatus.DOCUMENTED,
    "record_removal": PersonStatus.REMOVED,
    "record_not_removed": PersonStatus.NOT_REMOVED,
}
SETTLED = {PersonStatus.NOT_VERIFIED, PersonStatus.REMOVED, PersonStatus.NOT_REMOVED}

VALID: dict[str, dict[str, Any]] = {
    "acknowledge": {},
    "confirm_identity": {"person_id": "P1", "confirmed_id_number": "110101199001011234"},
    "deny_identity": {"person_id": "P1", "reason": "no record of this person"},
    "issue_travel_document": {
        "person_id": "P1",
        "document_number": "T-1",
        "valid_until": "2026-12-31",
    },
    "record_removal": {"person_id": "P1", "removed_on": "2026-03-01", "transport": "CA 982"},
    "record_not_removed": {"person_id": "P1", "reason": "absconded"},
    "close": {"satisfied": True},
    "withdraw": {"reason": "batch released"},
    "note": {"text": "hello"},
}


def persons(**status: PersonStatus) -> dict[str, Any]:
    return {"persons": {p: s.value for p, s in status.items()}}


# Facts that satisfy each guard, so that in the sweep only state and side decide.
FACTS: dict[str, dict[str, Any]] = {
    **{a: persons(P1=sorted(ALLOWED_FROM[a])[0]) for a in PER_PERSON},
    "close": persons(P1=PersonStatus.REMOVED, P2=PersonStatus.NOT_VERIFIED),
}

STATES = [s.name for s in REMOVAL.states]
ACTIONS = [a.name for a in REMOVAL.actions]
BATCH = {
    "persons": [
        {"person_id": "P1", "name": "LI Wei", "nationality": "CN"},
        {"person_id": "P2", "name": "WANG Fang", "nationality": "CN"},
    ],
    "detained_at": "El Paso",
}


def test_table_covers_every_declared_action() -> None:
    assert set(VALID) == set(ACTIONS)
    assert {a for _, a in EXPECTED} == set(ACTIONS)


def test_states_are_those_of_the_design() -> None:
    assert set(STATES) == {*OPEN, *FINAL}
    assert REMOVAL.initial == "requested"


@pytest.mark.parametrize("side", [R, D], ids=["requesting", "requested"])
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("state", STATES)
def test_every_action_from_every_state_for_each_side(state: str, action: str, side: Side) -> None:
    check_cell(
        REMOVAL,
        EXPECTED,
        VALID[action],
        state=state,
        action=action,
        side=side,
        facts=FACTS.get(action, {}),
    )


def test_final_states_are_closed_and_withdrawn() -> None:
    assert {s.name for s in REMOVAL.states if s.final} == set(FINAL)


def test_the_batch_is_shared_from_the_start() -> None:
    assert all(s.shared for s in REMOVAL.states)


# -- per-person guards -----------------------------------------------------------------------


def _side(action: str) -> Side:
    (side,) = EXPECTED[("in_progress", action)][0]
    return side


@pytest.mark.parametrize("status", list(PersonStatus), ids=str)
@pytest.mark.parametrize("action", PER_PERSON)
def test_each_person_action_from_each_person_status(action: str, status: PersonStatus) -> None:
    decide = partial(
        REMOVAL.decide,
        state="in_progress",
        action=action,
        side=_side(action),
        payload=VALID[action],
        facts=persons(P1=status, P2=PersonStatus.PENDING),
    )
    if status not in ALLOWED_FROM[action]:
        with pytest.raises(WorkflowViolation, match=f"person 'P1' is {status.value}, not"):
            decide()
        return
    _, clean = decide()
    assert clean["person_id"] == "P1"


@pytest.mark.parametrize("action", PER_PERSON)
def test_person_actions_name_a_person_of_the_batch(action: str) -> None:
    payload = {**VALID[action], "person_id": "P9"}
    facts = persons(P1=sorted(ALLOWED_FROM[action])[0])
    with pytest.raises(WorkflowViolation, match="no person 'P9' in this batch"):
        REMOVAL.decide(
            state="in_progress", action=action, side=_side(action), payload=payload, facts=facts
        )


@pytest.mark.parametrize("status", list(PersonStatus), ids=str)
def test_the_batch_closes_only_when_every_person_is_settled(status: PersonStatus) -> None:
    facts = persons(P1=PersonStatus.REMOVED, P2=status)
    decide = partial(
        REMOVAL.decide,
        state="in_progress",
        action="close",
        side=R,
        payload=VALID["close"],
        facts=facts,
    )
    if status in SETTLED:
        decide()
        return
    with pytest.raises(WorkflowViolation, match=r"1 persons are not settled yet \(P2\)"):
        decide()


def test_settled_statuses_are_those_of_the_design() -> None:
    assert {s for s in PersonStatus if s.settled} == SETTLED


Event = tuple[str, str, dict[str, Any]]


def _fold(steps: list[Event], priority: Priority = Priority.ROUTINE) -> CaseFold:
    opening: Event = ("open", "2026-01-01T00:00:00Z", {"details": BATCH})
    return fold(REMOVAL, priority, [opening, *steps])


def _step(action: str, day: int, person: str = "P1") -> Event:
    payload = {**VALID[action], "person_id": person} if action in PER_PERSON else VALID[action]
    return (action, f"2026-01-{day:02d}T00:00:00Z", payload)


@pytest.mark.parametrize(
    "path",
    [
        ["deny_identity"],
        ["confirm_identity", "issue_travel_document", "record_removal"],
        ["confirm_identity", "issue_travel_document", "record_not_removed"],
    ],
    ids=["not_verified", "removed", "not_removed"],
)
def test_each_person_is_settled_individually_and_then_the_batch_closes(path: list[str]) -> None:
    steps = [_step("acknowledge", 2)]
    case = _fold(steps)
    assert case.facts["persons"] == {"P1": "pending", "P2": "pending"}
    for day, action in enumerate(path, start=3):
        step = _step(action, day)
        REMOVAL.decide(
            state=case.state, action=action, side=_side(action), payload=step[2], facts=case.facts
        )
        steps.append(step)
        case = _fold(steps)
        assert case.state == "in_progress"
        assert case.facts["persons"] == {"P1": LEADS_TO[action].value, "P2": "pending"}
    close = partial(
        REMOVAL.decide, state=case.state, action="close", side=R, payload=VALID["close"]
    )
    with pytest.raises(WorkflowViolation, match=r"1 persons are not settled yet \(P2\)"):
        close(facts=case.facts)
    steps.append(_step("deny_identity", 9, "P2"))
    case = _fold(steps)
    assert case.facts["persons"] == {"P1": LEADS_TO[path[-1]].value, "P2": "not_verified"}
    close(facts=case.facts)
    assert _fold([*steps, _step("close", 10)]).state == "closed"


# -- opening details -------------------------------------------------------------------------


def test_a_person_may_appear_only_once_in_a_batch() -> None:
    batch = {"persons": [*BATCH["persons"], {"person_id": "P1", "name": "LI Wei again"}]}
    with pytest.raises(InvalidInput, match="person_id 'P1' appears twice in the batch"):
        REMOVAL.validate_opening(batch)


def test_a_batch_has_at_least_one_person() -> None:
    with pytest.raises(InvalidInput, match="removal opening details: persons"):
        REMOVAL.validate_opening({"persons": []})


def test_a_person_without_a_name_is_refused_by_field() -> None:
    with pytest.raises(InvalidInput, match=r"persons\.1\.name"):
        REMOVAL.validate_opening({"persons": [BATCH["persons"][0], {"person_id": "P2"}]})


def test_a_travel_document_needs_a_real_expiry_date() -> None:
    payload = {**VALID["issue_travel_document"], "valid_until": "31/12/2026"}
    with pytest.raises(InvalidInput, match="valid_until"):
        REMOVAL.decide(
            state="in_progress",
            action="issue_travel_document",
            side=D,
            payload=payload,
            facts=persons(P1=PersonStatus.VERIFIED),
        )


# -- deadlines -------------------------------------------------------------------------------


def test_acknowledgement_deadline_runs_from_the_batch() -> None:
    by_name = {a.name: a for a in REMOVAL.actions}
    assert REMOVAL.opening_starts == ("acknowledge",)
    assert REMOVAL.deadline("acknowledge").owner is D
    assert by_name["acknowledge"].stops == ("acknowledge",)
    assert set(_fold([]).deadlines) == {"acknowledge"}
    assert set(_fold([_step("acknowledge", 2)]).deadlines) == set()


@pytest.mark.parametrize("priority", list(Priority), ids=str)
def test_travel_document_is_due_thirty_days_after_verification(priority: Priority) -> None:
    rule = REMOVAL.deadline("travel_document")
    assert rule.owner is D and rule.item_field == "person_id"
    assert rule.durations[priority] == timedelta(days=30)
    case = _fold([_step("acknowledge", 2), _step("confirm_identity", 5)], priority)
    clock = case.deadlines["travel_document:P1"]
    assert clock.started_at == parse_iso("2026-01-05T00:00:00Z")
    assert clock.due_at - clock.started_at == timedelta(days=30)


def test_the_travel_document_clock_runs_per_person() -> None:
    by_name = {a.name: a for a in REMOVAL.actions}
    assert by_name["confirm_identity"].starts == ("travel_document",)
    assert by_name["issue_travel_document"].stops == ("travel_document",)
    assert by_name["deny_identity"].starts == ()
    both = [
        _step("acknowledge", 2),
        _step("confirm_identity", 3),
        _step("confirm_identity", 4, "P2"),
    ]
    assert set(_fold(both).deadlines) == {"travel_document:P1", "travel_document:P2"}
    documented = [*both, _step("issue_travel_document", 5)]
    assert set(_fold(documented).deadlines) == {"travel_document:P2"}
    denied = [_step("acknowledge", 2), _step("deny_identity", 3)]
    assert set(_fold(denied).deadlines) == set()
    withdrawn = [*both, _step("withdraw", 6)]
    assert set(_fold(withdrawn).deadlines) == set()
