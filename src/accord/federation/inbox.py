"""The inbox: authenticate, refuse replays, decrypt, validate, store, receipt; process later.

Everything refused is kept in quarantine with its reason: an authentic envelope whole, a refusal
before authentication within bounds (a digest, the first KiB, counted per address past the
caps). Storage and the receipt come before any processing, so a crash after the receipt loses
nothing: processing resumes from the table.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from accord.audit import service as audit
from accord.config import Settings
from accord.core.canonical import sha256_hex
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
"""What is kept of an authentic envelope refused (its body, or in processing)."""
HEAD_BYTES = 1024
"""What is kept of what was sent for a refusal before authentication; digest and size cover
all of it."""
REASON_LIMIT = 1000
"""Characters of an unauthenticated refusal's reason kept and answered: the problems of a
malformed envelope name its fields, and a sender chooses how many there are."""
UNAUTHENTICATED = "inbox"
"""The stage of refusals before authentication: the ones bounded by `RefusalBounds`."""
BYTES_CHECK_EVERY = 64
"""The bytes kept of unauthenticated refusals are a scan of every row's text (36 ms at 8,000
rows on PostgreSQL), so they are summed when the row count is a multiple of this, or once the
total cap has been reached before; in between, a row adds at most 4/3·HEAD_BYTES +
REASON_LIMIT characters."""


@dataclass
class BatchOutcome:
    receipts: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    error: str | None = None


@dataclass(frozen=True)
class RefusalBounds:
    """How much of the refusals before authentication is kept (the ACCORD_QUARANTINE_*
    settings): repeats and refusals past the caps only count on a row."""

    window: timedelta
    rows_per_source: int
    max_rows: int
    max_bytes: int

    @classmethod
    def of(cls, settings: Settings) -> RefusalBounds:
        return cls(
            window=timedelta(seconds=settings.quarantine_window_seconds),
            rows_per_source=settings.quarantine_rows_per_source,
            max_rows=settings.quarantine_max_rows,
            max_bytes=settings.quarantine_max_bytes,
        )


def _bounds(bounds: RefusalBounds | None) -> RefusalBounds:
    return bounds if bounds is not None else RefusalBounds.of(Settings())


def _as_bytes(raw: bytes | str) -> bytes:
    # surrogatepass: a lone surrogate decoded from a JSON escape is kept as the bytes it became
    return raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw


def _raw_text(data: bytes, limit: int) -> str:
    """The first `limit` bytes as text if they are UTF-8 without NUL (a character cut at the
    limit is left out), else as base64 after 'base64:'."""
    head = data[:limit]
    try:
        text: str | None = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        cut = len(data) > len(head) and exc.end == len(head) and exc.start >= len(head) - 3
        text = head[: exc.start].decode("utf-8", "strict") if cut else None
    if text is None or "\x00" in text:
        return "base64:" + base64.b64encode(head).decode("ascii")
    return text


def printable(text: str, limit: int) -> str:
    """Text from outside made fit to store, sign and answer: lone surrogates (which no UTF-8
    encoder takes) and NUL (which PostgreSQL text refuses) escaped, cut to `limit` characters."""
    cut = text[:limit]
    if not cut.isascii():
        cut = cut.encode("utf-8", "backslashreplace").decode("utf-8")
    cut = cut.replace("\x00", "\\x00")
    if len(cut) > limit or len(text) > limit:
        cut = cut[: limit - 1] + "…"
    return cut


def _claimed(value: Any, limit: int) -> str | None:
    """A field an unauthenticated envelope claims (its sender, its id), if it is a text."""
    return (printable(value, limit) or None) if isinstance(value, str) else None


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
    """Keep an authentic envelope refused (its body, or in processing) with the reason."""
    data = _as_bytes(raw)
    now = utcnow()
    item = QuarantineItem(
        received_at=now,
        last_seen_at=now,
        stage=stage,
        sender=_claimed(sender, 200),
        envelope_id=_claimed(envelope_id, 64),
        kind=_claimed(kind, 64),
        reason=printable(reason, RAW_LIMIT),
        remote_addr=remote_addr,
        raw=_raw_text(data, RAW_LIMIT),
        digest=sha256_hex(data),
        size=len(data),
        count=1,
    )
    session.add(item)
    session.flush()
    return item


def _window_start(moment: datetime, window: timedelta) -> datetime:
    """The start of the window `moment` falls in: windows are aligned on the epoch, so that
    every process counts the same ones."""
    seconds = window.total_seconds()
    stamp = moment.timestamp()
    return datetime.fromtimestamp(stamp - stamp % seconds, UTC)


def _count_on(session: Session, row: QuarantineItem, size: int, now: datetime) -> QuarantineItem:
    # in SQL, so that concurrent refusals counted on one row add up on PostgreSQL too
    row.count = QuarantineItem.count + 1
    row.size = func.coalesce(QuarantineItem.size, 0) + size
    row.last_seen_at = now
    session.flush()
    return row


def keep_refusal(
    session: Session,
    *,
    reason: str,
    sent: bytes | None,
    size: int,
    remote_addr: str | None,
    bounds: RefusalBounds,
    sender: str | None = None,
    envelope_id: str | None = None,
) -> tuple[QuarantineItem, bool]:
    """Keep a refusal before authentication within `bounds`; `sent` is what was sent (None: not
    read, too large), `size` its length. Returns the row that holds it and whether the row is
    new: the caller audits a new row only, so that a refusal that merely counts on a row already
    written (the same bytes again from the same address in this window, or past a cap) writes
    neither a row nor an audit entry.

    The caps: `rows_per_source` rows per address per window (windows aligned on the epoch),
    past which one row marked capped='source' counts the rest of that address's window; and
    `max_rows` rows or `max_bytes` (raw and reason) of unauthenticated rows in all, past which
    one row per window marked capped='total' counts every new refusal, from any address.
    Reaching a cap logs an ALERT once per address (or for the total) per window. On PostgreSQL
    concurrent requests may each write a row before they see a cap: it is passed by at most the
    number of requests in flight."""
    now = utcnow()
    since = _window_start(now, bounds.window)
    digest = sha256_hex(sent) if sent is not None else None
    source = (
        QuarantineItem.remote_addr == remote_addr
        if remote_addr is not None
        else QuarantineItem.remote_addr.is_(None)
    )
    this_window = (QuarantineItem.stage == UNAUTHENTICATED, QuarantineItem.received_at >= since)
    if digest is not None:
        repeat = session.scalars(
            select(QuarantineItem)
            .where(*this_window, source, QuarantineItem.capped.is_(None))
            .where(QuarantineItem.digest == digest, QuarantineItem.reason == reason)
            .limit(1)
        ).first()
        if repeat is not None:
            return _count_on(session, repeat, size, now), False
    for cap, of_cap in (("source", (source,)), ("total", ())):
        counter = session.scalars(
            select(QuarantineItem)
            .where(*this_window, *of_cap, QuarantineItem.capped == cap)
            .order_by(QuarantineItem.id)
            .limit(1)
        ).first()
        if counter is not None:
            return _count_on(session, counter, size, now), False
    capped: str | None = None
    kept_from_source = session.scalar(
        select(func.count())
        .select_from(QuarantineItem)
        .where(*this_window, source, QuarantineItem.capped.is_(None))
    )
    if (kept_from_source or 0) >= bounds.rows_per_source:
        capped = "source"
    if _past_total_caps(session, bounds):
        capped = "total"
    if capped == "source":
        kept_reason = (
            f"refusals from {remote_addr} past the cap of {bounds.rows_per_source} rows per "
            f"{bounds.window.total_seconds():.0f} s: counted here, not kept; the first: {reason}"
        )
    elif capped == "total":
        kept_reason = (
            f"unauthenticated refusals past the cap of {bounds.max_rows} rows or "
            f"{bounds.max_bytes} bytes: those of this window from any address counted here, not "
            f"kept; the first, from {remote_addr}: {reason}"
        )
    else:
        kept_reason = reason
    row = QuarantineItem(
        received_at=now,
        last_seen_at=now,
        stage=UNAUTHENTICATED,
        sender=sender,
        envelope_id=envelope_id,
        reason=printable(kept_reason, REASON_LIMIT),
        remote_addr=remote_addr if capped != "total" else None,
        raw=_raw_text(sent, HEAD_BYTES) if sent is not None else "",
        digest=digest,
        size=size,
        count=1,
        capped=capped,
    )
    session.add(row)
    session.flush()
    if capped is not None:
        log.warning("ALERT: %s (quarantine row %d)", row.reason, row.id)
    return row, True


def _past_total_caps(session: Session, bounds: RefusalBounds) -> bool:
    unauthenticated = QuarantineItem.stage == UNAUTHENTICATED
    rows = session.scalar(select(func.count()).select_from(QuarantineItem).where(unauthenticated))
    if (rows or 0) >= bounds.max_rows:
        return True
    capped_before = session.scalar(
        select(QuarantineItem.id).where(unauthenticated, QuarantineItem.capped == "total").limit(1)
    )
    if (rows or 0) % BYTES_CHECK_EVERY and capped_before is None:
        return False
    return _kept_bytes(session) >= bounds.max_bytes


def _kept_bytes(session: Session) -> int:
    """Characters of raw text and reasons kept for refusals before authentication."""
    kept = session.scalar(
        select(
            func.coalesce(
                func.sum(func.length(QuarantineItem.raw) + func.length(QuarantineItem.reason)), 0
            )
        ).where(QuarantineItem.stage == UNAUTHENTICATED)
    )
    return int(kept or 0)


def _audit_refusal(
    session: Session,
    *,
    row: QuarantineItem,
    action: str,
    status: int,
    reason: str,
    actor: str,
    subject: str | None,
    remote_addr: str | None,
) -> None:
    """One audit entry per quarantine row written; a cap reached is audited as such."""
    detail: dict[str, Any] = {
        "status": status,
        "reason": reason,
        "quarantine_id": row.id,
        "digest": row.digest,
    }
    if row.capped is not None:
        detail["capped"] = row.capped
    audit.record(
        session,
        actor=actor,
        action="federation.refusals_capped" if row.capped is not None else action,
        outcome="refused",
        subject=subject,
        remote_addr=remote_addr,
        detail=detail,
    )


def refuse_request(
    session: Session,
    *,
    status: int,
    reason: str,
    raw: bytes | None,
    remote_addr: str | None,
    size: int | None = None,
    bounds: RefusalBounds | None = None,
) -> BatchOutcome:
    """A request refused as a whole (not JSON, not a batch, too large: `raw` None when it was
    not read, `size` then the bytes it declared or sent), quarantined and audited within the
    bounds of refusals before authentication."""
    answered = printable(reason, REASON_LIMIT)
    row, new = keep_refusal(
        session,
        reason=answered,
        sent=raw,
        size=size if size is not None else len(raw or b""),
        remote_addr=remote_addr,
        bounds=_bounds(bounds),
    )
    if new:
        _audit_refusal(
            session,
            row=row,
            action="federation.request_refused",
            status=status,
            reason=answered,
            actor=f"remote:{remote_addr}",
            subject=None,
            remote_addr=remote_addr,
        )
    return BatchOutcome(status=status, error=answered)


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
    bounds: RefusalBounds | None = None,
) -> tuple[Envelope, PeerKeys]:
    """Shape, known sender, signature, addressee and freshness. Refusals are kept and audited
    within `bounds`: none of these checks proves who sent the request (a stale or misaddressed
    envelope can be replayed by anyone who saw it), so all are refusals before authentication.

    `peers` caches the pinned keys looked up during one batch."""
    claims = raw_envelope if isinstance(raw_envelope, dict) else {}
    sender = _claimed(claims.get("from"), 190)
    envelope_id = _claimed(claims.get("id"), 64)

    def refuse(reason: str, status: int) -> EnvelopeRefused:
        answered = printable(reason, REASON_LIMIT)
        sent = _sent_form(raw_envelope)
        row, new = keep_refusal(
            session,
            reason=answered,
            sent=sent,
            size=len(sent),
            remote_addr=remote_addr,
            bounds=_bounds(bounds),
            sender=sender,
            envelope_id=envelope_id,
        )
        if new:
            _audit_refusal(
                session,
                row=row,
                action="federation.envelope_refused",
                status=status,
                reason=answered,
                actor=f"peer:{sender}" if sender else f"remote:{remote_addr}",
                subject=envelope_id,
                remote_addr=remote_addr,
            )
        return EnvelopeRefused(answered, status=status)

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
        if not (envelope.sent_at.isascii() and envelope.sent_at.isprintable()):
            raise ValueError("not printable ASCII")  # Python reads '…00:00\x00Z' as a time
        sent_at = parse_iso(envelope.sent_at)
    except ValueError:
        raise refuse(
            f"envelope {envelope.id}: sent_at {envelope.sent_at!r} is not a time", 400
        ) from None
    except OverflowError:  # e.g. 0001-01-01T00:30:00+01:00, before year 1 once in UTC
        raise refuse(
            f"envelope {envelope.id}: sent_at {envelope.sent_at!r} is not a time: it falls "
            "outside the years 1 to 9999 in UTC",
            400,
        ) from None
    skew = abs((utcnow() - sent_at).total_seconds())
    if skew > window.total_seconds():
        raise refuse(
            f"envelope {envelope.id}: sent_at {envelope.sent_at} is {skew:.0f} s from our clock, "
            f"outside the ±{window.total_seconds():.0f} s window (replay, or clocks out of sync)",
            400,
        )
    return envelope, keys


def _sent_form(raw_envelope: Any) -> bytes:
    """An envelope refused, as the JSON it was sent as (UTF-8; a lone surrogate kept as the
    bytes it decodes from). One nested as deep as the JSON reader allows can be too deep to
    write again from here: then a note says so."""
    try:
        return json.dumps(raw_envelope, ensure_ascii=False).encode("utf-8", "surrogatepass")
    except (RecursionError, ValueError):
        return b"(an envelope nested too deep to write out)"


def unstorable(value: Any) -> str | None:
    """Why a JSON value cannot be stored, hashed or signed, or None: a NUL (PostgreSQL text and
    JSONB refuse it) or a lone surrogate such as \\ud800 (no UTF-8 encoder takes it). Walked
    without recursion: a value may be nested as deep as the JSON reader allows."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return "NUL (U+0000) characters"
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return "a lone surrogate (text that is not Unicode, e.g. \\ud800)"
    return None


