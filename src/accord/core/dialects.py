"""Dialect-specific SQL in one place: row claims with SKIP LOCKED, advisory locks, and a JSON
key written as the expression index on that key is.

SQLite has one writer at a time (every transaction starts with BEGIN IMMEDIATE, see db.py), so
there both helpers are no-ops that always grant; PostgreSQL gets the real locks.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, String, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute, Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

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


class JsonText(FunctionElement[str]):
    """The text at a top-level key of a JSON column: `json_extract(col, '$.key')` on SQLite,
    `(col ->> 'key')` on PostgreSQL. The key is written into the SQL, never bound: an
    expression index on the key (declared with this same construct) is used only by a query
    that writes the same expression."""

    type = String()
    inherit_cache = True
    name = "json_text"
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy reads it as the class its cache key)
        *FunctionElement._traverse_internals,
        ("key", InternalTraversal.dp_string),
    ]

    def __init__(self, column: ColumnElement[Any] | QueryableAttribute[Any], key: str) -> None:
        if not re.fullmatch(r"[a-z_]+", key):
            raise ValueError(f"not a JSON key for an index: {key!r}")
        self.key = key
        super().__init__(column)


@compiles(JsonText, "postgresql")
def _json_text_postgresql(element: JsonText, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    return f"({compiler.process(column, **kw)} ->> '{element.key}')"


@compiles(JsonText)
def _json_text_sqlite(element: JsonText, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    return f"json_extract({compiler.process(column, **kw)}, '$.{element.key}')"
