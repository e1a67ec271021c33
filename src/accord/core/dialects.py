"""Dialect-specific SQL in one place: row claims with SKIP LOCKED and advisory locks.

SQLite has one writer at a time (every transaction starts with BEGIN IMMEDIATE, see db.py), so
there both helpers are no-ops that always grant; PostgreSQL gets the real locks.
"""

from __future__ import annotations

import hashlib
from typing import TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, sessionmaker

_Query = TypeVar("_Query", bound=Select)  # type: ignore[type-arg]

ADVISORY_CLASS = 0x41434344
"""The first key of Accord's two-key advisory locks ("ACCD"), so that other applications that
share the database do not collide with ours."""


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def is_postgresql(factory: sessionmaker[Session]) -> bool:
    """Whether sessions of `factory` run on PostgreSQL (many writers, row locks)."""
    bind = factory.kw.get("bind")
    return bind is not None and bind.dialect.name == "postgresql"


def skip_locked(query: _Query) -> _Query:
    """`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL: lock the rows returned for the rest of
    the transaction, and pass over rows another transaction holds instead of waiting for them.
    SQLAlchemy renders nothing for it on SQLite, where the transaction already excludes others."""
    return query.with_for_update(skip_locked=True)


def advisory_key(name: str) -> int:
    """A stable 32-bit signed key for a lock name (collisions only cost concurrency)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:4], "big", signed=True)


def try_exclusive(session: Session, name: str) -> bool:
    """Take the transaction-scoped lock `name` if nobody holds it; it is released at commit or
    rollback, or when the connection dies with its process. Always granted on SQLite."""
    if dialect_of(session) != "postgresql":
        return True
    granted = session.scalar(
        select(func.pg_try_advisory_xact_lock(ADVISORY_CLASS, advisory_key(name)))
    )
    return bool(granted)
