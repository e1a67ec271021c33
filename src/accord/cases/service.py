"""Case use cases: open, act, read, and apply what the peer replicates or submits.

The node that opened a case is its sequencer: it alone appends to the log. The other side's
actions travel to it as submissions and come back as replicated events (or a rejection).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.accounts.service import Principal, get_user
from accord.cases import correction
from accord.cases.acts import (
    CLOCK_TOLERANCE,
    FUTURE_LIMIT,
    act_document,
    act_verifies,
    sign_act,
)
from accord.cases.casetype import case_types
from accord.cases.enums import Area, HandlingCode, Priority, Side
from accord.cases.erasable import Part, check_parts, commit, committed, get_at, opens
from accord.cases.erasure import apply_erasure, as_parts, attested, parts_of, wire_parts
from accord.cases.log import GENESIS, event_hash
from accord.cases.models import (
    Case,
    CaseEvent,
    CaseEventPart,
    CaseShare,
    PendingAction,
    ReferenceCounter,
)
from accord.cases.schemas import (
    AvailableAction,
    CaseDetail,
    CaseHeader,
    DeadlineOut,
    EventMessage,
    PendingOut,
    RejectedMessage,
    SubmitMessage,
    VerifyOut,
    WireEvent,
    WirePart,
)
from accord.cases.workflow import (
    CORRECT_ACTION,
    ERASE_ACTION,
    ERASURE_RECEIPT_ACTION,
    HANDLING_CODE_ACTION,
    OPEN_ACTION,
    RETRACT_ACTION,
    CaseFold,
    OpenDeadline,
    Workflow,
    fold,
    json_schema,
)
from accord.core.canonical import contains_nul
from accord.core.clock import iso, new_id, parse_iso, utcnow
from accord.core.errors import AccordError, Conflict, Forbidden, InvalidInput, NotFound
from accord.federation import reconcile
from accord.federation.keys import NodeIdentity, PeerKeys, Verifier
from accord.federation.kinds import Deferred, Rejected
from accord.federation.outbox import enqueue
from accord.federation.peers import get_peer, peer_keys, peer_namespace

ERASING_ACTIONS = (ERASE_ACTION, CORRECT_ACTION, RETRACT_ACTION)
"""The events that erase personal parts as they are recorded, each answered by a receipt."""

EVENT_KIND = "case.event"
SUBMIT_KIND = "case.submit"
REJECTED_KIND = "case.rejected"
HEAD_QUERY_KIND = "case.head"


@dataclass(frozen=True)
class Acted:
    case: Case
    event: CaseEvent | None
    pending: PendingAction | None


# -- reading ----------------------------------------------------------------------------------


def get_case(session: Session, *, reference: str, lock: bool = False) -> Case:
    if lock:
        case = _locked_case(session, reference)
    else:
        case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        raise NotFound(f"no case {reference!r} on this node; `accord case list` shows the cases")
    return case


def list_cases(
    session: Session,
    *,
    state: str | None = None,
    case_type: str | None = None,
    due_within: timedelta | None = None,
    viewer: Principal | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Case], int]:
    """Cases, most recently changed first; with `due_within`, only those with a deadline due
    by then (overdue ones included), soonest first. With a `viewer`, only what they may see."""
    query = select(Case)
    if viewer is not None:
        shared = select(CaseShare.case_id).where(CaseShare.user_id == viewer.user_id)
        query = query.where((Case.unit == viewer.unit) | Case.id.in_(shared))
    if state:
        query = query.where(Case.state == state)
    if case_type:
        query = query.where(Case.case_type == case_type)
    order: Any = Case.updated_at.desc()
    if due_within is not None:
        query = query.where(Case.next_due_at <= utcnow() + due_within)
        order = Case.next_due_at.asc()
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(order).offset(offset).limit(limit))
    return list(rows), total


def case_log(session: Session, *, reference: str) -> list[CaseEvent]:
    case = get_case(session, reference=reference)
    return list(
        session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
        )
    )


def last_events(session: Session, *, cases: list[Case]) -> dict[UUID, CaseEvent]:
    """The latest event of each case, by case id, in one query (a case's head is its last)."""
    heads = [case.head_hash for case in cases if case.event_count]
    if not heads:
        return {}
    return {
        e.case_id: e for e in session.scalars(select(CaseEvent).where(CaseEvent.hash.in_(heads)))
    }


def pending_actions(session: Session, *, case: Case) -> list[PendingAction]:
    return list(
        session.scalars(
            select(PendingAction)
            .where(PendingAction.case_id == case.id)
            .order_by(PendingAction.submitted_at)
        )
    )


def visible(session: Session, *, case: Case, viewer: Principal) -> bool:
    """Need-to-know: the viewer's unit holds the case, or it was shared with the viewer."""
    if case.unit == viewer.unit:
        return True
    return (
        session.scalar(
            select(CaseShare.id).where(
                CaseShare.case_id == case.id, CaseShare.user_id == viewer.user_id
            )
        )
        is not None
    )


def get_visible_case(
    session: Session, *, reference: str, viewer: Principal, lock: bool = False
) -> Case:
    """The case if the viewer may see it; otherwise the same answer as for no case at all."""
    case = get_case(session, reference=reference, lock=lock)
    if not visible(session, case=case, viewer=viewer):
        raise NotFound(f"no case {reference!r} on this node; `accord case list` shows the cases")
    return case


def share_case(session: Session, *, reference: str, username: str, by: Principal) -> None:
    """Share a case with one officer outside its unit."""
    case = get_visible_case(session, reference=reference, viewer=by)
    user = get_user(session, username)
    exists = session.scalar(
        select(CaseShare.id).where(CaseShare.case_id == case.id, CaseShare.user_id == user.id)
    )
    if exists is None:
        session.add(
            CaseShare(case_id=case.id, user_id=user.id, shared_by=by.username, shared_at=utcnow())
        )


def header_of(session: Session, case: Case) -> CaseHeader:
    opening = session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq == 1)
    )
    assert opening is not None, "a case always has its opening event"
    return CaseHeader.model_validate(opening.payload)


