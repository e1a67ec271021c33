"""Workers on SQLite: one delivery worker per database file at a time."""

from __future__ import annotations

from pathlib import Path

from accord.federation.workers import SqliteDeliveryLock


def test_a_second_delivery_worker_on_one_sqlite_file_waits_for_the_first(tmp_path: Path) -> None:
    database = tmp_path / "accord.db"
    first, second = SqliteDeliveryLock(database), SqliteDeliveryLock(database)
    assert first.acquire()
    assert first.acquire()  # held already: still granted to its holder
    assert not second.acquire()
    first.release()
    assert second.acquire()
    assert not SqliteDeliveryLock(database).acquire()
    second.release()
    assert SqliteDeliveryLock(tmp_path / "other.db").acquire()
