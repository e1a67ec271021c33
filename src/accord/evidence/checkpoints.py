"""Checkpoints of a case log: its Merkle tree head signed by this node and stamped by the
node's time-stamping authority, kept until stamped and never lost for want of a stamp.

A checkpoint covers the first `tree_size` events of a case: the RFC 9162 root over their
hashes and the hash chain's head at that size. Its document names its purpose, so no act,
envelope or receipt signed with the same key can pass for a checkpoint, and it names neither
signer: both nodes sign the same bytes. The TSA stamps SHA-256 of those bytes. A TSA that is
down or answers badly leaves the checkpoint pending with the reason; `stamp_due` tries again
with a doubling wait (capped, never given up) and raises an alert (log and audit) once one has
waited longer than ACCORD_TSA_ALERT_AFTER_SECONDS.
"""

from __future__ import annotations

import binascii
import logging
import random
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from nacl.exceptions import BadSignatureError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.audit import anchors
from accord.audit import service as audit
from accord.cases.models import Case, CaseEvent
from accord.config import Settings
from accord.core.canonical import canonical_bytes
from accord.core.clock import iso, new_id, utcnow
from accord.core.db import provided
from accord.core.errors import AccordError, InvalidInput, NotFound
from accord.evidence import merkle
from accord.evidence.models import Checkpoint
from accord.evidence.schemas import CheckpointMessage
from accord.evidence.timestamps import (
    Timestamp,
    TimestampAuthority,
    TimestampInvalid,
    request_timestamp,
    verify_timestamp,
)
from accord.federation.keys import NodeIdentity, Verifier, b64, unb64
from accord.federation.kinds import Deferred, Rejected
from accord.federation.outbox import enqueue
from accord.federation.peers import get_peer, peer_keys

log = logging.getLogger(__name__)

PURPOSE = "accord.evidence.checkpoint/1"
CHECKPOINT_KIND = "evidence.checkpoint"
PENDING = "pending"
STAMPED = "stamped"
RETRY_BASE_SECONDS = 5.0
SIGNATURE_LENGTH = 88


def checkpoint_document(checkpoint: Checkpoint) -> dict[str, Any]:
    """What both nodes' signatures and the TSA's stamp cover."""
    return {
        "purpose": PURPOSE,
        "reference": checkpoint.reference,
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash,
        "head_hash": checkpoint.head_hash,
        "made_by": checkpoint.made_by,
        "made_at": checkpoint.made_at,
    }


def _case(session: Session, reference: str) -> Case:
    case = session.scalars(select(Case).where(Case.reference == reference)).first()
    if case is None:
        raise NotFound(f"no case {reference} on this node")
    return case


def event_hashes(session: Session, case: Case, tree_size: int | None = None) -> list[str]:
    """The case's event hashes in log order (the tree's entries), the first `tree_size`."""
    query = select(CaseEvent.hash).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    if tree_size is not None:
        query = query.limit(tree_size)
    return list(session.scalars(query))


def make_checkpoint(
    session: Session,
    *,
    node: NodeIdentity,
    reference: str,
    reason: str,
    now: datetime | None = None,
) -> Checkpoint:
    """Sign the case's log head as it is now, queue it for its timestamp (due at once) and
    offer it to the peer to countersign. Only the case's sequencer makes checkpoints (its log
    is the authoritative one); the other node countersigns. A head already checkpointed is
    returned as it is: one checkpoint per tree size."""
    case = _case(session, reference)
    if case.sequencer != node.name:
        raise InvalidInput(
            f"case {reference} is sequenced by {case.sequencer}: that node makes its "
            "checkpoints, and this one countersigns them"
        )
    hashes = event_hashes(session, case)
    if not hashes:
        raise InvalidInput(f"case {reference} has no events to checkpoint")
    existing = session.scalars(
        select(Checkpoint).where(Checkpoint.case_id == case.id, Checkpoint.tree_size == len(hashes))
    ).first()
    if existing is not None:
        return existing
    moment = now or utcnow()
    checkpoint = Checkpoint(
        id=new_id(),
        case_id=case.id,
        reference=case.reference,
        tree_size=len(hashes),
        root_hash=merkle.root_hash(merkle.event_leaves(hashes)).hex(),
        head_hash=hashes[-1],
        made_by=node.name,
        made_at=iso(moment),
        reason=reason[:64],
        peer=case.peer,
        status=PENDING,
        attempts=0,
        next_attempt_at=moment,
        alerted=False,
        created_at=moment,
    )
    checkpoint.signature = b64(
        node.signing.sign(canonical_bytes(checkpoint_document(checkpoint))).signature
    )
    session.add(checkpoint)
    _send(session, node, checkpoint, role="offer", signature=checkpoint.signature)
    session.flush()
    return checkpoint