def side_of(case: Case, node_name: str) -> Side:
    if node_name == case.requesting_node:
        return Side.REQUESTING
    if node_name == case.requested_node:
        return Side.REQUESTED
    raise Forbidden(f"node {node_name!r} is not a party to case {case.reference}")


def open_deadlines(case: Case) -> list[OpenDeadline]:
    return [
        OpenDeadline(
            name=name,
            owner=Side(value["owner"]),
            started_at=parse_iso(value["started_at"]),
            due_at=parse_iso(value["due_at"]),
        )
        for name, value in sorted(case.deadlines.items(), key=lambda kv: kv[1]["due_at"])
    ]


# -- opening and acting -----------------------------------------------------------------------


def open_case(
    session: Session,
    *,
    node: NodeIdentity,
    case_type: str,
    peer: str,
    area: Area,
    priority: Priority,
    handling_code: HandlingCode,
    title: str,
    details: dict[str, Any],
    officer: str,
    unit: str | None = None,
) -> Case:
    """Open a case requesting assistance from `peer`; this node becomes its sequencer.
    The case belongs to `unit` (the opening officer's), or to the node's intake unit."""
    declared = case_types(session).get(case_type)
    workflow = declared.workflow
    agreement = get_peer(session, peer).agreement or {}
    if contains_nul(title) or contains_nul(officer):
        raise InvalidInput("title and officer must not contain NUL (U+0000) characters")
    now = utcnow()
    header = CaseHeader(
        case_type=case_type,
        reference=_next_reference(
            session, workflow.reference_prefix, node.reference_namespace, now.year
        ),
        area=area,
        priority=priority,
        handling_code=handling_code,
        title=title,
        requesting_node=node.name,
        requested_node=peer,
        sequencer=node.name,
        details=workflow.validate_opening(details),
        deadline_seconds=agreed_durations(workflow, priority, agreement),
    )
    for check in declared.opening_checks:
        check(session, header.details)
    case = _new_case(header, workflow, now, peer=peer)
    case.unit = unit or node.intake_unit
    session.add(case)
    session.flush()
    _append(
        session,
        node=node,
        case=case,
        workflow=workflow,
        action=OPEN_ACTION,
        side=Side.REQUESTING,
        actor_node=node.name,
        officer=officer,
        payload=header.model_dump(mode="json"),
        submission_id=None,
    )
    return case


def agreed_durations(
    workflow: Workflow, priority: Priority, agreement: dict[str, Any]
) -> dict[str, int]:
    """Deadline durations for a new case: the declaration's, overridden by the peer agreement
    (`{"deadlines": {case_type: {deadline: {priority: seconds}}}}`)."""
    durations = workflow.default_durations(priority)
    agreed = (agreement.get("deadlines") or {}).get(workflow.case_type) or {}
    for name, per_priority in agreed.items():
        if name in durations and priority.value in per_priority:
            durations[name] = int(per_priority[priority.value])
    return durations


def agree_deadline(
    session: Session, *, peer: str, case_type: str, deadline: str, priority: Priority, seconds: int
) -> dict[str, Any]:
    """Record in the peer agreement a deadline duration for new cases with `peer`."""
    workflow = case_types(session).workflow(case_type)
    known = [d.name for d in workflow.deadlines]
    if deadline not in known:
        raise InvalidInput(
            f"{case_type} has no deadline {deadline!r}; its deadlines are: {', '.join(known)}"
        )
    if seconds <= 0:
        raise InvalidInput("a deadline must be longer than zero")
    row = get_peer(session, peer)
    agreement = copy.deepcopy(row.agreement or {})
    terms = agreement.setdefault("deadlines", {}).setdefault(case_type, {})
    terms.setdefault(deadline, {})[priority.value] = seconds
    row.agreement = agreement
    return agreement


