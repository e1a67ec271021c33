"""The SQLite engine: write transactions of one process queue on the process, not on SQLite."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from accord.core.db import make_engine, session_factory, unit_of_work


def test_writers_of_one_process_queue_without_sqlite_busy_waits(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.db'}")

    # With no busy timeout, a writer that reached SQLite while another held the write lock
    # would fail at once with "database is locked": none may get that far.
    @event.listens_for(engine, "connect")
    def no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (1, 0)")
    factory = session_factory(engine)
    reads = session_factory(engine, read_only=True)
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def work() -> None:
        start.wait()
        try:
            for _ in range(25):
                with unit_of_work(factory) as session:
                    n = session.execute(text("SELECT n FROM counter WHERE id = 1")).scalar_one()
                    session.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})
                with reads() as session:  # readers take no part in the queue
                    session.execute(text("SELECT n FROM counter")).scalar_one()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert not failures, failures[0]
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT n FROM counter").scalar_one() == 200
    engine.dispose()


def test_a_failed_write_transaction_lets_the_next_one_in(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'rollback.db'}")
    factory = session_factory(engine)
    try:
        with unit_of_work(factory) as session:
            session.execute(text("SELECT no_such_column FROM sqlite_master"))
    except Exception:
        pass
    done = threading.Event()

    def write() -> None:
        with unit_of_work(factory) as session:
            session.execute(text("CREATE TABLE after_failure (id INTEGER)"))
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(10)
    assert done.is_set(), "the write transaction after a failed one never started"
    engine.dispose()
