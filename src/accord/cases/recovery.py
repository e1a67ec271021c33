"""Reconciling with a peer after a restore: take back what the peer holds that we lost.

Two signed queries (answered with signed replies, like `case.head`): `node.holdings` asks the
peer for every case it shares with us (sequencer, event count, head hash) and the highest
reference number of ours it has seen per prefix; `case.events` fetches the events of one case
after a given number. Our own cases come back as the peer holds them: each event's act is
signed by its node (ours by our own key), and the hash chain ties them together, so they are
checked like a replica checks them and recorded without being sent again. The peer's cases
are applied as replicated events. Reference counters resume past the highest number the peer
has seen. What was recovered, and what could not be, is the reconciliation's report.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.cases import service
from accord.cases.acts import act_document, act_verifies
from accord.cases.casetype import case_types
from accord.cases.enums import Side
from accord.cases.erasable import committed
from accord.cases.log import event_hash
from accord.cases.models import Case, CaseEvent, ReferenceCounter
from accord.cases.schemas import CaseHeader, EventMessage, WireEvent
from accord.cases.workflow import OPEN_ACTION
from accord.core.clock import parse_iso
from accord.core.errors import Conflict
from accord.federation import reconcile
from accord.federation.keys import NodeIdentity, Verifier
from accord.federation.kinds import Deferred, Kind, Rejected
from accord.federation.peers import get_peer, peer_keys

HOLDINGS_KIND = "node.holdings"
EVENTS_KIND = "case.events"
EVENTS_PER_ANSWER = 200
_NUMBER = re.compile(r"^(?P<key>.+)-(?P<number>\d{6,})$")

Ask = Callable[[str, str, dict[str, Any]], dict[str, Any]]


class HoldingsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: str = Field(max_length=64)
    after: int = Field(ge=0)
    limit: int = Field(default=EVENTS_PER_ANSWER, ge=1, le=EVENTS_PER_ANSWER)


def _shared_with(session: Session, peer: str) -> list[Case]:
    return list(
        session.scalars(
            select(Case).where(Case.peer == peer, Case.shared.is_(True)).order_by(Case.reference)
        )
    )


def holdings(session: Session, node: NodeIdentity, sender: str, query: Any) -> dict[str, Any]:
    """Answer `node.holdings`: what we hold of the cases shared with the asking peer."""
    cases = _shared_with(session, sender)
    counters: dict[str, int] = {}
    for case in cases:
        if case.sequencer != sender:
            continue
        found = _NUMBER.match(case.reference)
        if found is not None:
            key, number = found["key"], int(found["number"])
            counters[key] = max(counters.get(key, 0), number)
    return {
        "cases": [
            {
                "reference": c.reference,
                "sequencer": c.sequencer,
                "event_count": c.event_count,
                "head_hash": c.head_hash,
            }
            for c in cases
        ],
        "counters": counters,
    }


def events(session: Session, node: NodeIdentity, sender: str, query: Any) -> dict[str, Any]:
    """Answer `case.events`: our copy of a shared case's events after `after`."""
    assert isinstance(query, EventsQuery)
    case = session.scalar(select(Case).where(Case.reference == query.reference))
    if case is None or case.peer != sender or not case.shared:
        return {"reference": query.reference, "found": False, "events": []}
    rows = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.seq > query.after)
        .order_by(CaseEvent.seq)
        .limit(query.limit)
    )
    return {
        "reference": case.reference,
        "found": True,
        "sequencer": case.sequencer,
        "event_count": case.event_count,
        "events": [service.wire_event(session, case, row).model_dump(mode="json") for row in rows],
    }


KINDS = (
    Kind(HOLDINGS_KIND, HoldingsQuery, lambda _m: "node", query=holdings),
    Kind(EVENTS_KIND, EventsQuery, lambda m: str(m.reference), query=events),
)


# -- the asking side ---------------------------------------------------------------------