def act(
    session: Session,
    *,
    node: NodeIdentity,
    reference: str,
    action: str,
    payload: dict[str, Any],
    officer: str,
) -> Acted:
    """Take an action on a case: appended here if we sequence it, else submitted as pending."""
    if contains_nul(officer):
        raise InvalidInput("officer must not contain NUL (U+0000) characters")
    case = get_case(session, reference=reference, lock=True)
    workflow = case_types(session).workflow(case.case_type)
    side = side_of(case, node.name)
    _, clean = workflow.decide(
        state=case.state, action=action, side=side, payload=payload, facts=case.facts
    )
    correction.check(session, case=case, side=side, action=action, payload=clean)
    if case.sequencer == node.name:
        event = _append(
            session,
            node=node,
            case=case,
            workflow=workflow,
            action=action,
            side=side,
            actor_node=node.name,
            officer=officer,
            payload=clean,
            submission_id=None,
        )
        return Acted(case=case, event=event, pending=None)
    now = utcnow()
    pending = PendingAction(
        id=new_id(),
        case_id=case.id,
        action=action,
        payload=clean,
        actor_officer=officer,
        submitted_at=now,
        status="pending",
    )
    session.add(pending)
    submitted_at = iso(now)
    parts = commit(clean, case_types(session).get(case.case_type).personal)
    signed = act_document(
        reference=case.reference,
        action=action,
        side=side.value,
        actor_node=node.name,
        actor_officer=officer,
        payload=committed(clean, _commitments(parts)),
        submission_id=str(pending.id),
        acted_at=submitted_at,
    )
    message = SubmitMessage(
        reference=case.reference,
        submission_id=pending.id,
        action=action,
        payload=clean,
        actor_officer=officer,
        submitted_at=submitted_at,
        signature=sign_act(node, signed),
        parts=[WirePart(path=p.path, commitment=p.commitment, salt=p.salt) for p in parts],
    )
    enqueue(
        session,
        peer=case.sequencer,
        stream=case.reference,
        kind=SUBMIT_KIND,
        body=message.model_dump(mode="json"),
    )
    session.flush()
    return Acted(case=case, event=None, pending=pending)


# -- what the peer sends ----------------------------------------------------------------------


def apply_submission(session: Session, node: NodeIdentity, sender: str, message: Any) -> None:
    """As sequencer: validate the other side's action and append it, or reject it with a reason."""
    assert isinstance(message, SubmitMessage)
    if reconcile.held(session):  # restored: the case may be one we lost, or ahead of us
        raise Deferred(f"case {message.reference}: waiting for the reconciliation after a restore")
    case = _case_for_peer(session, message.reference, sender)
    if case.sequencer != node.name:
        raise Rejected(f"case {case.reference} is sequenced by {case.sequencer}, not by us")
    submission_id = str(message.submission_id)
    if session.scalar(select(CaseEvent.id).where(CaseEvent.submission_id == submission_id)):
        return  # already applied: a redelivered submission
    workflow = case_types(session).workflow(case.case_type)
    side = side_of(case, sender)
    parts = as_parts(message.parts)
    signed = act_document(
        reference=case.reference,
        action=message.action,
        side=side.value,
        actor_node=sender,
        actor_officer=message.actor_officer,
        payload=committed(message.payload, _commitments(parts)),
        submission_id=submission_id,
        acted_at=message.submitted_at,
    )
    if not act_verifies(signed, message.signature, _peer_keys(session, sender).act_verifier):
        raise Rejected(
            f"case {case.reference}: submission {submission_id} is not signed by {sender}"
        )
    _not_ahead(
        _moment(message.submitted_at, "submitted_at"),
        f"case {case.reference}: submission {submission_id}",
    )
    try:
        _, clean = workflow.decide(
            state=case.state,
            action=message.action,
            side=side,
            payload=message.payload,
            facts=case.facts,
        )
        if clean != message.payload:
            raise InvalidInput(
                f"the payload of {message.action!r} is not in the form this node validates it "
                "to; submit it again"
            )
        unfit = check_parts(clean, parts, case_types(session).get(case.case_type).personal)
        if unfit:
            raise InvalidInput(f"the erasable parts of {message.action!r}: {unfit}")
        correction.check(session, case=case, side=side, action=message.action, payload=clean)
        _append(
            session,
            node=node,
            case=case,
            workflow=workflow,
            action=message.action,
            side=side,
            actor_node=sender,
            officer=message.actor_officer,
            payload=clean,
            submission_id=submission_id,
            acted_at=message.submitted_at,
            signature=message.signature,
            parts=parts,
        )
        if message.action in ERASING_ACTIONS:  # the peer's erasure, applied here: our receipt
            _append(
                session,
                node=node,
                case=case,
                workflow=workflow,
                action=ERASURE_RECEIPT_ACTION,
                side=side_of(case, node.name),
                actor_node=node.name,
                officer=RECEIPT_OFFICER,
                payload={"erasure_seq": case.event_count, "parts_erased": _erased_now(session)},
                submission_id=None,
            )
    except AccordError as refusal:
        rejection = RejectedMessage(
            reference=case.reference, submission_id=message.submission_id, reason=refusal.message
        )
        enqueue(
            session,
            peer=sender,
            stream=case.reference,
            kind=REJECTED_KIND,
            body=rejection.model_dump(mode="json"),
        )


def apply_rejection(session: Session, node: NodeIdentity, sender: str, message: Any) -> None:
    """As submitter: record the sequencer's refusal of one of our pending actions."""
    assert isinstance(message, RejectedMessage)
    case = _case_for_peer(session, message.reference, sender)
    pending = session.get(PendingAction, message.submission_id)
    if pending is None or pending.case_id != case.id:
        raise Rejected(f"rejection of unknown submission {message.submission_id}")
    if pending.status == "pending":
        pending.status = "rejected"
        pending.reason = message.reason
        pending.resolved_at = utcnow()


