"""Blobs known to this node, and the files each case holds: uploaded to it here, or received
from the peer for it and verified."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base
from accord.core.types import UTCDateTime


class Blob(Base):
    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    chunks: Mapped[int] = mapped_column(Integer)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    origin: Mapped[str] = mapped_column(String(100), doc="the node that first held it")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CaseFile(Base):
    """A file as one case holds it. Blobs are stored once, by hash, but served only through a
    case that holds them: naming a hash in a case's log gives it nothing."""

    __tablename__ = "case_files"

    case_id: Mapped[UUID] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(
        String(16), index=True, doc="available, receiving or not_received (FileStatus)"
    )
    size: Mapped[int] = mapped_column(Integer)
    chunks: Mapped[int] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(
        String(100), doc="the node the content came from: ours for an upload, else the peer"
    )
    started_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), doc="the upload, or the first chunk received (the transfer expires after)"
    )
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
