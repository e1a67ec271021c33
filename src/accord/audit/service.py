"""Writing, reading and verifying the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.audit.models import AuditEntry
from accord.core.canonical import canonical_bytes, sha256_hex
from accord.core.clock import iso, utcnow
from accord.core.schemas import MAX_OFFSET

GENESIS = "0" * 64
_FIELDS = ("at", "actor", "action", "outcome", "subject", "remote_addr", "detail", "prev_hash")


def _entry_hash(values: dict[str, Any]) -> str:
    return sha256_hex(canonical_bytes({name: values[name] for name in _FIELDS}))


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    outcome: str,
    subject: str | None = None,
    remote_addr: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. The chain head is read under the write lock the transaction holds."""
    last = session.scalars(
        select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1).with_for_update()
    ).first()
    now = utcnow()
    values: dict[str, Any] = {
        "at": iso(now),
        "actor": actor,
        "action": action,
        "outcome": outcome,
        "subject": subject,
        "remote_addr": remote_addr,
        "detail": detail or {},
        "prev_hash": last.hash if last else GENESIS,
    }
    entry = AuditEntry(**values, hash=_entry_hash(values), recorded_at=now)
    session.add(entry)
    session.flush()
    return entry


def read_log(
    session: Session,
    *,
    reader: str,
    remote_addr: str | None,
    actor: str | None = None,
    action: str | None = None,
    before: int | None = None,
    offset: int = 0,
    limit: int = 100,
) -> list[AuditEntry]:
    """Entries newest first: by `actor`, of actions starting with `action`, older than entry
    `before` (a page's last id), from the `offset`-th on. The read is itself recorded (by
    `reader`, after the query, so the page does not show it): who looked at the log is audited
    like any other access."""
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action.startswith(action))
    if before is not None:
        query = query.where(AuditEntry.id < min(before, MAX_OFFSET))
    query = query.order_by(AuditEntry.id.desc()).offset(offset).limit(limit)
    entries = list(session.scalars(query))
    record(session, actor=reader, action="audit.read", outcome="ok", remote_addr=remote_addr)
    return entries


def count_entries(session: Session) -> int:
    return session.scalar(select(func.count(AuditEntry.id))) or 0


def verify(session: Session) -> list[str]:
    """Walk the chain; return one line per problem found (empty when intact)."""
    problems: list[str] = []
    previous = GENESIS
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
        values = {name: getattr(entry, name) for name in _FIELDS}
        if entry.prev_hash != previous:
            problems.append(f"entry {entry.id}: does not follow the entry before it")
        if _entry_hash(values) != entry.hash:
            problems.append(f"entry {entry.id}: content does not match its hash")
        previous = entry.hash
    return problems
