"""Operations tables: the heartbeat each worker process records, read by /readyz and /metrics."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base
from accord.core.types import UTCDateTime


class WorkerHeartbeat(Base):
    """One row per worker process and role (`delivery`, `inbox`), rewritten every
    `ACCORD_WORKER_HEARTBEAT_SECONDS` and deleted when the process stops cleanly."""

    __tablename__ = "worker_heartbeats"

    process: Mapped[str] = mapped_column(String(200), primary_key=True, doc="host:pid")
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    rounds: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0, doc="failed rounds in a row")