def apply_replicated(session: Session, node: NodeIdentity, sender: str, message: Any) -> None:
    """As replica: check one event against our copy of the log and the workflow, then append it."""
    assert isinstance(message, EventMessage)
    event = message.event
    if message.sequencer != sender:
        raise Rejected(f"{sender} sent an event of a case sequenced by {message.sequencer}")
    case = _locked_case(session, message.reference)
    created: Case | None = None
    if case is None:
        if event.seq != 1:
            raise Deferred(f"case {message.reference}: waiting for its opening event")
        case = created = _replica_case(session, node, sender, message)  # stored once all pass
    if case.sequencer != sender:
        raise Rejected(f"case {case.reference} is sequenced by {case.sequencer}, not {sender}")
    if event.seq <= case.event_count:
        stored = session.scalar(
            select(CaseEvent.hash).where(CaseEvent.case_id == case.id, CaseEvent.seq == event.seq)
        )
        if stored == event.hash:
            return  # a duplicate of what we hold
        raise Rejected(
            f"case {case.reference}: event {event.seq} differs from ours "
            f"({event.hash} vs {stored}): the logs have forked"
        )
    if event.seq > case.event_count + 1:
        raise Deferred(f"case {case.reference}: waiting for event {case.event_count + 1}")
    if event.prev_hash != case.head_hash:
        raise Rejected(f"case {case.reference}: event {event.seq} does not follow our head")
    fields = {**event.model_dump(mode="json", exclude={"hash"}), "reference": case.reference}
    if event_hash(fields, _commitments(as_parts(event.parts))) != event.hash:
        raise Rejected(f"case {case.reference}: event {event.seq} does not match its hash")
    declared = case_types(session).get(created.case_type if created else case.case_type)
    unfit = check_parts(event.payload, as_parts(event.parts), declared.personal)
    if unfit:
        raise Rejected(f"case {case.reference}: event {event.seq}: {unfit}")
    workflow = case_types(session).workflow(case.case_type)
    expected_node = case.requesting_node if event.side is Side.REQUESTING else case.requested_node
    if event.actor_node != expected_node:
        raise Rejected(f"event {event.seq}: {event.actor_node} is not the {event.side} side")
    _check_act(session, node, case, event, sender, first=created is not None)
    if event.seq > 1:
        try:
            workflow.decide(
                state=case.state,
                action=event.action,
                side=event.side,
                payload=event.payload,
                facts=case.facts,
            )
        except AccordError as exc:
            raise Rejected(
                f"case {case.reference}: event {event.seq} breaks the workflow: {exc.message}"
            ) from None
        try:
            correction.check(
                session,
                case=case,
                side=event.side,
                action=event.action,
                payload=event.payload,
                replicated=True,
            )
        except AccordError as exc:
            raise Rejected(f"case {case.reference}: event {event.seq}: {exc.message}") from None
    if created is not None:
        session.add(created)
    _record(session, case=case, workflow=workflow, event=event)
    if event.submission_id:
        pending = session.get(PendingAction, UUID(event.submission_id))
        if pending is not None and pending.case_id == case.id:
            pending.status = "applied"
            pending.event_seq = event.seq
            pending.resolved_at = utcnow()
    if created is not None:
        for received in case_types(session).get(case.case_type).on_receipt:
            received(session, node, case)
    if event.action in ERASING_ACTIONS and event.actor_node != node.name:
        # the sequencer's erasure, applied here: our signed receipt goes back to it
        act(
            session,
            node=node,
            reference=case.reference,
            action=ERASURE_RECEIPT_ACTION,
            payload={"erasure_seq": event.seq, "parts_erased": _erased_now(session)},
            officer=RECEIPT_OFFICER,
        )


def head(session: Session, node: NodeIdentity, sender: str, query: Any) -> dict[str, Any]:
    """Answer a peer's question: what is the head of our copy of this case's log?"""
    reference = str(getattr(query, "reference", ""))
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None or sender not in (case.requesting_node, case.requested_node):
        return {"reference": reference, "found": False}
    if not case.shared:  # a draft of ours: not the peer's to know of
        return {"reference": reference, "found": False}
    return {
        "reference": reference,
        "found": True,
        "event_count": case.event_count,
        "head_hash": case.head_hash,
    }


# -- internals --------------------------------------------------------------------------------


_LOCKED = "accord.locked_cases"


def _locked_case(session: Session, reference: str) -> Case | None:
    """The case row locked for this transaction (FOR UPDATE), queried once per transaction."""
    transaction = session.get_transaction()
    cached = session.info.get(_LOCKED)
    if cached is None or cached[0] is not transaction:
        cached = (transaction, {})
        session.info[_LOCKED] = cached
    known: dict[str, UUID] = cached[1]
    if reference in known:
        found = session.get(Case, known[reference])
        if found is not None:
            return found
    case = session.scalar(select(Case).where(Case.reference == reference).with_for_update())
    if case is not None:
        known[reference] = case.id
    return case


