"""Writing to the outbox, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from accord.core.clock import new_id, utcnow
from accord.federation.models import OutboxItem

WAKE_KEY = "accord.outbox_written"


def enqueue(
    session: Session, *, peer: str, stream: str, kind: str, body: dict[str, Any]
) -> OutboxItem:
    now = utcnow()
    item = OutboxItem(
        envelope_id=new_id(),
        peer=peer,
        stream=stream,
        kind=kind,
        body=body,
        status="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=now,
        alerted=False,
    )
    session.add(item)
    session.info[WAKE_KEY] = True
    return item


def pending_items(session: Session, *, peer: str | None = None) -> list[OutboxItem]:
    query = select(OutboxItem).where(OutboxItem.status == "pending").order_by(OutboxItem.id)
    if peer:
        query = query.where(OutboxItem.peer == peer)
    return list(session.scalars(query))


def retry_now(session: Session, *, peer: str | None = None) -> int:
    """Make every pending item (of `peer`) due now, whatever its backoff; return how many."""
    query = update(OutboxItem).where(OutboxItem.status == "pending")
    if peer:
        query = query.where(OutboxItem.peer == peer)
    result = session.execute(query.values(next_attempt_at=utcnow()))
    session.info[WAKE_KEY] = True
    return int(getattr(result, "rowcount", 0) or 0)


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(OutboxItem.status, func.count()).group_by(OutboxItem.status))
    return {status: count for status, count in rows}
