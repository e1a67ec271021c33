"""The audit log table, every entry chained to the one before it, and the anchors of its head
that nodes give each other."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base
from accord.core.types import JSONType, UTCDateTime


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str | None] = mapped_column(String(200))
    remote_addr: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditAnchor(Base):
    """A head of a node's audit log (an entry's id and hash) that the node signed and gave to a
    peer with a checkpoint: ours as we gave it (`node` is this node) and the peer's as it gave
    it to us. The peer's copy of ours is what shows our log was not shortened or rewritten."""

    __tablename__ = "audit_anchors"
    __table_args__ = (Index("ix_audit_anchors_node_peer_entry", "node", "peer", "entry_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    node: Mapped[str] = mapped_column(String(100), doc="whose audit log, and who signed")
    peer: Mapped[str] = mapped_column(String(100), doc="to whom it was given")
    entry_id: Mapped[int] = mapped_column(Integer)
    entry_hash: Mapped[str] = mapped_column(String(64))
    made_at: Mapped[str] = mapped_column(String(40), doc="exact string that was signed")
    signature: Mapped[str] = mapped_column(String(100), doc="`node`'s signature")
    kept_at: Mapped[datetime] = mapped_column(UTCDateTime())