def reconcile_with(session: Session, *, node: NodeIdentity, peer: str, ask: Ask) -> dict[str, Any]:
    """Ask `peer` what it holds from us, take back what we lost, resume our reference counters
    past its, and settle the hold for it; return the report. A log that differs from the
    peer's at the same length (a fork) is reported and leaves the hold in place."""
    get_peer(session, peer)
    answer = ask(peer, HOLDINGS_KIND, {})
    report: dict[str, Any] = {
        "cases_recovered": [],
        "events_recovered": {},
        "counters_advanced": {},
        "forks": [],
        "unrecovered": [],
    }
    for held in answer.get("cases", []):
        reference = str(held["reference"])
        peer_count = int(held["event_count"])
        case = session.scalar(select(Case).where(Case.reference == reference))
        local_count = case.event_count if case is not None else 0
        if peer_count <= local_count:
            ours = (
                session.scalar(
                    select(CaseEvent.hash).where(
                        CaseEvent.case_id == case.id, CaseEvent.seq == peer_count
                    )
                )
                if case is not None and peer_count
                else None
            )
            if peer_count and ours != held["head_hash"]:
                report["forks"].append(
                    f"{reference}: event {peer_count} is {ours} here, {held['head_hash']} at {peer}"
                )
            continue
        try:
            taken = _take_back(session, node, peer, reference, local_count, ask)
        except (Rejected, Deferred, Conflict) as exc:
            report["unrecovered"].append(f"{reference}: {exc}")
            continue
        if case is None:
            report["cases_recovered"].append(reference)
        report["events_recovered"][reference] = [local_count + 1, local_count + taken]
    for key, number in (answer.get("counters") or {}).items():
        counter = session.get(ReferenceCounter, str(key), with_for_update=True)
        before = counter.last if counter is not None else 0
        if int(number) > before:
            if counter is None:
                counter = ReferenceCounter(prefix=str(key), last=0)
                session.add(counter)
            counter.last = int(number)
            report["counters_advanced"][str(key)] = [before, int(number)]
    session.flush()
    if report["forks"] or report["unrecovered"]:
        problems = "; ".join([*report["forks"], *report["unrecovered"]][:5])
        reconcile.attempted(session, peer, problems)
        raise Conflict(
            f"reconciling with {peer}: {problems}; the node stays held: compare the logs with the "
            f"peer's operator (`accord case verify REF`)"
        )
    reconcile.settle(session, peer, report)
    return report


def _take_back(
    session: Session, node: NodeIdentity, peer: str, reference: str, after: int, ask: Ask
) -> int:
    """Fetch and record the events of `reference` after `after`; return how many."""
    taken = 0
    while True:
        answer = ask(peer, EVENTS_KIND, {"reference": reference, "after": after + taken})
        wire = [WireEvent.model_validate(e) for e in answer.get("events", [])]
        if not answer.get("found") or not wire:
            return taken
        sequencer = str(answer.get("sequencer"))
        for event in wire:
            if sequencer == peer:
                message = EventMessage(reference=reference, sequencer=peer, event=event)
                service.apply_replicated(session, node, peer, message)
            elif sequencer == node.name:
                _record_own(session, node, peer, reference, event)
            else:
                raise Rejected(f"{peer} says {reference} is sequenced by {sequencer}")
            taken += 1
        session.flush()
        if after + taken >= int(answer.get("event_count", 0)):
            return taken


def _record_own(
    session: Session, node: NodeIdentity, peer: str, reference: str, event: WireEvent
) -> None:
    """One event of a case we sequence, as the peer holds it: it must follow our head, match
    its hash, and record an act signed by the node it names (ours by our own key)."""
    case = session.scalar(select(Case).where(Case.reference == reference).with_for_update())
    where = f"case {reference}: event {event.seq}"
    if case is None:
        case = _own_case(session, node, peer, reference, event)
    if event.seq != case.event_count + 1 or event.prev_hash != case.head_hash:
        raise Rejected(f"{where} does not follow our head ({case.event_count} events)")
    commitments = {p.path: p.commitment for p in event.parts}
    fields = {**event.model_dump(mode="json", exclude={"hash"}), "reference": reference}
    if event_hash(fields, commitments) != event.hash:
        raise Rejected(f"{where} does not match its hash")
    key: Verifier
    expected = case.requesting_node if event.side is Side.REQUESTING else case.requested_node
    if event.actor_node != expected:
        raise Rejected(f"{where}: {event.actor_node} is not the {event.side} side")
    if event.actor_node == node.name:
        key = node.act_keys
    else:
        key = peer_keys(get_peer(session, peer)).act_verifier
    signed = act_document(
        reference=reference,
        action=event.action,
        side=event.side.value,
        actor_node=event.actor_node,
        actor_officer=event.actor_officer,
        payload=committed(event.payload, commitments),
        submission_id=event.submission_id,
        acted_at=event.acted_at or "",
    )
    if not act_verifies(signed, event.signature, key):
        raise Rejected(f"{where} is not signed by {event.actor_node}, the node it names")
    workflow = case_types(session).workflow(case.case_type)
    service._record(session, case=case, workflow=workflow, event=event)


def _own_case(
    session: Session, node: NodeIdentity, peer: str, reference: str, event: WireEvent
) -> Case:
    """A case of ours that we lost entirely, rebuilt from its opening event."""
    if event.seq != 1 or event.action != OPEN_ACTION:
        raise Rejected(f"case {reference}: the peer's copy does not start with its opening")
    header = CaseHeader.model_validate(event.payload)
    if (
        header.reference != reference
        or header.sequencer != node.name
        or header.requesting_node != node.name
        or header.requested_node != peer
    ):
        raise Rejected(f"case {reference}: its opening names other parties")
    workflow = case_types(session).workflow(header.case_type)
    case = service._new_case(header, workflow, parse_iso(event.occurred_at), peer=peer)
    case.unit = node.intake_unit
    session.add(case)
    session.flush()
    return case