def checkpoint_on_append(
    session: Session, node: NodeIdentity, case: Case, event: CaseEvent, state_before: str
) -> None:
    """The case service's hook on the sequencer (registered by the composition root): a
    checkpoint at every event that moves a shared case into another state (submission,
    acceptance, refusal, execution, closing…, whatever the type's workflow declares), and at
    every ACCORD_CHECKPOINT_EVERY_EVENTS events; none with ACCORD_CHECKPOINTS off."""
    settings = provided(session, Settings)
    if not settings.checkpoints:
        return
    every = settings.checkpoint_every_events
    if event.state_after != state_before:
        reason = event.action
    elif every and event.seq % every == 0:
        reason = f"every {every} events"
    else:
        return
    make_checkpoint(session, node=node, reference=case.reference, reason=reason)


def _send(
    session: Session, node: NodeIdentity, checkpoint: Checkpoint, *, role: str, signature: str
) -> None:
    """Queue the checkpoint message for the other node, with our audit log's head in it."""
    to = checkpoint.peer if role == "offer" else checkpoint.made_by
    anchor = anchors.give_anchor(session, node=node, peer=to)
    message = CheckpointMessage.model_validate(
        {
            "role": role,
            "reference": checkpoint.reference,
            "tree_size": checkpoint.tree_size,
            "root_hash": checkpoint.root_hash,
            "head_hash": checkpoint.head_hash,
            "made_by": checkpoint.made_by,
            "made_at": checkpoint.made_at,
            "reason": checkpoint.reason,
            "signature": signature,
            "audit_anchor": anchor.model_dump(mode="json") if anchor is not None else None,
        }
    )
    enqueue(
        session,
        peer=to,
        stream=checkpoint.reference,
        kind=CHECKPOINT_KIND,
        body=message.model_dump(mode="json"),
    )


