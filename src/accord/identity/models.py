"""The node's watchlist and its batch screening jobs, each held by the unit of the officer who
made it (docs/security.md, need-to-know)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base
from accord.core.types import JSONType, UTCDateTime


class WatchlistEntry(Base):
    """One person on the watchlist, as given (checked, but not normalised: the name layer reads
    it afresh when the index is built). Each unit keeps its own list: the same record id in two
    units is two entries, and neither unit sees or replaces the other's. An alias row
    (`SDN-10001-AKA1`) is an entry of its own, joined to its person when the index is built."""

    __tablename__ = "identity_watchlist"
    __table_args__ = (UniqueConstraint("unit", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit: Mapped[str] = mapped_column(String(100))
    record_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    name_native: Mapped[str | None] = mapped_column(String(300))
    # as written: 1970-05-12, 12 May 1970, circa 1970, 1968 to 1970
    birth_date: Mapped[str | None] = mapped_column(String(40))
    sex: Mapped[str | None] = mapped_column(String(1))
    nationality: Mapped[str | None] = mapped_column(String(3))
    id_number: Mapped[str | None] = mapped_column(String(18))
    passport_number: Mapped[str | None] = mapped_column(String(20))
    passport_country: Mapped[str | None] = mapped_column(String(2))
    # the person's other names: [{"name", "name_native", "weak"}], in the order given
    aliases: Mapped[list[Any] | None] = mapped_column(JSONType)
    # values beyond the first of a field: {"nationality": ["HK"], "passport_number":
    # ["K98765432 (CN)"], "id_number": ["A1234563"]}
    more_values: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    birth_place: Mapped[str | None] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ScreeningJob(Base):
    """A batch of persons screened in the background; polled for progress. `unit` is the unit
    of the officer who started it (None: a case's screening, read through its case)."""

    __tablename__ = "identity_screening_jobs"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    unit: Mapped[str | None] = mapped_column(String(100), index=True)
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