def _case_for_peer(session: Session, reference: str, sender: str) -> Case:
    case = _locked_case(session, reference)
    if case is None:
        raise Rejected(f"no case {reference!r} here")
    if sender not in (case.requesting_node, case.requested_node) or not case.shared:
        # a case between other nodes, or a draft of ours: to this peer it does not exist
        raise Rejected(f"no case {reference!r} here")
    return case


def _next_reference(session: Session, prefix: str, namespace: str, year: int) -> str:
    """The next reference in our own namespace. A peer cannot open a case in it (the opening
    checks refuse that); a reference that is somehow taken all the same is skipped, never
    reused, so opening a case cannot fail on it."""
    key = f"{prefix}-{namespace}-{year}"
    counter = session.get(ReferenceCounter, key, with_for_update=True)
    if counter is None:
        counter = ReferenceCounter(prefix=key, last=0)
        session.add(counter)
    while True:
        counter.last += 1
        reference = f"{key}-{counter.last:06d}"
        if session.scalar(select(Case.id).where(Case.reference == reference)) is None:
            return reference


def _pending(session: Session, submission_id: str | None) -> PendingAction | None:
    try:
        return session.get(PendingAction, UUID(submission_id)) if submission_id else None
    except ValueError:
        return None


_PEER_KEYS = "accord.peer_keys"


def _peer_keys(session: Session, name: str) -> PeerKeys:
    """The peer's pinned keys, looked up once per transaction (every event checks one)."""
    transaction = session.get_transaction()
    cache = session.info.setdefault(_PEER_KEYS, {})
    found = cache.get(name)
    if found is None or found[0] is not transaction:
        found = (transaction, peer_keys(get_peer(session, name)))
        cache[name] = found
    keys: PeerKeys = found[1]
    return keys


def _moment(text: str | None, what: str) -> datetime:
    """A time the peer sent, or Rejected with the reason (not a time, or out of range)."""
    try:
        if text is None:
            raise ValueError("missing")
        return parse_iso(text)
    except (ValueError, OverflowError):
        raise Rejected(f"{what} {text!r} is not a time this node can read") from None


def _not_ahead(moment: datetime, where: str) -> None:
    """A date of the peer's, no further ahead of our clock than FUTURE_LIMIT."""
    if moment - utcnow() > FUTURE_LIMIT:
        raise Rejected(f"{where} is dated in the future ({iso(moment)})")


def _check_act(
    session: Session, node: NodeIdentity, case: Case, event: WireEvent, sender: str, *, first: bool
) -> None:
    """A replicated event must record an act signed by the node it names: ours (then one we
    submitted, with that payload) or the sequencer's own. Its dates must not run backwards or
    into the future."""
    where = f"case {case.reference}: event {event.seq}"
    key: Verifier
    if event.actor_node == node.name:
        key = node.act_keys
    elif event.actor_node == sender:
        key = _peer_keys(session, sender).act_verifier
    else:
        raise Rejected(f"{where} names {event.actor_node}, who is no party to it")
    signed = act_document(
        reference=case.reference,
        action=event.action,
        side=event.side.value,
        actor_node=event.actor_node,
        actor_officer=event.actor_officer,
        payload=committed(event.payload, _commitments(as_parts(event.parts))),
        submission_id=event.submission_id,
        acted_at=event.acted_at or "",
    )
    if event.signature is None or event.acted_at is None:
        raise Rejected(f"{where} carries no signed act")
    if not act_verifies(signed, event.signature, key):
        raise Rejected(f"{where} is not signed by {event.actor_node}, the node it names")
    occurred = _moment(event.occurred_at, f"{where}: occurred_at")
    acted = _moment(event.acted_at, f"{where}: acted_at")
    _not_ahead(occurred, where)
    if not first and case.updated_at is not None and occurred < case.updated_at:
        raise Rejected(f"{where} is dated before the event it follows ({event.occurred_at})")
    if acted > occurred + CLOCK_TOLERANCE:
        raise Rejected(f"{where} was appended ({event.occurred_at}) before it was taken")
    if event.actor_node != node.name:
        return
    # An act in our name bears our signature, so only we can have taken it. It settles the
    # pending action it names, which must be that act; after a restore from backup, or on a
    # rebuilt replica, the pending row may be gone and the signature alone stands for it.
    if event.submission_id is None:
        raise Rejected(f"{where} is an act of ours that we did not submit")
    pending = _pending(session, event.submission_id)
    if pending is not None and (
        pending.case_id != case.id
        or pending.action != event.action
        or pending.payload != event.payload
    ):
        raise Rejected(f"{where} does not record the act we submitted as {event.submission_id}")
    if session.scalar(
        select(CaseEvent.id).where(
            CaseEvent.case_id == case.id, CaseEvent.submission_id == event.submission_id
        )
    ):
        raise Rejected(f"{where} repeats our act {event.submission_id}, already in the log")
    if occurred < acted - CLOCK_TOLERANCE:
        raise Rejected(f"{where} is dated before we took it ({event.occurred_at})")