def apply_checkpoint_message(
    session: Session, node: NodeIdentity, sender: str, message: Any
) -> None:
    """As the other node, an offer: check the sequencer's signature and that our copy of the
    log has the same head at that size, keep the checkpoint with our signature beside its
    maker's, and send ours back. As the sequencer, a countersignature: keep it once it
    verifies. Anything that does not hold is refused (quarantined with the reason)."""
    assert isinstance(message, CheckpointMessage)
    case = session.scalars(select(Case).where(Case.reference == message.reference)).first()
    if case is None or case.peer != sender:
        raise Rejected(f"checkpoint of {message.reference}, a case we do not hold with {sender}")
    key = peer_keys(get_peer(session, sender)).act_verifier
    if message.audit_anchor is not None:
        anchors.check_peer_anchor(message.audit_anchor, sender=sender, receiver=node.name, key=key)
    if message.role == "countersign":
        _apply_countersignature(session, node, sender, case, message, key)
        if message.audit_anchor is not None:
            anchors.keep_peer_anchor(session, message.audit_anchor)
        return
    if message.made_by != sender or case.sequencer != sender:
        raise Rejected(
            f"checkpoint of {message.reference} offered by {sender}, which does not sequence it"
        )
    offered = Checkpoint(
        id=new_id(),
        case_id=case.id,
        reference=case.reference,
        tree_size=message.tree_size,
        root_hash=message.root_hash,
        head_hash=message.head_hash,
        made_by=message.made_by,
        made_at=message.made_at,
        reason=message.reason,
        signature=message.signature,
        peer=node.name,
        status=PENDING,
        attempts=0,
        alerted=False,
    )
    if not signature_verifies(offered, message.signature, key):
        raise Rejected(f"checkpoint of {message.reference}: {sender}'s signature does not verify")
    hashes = event_hashes(session, case, message.tree_size)
    if len(hashes) < message.tree_size:
        raise Deferred(f"our log of {message.reference} has not reached {message.tree_size}")
    ours = merkle.root_hash(merkle.event_leaves(hashes)).hex()
    if ours != message.root_hash or hashes[-1] != message.head_hash:
        raise Rejected(
            f"checkpoint of {message.reference} at size {message.tree_size}: {sender} signed "
            f"root {message.root_hash}, our log's is {ours}; the logs differ"
        )
    existing = session.scalars(
        select(Checkpoint).where(
            Checkpoint.case_id == case.id, Checkpoint.tree_size == message.tree_size
        )
    ).first()
    if existing is not None:
        if existing.signature != message.signature:
            raise Rejected(
                f"a second checkpoint of {message.reference} at size {message.tree_size}"
            )
        return
    moment = utcnow()
    offered.created_at = moment
    offered.next_attempt_at = moment
    offered.peer_signature = b64(
        node.signing.sign(canonical_bytes(checkpoint_document(offered))).signature
    )
    session.add(offered)
    if message.audit_anchor is not None:
        anchors.keep_peer_anchor(session, message.audit_anchor)
    _send(session, node, offered, role="countersign", signature=offered.peer_signature)


def _apply_countersignature(
    session: Session,
    node: NodeIdentity,
    sender: str,
    case: Case,
    message: CheckpointMessage,
    key: Verifier,
) -> None:
    checkpoint = session.scalars(
        select(Checkpoint).where(
            Checkpoint.case_id == case.id, Checkpoint.tree_size == message.tree_size
        )
    ).first()
    if checkpoint is None or checkpoint.made_by != node.name:
        raise Rejected(
            f"countersignature of a checkpoint of {message.reference} at size "
            f"{message.tree_size} that this node did not make"
        )
    if not signature_verifies(checkpoint, message.signature, key):
        raise Rejected(
            f"countersignature of {message.reference} at size {message.tree_size}: not "
            f"{sender}'s signature of our checkpoint"
        )
    checkpoint.peer_signature = message.signature


def signature_verifies(checkpoint: Checkpoint, signature: str | None, key: Verifier) -> bool:
    """Whether `signature` is `key`'s over the checkpoint's document."""
    if not isinstance(signature, str) or len(signature) != SIGNATURE_LENGTH:
        return False
    try:
        key.verify(canonical_bytes(checkpoint_document(checkpoint)), unb64(signature))
    except (BadSignatureError, binascii.Error, ValueError):
        return False
    return True


def add_peer_signature(
    session: Session, *, checkpoint: Checkpoint, signature: str, peer_key: Verifier
) -> Checkpoint:
    """Keep the peer's signature of the same document, once it verifies by its pinned key."""
    if not signature_verifies(checkpoint, signature, peer_key):
        raise InvalidInput(
            f"the signature offered for checkpoint {checkpoint.reference} at size "
            f"{checkpoint.tree_size} is not {checkpoint.peer}'s over that checkpoint"
        )
    checkpoint.peer_signature = signature
    session.flush()
    return checkpoint


@dataclass
class StampRound:
    """What one pass over the due checkpoints did."""

    stamped: list[Checkpoint] = field(default_factory=list)
    waiting: list[Checkpoint] = field(default_factory=list)