def _parse_body(
    session: Session, node: NodeIdentity, envelope: Envelope, keys: PeerKeys
) -> tuple[Kind, Any, dict[str, Any]]:
    """Decrypt and validate against the kind's schema; raise Rejected with the reason."""
    try:
        body = open_body(node, keys, envelope)
    except EnvelopeRefused as exc:
        raise Rejected(exc.reason) from None
    problem = unstorable(body)
    if problem is not None:
        raise Rejected(f"body contains {problem}")
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
        claimed = raw.get("id") if isinstance(raw, dict) else None
        try:
            ids.append(UUID(claimed) if isinstance(claimed, str) else UUID(int=0))
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
    bounds: RefusalBounds | None = None,
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
                    bounds=bounds,
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
            item = _inbox_item(envelope, raw_envelope, kind, message, body, "stored")
            if kind.immediate and kind.handler is not None:
                try:
                    with session.begin_nested():
                        kind.handler(session, node, envelope.sender, message)
                except Rejected as exc:
                    _quarantine_body(session, envelope, raw_envelope, str(exc), remote_addr)
                    refused[envelope_id] = str(exc)
                    outcome.receipts.append(_receipt(node, envelope_id, "quarantined", str(exc)))
                    continue
                item.status, item.processed_at = "processed", utcnow()
                peers.pop(envelope.sender, None)  # its keys may have changed
            session.add(item)
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
    bounds: RefusalBounds | None = None,
) -> tuple[int, dict[str, Any]]:
    """A signed question (e.g. a case's log head) answered with a signed reply, never stored."""
    try:
        envelope, keys = authenticate(
            session,
            node=node,
            raw_envelope=raw_envelope,
            remote_addr=remote_addr,
            window=window,
            bounds=bounds,
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


@dataclass(frozen=True)
class QuarantineCounts:
    """What the quarantine holds: rows, the refusals they stand for, and for the refusals
    before authentication how many were only counted (past a cap) and the bytes kept."""

    rows: int
    refusals: int
    unauthenticated_rows: int
    unauthenticated_refusals: int
    counted_past_caps: int
    unauthenticated_bytes: int


def quarantine_counts(session: Session) -> QuarantineCounts:
    unauthenticated = QuarantineItem.stage == UNAUTHENTICATED
    rows, refusals = session.execute(
        select(func.count(), func.coalesce(func.sum(QuarantineItem.count), 0))
    ).one()
    kept_rows, kept_refusals = session.execute(
        select(func.count(), func.coalesce(func.sum(QuarantineItem.count), 0)).where(
            unauthenticated
        )
    ).one()
    past_caps = session.scalar(
        select(func.coalesce(func.sum(QuarantineItem.count), 0)).where(
            unauthenticated, QuarantineItem.capped.is_not(None)
        )
    )
    return QuarantineCounts(
        rows=rows,
        refusals=refusals,
        unauthenticated_rows=kept_rows,
        unauthenticated_refusals=kept_refusals,
        counted_past_caps=past_caps or 0,
        unauthenticated_bytes=_kept_bytes(session),
    )


def prune_quarantine(session: Session, *, before: datetime, limit: int = 1000) -> int:
    """Delete up to `limit` refusals before authentication last seen before `before` (the
    retention); authentic envelopes refused are evidence and stay. Audited when it deletes."""
    ids = list(
        session.scalars(
            select(QuarantineItem.id)
            .where(QuarantineItem.stage == UNAUTHENTICATED, QuarantineItem.received_at < before)
            .where(or_(QuarantineItem.last_seen_at.is_(None), QuarantineItem.last_seen_at < before))
            .order_by(QuarantineItem.id)
            .limit(limit)
        )
    )
    if ids:
        session.execute(delete(QuarantineItem).where(QuarantineItem.id.in_(ids)))
        audit.record(
            session,
            actor="system:inbox",
            action="federation.quarantine_pruned",
            outcome="ok",
            detail={"rows": len(ids), "last_seen_before": iso(before)},
        )
    return len(ids)