def _new_case(header: CaseHeader, workflow: Workflow, now: datetime, *, peer: str) -> Case:
    return Case(
        id=new_id(),
        reference=header.reference,
        case_type=header.case_type,
        area=header.area.value,
        priority=header.priority.value,
        handling_code=header.handling_code.value,
        title=header.title,
        requesting_node=header.requesting_node,
        requested_node=header.requested_node,
        sequencer=header.sequencer,
        peer=peer,
        state=workflow.initial,
        shared=False,
        event_count=0,
        head_hash=GENESIS,
        deadlines={},
        opened_at=now,
        updated_at=now,
    )


def _replica_case(session: Session, node: NodeIdentity, sender: str, message: EventMessage) -> Case:
    if message.event.action != OPEN_ACTION:
        raise Rejected(f"case {message.reference}: event 1 is {message.event.action!r}, not open")
    try:
        header = CaseHeader.model_validate(message.event.payload)
        workflow = case_types(session).workflow(header.case_type)
        workflow.validate_opening(header.details)
    except (ValueError, AccordError) as exc:
        raise Rejected(f"case {message.reference}: bad opening event: {exc}") from None
    where = f"case {message.reference}"
    if header.reference != message.reference or header.sequencer != sender:
        raise Rejected(f"{where}: opening event names another case or sequencer")
    if node.name not in (header.requesting_node, header.requested_node):
        raise Rejected(f"{where} is between other nodes")
    # The peer opens only its own requests to us: it sequences, requests and acts first.
    if header.requesting_node != sender or header.requested_node != node.name:
        raise Rejected(
            f"{where}: opened by {sender} as a request from {header.requesting_node} to "
            f"{header.requested_node}; a peer opens only its own requests to us"
        )
    if message.event.actor_node != sender or message.event.side is not Side.REQUESTING:
        raise Rejected(f"{where}: its opening act is {message.event.actor_node}'s, not {sender}'s")
    peer = get_peer(session, sender)
    prefix, namespace = header.reference.split("-")[:2]
    declared = case_types(session).get(header.case_type)
    if namespace != peer_namespace(peer) or prefix != declared.workflow.reference_prefix:
        raise Rejected(
            f"{where}: not a {header.case_type} reference in {sender}'s namespace "
            f"({declared.workflow.reference_prefix}-{peer_namespace(peer)}-…)"
        )
    agreed_types = (peer.agreement or {}).get("case_types")
    if agreed_types is not None and header.case_type not in agreed_types:
        raise Rejected(f"{where}: {header.case_type} cases are not in the agreement with {sender}")
    agreed_codes = (peer.agreement or {}).get("handling_codes")
    if agreed_codes is not None and header.handling_code.value not in agreed_codes:
        raise Rejected(
            f"{where}: handling code {header.handling_code.value} is not in the agreement with "
            f"{sender}"
        )
    case = _new_case(header, workflow, parse_iso(message.event.occurred_at), peer=sender)
    case.unit = node.intake_unit
    return case


def _append(
    session: Session,
    *,
    node: NodeIdentity,
    case: Case,
    workflow: Workflow,
    action: str,
    side: Side,
    actor_node: str,
    officer: str,
    payload: dict[str, Any],
    submission_id: str | None,
    acted_at: str | None = None,
    signature: str | None = None,
    parts: list[Part] | None = None,
) -> CaseEvent:
    """As sequencer: chain a new event onto the log and replicate it once the case is shared.

    The event records a signed act: the other side's, with the signature of its submission,
    or ours, signed here. A node restored from a backup appends nothing until it has
    reconciled with its peers (it could reuse an event number the peer already holds)."""
    reconcile.refuse_while_held(session, "appends to the logs it sequences")
    now = utcnow()
    if case.event_count and case.updated_at is not None and case.updated_at > now:
        now = case.updated_at  # our clock stepped back: never date an event before the last
    occurred_at = iso(now)
    if parts is None:
        parts = commit(payload, case_types(session).get(case.case_type).personal)
    commitments = _commitments(parts)
    if signature is None:
        if actor_node != node.name:
            raise AssertionError("only our own acts are signed here")
        acted_at = occurred_at
        signature = sign_act(
            node,
            act_document(
                reference=case.reference,
                action=action,
                side=side.value,
                actor_node=actor_node,
                actor_officer=officer,
                payload=committed(payload, commitments),
                submission_id=submission_id,
                acted_at=acted_at,
            ),
        )
    fields: dict[str, Any] = {
        "reference": case.reference,
        "seq": case.event_count + 1,
        "action": action,
        "side": side.value,
        "actor_node": actor_node,
        "actor_officer": officer,
        "payload": payload,
        "occurred_at": occurred_at,
        "submission_id": submission_id,
        "prev_hash": case.head_hash,
        "acted_at": acted_at,
        "signature": signature,
    }
    wire = {k: v for k, v in fields.items() if k != "reference"}
    wire["parts"] = [{"path": p.path, "commitment": p.commitment, "salt": p.salt} for p in parts]
    event = WireEvent.model_validate({**wire, "hash": event_hash(fields, commitments)})
    was_shared = case.shared
    state_before = case.state
    row = _record(session, case=case, workflow=workflow, event=event)
    if case.shared:
        backlog = (
            [row]
            if was_shared
            else list(
                session.scalars(
                    select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
                )
            )
        )
        for item in backlog:
            _replicate(session, case, item)
        if not was_shared:
            for hook in case_types(session).on_shared:
                hook(session, node, case, backlog)
        for appended in case_types(session).on_appended:
            appended(session, node, case, row, state_before)
    return row