def retry_wait(attempts: int, *, cap: float, rng: random.Random) -> float:
    """Seconds before the next try after `attempts` failures: 5·2^(n-1), capped, jittered in
    its upper half so that checkpoints refused together are not retried together."""
    step = min(cap, RETRY_BASE_SECONDS * 2 ** min(max(attempts - 1, 0), 30))
    return rng.uniform(step / 2, step)


def _due(session: Session, *, now: datetime, limit: int) -> list[Checkpoint]:
    return list(
        session.scalars(
            select(Checkpoint)
            .where(Checkpoint.status == PENDING, Checkpoint.next_attempt_at <= now)
            .order_by(Checkpoint.next_attempt_at, Checkpoint.created_at)
            .limit(limit)
        )
    )


def _ask(
    tsa: TimestampAuthority | None, document: dict[str, Any], client: httpx.Client | None
) -> Timestamp | str:
    """The TSA's verified stamp of `document`, or why there is none."""
    if tsa is None:
        return "no time-stamping authority configured (ACCORD_TSA_URL)"
    try:
        return request_timestamp(tsa, canonical_bytes(document), client=client)
    except AccordError as exc:
        return exc.message


def _settle(
    session: Session,
    checkpoint: Checkpoint,
    outcome: Timestamp | str,
    result: StampRound,
    *,
    settings: Settings,
    now: datetime,
    rng: random.Random,
) -> None:
    if isinstance(outcome, Timestamp):
        checkpoint.status = STAMPED
        checkpoint.tsa_token = outcome.token
        checkpoint.stamped_at = outcome.stamped_at
        checkpoint.next_attempt_at = None
        checkpoint.last_error = None
        result.stamped.append(checkpoint)
    else:
        _wait_again(session, checkpoint, outcome, settings=settings, now=now, rng=rng)
        result.waiting.append(checkpoint)


def stamp_due(
    session: Session,
    *,
    tsa: TimestampAuthority | None,
    settings: Settings,
    now: datetime | None = None,
    client: httpx.Client | None = None,
    rng: random.Random | None = None,
    limit: int = 100,
) -> StampRound:
    """Ask the TSA to stamp each pending checkpoint whose next attempt is due, inside the
    caller's transaction. One that the TSA does not stamp stays pending with the reason and a
    later attempt; none is dropped. Without a TSA configured nothing is asked and every
    checkpoint waits. A worker on SQLite should call `stamp_pending` instead, which holds no
    write lock while it waits for the TSA."""
    moment = now or utcnow()
    chooser = rng or random.Random()
    result = StampRound()
    for checkpoint in _due(session, now=moment, limit=limit):
        outcome = _ask(tsa, checkpoint_document(checkpoint), client)
        _settle(session, checkpoint, outcome, result, settings=settings, now=moment, rng=chooser)
    session.flush()
    return result


def stamp_pending(
    reading: Callable[[], AbstractContextManager[Session]],
    writing: Callable[[], AbstractContextManager[Session]],
    *,
    tsa: TimestampAuthority | None,
    settings: Settings,
    now: datetime | None = None,
    client: httpx.Client | None = None,
    rng: random.Random | None = None,
    limit: int = 100,
) -> StampRound:
    """`stamp_due` for a worker: the due checkpoints are read in one transaction, the TSA asked
    outside any, and the outcomes written in a second (`runtime.reading`, `runtime.transaction`),
    each only if the checkpoint is still pending (another worker may have stamped it)."""
    moment = now or utcnow()
    chooser = rng or random.Random()
    with reading() as session:
        documents = {c.id: checkpoint_document(c) for c in _due(session, now=moment, limit=limit)}
    outcomes = {cid: _ask(tsa, document, client) for cid, document in documents.items()}
    result = StampRound()
    with writing() as session:
        for cid, outcome in outcomes.items():
            checkpoint = session.get(Checkpoint, cid)
            if checkpoint is None or checkpoint.status != PENDING:
                continue
            _settle(
                session, checkpoint, outcome, result, settings=settings, now=moment, rng=chooser
            )
        session.flush()
    return result


