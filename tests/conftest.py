"""Shared fixtures: a database per test on SQLite, and on PostgreSQL for the store, federation
and case tests (a fresh database each, dropped afterwards; in CI these must run, never skip)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import Node, make_node, peer_up

PG_ADMIN_URL = os.environ.get("ACCORD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_admin() -> object:
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)


def _pg_available() -> str | None:
    try:
        conn = _pg_admin()
    except Exception as exc:  # any reason the server cannot be reached
        return str(exc)
    conn.close()  # type: ignore[attr-defined]
    return None


_PG_PROBLEM: str | bool | None = False


def pg_problem() -> str | None:
    global _PG_PROBLEM
    if _PG_PROBLEM is False:
        _PG_PROBLEM = _pg_available()
    return _PG_PROBLEM  # type: ignore[return-value]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store" in metafunc.fixturenames:
        metafunc.parametrize("store", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def store(request: pytest.FixtureRequest) -> str:
    """Which database the test runs on."""
    kind: str = request.param
    if kind == "postgresql":
        problem = pg_problem()
        if problem:
            if IN_CI:
                pytest.fail(f"PostgreSQL must be reachable in CI: {problem}")
            pytest.skip(f"PostgreSQL not reachable: {problem}")
    return kind


@pytest.fixture
def database_url(store: str, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Make a fresh, empty database for a label (one per node), on the test's store."""
    created: list[str] = []

    def make(label: str) -> str:
        if store == "sqlite":
            return f"sqlite:///{tmp_path / (label + '.db')}"
        name = f"accord_test_{uuid.uuid4().hex[:12]}"
        conn = _pg_admin()
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
        conn.close()  # type: ignore[attr-defined]
        created.append(name)
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"

    yield make
    if created:
        conn = _pg_admin()
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[attr-defined]
        conn.close()  # type: ignore[attr-defined]


@pytest.fixture
def pair(tmp_path: Path, database_url: Callable[[str], str]) -> Iterator[tuple[Node, Node]]:
    """Two peered nodes, US (requesting) and CN (requested), each on its own database."""
    us = make_node(tmp_path, database_url("us"), "US-DOJ", "US")
    cn = make_node(tmp_path, database_url("cn"), "CN-MOJ", "CN")
    peer_up(us, cn)
    yield us, cn
    us.runtime.close()
    cn.runtime.close()
