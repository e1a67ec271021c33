"""The node's watchlist and its batch screening jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base
from accord.core.types import JSONType, UTCDateTime


class WatchlistEntry(Base):
    """One person on the watchlist, as given (checked, but not normalised: the name layer reads
    it afresh when the index is built)."""

    __tablename__ = "identity_watchlist"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    name_native: Mapped[str | None] = mapped_column(String(300))
    birth_date: Mapped[str | None] = mapped_column(String(10))
    sex: Mapped[str | None] = mapped_column(String(1))
    nationality: Mapped[str | None] = mapped_column(String(3))
    id_number: Mapped[str | None] = mapped_column(String(18))
    passport_number: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ScreeningJob(Base):
    """A batch of persons screened in the background; polled for progress."""

    __tablename__ = "identity_screening_jobs"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # queued, running, done, failed
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    matches: Mapped[int] = mapped_column(Integer, default=0)
    persons: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    results: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    problems: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    error: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
