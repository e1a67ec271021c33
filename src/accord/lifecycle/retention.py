"""Retention: how long a closed case keeps its personal data, agreed with each peer, and the
runs that erase it when the time has come (`accord retention plan|apply`).

A policy is part of the peer agreement, `{"retention": {case_type: {final_state: days}}}`, so
both sides apply the same one. Only a case's sequencer records the erasure (an `erase` event);
the peer applies it on replication and answers with its signed receipt. A case under legal hold
is left alone until the hold is lifted.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from accord.cases import service
from accord.cases.casetype import CaseTypes, case_types
from accord.cases.erasable import personal_values
from accord.cases.erasure import erasures_deferred, one_deferred_erasure
from accord.cases.models import Case, CaseEvent, CaseEventPart
from accord.cases.workflow import ERASE_ACTION, LEGAL_HOLD, LEGAL_HOLD_ACTION, LIFT_HOLD_ACTION
from accord.core.dialects import skip_locked
from accord.core.errors import AccordError, InvalidInput
from accord.federation.keys import NodeIdentity
from accord.federation.models import Peer
from accord.federation.peers import get_peer

log = logging.getLogger(__name__)

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
    refused: str | None = None
    """Why the run could not erase it (the case service's refusal); the next run tries again."""

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
            **({"refused": self.refused} if self.refused is not None else {}),
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


CHUNK = 500
"""Cases a run examines, and erases, per transaction: a crash loses at most the chunk in
flight, and the queries of a chunk are one per table, not one per case."""


def _candidates(node: NodeIdentity, policies: dict[tuple[str, str, str], int]) -> Select[Case]:
    """The cases we sequence and share whose peer, type and state some policy names (the
    exact triple is checked case by case)."""
    return select(Case).where(
        Case.sequencer == node.name,
        Case.shared.is_(True),
        Case.peer.in_(sorted({peer for peer, _, _ in policies})),
        Case.case_type.in_(sorted({case_type for _, case_type, _ in policies})),
        Case.state.in_(sorted({state for _, _, state in policies})),
    )


def _page(
    session: Session,
    *,
    node: NodeIdentity,
    now: datetime,
    policies: dict[tuple[str, str, str], int],
    after: str | None,
    lock: bool,
) -> tuple[list[Due], str | None]:
    """The due cases among the next CHUNK candidates after reference `after`, and the last
    reference examined (None when no candidate is left). With `lock` (a run, not a plan) the
    candidates are locked for the transaction, those another transaction holds passed over
    (PostgreSQL: a concurrent run in another process takes them; a case being acted on is
    left to the next run)."""
    query = _candidates(node, policies).order_by(Case.reference).limit(CHUNK)
    if after is not None:
        query = query.where(Case.reference > after)
    if lock:
        query = skip_locked(query)
    rows = list(session.scalars(query))
    if not rows:
        return [], None
    types = case_types(session)
    finals = {(t.name, s.name) for t in types for s in t.workflow.states if s.final}
    candidates = [
        c
        for c in rows
        if (c.peer, c.case_type, c.state) in policies and (c.case_type, c.state) in finals
    ]
    closed = (
        dict(
            session.execute(
                select(CaseEvent.case_id, func.min(CaseEvent.occurred_at))
                .join(Case, Case.id == CaseEvent.case_id)
                .where(
                    CaseEvent.state_after == Case.state,
                    Case.id.in_([c.id for c in candidates]),
                )
                .group_by(CaseEvent.case_id)
            ).all()
        )
        if candidates
        else {}
    )
    ripe: list[tuple[Case, int, datetime, datetime]] = []
    for case in candidates:
        days = policies[(case.peer, case.case_type, case.state)]
        closed_text = closed.get(case.id)
        if closed_text is None:
            continue
        closed_at = datetime.fromisoformat(str(closed_text).replace("Z", "+00:00"))
        due_at = closed_at + timedelta(days=days)
        if due_at <= now:
            ripe.append((case, days, closed_at, due_at))
    left = _left_to_erase(session, [case for case, _, _, _ in ripe], types)
    due: list[Due] = []
    for case, days, closed_at, due_at in ripe:
        targets = left.get(case.id)
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
    return due, rows[-1].reference if len(rows) == CHUNK else None


def plan(session: Session, *, node: NodeIdentity, now: datetime) -> list[Due]:
    """What a retention run at `now` would erase, and why: the cases we sequence whose
    agreed period after closing has run out and that still hold personal data."""
    policies = _policies(session)
    due: list[Due] = []
    after: str | None = None
    while policies:
        page, after = _page(session, node=node, now=now, policies=policies, after=after, lock=False)
        due.extend(page)
        if after is None:
            break
    return due


def _left_to_erase(
    session: Session, cases: list[Case], types: CaseTypes
) -> dict[UUID, tuple[tuple[int, str], ...]]:
    """Per case, the events that still hold a personal part: committed ones with their salt,
    and those hashed in clear (before format 0.3) not yet erased."""
    if not cases:
        return {}
    ids = [c.id for c in cases]
    pending: dict[UUID, set[int]] = {i: set() for i in ids}
    for case_id, seq in session.execute(
        select(CaseEventPart.case_id, CaseEventPart.seq).where(
            CaseEventPart.case_id.in_(ids), CaseEventPart.salt.is_not(None)
        )
    ):
        pending[case_id].add(seq)
    names = {c.id: types.get(c.case_type).personal for c in cases}
    has_parts = (
        select(CaseEventPart.id)
        .where(CaseEventPart.case_id == CaseEvent.case_id, CaseEventPart.seq == CaseEvent.seq)
        .exists()
    )
    for case_id, seq, payload in session.execute(
        select(CaseEvent.case_id, CaseEvent.seq, CaseEvent.payload).where(
            CaseEvent.case_id.in_(ids), ~has_parts
        )
    ):
        if next(personal_values(payload, names[case_id]), None) is not None:
            pending[case_id].add(seq)
    return {i: tuple((seq, "") for seq in sorted(seqs)) for i, seqs in pending.items() if seqs}


Progress = Callable[[int, int], None]
"""(cases examined, cases to examine) after each chunk."""

Transaction = Callable[[], AbstractContextManager[Session]]
"""Opens one transaction (`Runtime.transaction`, or `unit_of_work` over a factory)."""


def apply(
    transaction: Transaction,
    *,
    node: NodeIdentity,
    now: datetime,
    progress: Progress | None = None,
    stop: Callable[[], bool] | None = None,
) -> tuple[list[Due], list[Due]]:
    """Erase what the plan lists, one `erase` event per case (signed, chained, queued for the
    peer), CHUNK cases per transaction; return (erased, left): left are the cases under legal
    hold (`held`) and those the case service refused to erase (`refused`, with its reason: each
    in a savepoint of its own, so one case that cannot be erased does not stop the others, and
    the next run tries it again). A run stopped midway (by `stop`, between chunks, or by a
    crash) keeps the chunks it committed, and the next run carries on: an erased case is no
    longer due."""
    erased: list[Due] = []
    held: list[Due] = []
    with transaction() as session:
        policies = _policies(session)
        if not policies:
            return erased, held
        total = (
            session.scalar(select(func.count()).select_from(_candidates(node, policies).subquery()))
            or 0
        )
    examined = 0
    after: str | None = None
    while True:
        with transaction() as session, erasures_deferred(session):
            before = after
            due, after = _page(
                session, node=node, now=now, policies=policies, after=before, lock=True
            )
            for item in due:
                if item.held is not None:
                    held.append(item)
                    continue
                try:
                    with one_deferred_erasure(session):
                        service.act(
                            session,
                            node=node,
                            reference=item.reference,
                            action=ERASE_ACTION,
                            payload={
                                "rule": item.rule,
                                "reason": "retention period ended on "
                                f"{item.due_at.date().isoformat()}",
                                "targets": [
                                    {"seq": seq, "path": path} for seq, path in item.targets
                                ],
                            },
                            officer=RETENTION_OFFICER,
                        )
                except AccordError as exc:
                    log.warning("retention run: case %s not erased: %s", item.reference, exc)
                    held.append(replace(item, refused=str(exc)))
                    continue
                erased.append(item)
        examined = total if after is None else min(examined + CHUNK, total)
        if progress is not None:
            progress(examined, total)
        if after is None or (stop is not None and stop()):
            return erased, held


def summary(erased: list[Due], left: list[Due]) -> str:
    """One line on a run: how many cases it erased, left under legal hold, could not erase."""
    held = sum(1 for d in left if d.held)
    refused = [d.reference for d in left if d.refused]
    line = f"retention run: {len(erased)} cases erased, {held} under legal hold"
    if refused:
        line += f", {len(refused)} not erased (see the log): {', '.join(refused[:5])}"
    return line


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
