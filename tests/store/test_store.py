"""The store: one migration tree on SQLite and PostgreSQL; SQLite tuned for durability."""

from __future__ import annotations

from collections.abc import Callable

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from accord.core.db import make_engine
from accord.core.migrate import alembic_config, upgrade
from accord.models import Base


def test_migrations_create_every_model_table_and_are_idempotent(
    database_url: Callable[[str], str],
) -> None:
    url = database_url("store")
    upgrade(url)
    upgrade(url)  # a second run finds nothing to do
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        with engine.connect() as conn:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert current == ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_with_full_sync_and_foreign_keys(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/t.db")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_migrations_match_the_models(database_url: Callable[[str], str]) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    url = database_url("drift")
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_migrations_downgrade_to_nothing_and_up_again(database_url: Callable[[str], str]) -> None:
    from alembic import command

    url = database_url("roundtrip")
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    engine = make_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    upgrade(url)


def test_a_downgrade_that_rebuilds_a_referenced_table_keeps_its_rows(
    database_url: Callable[[str], str],
) -> None:
    """SQLite rebuilds a table to drop a column (batch mode): with foreign keys enforced, the
    copy of `users` failed once tokens referred to a user. The migration runs them unenforced
    and checks every reference afterwards."""
    from alembic import command
    from sqlalchemy.orm import Session

    from accord.accounts.service import create_user, issue_token
    from accord.core.permissions import Role

    url = database_url("referenced")
    upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            user = create_user(
                session,
                username="liaison",
                display_name="Liaison officer",
                role=Role.LIAISON_OFFICER,
                unit="central-authority",
                password="a long enough passphrase 7",
            )
            issue_token(session, name="scripts", user=user)
    finally:
        engine.dispose()
    command.downgrade(alembic_config(url), "0018")  # drops users.password_changed_at
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT username FROM users")).scalars().all() == ["liaison"]
            assert conn.execute(text("SELECT count(*) FROM api_tokens")).scalar() == 1
    finally:
        engine.dispose()
