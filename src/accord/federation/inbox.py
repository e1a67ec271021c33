"""The inbox: authenticate, refuse replays, decrypt, validate, store, receipt; process later.

Everything refused is kept in quarantine with its reason. Storage and the receipt come before
any processing, so a crash after the receipt loses nothing: processing resumes from the table.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from accord.audit import service as audit
from accord.core.canonical import contains_nul
from accord.core.clock import iso, parse_iso, utcnow
from accord.core.db import unit_of_work
from accord.core.dialects import try_exclusive
from accord.core.errors import validation_problems
from accord.federation.envelope import EnvelopeRefused, open_body, sign_document, verify_document
from accord.federation.keys import NodeIdentity, PeerKeys
from accord.federation.kinds import Deferred, Kind, Rejected, kinds_of
from accord.federation.models import InboxItem, QuarantineItem
from accord.federation.peers import find_peer, peer_keys
from accord.federation.schemas import Envelope

log = logging.getLogger(__name__)

WAKE_KEY = "accord.inbox_written"
PROCESSING_LOCK = "accord.inbox.processing"
RAW_LIMIT = 64 * 1024


@dataclass
class BatchOutcome:
    receipts: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    error: str | None = None


def _raw_text(raw: bytes | str) -> str:
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    data = data[:RAW_LIMIT]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        return "base64:" + base64.b64encode(data).decode("ascii")
    return text


def quarantine(
    session: Session,
    *,
    stage: str,
    reason: str,
    raw: bytes | str,
    sender: str | None = None,
    envelope_id: str | None = None,
    kind: str | None = None,
    remote_addr: str | None = None,
) -> QuarantineItem:
    item = QuarantineItem(
        received_at=utcnow(),
        stage=stage,
        sender=(sender or "")[:200] or None,
        envelope_id=(envelope_id or "")[:64] or None,
        kind=(kind or "")[:64] or None,
        reason=reason,
        remote_addr=remote_addr,
        raw=_raw_text(raw),
    )
    session.add(item)
    session.flush()
    return item


def refuse_request(
    session: Session, *, status: int, reason: str, raw: bytes, remote_addr: str | None
) -> BatchOutcome:
    """A request refused as a whole (not JSON, too large): quarantined and audited."""
    quarantine(session, stage="inbox", reason=reason, raw=raw, remote_addr=remote_addr)
    audit.record(
        session,
        actor=f"remote:{remote_addr}",
        action="federation.request_refused",
        outcome="refused",
        remote_addr=remote_addr,
        detail={"status": status, "reason": reason},
    )
    return BatchOutcome(status=status, error=reason)


def _receipt(
    node: NodeIdentity, envelope_id: str, status: str, reason: str | None = None
) -> dict[str, Any]:
    return sign_document(
        node,
        {
            "envelope_id": envelope_id,
            "receiver": node.name,
            "status": status,
            "reason": reason,
            "received_at": iso(utcnow()),
        },
    )


def authenticate(
    session: Session,
    *,
    node: NodeIdentity,
    raw_envelope: Any,
    remote_addr: str | None,
    window: timedelta,
    peers: dict[str, PeerKeys | None] | None = None,
) -> tuple[Envelope, PeerKeys]:
    """Shape, known sender, signature, addressee and freshness; refusals are kept and audited.

    `peers` caches the pinned keys looked up during one batch."""
    sender = raw_envelope.get("from") if isinstance(raw_envelope, dict) else None
    envelope_id = raw_envelope.get("id") if isinstance(raw_envelope, dict) else None
    raw_json = json.dumps(raw_envelope, ensure_ascii=False)[:RAW_LIMIT]

    def refuse(reason: str, status: int) -> EnvelopeRefused:
        quarantine(
            session,
            stage="inbox",
            reason=reason,
            raw=raw_json,
            sender=str(sender) if sender else None,
            envelope_id=str(envelope_id) if envelope_id else None,
            remote_addr=remote_addr,
        )
        audit.record(
            session,
            actor=f"peer:{sender}" if sender else f"remote:{remote_addr}",
            action="federation.envelope_refused",
            outcome="refused",
            subject=str(envelope_id) if envelope_id else None,
            remote_addr=remote_addr,
            detail={"status": status, "reason": reason},
        )
        return EnvelopeRefused(reason, status=status)

    try:
        envelope = Envelope.model_validate(raw_envelope)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()
        )
        raise refuse(f"malformed envelope: {problems}", 400) from None
    cache = peers if peers is not None else {}
    if envelope.sender not in cache:
        peer = find_peer(session, envelope.sender)
        cache[envelope.sender] = peer_keys(peer) if peer is not None else None
    keys = cache[envelope.sender]
    if keys is None:
        raise refuse(
            f"unknown sender {envelope.sender!r}: this node has not pinned it as a peer", 403
        )
    try:
        verify_document(raw_envelope, keys.verify)
    except EnvelopeRefused as exc:
        raise refuse(f"envelope {envelope.id} from {envelope.sender}: {exc.reason}", 401) from None
    if envelope.to != node.name:
        raise refuse(
            f"envelope {envelope.id} is addressed to {envelope.to!r}, not {node.name!r}", 400
        )
    try:
        sent_at = parse_iso(envelope.sent_at)
    except ValueError:
        raise refuse(
            f"envelope {envelope.id}: sent_at {envelope.sent_at!r} is not a time", 400
        ) from None
    skew = abs((utcnow() - sent_at).total_seconds())
    if skew > window.total_seconds():
        raise refuse(
            f"envelope {envelope.id}: sent_at {envelope.sent_at} is {skew:.0f} s from our clock, "
            f"outside the ±{window.total_seconds():.0f} s window (replay, or clocks out of sync)",
            400,
        )
    return envelope, keys


def _parse_body(
    session: Session, node: NodeIdentity, envelope: Envelope, keys: PeerKeys
) -> tuple[Kind, Any, dict[str, Any]]:
    """Decrypt and validate against the kind's schema; raise Rejected with the reason."""
    try:
        body = open_body(node, keys, envelope)
    except EnvelopeRefused as exc:
        raise Rejected(exc.reason) from None
    if contains_nul(body):
        raise Rejected("body contains NUL (U+0000) characters")
    kind = kinds_of(session).get(envelope.kind)
    if kind is None:
        raise Rejected(f"unknown message kind {envelope.kind!r}")
    try:
        message = kind.schema.model_validate(body)
    except ValidationError as exc:
        problems = validation_problems(exc).text
        raise Rejected(f"{envelope.kind} body does not match its schema: {problems}") from None
    return kind, message, body


