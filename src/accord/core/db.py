"""Engine, sessions and the unit of work; SQLite tuned for durability (WAL, synchronous=FULL)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, MetaData, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from accord.core.errors import DatabaseUnreachable

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


BUSY_SECONDS = 60
"""How long a write transaction waits for another to finish before giving up."""


def make_engine(
    url: str, *, echo: bool = False, pool_size: int = 10, max_overflow: int = 10
) -> Engine:
    """An engine for `url`; on PostgreSQL each process holds up to `pool_size` connections
    and opens up to `max_overflow` more under load (docs/deploy.md, sizing)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": BUSY_SECONDS})
        _tune_sqlite(engine)
        return engine
    return create_engine(
        url, echo=echo, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow
    )


def _tune_sqlite(engine: Engine) -> None:
    # One write transaction at a time per process, queued here: a waiting thread wakes as soon
    # as the writer before it checks its connection back in. Left to SQLite's busy handler,
    # waiting writers sleep up to 100 ms between tries, so under load the lock sat idle while
    # they slept and requests waited seconds. Other processes still queue on busy_timeout.
    writer = threading.Lock()

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the sqlite3 module so that every
        # transaction starts with BEGIN IMMEDIATE: writers queue on busy_timeout
        # instead of failing when a read snapshot must be upgraded.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
            return
        held = connection.connection.info  # the pooled connection's, until it is checked in
        if not held.get(_WRITER):
            if not writer.acquire(timeout=BUSY_SECONDS):
                raise sqlite3.OperationalError(
                    f"database is locked: another write transaction of this process held it "
                    f"for {BUSY_SECONDS} s"
                )
            held[_WRITER] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            del held[_WRITER]
            writer.release()
            raise

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record.info.pop(_WRITER, False):
            writer.release()


def redact_url(url: str) -> str:
    """A database URL fit to print or log: its password replaced by `***`. Every message that
    names a database URL goes through here (SQLAlchemy's own rendering, for a URL it parses;
    anything it cannot parse is shown only up to its scheme)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        scheme, sep, _ = url.partition("://")
        return f"{scheme}://***" if sep else "***"


def failure_line(exc: BaseException, url: str) -> str:
    """A database error in one line fit for a log or a health answer: the driver's first line
    (SQLAlchemy's text would add the SQL and its parameters), no password."""
    first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return redact_text(f"{type(exc).__name__}: {first[0] if first else ''}", url)


def unreachable(url: str, exc: BaseException) -> DatabaseUnreachable:
    """The error for a database that did not answer, naming it (password hidden) and why."""
    return DatabaseUnreachable(
        f"database unreachable at {redact_url(url)}: {failure_line(exc, url)}; check that the "
        "server runs and that ACCORD_DATABASE_URL names it"
    )


def redact_text(text: str, url: str) -> str:
    """`text` with the password of `url` removed wherever it appears (a driver's message may
    repeat the connection string)."""
    try:
        password = make_url(url).password
    except ArgumentError:
        return text
    return text.replace(str(password), "***") if password else text


_WRITER = "accord_writer"
READ_ONLY = "accord_read_only"


def session_factory(
    engine: Engine, *, read_only: bool = False, parts: Iterable[object] = ()
) -> sessionmaker[Session]:
    """Sessions on `engine`; read-only ones start a plain (deferred) transaction on SQLite, so
    readers never queue behind writers. Each session carries `parts` (what the composition root
    assembled: case types, message kinds), found again with `provided`."""
    bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
    return sessionmaker(bind, expire_on_commit=False, info={type(p): p for p in parts})


_Part = TypeVar("_Part")


def provided(session: Session, part: type[_Part]) -> _Part:
    """The `part` that the session's factory was given (see `session_factory`)."""
    found = session.info.get(part)
    if not isinstance(found, part):
        raise LookupError(
            f"this session carries no {part.__name__}: open sessions through a Runtime given "
            "the registry that accord.composition.assemble() builds"
        )
    return found


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit when the block ends normally, roll back on any exception."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
