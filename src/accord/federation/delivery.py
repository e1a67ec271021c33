"""Delivery: send the outbox to each peer in order per (peer, stream), with retries.

Backoff is exponential with jitter; nothing is ever dropped for age: an item that has waited too
long raises an alert (log and audit) and keeps being retried. On PostgreSQL any number of
delivery workers share one outbox (see `claim_batches`); on SQLite one worker sends it.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, exists, func, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased, sessionmaker

from accord.audit import service as audit
from accord.config import Settings
from accord.core.canonical import canonical_bytes
from accord.core.clock import iso, utcnow
from accord.core.db import unit_of_work
from accord.core.dialects import dialect_of, is_postgresql, skip_locked
from accord.federation import announce, reconcile, tls
from accord.federation.envelope import EnvelopeRefused, seal, verify_document
from accord.federation.keys import NodeIdentity, PeerKeys
from accord.federation.models import OutboxItem
from accord.federation.peers import find_peer, peer_keys
from accord.federation.schemas import ReceiptBatch

log = logging.getLogger(__name__)

ENVELOPES_PATH = "/federation/v1/envelopes"


@dataclass
class Batch:
    peer: str
    endpoint: str
    keys: PeerKeys
    items: list[tuple[int, str]]
    """(outbox id, envelope id)"""
    envelopes: list[dict[str, Any]]
    tls_ca: str | None = None
    tls_pin: str | None = None


def backoff(attempts: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait after `attempts` failures: base·2^(n-1), capped, jitter in [0.5, 1.5)."""
    exponent = min(max(attempts - 1, 0), 30)
    return float(min(cap, base * (2**exponent)) * (0.5 + rng.random()))


def waiting(
    next_attempt_at: InstrumentedAttribute[datetime], now: datetime, settings: Settings
) -> ColumnElement[bool]:
    """Not due yet: the retry time is ahead, but by no more than the backoff allows. A time
    further ahead was set by a clock that has since been put back (a node whose clock ran fast
    and was corrected): it is due, or its stream would wait as long as the clock was ahead."""
    horizon = now + timedelta(seconds=settings.delivery_backoff_max_seconds * 1.5)
    return and_(next_attempt_at > now, next_attempt_at <= horizon)


def seal_item(
    node: NodeIdentity, keys: PeerKeys, item: OutboxItem, *, sent_at: str
) -> dict[str, Any]:
    """The envelope of an outbox item, sealed now, under the id fixed when it was written."""
    return seal(
        node, keys, envelope_id=item.envelope_id, kind=item.kind, body=item.body, sent_at=sent_at
    )