def _wait_again(
    session: Session,
    checkpoint: Checkpoint,
    error: str,
    *,
    settings: Settings,
    now: datetime,
    rng: random.Random,
) -> None:
    checkpoint.attempts += 1
    checkpoint.last_error = error[:2000]
    checkpoint.next_attempt_at = now + timedelta(
        seconds=retry_wait(checkpoint.attempts, cap=settings.tsa_retry_max_seconds, rng=rng)
    )
    age = (now - checkpoint.created_at).total_seconds()
    if age > settings.tsa_alert_after_seconds and not checkpoint.alerted:
        checkpoint.alerted = True
        log.warning(
            "ALERT: checkpoint of %s at size %d unstamped for %.0f s (%d attempts): %s",
            checkpoint.reference,
            checkpoint.tree_size,
            age,
            checkpoint.attempts,
            error,
        )
        audit.record(
            session,
            actor="system:checkpoints",
            action="evidence.timestamp_overdue",
            outcome="alert",
            subject=checkpoint.reference,
            detail={
                "tree_size": checkpoint.tree_size,
                "attempts": checkpoint.attempts,
                "error": error[:500],
            },
        )


def verify_checkpoint(
    session: Session,
    checkpoint: Checkpoint,
    *,
    signer_key: Verifier,
    peer_key: Verifier | None = None,
    tsa: TimestampAuthority | None = None,
) -> list[str]:
    """What is wrong with a checkpoint against the log this node holds now, in words; empty
    when its root and head are those of the log's first `tree_size` events, its maker's
    signature verifies by `signer_key`, the peer's (if held, and `peer_key` given) by
    `peer_key`, and its token (if stamped, and `tsa` given) stamps its document."""
    problems: list[str] = []
    case = session.get(Case, checkpoint.case_id)
    if case is None or case.reference != checkpoint.reference:
        problems.append(f"checkpoint names case {checkpoint.reference}, which it is not held under")
        return problems
    hashes = event_hashes(session, case, checkpoint.tree_size)
    if len(hashes) < checkpoint.tree_size:
        problems.append(
            f"the log holds {len(hashes)} events, fewer than the {checkpoint.tree_size} "
            "the checkpoint signed: events were removed"
        )
    elif merkle.root_hash(merkle.event_leaves(hashes)).hex() != checkpoint.root_hash:
        problems.append(
            f"the root of the log's first {checkpoint.tree_size} events is not the one signed: "
            "an event was changed, removed or reordered"
        )
    elif hashes[-1] != checkpoint.head_hash:
        problems.append(f"event {checkpoint.tree_size}'s hash is not the head signed")
    if not signature_verifies(checkpoint, checkpoint.signature, signer_key):
        problems.append(f"{checkpoint.made_by}'s signature does not verify")
    if (
        checkpoint.peer_signature is not None
        and peer_key is not None
        and not signature_verifies(checkpoint, checkpoint.peer_signature, peer_key)
    ):
        problems.append(f"{checkpoint.peer}'s signature does not verify")
    if checkpoint.status == STAMPED and tsa is not None:
        if checkpoint.tsa_token is None:
            problems.append("marked stamped but holds no timestamp token")
        else:
            try:
                verify_timestamp(
                    checkpoint.tsa_token,
                    canonical_bytes(checkpoint_document(checkpoint)),
                    certificate=tsa.certificate,
                    roots=tsa.roots,
                )
            except TimestampInvalid as exc:
                problems.append(exc.message)
    return problems


