"""The case-type contract: one object per case type that carries every rule of its type.

A case type is its workflow (states, actions, payloads, deadlines) and what the rest of Accord
asks of it: its default area, the action that shares it with the peer, the checks a new case
must pass, what runs when one arrives from the peer, and the labels its forms show. Nothing
outside the type's own module names its actions. The composition root collects the types into
`CaseTypes` and hands them to the runtime; services find them on their session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sqlalchemy.orm import Session

from accord.cases.enums import Area, Side
from accord.cases.metrics import Measure
from accord.cases.models import Case, CaseEvent
from accord.cases.workflow import Action, Workflow
from accord.core.db import provided
from accord.core.errors import DeclarationError, InvalidInput
from accord.federation.keys import NodeIdentity

OpeningCheck = Callable[[Session, dict[str, Any]], None]
"""A check of a new case's validated details against this node's own data, which the
declaration cannot see (a dialogue round names an active mechanism of ours)."""

ReceivedHook = Callable[[Session, NodeIdentity, Case], None]
"""Run once when a case opened by the peer first arrives here, right after its opening event is
stored (identity screening of a removal batch or a fugitive notice)."""

SharedHook = Callable[[Session, NodeIdentity, Case, list[CaseEvent]], None]
"""Run once when a case of any type is first shared with the peer, with its log so far (the
attachments send the files attached to the draft)."""


ErasedHook = Callable[[Session, Case], None]
"""Run when an erasure has overwritten personal parts of a case here: what another domain
derived from them goes too (the case's identity screening proposals)."""

AppendedHook = Callable[[Session, NodeIdentity, Case, CaseEvent, str], None]
"""Run on the sequencer after an event of a shared case is appended and queued for the peer,
with the state the case was in before it (evidence checkpoints the log at changes of state)."""


Screened = Callable[[Mapping[str, Any]], list[dict[str, object]]]
"""(opening details) -> the persons a case asks about, as record fields (`id`: the person's id
in the case)."""


@dataclass(frozen=True)
class FieldMeta:
    """What a form shows for one field of a type's payloads: its label in both languages, the
    kind of input it wants, and a hint for the officer."""

    en: str
    zh: str
    kind: str = ""
    """"" for what the schema says; otherwise e.g. "date", "country", "sex", "longtext"."""
    hint_en: str = ""
    hint_zh: str = ""
    personal: bool = False
    """Personal data: committed by salted hash in the log, erasable (`cases/erasable.py`)."""


@dataclass(frozen=True)
class CaseType:
    workflow: Workflow
    default_area: Area
    share_action: str | None = None
    """The action that sends a case prepared as a local draft to the peer; None for a type
    shared at opening."""
    opening_checks: tuple[OpeningCheck, ...] = ()
    on_receipt: tuple[ReceivedHook, ...] = ()
    withdrawn_states: frozenset[str] = frozenset()
    """Final states that end a case without completing it (the scorecard leaves them out of
    the completions)."""
    refused_states: frozenset[str] = frozenset()
    """Final states that complete a case by refusing it, with grounds in the payload."""
    metrics: Measure | None = None
    """The type's own scorecard figures (fugitives returned, assets returned per currency…)."""
    screened: Screened | None = None
    """The persons a case asks about, as record fields, for identity screening; None for a
    type whose cases name no one to screen."""
    fields: Mapping[str, FieldMeta] = field(default_factory=lambda: MappingProxyType({}))
    """Form metadata by field name, for every payload of the type (openings and actions)."""

    def __post_init__(self) -> None:
        where = f"case type {self.name!r}"
        if self.share_action is not None:
            action = self.workflow.action(self.share_action)
            sources = [self.workflow.state(s) for s in action.sources]
            target = self.workflow.state(action.target) if action.target else None
            if target is None or not target.shared or any(s.shared for s in sources):
                raise DeclarationError(
                    f"{where}: share action {self.share_action!r} must take a local draft to a "
                    "shared state"
                )
        elif not self.workflow.state(self.workflow.initial).shared:
            raise DeclarationError(f"{where}: starts as a local draft but names no share action")
        for name in self.withdrawn_states | self.refused_states:
            if not self.workflow.state(name).final:
                raise DeclarationError(f"{where}: {name!r} is not a final state")

    @property
    def bookkeeping(self) -> frozenset[str]:
        """The actions that never move a case (notes, withdrawal)."""
        return frozenset(a.name for a in self.workflow.actions if a.bookkeeping)

    @property
    def name(self) -> str:
        return self.workflow.case_type

    @property
    def en(self) -> str:
        return self.workflow.en

    @property
    def zh(self) -> str:
        return self.workflow.zh

    def needs_review(self, action: str) -> bool:
        """Only a legal reviewer may take this action (it records a legal review)."""
        return self.workflow.action(action).review

    @property
    def personal(self) -> frozenset[str]:
        """The payload keys, at any depth, that hold personal data: erasable parts."""
        return frozenset(name for name, meta in self.fields.items() if meta.personal)

    def next_steps(self, state: str, side: Side) -> list[Action]:
        """What `side` has to do to move a case in `state`: its available actions without the
        bookkeeping that is always there (notes, withdrawal). Empty: the side waits."""
        return [a for a in self.workflow.available(state, side) if not a.bookkeeping]


@dataclass(frozen=True)
class CaseTypes:
    """Every case type of this node, and the hooks that run for cases of every type."""

    types: tuple[CaseType, ...]
    on_shared: tuple[SharedHook, ...] = ()
    on_erased: tuple[ErasedHook, ...] = ()
    on_appended: tuple[AppendedHook, ...] = ()
    _by_name: Mapping[str, CaseType] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, CaseType] = {}
        for case_type in self.types:
            if case_type.name in by_name:
                raise DeclarationError(f"case type {case_type.name!r} declared twice")
            by_name[case_type.name] = case_type
        prefixes = [t.workflow.reference_prefix for t in self.types]
        if len(set(prefixes)) != len(prefixes):
            raise DeclarationError(f"case types share a reference prefix: {sorted(prefixes)}")
        object.__setattr__(self, "_by_name", MappingProxyType(by_name))

    def __iter__(self) -> Iterator[CaseType]:
        return iter(self.types)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.types]

    def get(self, name: str) -> CaseType:
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(self.names)
            raise InvalidInput(f"unknown case type {name!r}; known types: {known}") from None

    def workflow(self, name: str) -> Workflow:
        return self.get(name).workflow

    def of_reference(self, reference: str) -> CaseType:
        """The type of the case `reference` names (its first part is the type's prefix)."""
        prefix = reference.split("-", 1)[0]
        for case_type in self.types:
            if case_type.workflow.reference_prefix == prefix:
                return case_type
        raise InvalidInput(f"{reference!r} is not the reference of any case type")

    def screened(self) -> list[CaseType]:
        """The types whose cases identity screening serves."""
        return [t for t in self.types if t.screened is not None]


def case_types(session: Session) -> CaseTypes:
    """The case types of the runtime that opened `session`."""
    return provided(session, CaseTypes)
