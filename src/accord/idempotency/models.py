"""The answers given to keyed requests, kept with the key for replay."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base
from accord.core.types import UTCDateTime


class IdempotencyKey(Base):
    """One key of one caller: the request it was first sent with, and the answer given."""

    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(
        String(200), primary_key=True, doc="whose key: user:<id> (API, web UI), operator:<name>"
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    method: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(Text, doc="the path the request was sent to")
    body_digest: Mapped[str] = mapped_column(String(64), doc="SHA-256 of the canonical body")
    status: Mapped[int] = mapped_column(Integer, doc="the answer's HTTP status (0: a CLI command)")
    # json, not jsonb, on PostgreSQL: jsonb reorders an object's keys, and a replayed answer
    # must be the same bytes as the first.
    answer: Mapped[dict[str, Any]] = mapped_column(JSON, doc="the answer's JSON body")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
