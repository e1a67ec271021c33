"""One running node: settings, engine, sessions, its identity and what the composition root
assembled (case types, message kinds), shared by every adapter (API, web UI, CLI, workers)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from accord.cases.casetype import CaseTypes
from accord.cases.erasure import JOURNAL_FILE, ErasureJournal
from accord.config import Settings
from accord.core.db import make_engine, session_factory, unit_of_work
from accord.federation.keys import NodeIdentity
from accord.federation.kinds import Kinds


@dataclass(frozen=True)
class Registry:
    """What `accord.composition.assemble()` builds: every case type and message kind."""

    case_types: CaseTypes
    kinds: Kinds

    @property
    def parts(self) -> tuple[object, ...]:
        """What each session carries, for the services to find (`core.db.provided`)."""
        return (self.case_types, self.kinds)


@dataclass
class Runtime:
    settings: Settings
    registry: Registry
    engine: Engine
    factory: sessionmaker[Session]
    read_factory: sessionmaker[Session]
    _node: NodeIdentity | None = field(default=None, repr=False)

    @classmethod
    def open(cls, settings: Settings, registry: Registry) -> Runtime:
        engine = make_engine(
            settings.resolved_database_url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        )
        parts = (*registry.parts, ErasureJournal(settings.data_dir / JOURNAL_FILE), settings)
        return cls(
            settings=settings,
            registry=registry,
            engine=engine,
            factory=session_factory(engine, parts=parts),
            read_factory=session_factory(engine, read_only=True, parts=parts),
        )

    @property
    def case_types(self) -> CaseTypes:
        return self.registry.case_types

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with unit_of_work(self.factory) as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads (on SQLite it takes no write lock). Closing releases it;
        loaded objects stay readable, detached."""
        session = self.read_factory()
        try:
            yield session
        finally:
            session.close()

    @property
    def node(self) -> NodeIdentity:
        if self._node is None:
            from accord.federation.node import load_identity

            with self.reading() as session:
                self._node = load_identity(session, self.settings)
        return self._node

    def close(self) -> None:
        self.engine.dispose()
