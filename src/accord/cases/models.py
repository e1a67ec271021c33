"""Case tables: the case row (a cache of the fold), its hash-chained events, pending actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, column
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accord.core.db import Base
from accord.core.dialects import JsonText
from accord.core.types import JSONType, UTCDateTime


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    case_type: Mapped[str] = mapped_column(String(32), index=True)
    area: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16))
    handling_code: Mapped[str] = mapped_column(String(4))
    title: Mapped[str] = mapped_column(String(500))
    requesting_node: Mapped[str] = mapped_column(String(100))
    requested_node: Mapped[str] = mapped_column(String(100))
    sequencer: Mapped[str] = mapped_column(String(100))
    peer: Mapped[str] = mapped_column(String(100), index=True)
    unit: Mapped[str | None] = mapped_column(
        String(100), index=True, doc="the unit of this node that holds the case (need-to-know)"
    )
    state: Mapped[str] = mapped_column(String(64), index=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    head_hash: Mapped[str] = mapped_column(String(64))
    deadlines: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    facts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.seq", lazy="raise"
    )

    __table_args__ = (
        # the notice a fugitive case holds (its facts, folded on both nodes): migration 0015
        Index("ix_cases_notice_id", JsonText(column("facts"), "notice_id")),
    )


class CaseEvent(Base):
    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq", name="uq_case_events_case_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(16))
    actor_node: Mapped[str] = mapped_column(String(100))
    actor_officer: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    occurred_at: Mapped[str] = mapped_column(String(40), doc="exact string that was hashed")
    submission_id: Mapped[str | None] = mapped_column(String(36), index=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    state_after: Mapped[str] = mapped_column(String(64))
    acted_at: Mapped[str | None] = mapped_column(String(40), doc="exact string that was signed")
    signature: Mapped[str | None] = mapped_column(
        String(100), doc="the actor node's signature of the act; null in logs before 0.2"
    )

    case: Mapped[Case] = relationship(back_populates="events", lazy="raise")


class CaseEventPart(Base):
    """An erasable part of one event's payload (`cases/erasable.py`): where it is, its
    commitment and its salt; once erased, no salt, and the erasure event that did it. A row
    without a commitment is a part of an event hashed in clear (format 0.1 or 0.2), erased:
    that event's stored hash stands as attested."""

    __tablename__ = "case_event_parts"
    __table_args__ = (
        UniqueConstraint("case_id", "seq", "path", name="uq_case_event_parts_case_seq_path"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(500), doc="RFC 6901 pointer into the payload")
    commitment: Mapped[str | None] = mapped_column(String(64))
    salt: Mapped[str | None] = mapped_column(String(64))
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    erasure_seq: Mapped[int | None] = mapped_column(Integer)


class PendingAction(Base):
    """An action this node submitted to a case's sequencer, until it is applied or rejected."""

    __tablename__ = "pending_actions"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    case_id: Mapped[UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    actor_officer: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    event_seq: Mapped[int | None] = mapped_column(Integer)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReferenceCounter(Base):
    """Last number used per reference prefix (MLA-US-2026)."""

    __tablename__ = "reference_counters"

    prefix: Mapped[str] = mapped_column(String(64), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class CaseShare(Base):
    """A case explicitly shared with an officer outside the case's unit (need-to-know)."""

    __tablename__ = "case_shares"
    __table_args__ = (UniqueConstraint("case_id", "user_id", name="uq_case_shares_case_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id"), index=True)
    shared_by: Mapped[str] = mapped_column(String(100))
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime())