def _replicate(session: Session, case: Case, row: CaseEvent) -> None:
    wire = wire_event(session, case, row)
    message = EventMessage(reference=case.reference, sequencer=case.sequencer, event=wire)
    enqueue(
        session,
        peer=case.peer,
        stream=case.reference,
        kind=EVENT_KIND,
        body=message.model_dump(mode="json"),
    )


def _record(session: Session, *, case: Case, workflow: Workflow, event: WireEvent) -> CaseEvent:
    """Store one checked event and advance the case's cached fold."""
    fold = CaseFold(
        workflow=workflow,
        state=case.state,
        priority=Priority(case.priority),
        deadlines={d.name: d for d in open_deadlines(case)},
        facts=copy.deepcopy(case.facts or {}),
        seq=case.event_count,
    )
    fold.apply(event.action, event.occurred_at, event.payload)
    row = CaseEvent(
        case_id=case.id,
        **event.model_dump(mode="json", exclude={"side", "parts"}),
        side=event.side.value,
        state_after=fold.state,
    )
    session.add(row)
    for part in event.parts:
        session.add(
            CaseEventPart(
                case_id=case.id,
                seq=event.seq,
                path=part.path,
                commitment=part.commitment,
                salt=part.salt,
                erased_at=None if part.salt else parse_iso(event.occurred_at),
            )
        )
    case.event_count = event.seq
    case.head_hash = event.hash
    case.state = fold.state
    case.shared = case.shared or fold.shared
    case.deadlines = {
        name: {
            "owner": d.owner.value,
            "started_at": iso(d.started_at),
            "due_at": iso(d.due_at),
        }
        for name, d in fold.deadlines.items()
    }
    case.next_due_at = min((d.due_at for d in fold.deadlines.values()), default=None)
    case.facts = fold.facts
    case.updated_at = parse_iso(event.occurred_at)
    if event.action == HANDLING_CODE_ACTION:  # both nodes: what every H2 check reads
        case.handling_code = str(event.payload["handling_code"])
    if event.action == ERASE_ACTION:
        session.flush()
        session.info[_ERASED_NOW] = apply_erasure(
            session, case=case, erasure_seq=event.seq, payload=event.payload, at=utcnow()
        )
    elif event.action in (CORRECT_ACTION, RETRACT_ACTION):
        session.flush()  # the old values, or the items withdrawn, are erased as it is recorded
        targets = correction.erasure_targets(
            session, case, event.action, event.payload, seq=event.seq
        )
        rule = str(event.payload.get("rule") or "") or f"{event.action}: {event.payload['reason']}"
        session.info[_ERASED_NOW] = apply_erasure(
            session,
            case=case,
            erasure_seq=event.seq,
            payload={"rule": rule[:200], "targets": targets},
            at=utcnow(),
        )
    return row


RECEIPT_OFFICER = "system"
"""Who a node's erasure receipt names: no officer takes it, the node does on applying it."""

_ERASED_NOW = "accord.erased_now"


def _erased_now(session: Session) -> int:
    erased: int = session.info.pop(_ERASED_NOW, 0)
    return erased


def _commitments(parts: list[Part]) -> dict[str, str]:
    return {p.path: p.commitment for p in parts}


def wire_event(session: Session, case: Case, row: CaseEvent) -> WireEvent:
    """One stored event as it travels, with its erasable parts (salts of erased ones gone)."""
    wire = WireEvent.model_validate(row, from_attributes=True)
    rows = (
        session.scalars(
            select(CaseEventPart)
            .where(CaseEventPart.case_id == case.id, CaseEventPart.seq == row.seq)
            .order_by(CaseEventPart.path)
        )
    ).all()
    wire.parts = wire_parts(list(rows))
    return wire


def refold(session: Session, *, case: Case) -> CaseFold:
    """Recompute the case's state from its whole log (the cached row must agree)."""
    workflow = case_types(session).workflow(case.case_type)
    rows = session.execute(
        select(CaseEvent.action, CaseEvent.occurred_at, CaseEvent.payload)
        .where(CaseEvent.case_id == case.id)
        .order_by(CaseEvent.seq)
    )
    return fold(workflow, Priority(case.priority), ((a, t, p) for a, t, p in rows))


# -- views ------------------------------------------------------------------------------------