class _Round:
    """The requests of one delivery round being filled: per peer, outbox items in the order
    they are offered (id order), at most `delivery_batch` of them and, but for a first item
    that is larger on its own, `delivery_max_bytes` of sealed envelopes (the peer refuses
    oversize requests). Once an item does not fit, its peer is full: no later item of its
    streams may overtake it, so they all wait for the next round."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.now = utcnow()
        self.items: dict[str, list[OutboxItem]] = {}
        self.full: set[str] = set()
        self._sizes: dict[str, int] = {}

    def offer(self, item: OutboxItem) -> None:
        if item.peer in self.full:
            return
        batch = self.items.setdefault(item.peer, [])
        size = self._sizes.get(item.peer, 0) + _envelope_size(item)
        if batch and size > self.settings.delivery_max_bytes:
            self.full.add(item.peer)
            return
        self._sizes[item.peer] = size
        batch.append(item)
        if len(batch) >= self.settings.delivery_batch:
            self.full.add(item.peer)

    def room(self) -> int:
        """How many more items the fullest request can take."""
        return self.settings.delivery_batch - max(map(len, self.items.values()), default=0)

    def sealed(self, session: Session, node: NodeIdentity) -> list[Batch]:
        """Each peer's request, its envelopes sealed now; the items of a peer that is no
        longer pinned fail (and are retried, and alert, like any other failure)."""
        batches: list[Batch] = []
        sent_at = iso(self.now)
        for peer_name, items in self.items.items():
            peer = find_peer(session, peer_name)
            if peer is None:
                error = "peer is not pinned (or disabled) on this node"
                _fail(session, items, error, self.settings, self.now)
                continue
            keys = peer_keys(peer)
            first = announce.first_announcement(session, peer_name)
            if first is not None:
                # our new keys or endpoint go first, alone, under the keys the peer has pinned;
                # until it has them nothing else goes (it is signed with the new keys)
                items = [i for i in items if i.id == first.id]
                if not items:
                    continue
            batches.append(
                Batch(
                    peer=peer_name,
                    endpoint=peer.endpoint.rstrip("/"),
                    keys=keys,
                    items=[(i.id, str(i.envelope_id)) for i in items],
                    envelopes=[
                        seal_item(announce.sealing_identity(node, i), keys, i, sent_at=sent_at)
                        for i in items
                    ],
                    tls_ca=peer.tls_ca,
                    tls_pin=peer.tls_pin,
                )
            )
        return batches


def _envelope_size(item: OutboxItem) -> int:
    return len(canonical_bytes(item.body)) * 4 // 3 + 512  # sealed, base64, headers


def claim_batches(session: Session, node: NodeIdentity, settings: Settings) -> list[Batch]:
    """This round's request to each peer, sealed: per peer, the next due items in id order.

    A stream (a case) with an item waiting for its retry is skipped as a whole, so no item ever
    overtakes an earlier one of its stream. On PostgreSQL the items are claimed for this
    transaction and other workers skip them (`_claim_heads`); on SQLite, where one worker
    sends, they are read (`_read_due`)."""
    round_ = _Round(settings)
    claim = _claim_heads if dialect_of(session) == "postgresql" else _read_due
    claim(session, round_)
    return round_.sealed(session, node)


def _read_due(session: Session, round_: _Round) -> None:
    """The due items of every stream not held up by a retry, peer by peer in id order."""
    now, settings = round_.now, round_.settings
    blocked: dict[str, set[str]] = {}
    for peer_name, stream in session.execute(
        select(OutboxItem.peer, OutboxItem.stream)
        .where(OutboxItem.status == "pending", waiting(OutboxItem.next_attempt_at, now, settings))
        .distinct()
    ):
        blocked.setdefault(peer_name, set()).add(stream)
    peers = session.scalars(
        select(OutboxItem.peer).where(OutboxItem.status == "pending").distinct()
    ).all()
    for peer_name in sorted(peers):
        query = (
            select(OutboxItem)
            .where(
                OutboxItem.peer == peer_name,
                OutboxItem.status == "pending",
                ~waiting(OutboxItem.next_attempt_at, now, settings),
            )
            .order_by(OutboxItem.id)
            .limit(settings.delivery_batch)
        )
        if blocked.get(peer_name):
            query = query.where(OutboxItem.stream.not_in(blocked[peer_name]))
        for item in session.scalars(query):
            if peer_name in round_.full:
                break
            round_.offer(item)


def _claim_heads(session: Session, round_: _Round) -> None:
    """Claim, for this transaction, whole streams and their due items; other workers skip them.

    A worker sends a stream only while it holds the row lock of the stream's *head* (its
    earliest pending item), taken with `SELECT … FOR UPDATE SKIP LOCKED`; the items it sends
    after the head are locked the same way. Two workers cannot hold the same head, so they
    never send one stream at once, and every item sent is locked by its sender and was still
    pending when locked, so no item is sent by two workers. The locks last until the sender
    settles the receipts and commits (the caller keeps the transaction open during the HTTP
    request); if the worker dies, PostgreSQL drops its connection and the locks with it, and
    the items are due again for any worker (the peer answers `duplicate` for an envelope it had
    already stored).

    Why head rows and not an advisory lock on a hash of (peer, stream): the head lock is the
    claim itself (one statement finds and locks the next free streams, skipping taken ones),
    it needs no second lock namespace to keep consistent with the rows, and it cannot collide.
    It relies on ids of one stream being assigned in commit order, which holds because every
    writer of a stream (a case) first locks the case row.

    Heads are claimed a few at a time, sized by the average number of pending items per
    stream, so that one worker does not hold streams it will not send in this round; none are
    claimed for a peer whose request is full.
    """
    now, settings = round_.now, round_.settings
    later = aliased(OutboxItem)
    blocked = exists().where(
        later.peer == OutboxItem.peer,
        later.stream == OutboxItem.stream,
        later.status == "pending",
        waiting(later.next_attempt_at, now, settings),
    )
    heads = (
        select(func.min(OutboxItem.id))
        .where(OutboxItem.status == "pending")
        .group_by(OutboxItem.peer, OutboxItem.stream)
    )
    pending, streams = session.execute(
        select(
            func.count(OutboxItem.id),
            func.count(func.distinct(OutboxItem.stream)),
        ).where(OutboxItem.status == "pending")
    ).one()
    per_stream = max(1, pending // max(1, streams))
    claimed: list[int] = []
    while True:
        wanted = max(1, -(-round_.room() // per_stream))
        query = (
            select(OutboxItem)
            .where(
                OutboxItem.id.in_(heads),
                OutboxItem.status == "pending",
                ~waiting(OutboxItem.next_attempt_at, now, settings),
                ~blocked,
            )
            .order_by(OutboxItem.id)
            .limit(wanted)
        )
        if claimed:  # our own locks are not skipped: leave out the heads we already hold
            query = query.where(OutboxItem.id.not_in(claimed))
        if round_.full:
            query = query.where(OutboxItem.peer.not_in(round_.full))
        new_heads = list(session.scalars(skip_locked(query)))
        if not new_heads:
            break
        claimed.extend(h.id for h in new_heads)
        items = session.scalars(
            skip_locked(
                select(OutboxItem)
                .where(
                    tuple_(OutboxItem.peer, OutboxItem.stream).in_(
                        [(h.peer, h.stream) for h in new_heads]
                    ),
                    OutboxItem.status == "pending",
                    ~waiting(OutboxItem.next_attempt_at, now, settings),
                    OutboxItem.id >= min(h.id for h in new_heads),
                )
                .order_by(OutboxItem.id)
                .limit(settings.delivery_batch)
            )
        )
        for item in items:
            round_.offer(item)


def _fail(
    session: Session, items: list[OutboxItem], error: str, settings: Settings, now: datetime
) -> None:
    rng = random.Random()
    for item in items:
        item.attempts += 1
        item.last_error = error[:2000]
        wait = backoff(
            item.attempts,
            base=settings.delivery_backoff_base_seconds,
            cap=settings.delivery_backoff_max_seconds,
            rng=rng,
        )
        item.next_attempt_at = now + timedelta(seconds=wait)
        age = (now - item.created_at).total_seconds()
        if age > settings.delivery_alert_after_seconds and not item.alerted:
            item.alerted = True
            log.warning(
                "ALERT: envelope %s to %s undelivered for %.0f s (%d attempts): %s",
                item.envelope_id,
                item.peer,
                age,
                item.attempts,
                error,
            )
            audit.record(
                session,
                actor="system:delivery",
                action="federation.delivery_overdue",
                outcome="alert",
                subject=str(item.envelope_id),
                detail={"peer": item.peer, "attempts": item.attempts, "error": error[:500]},
            )


def _settle(
    session: Session,
    batch: Batch,
    response: httpx.Response | None,
    error: str | None,
    settings: Settings,
) -> int:
    now = utcnow()
    ids = [outbox_id for outbox_id, _ in batch.items]
    items = {i.id: i for i in session.scalars(select(OutboxItem).where(OutboxItem.id.in_(ids)))}
    receipts: dict[str, dict[str, Any]] = {}
    if response is not None and response.status_code == 200:
        try:
            parsed = ReceiptBatch.model_validate(response.json())
            for signed in parsed.receipts:
                document = signed.model_dump(mode="json")
                verify_document(document, batch.keys.verify)
                receipts[str(signed.envelope_id)] = document
        except (ValueError, ValidationError, EnvelopeRefused) as exc:
            error = f"unusable receipts from {batch.peer}: {exc}"
            receipts.clear()
    elif response is not None:
        error = f"HTTP {response.status_code} from {batch.peer}: {response.text[:500]}"
    delivered = 0
    failed: list[OutboxItem] = []
    for outbox_id, envelope_id in batch.items:
        item = items[outbox_id]
        receipt = receipts.get(envelope_id)
        if receipt is None:
            failed.append(item)
            continue
        item.receipt = receipt
        item.delivered_at = now
        if receipt["status"] == "quarantined":
            # The peer holds it in quarantine with a reason; we keep it, flagged, for operators.
            item.status = "refused"
            item.last_error = receipt.get("reason")
            log.warning("envelope %s refused by %s: %s", envelope_id, batch.peer, item.last_error)
            audit.record(
                session,
                actor="system:delivery",
                action="federation.envelope_quarantined_by_peer",
                outcome="refused",
                subject=envelope_id,
                detail={"peer": batch.peer, "reason": item.last_error},
            )
        else:
            item.status = "delivered"
            delivered += 1
    if failed:
        _fail(session, failed, error or "no receipt for this envelope", settings, now)
    return delivered


def _post(
    client: httpx.Client, batch: Batch, settings: Settings
) -> tuple[httpx.Response | None, str | None]:
    if batch.tls_ca or batch.tls_pin:  # this peer's own trust, beside the system bundle
        client = tls.client_for(batch.tls_ca, batch.tls_pin, settings.delivery_timeout_seconds)
    try:
        response = client.post(
            batch.endpoint + ENVELOPES_PATH,
            json={"envelopes": batch.envelopes},
            timeout=settings.delivery_timeout_seconds,
        )
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__} reaching {batch.endpoint}: {exc}"
        return None, tls.explain(error, batch.peer)
    return response, None


def deliver_once(
    factory: sessionmaker[Session], node: NodeIdentity, settings: Settings, client: httpx.Client
) -> int:
    """One round. On PostgreSQL: claim streams, send, settle, all in one transaction whose
    locks keep other workers off the claimed streams. On SQLite (one worker, one writer): read
    the due items, send each peer's batch outside any transaction, so that the database is not
    locked during the request, then settle. A node restored from a backup delivers nothing
    until it has reconciled with its peers (`federation.reconcile`)."""
    with unit_of_work(factory) as session:
        if reconcile.waiting_for(session):
            return 0
    delivered = 0
    if is_postgresql(factory):
        with unit_of_work(factory) as session:
            for batch in claim_batches(session, node, settings):
                response, error = _post(client, batch, settings)
                delivered += _settle(session, batch, response, error, settings)
        return delivered
    with unit_of_work(factory) as session:
        batches = claim_batches(session, node, settings)
    for batch in batches:
        response, error = _post(client, batch, settings)
        with unit_of_work(factory) as session:
            delivered += _settle(session, batch, response, error, settings)
    return delivered
