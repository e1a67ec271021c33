"""The generic workflow engine: case types declared as data, checked at load, run as a fold.

A declaration names its states, its actions (from which states, to which state, which side may
take them, the payload model) and the deadlines each action starts or stops. Nothing here does
I/O: the services feed it events and it answers what the case looks like and what may happen next.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from accord.cases.enums import HandlingCode, Priority, Side
from accord.core.canonical import contains_nul
from accord.core.clock import parse_iso
from accord.core.errors import (
    DeclarationError,
    InvalidInput,
    WorkflowViolation,
    validation_problems,
)
from accord.core.media import MAX_MEDIA_TYPE, media_type_problem

OPEN_ACTION = "open"
ATTACH_ACTION = "attach"
"""Built into every workflow: either side may attach a file in any state that is not final."""

ERASE_ACTION = "erase"
ERASURE_RECEIPT_ACTION = "erasure_receipt"
LEGAL_HOLD_ACTION = "legal_hold"
LIFT_HOLD_ACTION = "lift_legal_hold"
HANDLING_CODE_ACTION = "change_handling_code"
CORRECT_ACTION = "correct"
RETRACT_ACTION = "retract"
LIFECYCLE_ACTIONS = (
    ERASE_ACTION,
    ERASURE_RECEIPT_ACTION,
    LEGAL_HOLD_ACTION,
    LIFT_HOLD_ACTION,
    HANDLING_CODE_ACTION,
    CORRECT_ACTION,
    RETRACT_ACTION,
)
"""Built into every workflow, in every state (final ones too: retention runs on closed cases),
for either side: the lifecycle of the personal data a case holds (`accord.lifecycle`)."""
LEGAL_HOLD = "legal_hold"
"""Facts key: the legal hold on the case ({"reason", "since", "by"}), absent when none."""
CORRECTED = "corrected"
"""Facts key: the corrected values, {str(seq): {pointer: value}}, that the case's views and
its screening read in place of the erased ones (`cases/correction.py`)."""
RETRACTED = "retracted"
"""Facts key: the items retracted from the case, {str(seq): [pointer, ...]}."""
DETAILS_SEQ = "details_seq"
"""Facts key: the event whose payload the case's current details come from, when a type's
fold took them from a later event than the opening (a newer notice)."""


class AttachmentRecord(BaseModel):
    """The log's record of an attached file; the content travels separately, by its hash."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    filename: str = Field(min_length=1, max_length=255)
    size: int = Field(ge=0)
    media_type: str = Field(default="application/octet-stream", max_length=MAX_MEDIA_TYPE)
    handling_code: HandlingCode = HandlingCode.H0
    description: str = Field(default="", max_length=2000)

    # Before stripping: a CR/LF at either end would be stripped here but kept in a peer's
    # event as hashed, and sent in the Content-Type of every download of the file.
    @field_validator("media_type", mode="before")
    @classmethod
    def _is_a_media_type(cls, value: object) -> object:
        if isinstance(value, str) and (problem := media_type_problem(value)):
            raise ValueError(problem)
        return value

    @field_validator("filename", mode="before")
    @classmethod
    def _has_no_control_characters(cls, value: object) -> object:
        if isinstance(value, str) and any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in value):
            raise ValueError("file name has a control character (such as CR or LF); rename it")
        return value


class ErasureTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=1)
    path: str = Field(default="", max_length=500, pattern=r"^(/[^/]*)*$")
    """An RFC 6901 pointer into the event's payload: every personal part under it is erased
    ("" for all of the event's personal parts)."""


