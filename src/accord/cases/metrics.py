"""A case log as the scorecard reads it, and the figures each case type reports from its logs.

Pure: no I/O. The dialogue's scorecard aggregates the figures common to every type (requests,
response and completion times, backlog) and asks each case type for its own (fugitives returned,
assets returned per currency, persons verified, ...), so that no other module names a type's
actions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class LoggedEvent:
    seq: int
    action: str
    side: str
    at: datetime
    payload: dict[str, Any]
    state_after: str


@dataclass(frozen=True)
class CaseRecord:
    reference: str
    case_type: str
    area: str
    requesting_node: str
    requested_node: str
    events: tuple[LoggedEvent, ...]
    final_states: frozenset[str]
    deadlines: tuple[tuple[str, str, datetime], ...] = ()
    """open deadlines now: (name, owner side, due)"""
    share_action: str | None = None
    """The action that sends a case prepared as a draft to the peer (its type's); None: the
    case was shared at opening."""
    withdrawn_states: frozenset[str] = frozenset()
    """Final states that end a case without completing it."""
    refused_states: frozenset[str] = frozenset()
    """Final states that complete a case by refusing it (with grounds)."""
    bookkeeping: frozenset[str] = frozenset({"note"})
    """Actions that are no response (its type's notes)."""

    @property
    def received_at(self) -> datetime | None:
        for event in self.events:
            if self.share_action is None or event.action == self.share_action:
                return event.at
        return None

    def state_at(self, moment: datetime) -> str | None:
        state = None
        for event in self.events:
            if event.at >= moment:
                break
            state = event.state_after
        return state

    def first_response(self) -> LoggedEvent | None:
        """The requested side's first event after receipt that is not bookkeeping."""
        received = self.received_at
        if received is None:
            return None
        for event in self.events:
            if (
                event.at > received
                and event.side == "requested"
                and event.action not in self.bookkeeping
            ):
                return event
        return None

    def completion(self) -> LoggedEvent | None:
        for event in self.events:
            if event.state_after in self.final_states:
                return None if event.state_after in self.withdrawn_states else event
        return None

    def node(self, side: str) -> str:
        return self.requesting_node if side == "requesting" else self.requested_node


@dataclass
class Figure:
    """A number and the cases behind it, so the UI can link the one to the other."""

    value: float | int | str | None
    """str for exact decimal amounts"""
    cases: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Period:
    """Whose figures, for which period: the requested side `node`, events in [start, end)."""

    node: str
    start: datetime
    end: datetime

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


Figures = dict[str, Figure | dict[str, Figure]]
"""Named figures; a dict of figures for one per currency (assets returned)."""

Measure = Callable[[Sequence[CaseRecord], Period], Figures]
"""A case type's own figures, from the records of its type that `Period.node` received. Called
with no records too: it reports each of its figures, at zero or None."""
