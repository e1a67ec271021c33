"""Delivery: send the outbox to each peer in order per (peer, stream), with retries.

Backoff is exponential with jitter; nothing is ever dropped for age: an item that has waited too
long raises an alert (log and audit) and keeps being retried.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from accord.audit import service as audit
from accord.config import Settings
from accord.core.canonical import canonical_bytes
from accord.core.clock import iso, utcnow
from accord.core.db import unit_of_work
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


def backoff(attempts: int, *, base: float, cap: float, rng: random.Random) -> float:
    """Seconds to wait after `attempts` failures: base·2^(n-1), capped, jitter in [0.5, 1.5)."""
    exponent = min(max(attempts - 1, 0), 30)
    return float(min(cap, base * (2**exponent)) * (0.5 + rng.random()))


def seal_item(
    node: NodeIdentity, keys: PeerKeys, item: OutboxItem, *, sent_at: str
) -> dict[str, Any]:
    """The envelope of an outbox item, sealed now, under the id fixed when it was written."""
    return seal(
        node, keys, envelope_id=item.envelope_id, kind=item.kind, body=item.body, sent_at=sent_at
    )


def select_batches(session: Session, node: NodeIdentity, settings: Settings) -> list[Batch]:
    """Per peer, the next due items in id order. A stream (a case) with an item waiting for its
    retry is skipped as a whole, so no item ever overtakes an earlier one of its stream."""
    now = utcnow()
    blocked: dict[str, set[str]] = {}
    for peer_name, stream in session.execute(
        select(OutboxItem.peer, OutboxItem.stream)
        .where(OutboxItem.status == "pending", OutboxItem.next_attempt_at > now)
        .distinct()
    ):
        blocked.setdefault(peer_name, set()).add(stream)
    peers = session.scalars(
        select(OutboxItem.peer).where(OutboxItem.status == "pending").distinct()
    ).all()
    chosen: dict[str, list[OutboxItem]] = {}
    for peer_name in peers:
        query = (
            select(OutboxItem)
            .where(
                OutboxItem.peer == peer_name,
                OutboxItem.status == "pending",
                OutboxItem.next_attempt_at <= now,
            )
            .order_by(OutboxItem.id)
            .limit(settings.delivery_batch)
        )
        if blocked.get(peer_name):
            query = query.where(OutboxItem.stream.not_in(blocked[peer_name]))
        items: list[OutboxItem] = []
        size = 0
        for item in session.scalars(query):
            size += len(canonical_bytes(item.body)) * 4 // 3 + 512  # sealed, base64, headers
            if items and size > settings.delivery_max_bytes:
                break  # the rest go in the next request: the peer refuses oversize requests
            items.append(item)
        if items:
            chosen[peer_name] = items
    batches: list[Batch] = []
    sent_at = iso(now)
    for peer_name, items in chosen.items():
        peer = find_peer(session, peer_name)
        if peer is None:
            _fail(session, items, "peer is not pinned (or disabled) on this node", settings, now)
            continue
        keys = peer_keys(peer)
        envelopes = [seal_item(node, keys, i, sent_at=sent_at) for i in items]
        batches.append(
            Batch(
                peer=peer_name,
                endpoint=peer.endpoint.rstrip("/"),
                keys=keys,
                items=[(i.id, str(i.envelope_id)) for i in items],
                envelopes=envelopes,
            )
        )
    return batches


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


def deliver_once(
    factory: sessionmaker[Session], node: NodeIdentity, settings: Settings, client: httpx.Client
) -> int:
    """One round: read due items, send each peer's batch (outside any transaction), settle."""
    with unit_of_work(factory) as session:
        batches = select_batches(session, node, settings)
    delivered = 0
    for batch in batches:
        response: httpx.Response | None = None
        error: str | None = None
        try:
            response = client.post(
                batch.endpoint + ENVELOPES_PATH,
                json={"envelopes": batch.envelopes},
                timeout=settings.delivery_timeout_seconds,
            )
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__} reaching {batch.endpoint}: {exc}"
        with unit_of_work(factory) as session:
            delivered += _settle(session, batch, response, error, settings)
    return delivered