def inclusion_proof(session: Session, checkpoint: Checkpoint, seq: int) -> tuple[str, list[str]]:
    """Event `seq`'s hash and its audit path in the checkpoint's tree (hex): what shows that
    one event is in the signed log without showing the others."""
    case = session.get(Case, checkpoint.case_id)
    if case is None:
        raise NotFound(f"no case {checkpoint.reference} on this node")
    if not 1 <= seq <= checkpoint.tree_size:
        raise InvalidInput(
            f"event {seq} is not in the checkpoint of {checkpoint.reference}, which covers "
            f"events 1 to {checkpoint.tree_size}"
        )
    hashes = event_hashes(session, case, checkpoint.tree_size)
    leaves = merkle.event_leaves(hashes)
    return hashes[seq - 1], [p.hex() for p in merkle.inclusion_proof(seq - 1, leaves)]


def consistency_proof(session: Session, older: Checkpoint, newer: Checkpoint) -> list[str]:
    """The RFC 9162 consistency proof (hex) that `newer`'s tree extends `older`'s: what shows
    the log between two checkpoints was only appended to."""
    if older.case_id != newer.case_id:
        raise InvalidInput(
            f"checkpoints of {older.reference} and {newer.reference} are of different cases"
        )
    if older.tree_size > newer.tree_size:
        raise InvalidInput(
            f"the checkpoint at size {older.tree_size} is not older than the one at size "
            f"{newer.tree_size}"
        )
    case = session.get(Case, newer.case_id)
    if case is None:
        raise NotFound(f"no case {newer.reference} on this node")
    leaves = merkle.event_leaves(event_hashes(session, case, newer.tree_size))
    return [p.hex() for p in merkle.consistency_proof(older.tree_size, leaves)]


def checkpoints_of(session: Session, *, reference: str) -> list[Checkpoint]:
    """The checkpoints this node holds of one case, oldest (smallest) first."""
    case = _case(session, reference)
    return list(
        session.scalars(
            select(Checkpoint).where(Checkpoint.case_id == case.id).order_by(Checkpoint.tree_size)
        )
    )


def prove_event(
    session: Session, *, reference: str, seq: int, tree_size: int | None = None
) -> dict[str, Any]:
    """Everything a third party needs to check that event `seq` is in the case's signed log:
    the checkpoint's document and signatures, the event's hash and its RFC 9162 audit path,
    without the other events. The checkpoint is the one at `tree_size`, else the latest."""
    case = _case(session, reference)
    held = checkpoints_of(session, reference=reference)
    if tree_size is not None:
        chosen = next((c for c in held if c.tree_size == tree_size), None)
        if chosen is None:
            sizes = ", ".join(str(c.tree_size) for c in held) or "none"
            raise NotFound(f"no checkpoint of {reference} at size {tree_size}; sizes held: {sizes}")
    elif held:
        chosen = held[-1]
    else:
        raise NotFound(
            f"no checkpoint of {reference} on this node yet: `accord evidence checkpoint "
            f"{reference}` on {case.sequencer} makes one"
        )
    event_hash, path = inclusion_proof(session, chosen, seq)
    return {
        "checkpoint": checkpoint_document(chosen),
        "signature": chosen.signature,
        "peer": chosen.peer,
        "peer_signature": chosen.peer_signature,
        "timestamp_token": b64(chosen.tsa_token) if chosen.tsa_token else None,
        "seq": seq,
        "leaf_index": seq - 1,
        "event_hash": event_hash,
        "audit_path": path,
        "how_to_check": (
            "RFC 9162 §2.1.3.2: from SHA-256(0x00 || event_hash) and the audit path, recompute "
            "the root for leaf_index in a tree of checkpoint.tree_size entries; it must equal "
            "checkpoint.root_hash, and signature (peer_signature) must be made_by's (peer's) "
            "Ed25519 signature over the canonical JSON of checkpoint"
        ),
    }


def due_count(session: Session, *, now: datetime | None = None) -> int:
    """How many pending checkpoints are due for an attempt."""
    moment = now or utcnow()
    return (
        session.scalar(
            select(func.count(Checkpoint.id)).where(
                Checkpoint.status == PENDING, Checkpoint.next_attempt_at <= moment
            )
        )
        or 0
    )