def _inbox_item(
    envelope: Envelope, raw: Any, kind: Kind, message: Any, body: dict[str, Any], status: str
) -> InboxItem:
    return InboxItem(
        envelope_id=envelope.id,
        sender=envelope.sender,
        kind=envelope.kind,
        stream=kind.stream(message),
        sent_at=envelope.sent_at,
        body=body,
        envelope=raw,
        received_at=utcnow(),
        status=status,
    )


def _quarantine_body(
    session: Session, envelope: Envelope, raw: Any, reason: str, remote_addr: str | None
) -> None:
    """An authentic envelope whose body cannot be accepted: kept with the reason."""
    quarantine(
        session,
        stage="body",
        reason=reason,
        raw=json.dumps(raw, ensure_ascii=False),
        sender=envelope.sender,
        envelope_id=str(envelope.id),
        kind=envelope.kind,
        remote_addr=remote_addr,
    )


def _envelope_ids(envelopes: list[Any]) -> list[UUID]:
    ids: list[UUID] = []
    for raw in envelopes:
        try:
            ids.append(UUID(str(raw.get("id"))) if isinstance(raw, dict) else UUID(int=0))
        except ValueError:
            continue
    return ids


def receive(
    session: Session,
    *,
    node: NodeIdentity,
    envelopes: list[Any],
    remote_addr: str | None,
    window: timedelta,
) -> BatchOutcome:
    """Store each envelope of a batch and receipt it. The caller commits, then answers.

    The batch is checked with one query for ids already stored and one for ids already
    quarantined, and its rows are flushed together: per-envelope queries dominated the cost.
    """
    outcome = BatchOutcome()
    ids = _envelope_ids(envelopes)
    stored = set(
        session.scalars(select(InboxItem.envelope_id).where(InboxItem.envelope_id.in_(ids)))
    )
    refused: dict[str | None, str] = {
        envelope_id: reason
        for envelope_id, reason in session.execute(
            select(QuarantineItem.envelope_id, QuarantineItem.reason).where(
                QuarantineItem.envelope_id.in_([str(i) for i in ids]),
                QuarantineItem.stage == "body",
            )
        )
    }
    peers: dict[str, PeerKeys | None] = {}
    with session.no_autoflush:
        for raw_envelope in envelopes:
            try:
                envelope, keys = authenticate(
                    session,
                    node=node,
                    raw_envelope=raw_envelope,
                    remote_addr=remote_addr,
                    window=window,
                    peers=peers,
                )
            except EnvelopeRefused as exc:
                outcome.status, outcome.error = exc.status, exc.reason
                break
            envelope_id = str(envelope.id)
            if envelope.id in stored:
                outcome.receipts.append(_receipt(node, envelope_id, "duplicate"))
                continue
            if envelope_id in refused:
                outcome.receipts.append(
                    _receipt(node, envelope_id, "quarantined", refused[envelope_id])
                )
                continue
            try:
                kind, message, body = _parse_body(session, node, envelope, keys)
                if kind.handler is None:
                    raise Rejected(f"{envelope.kind} is a query; send it to /federation/v1/query")
            except Rejected as exc:
                _quarantine_body(session, envelope, raw_envelope, str(exc), remote_addr)
                refused[envelope_id] = str(exc)
                outcome.receipts.append(_receipt(node, envelope_id, "quarantined", str(exc)))
                continue
            session.add(_inbox_item(envelope, raw_envelope, kind, message, body, "stored"))
            stored.add(envelope.id)
            outcome.receipts.append(_receipt(node, envelope_id, "stored"))
    session.info[WAKE_KEY] = True
    session.flush()
    return outcome


