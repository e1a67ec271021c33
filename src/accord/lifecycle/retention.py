"""Retention: how long a closed case keeps its personal data, agreed with each peer, and the
runs that erase it when the time has come (`accord retention plan|apply`).

A policy is part of the peer agreement, `{"retention": {case_type: {final_state: days}}}`, so
both sides apply the same one. Only a case's sequencer records the erasure (an `erase` event);
the peer applies it on replication and answers with its signed receipt. A case under legal hold
is left alone until the hold is lifted.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.cases import service
from accord.cases.casetype import case_types
from accord.cases.erasable import personal_values
from accord.cases.models import Case, CaseEvent, CaseEventPart
from accord.cases.workflow import ERASE_ACTION, LEGAL_HOLD, LEGAL_HOLD_ACTION, LIFT_HOLD_ACTION
from accord.core.errors import InvalidInput
from accord.federation.keys import NodeIdentity
from accord.federation.models import Peer
from accord.federation.peers import get_peer

RETENTION_OFFICER = "retention"
"""Who a retention erasure names: the node's retention run, under the agreed rule."""


@dataclass(frozen=True)
class Due:
    """A case whose retention period has run out (or will have, at the plan's date)."""

    reference: str
    case_type: str
    state: str
    rule: str
    closed_at: datetime
    due_at: datetime
    targets: tuple[tuple[int, str], ...]
    """(event number, pointer) of what is still to erase ("" for every personal part)."""
    held: str | None
    """The legal hold's reason, when one stops the erasure."""

    def as_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "case_type": self.case_type,
            "state": self.state,
            "rule": self.rule,
            "closed_at": self.closed_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "events": len({seq for seq, _ in self.targets}),
            "held": self.held,
        }


def agree_retention(
    session: Session, *, peer: str, case_type: str, state: str, days: int
) -> dict[str, Any]:
    """Record in the peer agreement how many days after reaching final `state` a case of
    `case_type` with `peer` keeps its personal data."""
    workflow = case_types(session).workflow(case_type)
    finals = sorted(s.name for s in workflow.states if s.final)
    if state not in finals:
        raise InvalidInput(
            f"{case_type} has no final state {state!r}; its final states are: {', '.join(finals)}"
        )
    if days < 0:
        raise InvalidInput("a retention period is zero days or more")
    row = get_peer(session, peer)
    agreement = copy.deepcopy(row.agreement or {})
    agreement.setdefault("retention", {}).setdefault(case_type, {})[state] = days
    row.agreement = agreement
    return agreement


def _policies(session: Session) -> dict[tuple[str, str, str], int]:
    """(peer, case type, final state) -> days, from every peer agreement."""
    found: dict[tuple[str, str, str], int] = {}
    for peer in session.scalars(select(Peer)):
        for case_type, per_state in ((peer.agreement or {}).get("retention") or {}).items():
            for state, days in (per_state or {}).items():
                found[(peer.name, case_type, state)] = int(days)
    return found


def plan(session: Session, *, node: NodeIdentity, now: datetime) -> list[Due]:
    """What a retention run at `now` would erase, and why: the cases we sequence whose
    agreed period after closing has run out and that still hold personal data."""
    policies = _policies(session)
    if not policies:
        return []
    types = case_types(session)
    finals = {(t.name, s.name) for t in types for s in t.workflow.states if s.final}
    candidates = [
        c
        for c in session.scalars(
            select(Case)
            .where(Case.sequencer == node.name, Case.shared.is_(True))
            .order_by(Case.reference)
        )
        if (c.peer, c.case_type, c.state) in policies and (c.case_type, c.state) in finals
    ]
    if not candidates:
        return []
    closed = dict(
        session.execute(
            select(CaseEvent.case_id, func.min(CaseEvent.occurred_at))
            .join(Case, Case.id == CaseEvent.case_id)
            .where(CaseEvent.state_after == Case.state, Case.id.in_([c.id for c in candidates]))
            .group_by(CaseEvent.case_id)
        ).all()
    )
    due: list[Due] = []
    for case in candidates:
        days = policies[(case.peer, case.case_type, case.state)]
        closed_text = closed.get(case.id)
        if closed_text is None:
            continue
        closed_at = datetime.fromisoformat(str(closed_text).replace("Z", "+00:00"))
        due_at = closed_at + timedelta(days=days)
        if due_at > now:
            continue
        targets = _left_to_erase(session, case, types.get(case.case_type).personal)
        if not targets:
            continue
        hold = (case.facts or {}).get(LEGAL_HOLD)
        due.append(
            Due(
                reference=case.reference,
                case_type=case.case_type,
                state=case.state,
                rule=f"retention:{case.case_type}/{case.state}:{days}d",
                closed_at=closed_at,
                due_at=due_at,
                targets=targets,
                held=str(hold.get("reason", "")) if isinstance(hold, dict) else None,
            )
        )
    return due


def _left_to_erase(
    session: Session, case: Case, names: frozenset[str]
) -> tuple[tuple[int, str], ...]:
    """The events of a case that still hold a personal part: committed ones with their salt,
    and those hashed in clear (before format 0.3) not yet erased."""
    rows = session.execute(
        select(CaseEventPart.seq, CaseEventPart.salt, CaseEventPart.commitment).where(
            CaseEventPart.case_id == case.id
        )
    ).all()
    with_parts = {seq for seq, _, _ in rows}
    pending = {seq for seq, salt, _ in rows if salt is not None}
    for seq, payload in session.execute(
        select(CaseEvent.seq, CaseEvent.payload).where(CaseEvent.case_id == case.id)
    ):
        if seq not in with_parts and next(personal_values(payload, names), None) is not None:
            pending.add(seq)
    return tuple((seq, "") for seq in sorted(pending))


Progress = Callable[[int, int], None]
"""(done, total) after each case."""


def apply(
    session: Session, *, node: NodeIdentity, now: datetime, progress: Progress | None = None
) -> tuple[list[Due], list[Due]]:
    """Erase what the plan lists, one `erase` event per case; return (erased, held back)."""
    due = plan(session, node=node, now=now)
    erased: list[Due] = []
    held: list[Due] = []
    for done, item in enumerate(due, start=1):
        if item.held is not None:
            held.append(item)
        else:
            service.act(
                session,
                node=node,
                reference=item.reference,
                action=ERASE_ACTION,
                payload={
                    "rule": item.rule,
                    "reason": f"retention period ended on {item.due_at.date().isoformat()}",
                    "targets": [{"seq": seq, "path": path} for seq, path in item.targets],
                },
                officer=RETENTION_OFFICER,
            )
            erased.append(item)
        if progress is not None:
            progress(done, len(due))
    return erased, held


def place_hold(
    session: Session, *, node: NodeIdentity, reference: str, reason: str, officer: str
) -> service.Acted:
    """Suspend retention for a case: a `legal_hold` event both sides hold."""
    return service.act(
        session,
        node=node,
        reference=reference,
        action=LEGAL_HOLD_ACTION,
        payload={"reason": reason},
        officer=officer,
    )


def lift_hold(
    session: Session, *, node: NodeIdentity, reference: str, reason: str, officer: str
) -> service.Acted:
    case = service.get_case(session, reference=reference)
    if LEGAL_HOLD not in (case.facts or {}):
        raise InvalidInput(f"case {reference} is under no legal hold")
    return service.act(
        session,
        node=node,
        reference=reference,
        action=LIFT_HOLD_ACTION,
        payload={"reason": reason},
        officer=officer,
    )
