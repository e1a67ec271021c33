"""A round of a dialogue mechanism: its agenda and its agreed outcomes, as one joint log.

The hosting side opens the round and so sequences its log, exactly as for a case; the guest side
submits its agenda items, outcomes and status updates to it. Both sides therefore hold the same
outcome list, hash-chained, and can prove it with `accord case verify`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import Field, model_validator

from accord.cases.definitions.common import TEXT, Payload, Remark, note_action
from accord.cases.enums import Area, OutcomeStatus, Side
from accord.cases.workflow import OPEN_ACTION, Action, State, Who, Workflow
from accord.core.clock import new_id

AGENDA = "agenda"
ROUND_DETAILS = "round"
HELD = "held"
OUTCOMES = "outcomes"
REFERENCE = r"^[A-Z]{2,8}-[A-Z0-9]{2,12}-\d{4}-\d{6}$"


def _new_item_id() -> str:
    return new_id().hex[:12]


class RoundOpening(Payload):
    mechanism: str = Field(
        pattern=r"^[a-z][a-z0-9_]{1,63}$",
        description="the mechanism's code, e.g. law_enforcement_cyber",
    )
    number: int = Field(ge=1, le=1000, description="the round's number within its mechanism")
    starts_on: date
    ends_on: date | None = None
    venue: str = Field(min_length=1, max_length=300)
    host_cochair: str = Field(min_length=1, max_length=300, description="name and title")
    guest_cochair: str = Field(min_length=1, max_length=300, description="name and title")

    @model_validator(mode="after")
    def ordered(self) -> RoundOpening:
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise ValueError("the round cannot end before it starts")
        return self


class AgendaItem(Payload):
    item_id: str = Field(
        default_factory=_new_item_id,
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description="leave empty for a new item",
    )
    title_en: str = Field(min_length=1, max_length=500)
    title_zh: str = Field(min_length=1, max_length=500)
    area: Area | None = None
    cases: list[str] = Field(default_factory=list, max_length=500)


class Outcome(Payload):
    outcome_id: str = Field(
        default_factory=_new_item_id,
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description="leave empty for a new outcome",
    )
    text_en: str = Field(min_length=1, max_length=TEXT)
    text_zh: str = Field(min_length=1, max_length=TEXT)
    area: Area
    owner: Side = Field(description="the side that must deliver it (requesting = the host)")
    due: date
    status: OutcomeStatus = OutcomeStatus.AGREED
    cases: list[str] = Field(default_factory=list, max_length=500)


class OutcomeUpdate(Payload):
    outcome_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    status: OutcomeStatus
    note: str = Field(default="", max_length=TEXT)
    cases: list[str] = Field(
        default_factory=list, max_length=500, description="cases to link to the outcome"
    )


class Held(Payload):
    held_on: date
    summary_en: str = Field(default="", max_length=TEXT)
    summary_zh: str = Field(default="", max_length=TEXT)


class Cancellation(Payload):
    reason: str = Field(min_length=1, max_length=TEXT)


def _bad_references(references: list[str]) -> str | None:
    wrong = [r for r in references if not re.match(REFERENCE, r)]
    return f"not case references: {', '.join(wrong)}" if wrong else None


def _find(facts: Mapping[str, Any], key: str, id_field: str, value: str) -> dict[str, Any] | None:
    for item in facts.get(key, []):
        if item[id_field] == value:
            return dict(item)
    return None


def _agenda_guard(facts: Mapping[str, Any], payload: Mapping[str, Any]) -> str | None:
    if _find(facts, AGENDA, "item_id", payload["item_id"]):
        return f"agenda item {payload['item_id']} already exists"
    return _bad_references(payload["cases"])


def _outcome_guard(facts: Mapping[str, Any], payload: Mapping[str, Any]) -> str | None:
    if _find(facts, OUTCOMES, "outcome_id", payload["outcome_id"]):
        return f"outcome {payload['outcome_id']} already exists"
    return _bad_references(payload["cases"])


def _update_guard(facts: Mapping[str, Any], payload: Mapping[str, Any]) -> str | None:
    if _find(facts, OUTCOMES, "outcome_id", payload["outcome_id"]) is None:
        known = ", ".join(o["outcome_id"] for o in facts.get(OUTCOMES, [])) or "none"
        return f"no outcome {payload['outcome_id']} in this round (outcomes: {known})"
    return _bad_references(payload["cases"])


def _all_settled(facts: Mapping[str, Any], _payload: Mapping[str, Any]) -> str | None:
    open_ = [
        o["outcome_id"] for o in facts.get(OUTCOMES, []) if not OutcomeStatus(o["status"]).settled
    ]
    if open_:
        return (
            f"{len(open_)} outcome(s) still open ({', '.join(open_)}): mark each done, "
            "carried over or dropped first"
        )
    return None


def reduce_round(facts: dict[str, Any], action: str, payload: Mapping[str, Any]) -> None:
    """The agenda and the outcome list as lists (JSON object key order is not kept by every
    store), each outcome with its status history."""
    if action == OPEN_ACTION:
        facts[ROUND_DETAILS] = dict(payload["details"])
    elif action == "hold":
        facts[HELD] = dict(payload)
    elif action == "add_agenda_item":
        facts[AGENDA] = [*facts.get(AGENDA, []), dict(payload)]
    elif action == "record_outcome":
        outcome = {**payload, "history": [{"status": payload["status"], "note": ""}]}
        facts[OUTCOMES] = [*facts.get(OUTCOMES, []), outcome]
    elif action == "update_outcome":
        updated = []
        for outcome in facts.get(OUTCOMES, []):
            if outcome["outcome_id"] == payload["outcome_id"]:
                linked = [
                    *outcome["cases"],
                    *(c for c in payload["cases"] if c not in outcome["cases"]),
                ]
                history = [
                    *outcome["history"],
                    {"status": payload["status"], "note": payload["note"]},
                ]
                outcome = {
                    **outcome,
                    "status": payload["status"],
                    "cases": linked,
                    "history": history,
                }
            updated.append(outcome)
        facts[OUTCOMES] = updated


OPEN_STATES = {"planned", "held"}

ROUND = Workflow(
    case_type="round",
    en="Dialogue round",
    zh="对话轮次",
    reference_prefix="RND",
    initial="planned",
    opening=RoundOpening,
    reduce=reduce_round,
    states=(
        State("planned", "Planned", "筹备中"),
        State("held", "Held", "已举行"),
        State("concluded", "Concluded", "已结束", final=True),
        State("cancelled", "Cancelled", "已取消", final=True),
    ),
    actions=(
        Action(
            "add_agenda_item",
            "Add an agenda item",
            "添加议题",
            frozenset(OPEN_STATES),
            None,
            Who.EITHER,
            AgendaItem,
            guard=_agenda_guard,
        ),
        Action(
            "hold",
            "Record the round as held",
            "记录本轮已举行",
            frozenset({"planned"}),
            "held",
            Who.REQUESTING,
            Held,
        ),
        Action(
            "record_outcome",
            "Record an agreed outcome",
            "记录商定成果",
            frozenset({"held"}),
            None,
            Who.EITHER,
            Outcome,
            guard=_outcome_guard,
        ),
        Action(
            "update_outcome",
            "Update an outcome",
            "更新成果进展",
            frozenset({"held"}),
            None,
            Who.EITHER,
            OutcomeUpdate,
            guard=_update_guard,
        ),
        Action(
            "conclude",
            "Conclude the round",
            "结束本轮",
            frozenset({"held"}),
            "concluded",
            Who.REQUESTING,
            Remark,
            guard=_all_settled,
        ),
        Action(
            "cancel",
            "Cancel the round",
            "取消本轮",
            frozenset({"planned"}),
            "cancelled",
            Who.REQUESTING,
            Cancellation,
        ),
        note_action(OPEN_STATES),
    ),
)