class Erasure(BaseModel):
    """What an erasure names: never the content, only where it was and under which rule."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    rule: str = Field(min_length=1, max_length=200)
    """The retention rule ("retention:mla/closed:1825d") or the legal ground of a request."""
    reason: str = Field(default="", max_length=2000)
    targets: list[ErasureTarget] = Field(min_length=1, max_length=100000)


POINTER = r"^(/[^/]*)*$"
"""An RFC 6901 pointer into a payload ("" for the payload itself)."""


class CorrectionItem(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    seq: int = Field(ge=1)
    path: str = Field(max_length=500, pattern=POINTER)
    """The object in the event's payload that holds the fields corrected
    (`/details/persons/0`; `/details` for a notice's subject; "" for the payload itself)."""
    set: dict[str, str] = Field(min_length=1, max_length=50)
    """Field name -> its new value; each name must be a personal field of the case type. The
    values are erasable parts of the correction event, committed like any personal part."""


class Correction(BaseModel):
    """A correction of personal data recorded earlier in the log: the old values are erased,
    the new ones carried (committed) by this event."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    rule: str = Field(min_length=1, max_length=200)
    """The legal ground ("GDPR art. 16", "PIPL art. 46") or the request it answers."""
    reason: str = Field(default="", max_length=2000)
    corrections: list[CorrectionItem] = Field(min_length=1, max_length=1000)


class RetractionItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=1)
    path: str = Field(max_length=500, pattern=POINTER)
    """The item withdrawn: an object in the event's payload (a person of a batch, an
    indicator, a notice's subject at `/details`)."""


class Retraction(BaseModel):
    """Items withdrawn from the case: they leave its views and its screening, and their
    personal parts are erased."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    rule: str = Field(default="", max_length=200)
    reason: str = Field(min_length=1, max_length=2000)
    items: list[RetractionItem] = Field(min_length=1, max_length=1000)


class ErasureReceipt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    erasure_seq: int = Field(ge=1)
    parts_erased: int = Field(ge=0)


class LegalHold(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=2000)


class HandlingCodeChange(BaseModel):
    """A new handling code for the whole case (raised or lowered), with the reason."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    handling_code: HandlingCode
    reason: str = Field(min_length=1, max_length=2000)


class Who(StrEnum):
    """Which side of a case may take an action."""

    REQUESTING = "requesting"
    REQUESTED = "requested"
    EITHER = "either"

    def allows(self, side: Side) -> bool:
        return self is Who.EITHER or self.value == side.value


@dataclass(frozen=True)
class State:
    name: str
    en: str
    zh: str
    final: bool = False
    shared: bool = True
    """False for the requesting side's own preparation (draft, legal review): not yet sent."""


@dataclass(frozen=True)
class DeadlineRule:
    name: str
    owner: Side
    """The side that must act before the deadline."""
    durations: Mapping[Priority, timedelta]
    en: str
    zh: str
    item_field: str | None = None
    """Set for a clock per item (e.g. per person): the payload field naming the item."""

    def key(self, payload: Mapping[str, Any]) -> str:
        return f"{self.name}:{payload[self.item_field]}" if self.item_field else self.name


Guard = Callable[[Mapping[str, Any], Mapping[str, Any]], str | None]
"""(facts, validated payload) -> why the action is refused now, or None."""

Reducer = Callable[[dict[str, Any], str, Mapping[str, Any]], None]
"""Update a case's facts with one event (action name, validated payload)."""

DEADLINE_SECONDS = "deadline_seconds"
"""Facts key (and header field) holding each deadline's duration for this case, in seconds."""


@dataclass(frozen=True)
class Action:
    name: str
    en: str
    zh: str
    sources: frozenset[str]
    target: str | None
    """None: the action is recorded but the state does not change (notes, evidence)."""
    by: Who
    payload: type[BaseModel]
    starts: tuple[str, ...] = ()
    stops: tuple[str, ...] = ()
    guard: Guard | None = None
    """A rule on the case's facts beyond its state (e.g. every person settled before closing)."""
    review: bool = False
    """It records a legal review: only a legal reviewer may take it."""
    bookkeeping: bool = False
    """Always open to its side (a note, a withdrawal): never a "next step" in an officer's queue."""


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`model.model_json_schema()`, generated once per model: every case page and case read
    asks for several, at about 2 ms each. A fresh copy each time, as callers edit theirs."""
    schema: dict[str, Any] = json.loads(_schema_text(model))
    return schema


@cache
def _schema_text(model: type[BaseModel]) -> str:
    return json.dumps(model.model_json_schema())


_Named = TypeVar("_Named", State, Action, DeadlineRule)


@dataclass(frozen=True)
class Workflow:
    case_type: str
    en: str
    zh: str
    initial: str
    states: tuple[State, ...]
    actions: tuple[Action, ...]
    opening: type[BaseModel]
    """The type-specific details carried by the opening event."""
    deadlines: tuple[DeadlineRule, ...] = ()
    reference_prefix: str = ""
    reduce: Reducer | None = None
    """Derives the facts that guards and reports read (per-person status, amounts returned)."""
    opening_starts: tuple[str, ...] = ()
    """Deadlines that run from the opening event (for cases shared from the start)."""
    _states: dict[str, State] = field(init=False, repr=False, compare=False)
    _actions: dict[str, Action] = field(init=False, repr=False, compare=False)
    _deadlines: dict[str, DeadlineRule] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_states", _unique(self.states, "state", self.case_type))
        object.__setattr__(self, "_actions", _unique(self.actions, "action", self.case_type))
        object.__setattr__(self, "_deadlines", _unique(self.deadlines, "deadline", self.case_type))
        self._check()

    # -- load-time checks -------------------------------------------------------------------
    def _check(self) -> None:
        where = f"workflow {self.case_type!r}"
        if self.initial not in self._states:
            raise DeclarationError(f"{where}: initial state {self.initial!r} is not declared")
        if self._states[self.initial].final:
            raise DeclarationError(f"{where}: initial state {self.initial!r} is final")
        for deadline in self.opening_starts:
            if deadline not in self._deadlines or self._deadlines[deadline].item_field:
                raise DeclarationError(f"{where}: opening starts unknown deadline {deadline!r}")
        for reserved in (OPEN_ACTION, ATTACH_ACTION, *LIFECYCLE_ACTIONS):
            if reserved in self._actions:
                raise DeclarationError(f"{where}: action name {reserved!r} is reserved")
        if not any(s.final for s in self.states):
            raise DeclarationError(f"{where}: no final state")
        for action in self.actions:
            if not action.sources:
                raise DeclarationError(f"{where}: action {action.name!r} has no source state")
            for name in [*action.sources, *([action.target] if action.target else [])]:
                if name not in self._states:
                    raise DeclarationError(
                        f"{where}: action {action.name!r} names undeclared state {name!r}"
                    )
            for source in action.sources:
                if self._states[source].final:
                    raise DeclarationError(
                        f"{where}: action {action.name!r} leaves final state {source!r}"
                    )
            for deadline in [*action.starts, *action.stops]:
                if deadline not in self._deadlines:
                    raise DeclarationError(
                        f"{where}: action {action.name!r} names undeclared deadline {deadline!r}"
                    )
                item_field = self._deadlines[deadline].item_field
                if item_field and item_field not in action.payload.model_fields:
                    raise DeclarationError(
                        f"{where}: action {action.name!r} has no payload field {item_field!r} "
                        f"for the per-item deadline {deadline!r}"
                    )
        reachable = self._closure({self.initial}, forward=True)
        unreachable = [s.name for s in self.states if s.name not in reachable]
        if unreachable:
            raise DeclarationError(f"{where}: unreachable states {unreachable}")
        finals = {s.name for s in self.states if s.final}
        can_finish = self._closure(finals, forward=False)
        trapped = [s.name for s in self.states if s.name not in can_finish]
        if trapped:
            raise DeclarationError(
                f"{where}: states from which no final state is reachable {trapped}"
            )
        shared = {s.name for s in self.states if s.shared}
        for action in self.actions:
            if action.target and action.target not in shared and action.sources & shared:
                raise DeclarationError(
                    f"{where}: action {action.name!r} returns a shared case to a local state"
                )

    def _closure(self, start: set[str], *, forward: bool) -> set[str]:
        seen = set(start)
        frontier = list(start)
        while frontier:
            current = frontier.pop()
            for action in self.actions:
                if action.target is None:
                    continue
                if forward and current in action.sources and action.target not in seen:
                    seen.add(action.target)
                    frontier.append(action.target)
                if not forward and action.target == current:
                    for source in action.sources - seen:
                        seen.add(source)
                        frontier.append(source)
        return seen

    # -- queries ----------------------------------------------------------------------------
    def state(self, name: str) -> State:
        try:
            return self._states[name]
        except KeyError:
            raise InvalidInput(f"{self.case_type}: unknown state {name!r}") from None

    def action(self, name: str) -> Action:
        if name == ATTACH_ACTION:
            return Action(
                ATTACH_ACTION,
                "Attach a file",
                "添加附件",
                frozenset(s.name for s in self.states if not s.final),
                None,
                Who.EITHER,
                AttachmentRecord,
            )
        if name in LIFECYCLE_ACTIONS:
            return _lifecycle_action(name, frozenset(s.name for s in self.states))
        try:
            return self._actions[name]
        except KeyError:
            known = ", ".join(sorted(self._actions))
            raise InvalidInput(
                f"{self.case_type} has no action {name!r}; its actions are: {known}"
            ) from None

    def labels_of(self, name: str) -> tuple[str, str]:
        """What an event of action `name` is called, in English and Chinese: the opening too,
        and the name itself for an action this workflow does not declare (an older log's)."""
        if name == OPEN_ACTION:
            return "Opened", "立案"
        try:
            declared = self.action(name)
        except InvalidInput:
            return name, name
        return declared.en, declared.zh

    def deadline(self, name: str) -> DeadlineRule:
        return self._deadlines[name]

    def available(self, state: str, side: Side) -> list[Action]:
        """The actions that `side` may take in `state`, in declaration order."""
        return [a for a in self.actions if state in a.sources and a.by.allows(side)]

    def validate_opening(self, details: Mapping[str, Any]) -> dict[str, Any]:
        return _validate(self.opening, details, f"{self.case_type} opening details")

    def decide(
        self,
        *,
        state: str,
        action: str,
        side: Side,
        payload: Mapping[str, Any],
        facts: Mapping[str, Any] | None = None,
    ) -> tuple[Action, dict[str, Any]]:
        """Check that `side` may take `action` in `state`; return it with its validated payload."""
        declared = self.action(action)
        if state not in declared.sources:
            allowed = ", ".join(a.name for a in self.available(state, side)) or "none"
            raise WorkflowViolation(
                f"{self.case_type} action {action!r} is not allowed in state {state!r}; "
                f"the {side.value} side may now take: {allowed}",
                detail={"state": state, "action": action, "side": side.value},
            )
        if not declared.by.allows(side):
            raise WorkflowViolation(
                f"{self.case_type} action {action!r} belongs to the "
                f"{declared.by.value} side, not the {side.value} side",
                detail={"state": state, "action": action, "side": side.value},
            )
        clean = _validate(declared.payload, payload, f"payload of {action!r}")
        if declared.guard is not None:
            reason = declared.guard(facts or {}, clean)
            if reason:
                raise WorkflowViolation(
                    f"{self.case_type} action {action!r} refused: {reason}",
                    detail={"state": state, "action": action, "side": side.value},
                )
        return declared, clean

    def default_durations(self, priority: Priority) -> dict[str, int]:
        """Each deadline's declared duration for `priority`, in seconds."""
        return {d.name: int(d.durations[priority].total_seconds()) for d in self.deadlines}


_LIFECYCLE: dict[str, tuple[str, str, type[BaseModel]]] = {
    ERASE_ACTION: ("Erase personal data", "删除个人数据", Erasure),
    ERASURE_RECEIPT_ACTION: ("Confirm an erasure", "确认删除", ErasureReceipt),
    LEGAL_HOLD_ACTION: ("Place a legal hold", "设置法律保全", LegalHold),
    LIFT_HOLD_ACTION: ("Lift the legal hold", "解除法律保全", LegalHold),
    HANDLING_CODE_ACTION: ("Change the handling code", "更改处理代码", HandlingCodeChange),
    CORRECT_ACTION: ("Correct personal data", "更正个人数据", Correction),
    RETRACT_ACTION: ("Retract an item", "撤回一项内容", Retraction),
}


def _lifecycle_action(name: str, states: frozenset[str]) -> Action:
    en, zh, payload = _LIFECYCLE[name]
    return Action(name, en, zh, states, None, Who.EITHER, payload, bookkeeping=True)


def _validate(model: type[BaseModel], data: Mapping[str, Any], what: str) -> dict[str, Any]:
    if contains_nul(dict(data)):
        raise InvalidInput(f"invalid {what}: text contains NUL (U+0000) characters")
    try:
        return model.model_validate(dict(data)).model_dump(mode="json")
    except ValidationError as exc:
        problems = validation_problems(exc)
        raise InvalidInput(
            f"invalid {what}: {problems.text}", detail={"errors": problems.text}, problems=problems
        ) from None


def _unique(items: Iterable[_Named], kind: str, case_type: str) -> dict[str, _Named]:
    out: dict[str, _Named] = {}
    for item in items:
        if item.name in out:
            raise DeclarationError(f"workflow {case_type!r}: {kind} {item.name!r} declared twice")
        out[item.name] = item
    return out


@dataclass(frozen=True)
class OpenDeadline:
    name: str
    owner: Side
    started_at: datetime
    due_at: datetime


@dataclass
class CaseFold:
    """What a case is after its log so far: the pure fold of its events."""

    workflow: Workflow
    state: str
    priority: Priority
    deadlines: dict[str, OpenDeadline] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    seq: int = 0
    """The number of the last event folded in."""

    @property
    def shared(self) -> bool:
        return self.workflow.state(self.state).shared

    @property
    def final(self) -> bool:
        return self.workflow.state(self.state).final

    def apply(self, action_name: str, occurred_at: str, payload: Mapping[str, Any]) -> None:
        """Advance by one already-validated event."""
        moment = parse_iso(occurred_at)
        self.seq += 1
        if action_name == OPEN_ACTION:
            durations = self.workflow.default_durations(self.priority)
            durations.update(payload.get(DEADLINE_SECONDS) or {})
            self.facts[DEADLINE_SECONDS] = durations
            self._start(self.workflow.opening_starts, moment, payload)
            if self.workflow.reduce is not None:
                self.workflow.reduce(self.facts, action_name, payload)
            return
        if action_name == LEGAL_HOLD_ACTION:
            self.facts[LEGAL_HOLD] = {"reason": payload.get("reason", ""), "since": occurred_at}
        elif action_name == LIFT_HOLD_ACTION:
            self.facts.pop(LEGAL_HOLD, None)
        elif action_name == CORRECT_ACTION:
            self._correct(payload)
        elif action_name == RETRACT_ACTION:
            retracted = {k: list(v) for k, v in (self.facts.get(RETRACTED) or {}).items()}
            for item in payload.get("items", []):
                retracted.setdefault(str(item["seq"]), []).append(str(item["path"]))
            self.facts[RETRACTED] = retracted
        action = self.workflow.action(action_name)
        for name in action.stops:
            self.deadlines.pop(self.workflow.deadline(name).key(payload), None)
        self._start(action.starts, moment, payload)
        details = self.facts.get("details")
        if self.workflow.reduce is not None:
            self.workflow.reduce(self.facts, action_name, payload)
        if self.facts.get("details") is not details:
            self.facts[DETAILS_SEQ] = self.seq
        if action.target is not None:
            self.state = action.target
        if self.final:
            self.deadlines.clear()

    def _correct(self, payload: Mapping[str, Any]) -> None:
        """The new values of a correction, by the event and pointer they replace. A value
        erased since (an empty one) leaves nothing to show."""
        corrected = {k: dict(v) for k, v in (self.facts.get(CORRECTED) or {}).items()}
        for item in payload.get("corrections", []):
            for name, value in (item.get("set") or {}).items():
                pointer = f"{item['path']}/{name.replace('~', '~0').replace('/', '~1')}"
                if value:
                    corrected.setdefault(str(item["seq"]), {})[pointer] = value
                else:
                    corrected.get(str(item["seq"]), {}).pop(pointer, None)
        self.facts[CORRECTED] = {k: v for k, v in corrected.items() if v}

    def _start(self, names: Iterable[str], moment: datetime, payload: Mapping[str, Any]) -> None:
        seconds = self.facts.get(DEADLINE_SECONDS) or self.workflow.default_durations(self.priority)
        for name in names:
            rule = self.workflow.deadline(name)
            key = rule.key(payload)
            self.deadlines[key] = OpenDeadline(
                name=key,
                owner=rule.owner,
                started_at=moment,
                due_at=moment + timedelta(seconds=seconds[name]),
            )


def fold(
    workflow: Workflow,
    priority: Priority,
    events: Iterable[tuple[str, str, Mapping[str, Any]]],
) -> CaseFold:
    """Fold (action, occurred_at, payload) triples, the first the opening, into the case."""
    result = CaseFold(workflow=workflow, state=workflow.initial, priority=priority)
    for action, occurred_at, payload in events:
        result.apply(action, occurred_at, payload)
    return result
