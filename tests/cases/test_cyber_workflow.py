"""The cyber declaration, exhaustively: every action from every state, for each side, against a
table written by hand from the design text (not derived from the declaration it checks)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from accord.cases.definitions.cyber import CYBER
from accord.cases.enums import Priority, Side
from accord.cases.workflow import fold
from accord.core.clock import parse_iso
from accord.core.errors import InvalidInput, WorkflowViolation
from tests.cases.tables import check_cell

R, D = Side.REQUESTING, Side.REQUESTED
BEFORE_RESULT = ["requested", "acknowledged"]
OPEN = [*BEFORE_RESULT, "result_reported"]
FINAL = ["closed", "withdrawn"]

# (state, action) -> (sides allowed, target state; None = state unchanged)
EXPECTED: dict[tuple[str, str], tuple[set[Side], str | None]] = {
    ("requested", "acknowledge"): ({D}, "acknowledged"),
    # measures taken (takedown, preservation, investigation), possibly several
    ("acknowledged", "report_measure"): ({D}, None),
    ("acknowledged", "report_result"): ({D}, "result_reported"),
    # sightings go back on the case (issue 8), also after the result: logs keep coming
    ("acknowledged", "report_sightings"): ({D}, None),
    ("result_reported", "report_sightings"): ({D}, None),
    ("result_reported", "close"): ({R}, "closed"),
    **{(s, "withdraw"): ({R}, "withdrawn") for s in BEFORE_RESULT},
    # design silent on notes: the common rule (either side, any open state)
    **{(s, "note"): ({R, D}, None) for s in OPEN},
}

VALID: dict[str, dict[str, Any]] = {
    "acknowledge": {},
    "report_measure": {
        "measure": "takedown",
        "details": "domain suspended by registrar",
        "taken_at": "2026-01-02T10:00:00Z",
    },
    "report_result": {"summary": "infrastructure dismantled"},
    "report_sightings": {
        "started_at": "2026-01-03T08:00:00Z",
        "lines": 1000,
        "hit_lines": 2,
        "sightings": [
            {
                "indicator_id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                "count": 2,
                "first_seen": "2026-01-02T10:00:00Z",
                "last_seen": "2026-01-02T11:00:00Z",
            }
        ],
    },
    "close": {"satisfied": True},
    "withdraw": {"reason": "resolved domestically"},
    "note": {"text": "hello"},
}

REQUEST: dict[str, Any] = {
    "activity": ["phishing"],
    "description": "credential phishing against a bank",
    "indicators": [
        {"type": "domain", "value": "bank-login.example"},
        {"type": "ipv4", "value": "203.0.113.7"},
        {"type": "sha256", "value": "a" * 64},
    ],
    "measures_requested": ["takedown", "preservation"],
}

STATES = [s.name for s in CYBER.states]
ACTIONS = [a.name for a in CYBER.actions]


def test_table_covers_every_declared_action() -> None:
    assert set(VALID) == set(ACTIONS)
    assert {a for _, a in EXPECTED} == set(ACTIONS)


def test_states_are_those_of_the_design() -> None:
    assert set(STATES) == {*OPEN, *FINAL}
    assert CYBER.initial == "requested"


@pytest.mark.parametrize("side", [R, D], ids=["requesting", "requested"])
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("state", STATES)
def test_every_action_from_every_state_for_each_side(state: str, action: str, side: Side) -> None:
    check_cell(CYBER, EXPECTED, VALID[action], state=state, action=action, side=side)


def test_final_states_are_closed_and_withdrawn() -> None:
    assert {s.name for s in CYBER.states if s.final} == set(FINAL)


def test_the_request_is_shared_from_the_start() -> None:
    assert all(s.shared for s in CYBER.states)


def test_no_withdrawal_once_the_result_is_reported() -> None:
    with pytest.raises(WorkflowViolation, match="not allowed in state 'result_reported'"):
        CYBER.decide(state="result_reported", action="withdraw", side=R, payload={"reason": "x"})


def test_only_the_requester_closes() -> None:
    with pytest.raises(WorkflowViolation, match="belongs to the requesting side"):
        CYBER.decide(state="result_reported", action="close", side=D, payload={"satisfied": True})


def test_several_measures_may_be_reported_before_the_result() -> None:
    events: list[tuple[str, str, dict[str, Any]]] = [
        ("open", "2026-01-01T00:00:00Z", {"details": REQUEST}),
        ("acknowledge", "2026-01-01T02:00:00Z", {}),
    ]
    for day, measure in enumerate(["preservation", "takedown", "investigation"], start=2):
        state = fold(CYBER, Priority.URGENT, events).state
        taken_at = f"2026-01-{day:02d}T00:00:00Z"
        payload = {"measure": measure, "details": measure, "taken_at": taken_at}
        _, clean = CYBER.decide(state=state, action="report_measure", side=D, payload=payload)
        events.append(("report_measure", taken_at, clean))
    case = fold(CYBER, Priority.URGENT, events)
    assert case.state == "acknowledged"
    CYBER.decide(state=case.state, action="report_result", side=D, payload=VALID["report_result"])


# -- payload validation ----------------------------------------------------------------------


def test_a_request_with_indicators_is_accepted() -> None:
    clean = CYBER.validate_opening(REQUEST)
    assert [i["type"] for i in clean["indicators"]] == ["domain", "ipv4", "sha256"]


def test_an_indicator_of_unknown_type_is_refused_by_name() -> None:
    details = {**REQUEST, "indicators": [*REQUEST["indicators"], {"type": "hash", "value": "x"}]}
    with pytest.raises(InvalidInput, match=r"cyber opening details: indicators\.3\.type"):
        CYBER.validate_opening(details)


def test_an_empty_indicator_value_is_refused_by_name() -> None:
    details = {**REQUEST, "indicators": [{"type": "url", "value": ""}]}
    with pytest.raises(InvalidInput, match=r"indicators\.0\.value"):
        CYBER.validate_opening(details)


@pytest.mark.parametrize("field", ["activity", "measures_requested"])
def test_a_request_names_the_activity_and_the_measures_wanted(field: str) -> None:
    with pytest.raises(InvalidInput, match=f"cyber opening details: {field}"):
        CYBER.validate_opening({**REQUEST, field: []})


@pytest.mark.parametrize("measure", ["takedown", "preservation", "investigation"])
def test_each_measure_of_the_design_may_be_reported(measure: str) -> None:
    payload = {**VALID["report_measure"], "measure": measure}
    _, clean = CYBER.decide(state="acknowledged", action="report_measure", side=D, payload=payload)
    assert clean["measure"] == measure


def test_an_unknown_measure_is_refused_by_name() -> None:
    payload = {**VALID["report_measure"], "measure": "hack_back"}
    with pytest.raises(InvalidInput, match=r"payload of 'report_measure': measure"):
        CYBER.decide(state="acknowledged", action="report_measure", side=D, payload=payload)


def test_a_measure_needs_the_time_it_was_taken() -> None:
    payload = {**VALID["report_measure"], "taken_at": "soon"}
    with pytest.raises(InvalidInput, match="taken_at"):
        CYBER.decide(state="acknowledged", action="report_measure", side=D, payload=payload)


# -- deadlines -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "hours"),
    [(Priority.ROUTINE, 24), (Priority.URGENT, 4), (Priority.IMMEDIATE, 1)],
    ids=str,
)
def test_acknowledgement_is_due_within_hours(priority: Priority, hours: int) -> None:
    rule = CYBER.deadline("acknowledge")
    assert rule.owner is D
    assert rule.durations[priority] == timedelta(hours=hours)
    assert CYBER.default_durations(priority)["acknowledge"] == hours * 3600
    case = fold(CYBER, priority, [("open", "2026-01-01T00:00:00Z", {"details": REQUEST})])
    clock = case.deadlines["acknowledge"]
    assert clock.started_at == parse_iso("2026-01-01T00:00:00Z")
    assert clock.due_at == parse_iso("2026-01-01T00:00:00Z") + timedelta(hours=hours)


def test_deadlines_follow_the_request_through_its_life() -> None:
    by_name = {a.name: a for a in CYBER.actions}
    assert CYBER.opening_starts == ("acknowledge",)
    assert by_name["acknowledge"].stops == ("acknowledge",)
    assert by_name["acknowledge"].starts == ("result",)
    assert by_name["report_measure"].starts == by_name["report_measure"].stops == ()
    assert by_name["report_result"].stops == ("result",)
    assert CYBER.deadline("result").owner is D


def _open_deadlines(*steps: str) -> set[str]:
    events = [("open", "2026-01-01T00:00:00Z", {"details": REQUEST})]
    events += [(a, f"2026-01-01T{i + 1:02d}:00:00Z", VALID[a]) for i, a in enumerate(steps)]
    return set(fold(CYBER, Priority.IMMEDIATE, events).deadlines)


def test_open_deadlines_as_the_request_goes() -> None:
    assert _open_deadlines() == {"acknowledge"}
    assert _open_deadlines("acknowledge") == {"result"}
    assert _open_deadlines("acknowledge", "report_measure", "report_measure") == {"result"}
    assert _open_deadlines("acknowledge", "report_result") == set()
    assert _open_deadlines("acknowledge", "withdraw") == set()
    assert _open_deadlines("withdraw") == set()