def describe(session: Session, *, case: Case, node_name: str, detailed: bool = True) -> CaseDetail:
    """The case as this node's officers see it, with what they may do next."""
    workflow = case_types(session).workflow(case.case_type)
    side = side_of(case, node_name)
    state = workflow.state(case.state)
    now = utcnow()
    deadlines = [
        DeadlineOut(
            name=d.name,
            owner=d.owner,
            started_at=d.started_at,
            due_at=d.due_at,
            overdue=d.due_at < now,
        )
        for d in open_deadlines(case)
    ]
    available: list[AvailableAction] = []
    pending: list[PendingOut] = []
    details: dict[str, Any] = {}
    if detailed:
        # as amended since the opening (a newer notice), corrected, and without what was retracted
        details = correction.current_details(case, header_of(session, case))
        pending = [PendingOut.model_validate(p) for p in pending_actions(session, case=case)]
        if case.sequencer == node_name or case.shared:
            available = [
                AvailableAction(
                    name=a.name,
                    en=a.en,
                    zh=a.zh,
                    target=a.target,
                    payload_schema=json_schema(a.payload),
                )
                for a in workflow.available(case.state, side)
            ]
    return CaseDetail(
        reference=case.reference,
        case_type=case.case_type,
        area=case.area,
        priority=case.priority,
        handling_code=case.handling_code,
        title=case.title,
        requesting_node=case.requesting_node,
        requested_node=case.requested_node,
        sequencer=case.sequencer,
        peer=case.peer,
        side=side,
        state=case.state,
        state_en=state.en,
        state_zh=state.zh,
        shared=case.shared,
        event_count=case.event_count,
        head_hash=case.head_hash,
        opened_at=case.opened_at,
        updated_at=case.updated_at,
        deadlines=deadlines,
        details=details,
        available_actions=available,
        pending=pending,
        personal_data_history=correction.history(session, case=case) if detailed else [],
    )


Ask = Callable[[str, str, dict[str, Any]], dict[str, Any]]
"""(peer name, query kind, body) -> the peer's verified answer"""


def verify(session: Session, *, node: NodeIdentity, reference: str, ask: Ask) -> VerifyOut:
    """Compare our log head with the peer's: identical logs have the same count and head hash."""
    case = get_case(session, reference=reference)
    local_fold = refold(session, case=case)
    if local_fold.state != case.state:
        raise Conflict(f"case {reference}: stored state {case.state} is not the fold of its log")
    _check_chain(session, case, node)
    peer = get_peer(session, case.peer)

    def result(identical: bool, count: int | None, head: str | None, why: str) -> VerifyOut:
        return VerifyOut(
            reference=reference,
            identical=identical,
            local_count=case.event_count,
            local_head=case.head_hash,
            peer=peer.name,
            peer_count=count,
            peer_head=head,
            explanation=why,
        )

    if not case.shared:
        return result(False, None, None, "not yet submitted: the peer holds no copy of this case")
    answer = ask(peer.name, HEAD_QUERY_KIND, {"reference": reference})
    if not answer.get("found"):
        return result(False, None, None, f"{peer.name} holds no copy of {reference} yet")
    peer_count = int(answer["event_count"])
    peer_head = str(answer["head_hash"])
    if peer_count == case.event_count and peer_head == case.head_hash:
        return result(True, peer_count, peer_head, f"both sides hold the same {peer_count} events")
    if peer_count < case.event_count:
        why = f"{peer.name} has {peer_count} of our {case.event_count} events (in transit)"
    elif peer_count > case.event_count:
        why = f"we have {case.event_count} of {peer.name}'s {peer_count} events (in transit)"
    else:
        why = "same length, different heads: the logs have forked"
    return result(False, peer_count, peer_head, why)


def _check_chain(session: Session, case: Case, node: NodeIdentity) -> None:
    """Our copy of the log: every hash chained, and every signed act signed by its node."""
    previous = GENESIS
    keys: dict[str, Verifier] = {
        node.name: node.act_keys,
        case.peer: _peer_keys(session, case.peer).act_verifier,
    }
    stored_parts = parts_of(session, case)
    for row in case_log(session, reference=case.reference):
        if row.prev_hash != previous:
            raise Conflict(f"case {case.reference}: local event {row.seq} breaks the hash chain")
        rows = stored_parts.get(row.seq, [])
        if attested(rows):  # hashed in clear, erased since: its hash as both nodes attested
            previous = row.hash
            continue
        parts = as_parts(wire_parts(rows))
        commitments = _commitments(parts)
        event = WireEvent.model_validate(row, from_attributes=True)
        fields = {**event.model_dump(mode="json"), "reference": case.reference}
        if event_hash(fields, commitments) != row.hash:
            raise Conflict(f"case {case.reference}: local event {row.seq} breaks the hash chain")
        for part in parts:
            if part.salt is not None and not opens(part, _value_at(row.payload, part.path)):
                raise Conflict(
                    f"case {case.reference}: local event {row.seq}: the value at {part.path} "
                    "does not open its commitment"
                )
        if row.signature is not None:
            signed = act_document(
                reference=case.reference,
                action=row.action,
                side=row.side,
                actor_node=row.actor_node,
                actor_officer=row.actor_officer,
                payload=row.payload,
                submission_id=row.submission_id,
                acted_at=row.acted_at or "",
            )
            signed["payload"] = committed(row.payload, commitments)
            key = keys.get(row.actor_node)
            if key is None or not act_verifies(signed, row.signature, key):
                raise Conflict(
                    f"case {case.reference}: local event {row.seq} is not signed by "
                    f"{row.actor_node}, the node it names"
                )
        previous = row.hash
    if previous != case.head_hash:
        raise Conflict(f"case {case.reference}: stored head is not the last event's hash")


def _value_at(payload: dict[str, Any], pointer: str) -> Any:
    try:
        return get_at(payload, pointer)
    except (KeyError, IndexError, ValueError, TypeError):
        return None
