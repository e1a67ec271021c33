"""Checkpoints: a case log's Merkle tree head signed by this node (and the peer), stamped by
the node's time-stamping authority."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base
from accord.core.types import UTCDateTime


class Checkpoint(Base):
    """One signed head of one case's log: the first `tree_size` events, their Merkle root
    (`evidence/merkle.py`) and the hash chain's head at that size. Pending until the TSA's
    token is in; never deleted for want of one."""

    __tablename__ = "checkpoints"
    __table_args__ = (
        UniqueConstraint("case_id", "tree_size", name="uq_checkpoints_case_tree_size"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    case_id: Mapped[UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    reference: Mapped[str] = mapped_column(String(64))
    tree_size: Mapped[int] = mapped_column(Integer)
    root_hash: Mapped[str] = mapped_column(String(64))
    head_hash: Mapped[str] = mapped_column(String(64), doc="hash of event `tree_size`")
    made_by: Mapped[str] = mapped_column(String(100), doc="the node that made and signed it")
    made_at: Mapped[str] = mapped_column(String(40), doc="exact string that was signed")
    reason: Mapped[str] = mapped_column(String(64), doc="why: the action that changed the state")
    signature: Mapped[str] = mapped_column(String(100), doc="made_by's signature")
    peer: Mapped[str] = mapped_column(String(100))
    peer_signature: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), index=True, doc="pending | stamped")
    tsa_token: Mapped[bytes | None] = mapped_column(
        LargeBinary, doc="the TSA's TimeStampResp (DER) as received"
    )
    stamped_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), doc="the token's time")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
