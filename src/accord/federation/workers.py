"""The node's background workers: delivery of the outbox, processing of the inbox and, beside
it, the retention of the quarantine.

Each runs in its own thread, woken at once when a commit wrote to its table and otherwise
polling, so writes made by other processes (the web processes, the CLI) are picked up too. They
run inside `accord serve` or alone in `accord worker`; on PostgreSQL any number of processes may
run them (see `delivery.claim_batches` and `inbox.process`), on SQLite one delivery worker per
database sends at a time (`SqliteDeliveryLock`).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from accord.attachments import service as attachments
from accord.config import Settings
from accord.core.clock import utcnow
from accord.core.db import unit_of_work
from accord.core.dialects import is_postgresql
from accord.federation import delivery, inbox, outbox
from accord.federation.keys import NodeIdentity
from accord.idempotency import service as idempotency

log = logging.getLogger(__name__)

PRUNE_BATCH = 1000
"""Quarantine rows deleted per transaction by the retention."""


class SqliteDeliveryLock:
    """An exclusive lock file next to a SQLite database: the outbox of SQLite is read and
    settled in separate transactions around the HTTP request, so two delivery workers on one
    SQLite file could send the same item; the second waits here instead."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".delivery-lock")
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None


class Workers:
    def __init__(
        self, factory: sessionmaker[Session], node: NodeIdentity, settings: Settings
    ) -> None:
        self.factory = factory
        self.node = node
        self.settings = settings
        self.stop = threading.Event()
        self.outbox_wake = threading.Event()
        self.inbox_wake = threading.Event()
        self.delivered = 0
        self.processed = 0
        self.pruned = 0
        self._threads: list[threading.Thread] = []
        self._sqlite_lock: SqliteDeliveryLock | None = None
        bind = factory.kw.get("bind")
        database = bind.url.database if bind is not None else None
        if not is_postgresql(factory) and database and database != ":memory:":
            self._sqlite_lock = SqliteDeliveryLock(Path(database))
        event.listen(factory, "after_commit", self._after_commit)

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(outbox.WAKE_KEY, False):
            self.outbox_wake.set()
        if session.info.pop(inbox.WAKE_KEY, False):
            self.inbox_wake.set()

    def start(self, *, delivery: bool = True, inbox: bool = True) -> None:
        client = httpx.Client(timeout=self.settings.delivery_timeout_seconds)
        self._threads = []
        if delivery:
            self._threads.append(
                threading.Thread(
                    target=self._loop,
                    args=(self.outbox_wake, lambda: self._deliver(client)),
                    name="accord-delivery",
                    daemon=True,
                )
            )
        if inbox:
            self._threads.append(
                threading.Thread(
                    target=self._loop,
                    args=(self.inbox_wake, self._process),
                    name="accord-inbox",
                    daemon=True,
                )
            )
            self._threads.append(
                threading.Thread(target=self._prune_loop, name="accord-prune", daemon=True)
            )
        for thread in self._threads:
            thread.start()

    def _deliver(self, client: httpx.Client) -> int:
        if self._sqlite_lock is not None and not self._sqlite_lock.acquire():
            return 0  # another process delivers this SQLite outbox; try again after a poll
        sent = delivery.deliver_once(self.factory, self.node, self.settings, client)
        self.delivered += sent
        return sent

    def _process(self) -> int:
        settled = inbox.process(self.factory, self.node)
        attachments.expire_transfers(self.factory, self.node, self.settings)
        idempotency.prune_expired(self.factory, self.settings)
        self.processed += settled
        return settled

    def prune(self) -> int:
        """Delete the refusals before authentication older than the retention, a batch per
        transaction so that SQLite's one writer is never held long; return how many."""
        before = utcnow() - timedelta(days=self.settings.quarantine_retention_days)
        deleted = 0
        while not self.stop.is_set():
            with unit_of_work(self.factory) as session:
                batch = inbox.prune_quarantine(session, before=before, limit=PRUNE_BATCH)
            deleted += batch
            if batch < PRUNE_BATCH:
                break
        self.pruned += deleted
        return deleted

    def _prune_loop(self) -> None:
        while not self.stop.is_set():
            try:
                self.prune()
            except Exception:
                log.exception("pruning the quarantine failed; retrying at the next round")
            self.stop.wait(self.settings.quarantine_prune_seconds)

    def shutdown(self, timeout: float = 10.0) -> None:
        self.stop.set()
        self.outbox_wake.set()
        self.inbox_wake.set()
        for thread in self._threads:
            thread.join(timeout)
        if self._sqlite_lock is not None:
            self._sqlite_lock.release()

    def _loop(self, wake: threading.Event, step: Callable[[], int]) -> None:
        while not self.stop.is_set():
            wake.clear()  # before the step, so a commit during it wakes the next round
            try:
                progressed = step()
            except Exception:
                log.exception("worker step failed; retrying")
                progressed = 0
            if not progressed:
                wake.wait(self.settings.delivery_poll_seconds)
