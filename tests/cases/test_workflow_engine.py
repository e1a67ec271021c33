"""The generic engine: bad declarations are refused at load; decisions and folds are right."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import BaseModel

from accord.cases.definitions.common import Note
from accord.cases.enums import Priority, Side
from accord.cases.workflow import (
    Action,
    DeadlineRule,
    State,
    Who,
    Workflow,
    fold,
    json_schema,
)
from accord.core.errors import DeclarationError, InvalidInput, WorkflowViolation


class Empty(BaseModel):
    pass


class Reason(BaseModel):
    reason: str


def _wf(**overrides: object) -> Workflow:
    spec: dict[str, object] = {
        "case_type": "toy",
        "en": "Toy",
        "zh": "玩具",
        "initial": "a",
        "opening": Empty,
        "states": (State("a", "A", "甲"), State("b", "B", "乙"), State("z", "Z", "终", final=True)),
        "actions": (
            Action("go", "Go", "去", frozenset({"a"}), "b", Who.REQUESTING, Empty),
            Action("end", "End", "结束", frozenset({"b"}), "z", Who.REQUESTED, Reason),
        ),
    }
    spec.update(overrides)
    return Workflow(**spec)  # type: ignore[arg-type]


def test_a_sound_declaration_loads() -> None:
    assert _wf().available("a", Side.REQUESTING)[0].name == "go"


def test_unreachable_state_is_refused() -> None:
    states = (
        State("a", "A", "甲"),
        State("b", "B", "乙"),
        State("orphan", "O", "孤", final=True),
        State("z", "Z", "终", final=True),
    )
    with pytest.raises(DeclarationError, match=r"unreachable states \['orphan'\]"):
        _wf(states=states)


def test_exit_from_final_state_is_refused() -> None:
    actions = (
        Action("go", "Go", "去", frozenset({"a"}), "b", Who.REQUESTING, Empty),
        Action("end", "End", "结束", frozenset({"b"}), "z", Who.REQUESTED, Empty),
        Action("revive", "Revive", "复活", frozenset({"z"}), "a", Who.EITHER, Empty),
    )
    with pytest.raises(DeclarationError, match="leaves final state 'z'"):
        _wf(actions=actions)


def test_state_with_no_way_to_a_final_state_is_refused() -> None:
    actions = (Action("go", "Go", "去", frozenset({"a"}), "b", Who.REQUESTING, Empty),)
    states = (State("a", "A", "甲"), State("b", "B", "乙"), State("z", "Z", "终", final=True))
    with pytest.raises(DeclarationError, match=r"unreachable states|no final state is reachable"):
        _wf(actions=actions, states=states)


def test_undeclared_state_in_action_is_refused() -> None:
    actions = (Action("go", "Go", "去", frozenset({"a"}), "nowhere", Who.REQUESTING, Empty),)
    with pytest.raises(DeclarationError, match="undeclared state 'nowhere'"):
        _wf(actions=actions)


def test_undeclared_deadline_is_refused() -> None:
    actions = (
        Action("go", "Go", "去", frozenset({"a"}), "b", Who.REQUESTING, Empty, starts=("x",)),
        Action("end", "End", "结束", frozenset({"b"}), "z", Who.REQUESTED, Empty),
    )
    with pytest.raises(DeclarationError, match="undeclared deadline 'x'"):
        _wf(actions=actions)


def test_duplicate_and_reserved_names_are_refused() -> None:
    with pytest.raises(DeclarationError, match="declared twice"):
        _wf(
            states=(State("a", "A", "甲"), State("a", "A", "甲"), State("z", "Z", "终", final=True))
        )
    actions = (
        Action("open", "Open", "开", frozenset({"a"}), "z", Who.REQUESTING, Empty),
        Action("go", "Go", "去", frozenset({"a"}), "b", Who.REQUESTING, Empty),
        Action("end", "End", "结束", frozenset({"b"}), "z", Who.REQUESTED, Empty),
    )
    with pytest.raises(DeclarationError, match="reserved"):
        _wf(actions=actions)


def test_initial_state_must_exist_and_not_be_final() -> None:
    with pytest.raises(DeclarationError, match="initial state 'q'"):
        _wf(initial="q")
    with pytest.raises(DeclarationError, match="is final"):
        _wf(initial="z")


def test_decide_names_what_the_side_may_do_instead() -> None:
    with pytest.raises(WorkflowViolation, match="may now take: go"):
        _wf().decide(state="a", action="end", side=Side.REQUESTING, payload={})
    with pytest.raises(WorkflowViolation, match="belongs to the requesting side"):
        _wf().decide(state="a", action="go", side=Side.REQUESTED, payload={})
    with pytest.raises(InvalidInput, match="has no action 'fly'"):
        _wf().decide(state="a", action="fly", side=Side.REQUESTING, payload={})


def test_decide_validates_the_payload_and_says_which_field() -> None:
    with pytest.raises(InvalidInput, match="reason: Field required"):
        _wf().decide(state="b", action="end", side=Side.REQUESTED, payload={})
    _, clean = _wf().decide(state="b", action="end", side=Side.REQUESTED, payload={"reason": "x"})
    assert clean == {"reason": "x"}


def test_fold_opens_and_closes_deadlines_by_priority() -> None:
    rule = DeadlineRule(
        "answer",
        Side.REQUESTED,
        {p: timedelta(days=d) for p, d in zip(Priority, (30, 3, 1), strict=True)},
        "Answer",
        "答复",
    )
    actions = (
        Action("go", "Go", "去", frozenset({"a"}), "b", Who.REQUESTING, Empty, starts=("answer",)),
        Action(
            "end", "End", "结束", frozenset({"b"}), "z", Who.REQUESTED, Empty, stops=("answer",)
        ),
    )
    wf = _wf(actions=actions, deadlines=(rule,))
    opened = fold(
        wf,
        Priority.URGENT,
        [("open", "2026-01-01T00:00:00Z", {}), ("go", "2026-01-02T00:00:00Z", {})],
    )
    assert opened.state == "b"
    assert opened.deadlines["answer"].due_at.isoformat() == "2026-01-05T00:00:00+00:00"
    done = fold(
        wf,
        Priority.URGENT,
        [
            ("open", "2026-01-01T00:00:00Z", {}),
            ("go", "2026-01-02T00:00:00Z", {}),
            ("end", "2026-01-03T00:00:00Z", {}),
        ],
    )
    assert done.state == "z" and done.final and not done.deadlines


def test_json_schema_is_the_model_schema_and_each_caller_gets_its_own_copy() -> None:
    first = json_schema(Note)
    assert first == Note.model_json_schema()
    first["properties"].clear()
    assert json_schema(Note) == Note.model_json_schema()