def answer_query(
    session: Session,
    *,
    node: NodeIdentity,
    raw_envelope: Any,
    remote_addr: str | None,
    window: timedelta,
) -> tuple[int, dict[str, Any]]:
    """A signed question (e.g. a case's log head) answered with a signed reply, never stored."""
    try:
        envelope, keys = authenticate(
            session, node=node, raw_envelope=raw_envelope, remote_addr=remote_addr, window=window
        )
    except EnvelopeRefused as exc:
        return exc.status, {"error": exc.reason}
    if session.scalar(select(InboxItem.id).where(InboxItem.envelope_id == envelope.id)):
        return 409, {"error": f"query {envelope.id} was already answered (replay)"}
    try:
        kind, message, body = _parse_body(session, node, envelope, keys)
        if kind.query is None:
            raise Rejected(f"{envelope.kind} is not a query")
    except Rejected as exc:
        _quarantine_body(session, envelope, raw_envelope, str(exc), remote_addr)
        return 422, {"error": str(exc)}
    answer = kind.query(session, node, envelope.sender, message)
    answered = _inbox_item(envelope, raw_envelope, kind, message, body, "answered")
    answered.processed_at = answered.received_at
    session.add(answered)
    reply = sign_document(
        node,
        {
            "in_reply_to": str(envelope.id),
            "responder": node.name,
            "answered_at": iso(utcnow()),
            "answer": answer,
        },
    )
    return 200, reply


def process(factory: sessionmaker[Session], node: NodeIdentity, *, limit: int = 500) -> int:
    """Process stored envelopes in arrival order; return how many were settled.

    One processor at a time per database: on PostgreSQL, where several processes may run the
    inbox worker, each batch first takes a transaction-scoped advisory lock and a process that
    finds it taken does nothing this round (items are applied in arrival order anyway).

    Handlers raise Deferred or Rejected before they write anything, so a batch normally runs
    without savepoints. Should a handler fail in any other way, the batch is rolled back and run
    again with each item in its own savepoint, so that one bad item is quarantined alone. A
    failure of the machine rather than of the message (the database unreachable, the disk full:
    `OperationalError`, `OSError`) quarantines nothing: the batch is rolled back, its items stay
    stored, and the worker tries again at its next round.
    """
    try:
        with unit_of_work(factory) as session:
            return _process_batch(session, node, limit=limit, isolate=False)
    except (OperationalError, OSError):
        raise  # the machine failed, not the message (database down, disk full): retry later
    except Exception:
        log.warning("inbox batch failed; processing it item by item", exc_info=True)
    with unit_of_work(factory) as session:
        return _process_batch(session, node, limit=limit, isolate=True)


def _process_batch(session: Session, node: NodeIdentity, *, limit: int, isolate: bool) -> int:
    if not try_exclusive(session, PROCESSING_LOCK):
        return 0
    settled = 0
    items = list(
        session.scalars(
            select(InboxItem)
            .where(InboxItem.status == "stored")
            .order_by(InboxItem.id)
            .limit(limit)
        )
    )
    advanced: set[str] = set()
    for item in items:
        kind = kinds_of(session).get(item.kind)
        try:
            if kind is None or kind.handler is None:
                raise Rejected(f"no handler for kind {item.kind!r}")
            message = kind.schema.model_validate(item.body)
            if isolate:
                with session.begin_nested():
                    kind.handler(session, node, item.sender, message)
            else:
                kind.handler(session, node, item.sender, message)
        except Deferred as exc:
            item.status, item.note = "waiting", str(exc)
            continue
        except Rejected as exc:
            _quarantine_item(session, item, str(exc))
            settled += 1
            continue
        except (OperationalError, OSError):
            raise
        except Exception as exc:
            if not isolate:
                raise
            log.exception("processing inbox item %s failed", item.envelope_id)
            _quarantine_item(session, item, f"{type(exc).__name__}: {exc}")
            settled += 1
            continue
        item.status, item.processed_at = "processed", utcnow()
        advanced.add(item.stream)
        settled += 1
    if advanced:
        # A later message of a stream may have arrived before an earlier one: retry it.
        session.execute(
            update(InboxItem)
            .where(InboxItem.status == "waiting", InboxItem.stream.in_(advanced))
            .values(status="stored")
        )
        woken = session.scalar(select(InboxItem.id).where(InboxItem.status == "stored").limit(1))
        if woken is not None:
            session.info[WAKE_KEY] = True
    return settled


def _quarantine_item(session: Session, item: InboxItem, reason: str) -> None:
    item.status, item.note = "quarantined", reason
    item.processed_at = utcnow()
    quarantine(
        session,
        stage="processing",
        reason=reason,
        raw=json.dumps(item.envelope, ensure_ascii=False),
        sender=item.sender,
        envelope_id=str(item.envelope_id),
        kind=item.kind,
    )


def quarantined(session: Session, *, limit: int = 100) -> list[QuarantineItem]:
    return list(
        session.scalars(select(QuarantineItem).order_by(QuarantineItem.id.desc()).limit(limit))
    )
