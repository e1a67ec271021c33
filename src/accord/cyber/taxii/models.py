"""TAXII tables: every version of every object of a collection, in insertion order, and the
status of each add request."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from accord.core.db import Base
from accord.core.types import JSONType, UTCDateTime


class TaxiiObject(Base):
    """One version of one STIX object in one collection.

    `key` grows with each insert, so a page is `key > last key seen` on an index, never a
    re-filtering of the collection. `date_added` grows with `key`, strictly, within a
    collection (one tick, a microsecond, at least between two objects), so added_after is
    a key to start from. `latest` and `earliest` mark the last and first version of
    the object, kept up to date at insert, so that match[version]=last|first is a column test.
    The object is kept as the JSON text it is served as: pages are joined, never re-encoded.
    """

    __tablename__ = "taxii_objects"
    __table_args__ = (
        UniqueConstraint("collection", "object_id", "version"),
        Index("ix_taxii_objects_collection_key", "collection", "key"),
        Index("ix_taxii_objects_collection_type_key", "collection", "object_type", "key"),
        Index("ix_taxii_objects_collection_date_added", "collection", "date_added"),
    )

    key: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    collection: Mapped[str] = mapped_column(String(120), doc="the collection's id (a UUID)")
    object_id: Mapped[str] = mapped_column(String(300))
    object_type: Mapped[str] = mapped_column(String(250))
    version: Mapped[datetime] = mapped_column(
        UTCDateTime(), doc="`modified`, else `created`, else when it was first added"
    )
    spec_version: Mapped[str] = mapped_column(String(10))
    date_added: Mapped[datetime] = mapped_column(UTCDateTime())
    latest: Mapped[bool] = mapped_column(Boolean)
    earliest: Mapped[bool] = mapped_column(Boolean)
    body: Mapped[str] = mapped_column(Text, doc="the object as compact JSON")


class TaxiiStatus(Base):
    """The outcome of one Add Objects request (TAXII 2.1 §4.3.1), object by object."""

    __tablename__ = "taxii_statuses"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    collection: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16))
    request_timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    total_count: Mapped[int] = mapped_column(Integer)
    success_count: Mapped[int] = mapped_column(Integer)
    failure_count: Mapped[int] = mapped_column(Integer)
    pending_count: Mapped[int] = mapped_column(Integer)
    successes: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    created_by: Mapped[str] = mapped_column(String(100))
