"""The node's background workers: delivery of the outbox, processing of the inbox and, beside
it, the retention of the quarantine and the retention runs that erase personal data.

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
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from accord.attachments import service as attachments
from accord.config import Settings
from accord.core.clock import utcnow
from accord.core.db import failure_line, session_factory, unit_of_work
from accord.core.dialects import is_postgresql
from accord.evidence.checkpoints import stamp_pending
from accord.evidence.timestamps import TimestampAuthority
from accord.federation import delivery, inbox, outbox
from accord.federation.keys import NodeIdentity
from accord.idempotency import service as idempotency
from accord.lifecycle import retention
from accord.ops import health, metrics

log = logging.getLogger(__name__)

PRUNE_BATCH = 1000
"""Quarantine rows deleted per transaction by the retention."""


def backoff_seconds(failures: int, *, base: float, ceiling: float) -> float:
    """The wait after `failures` failed rounds in a row: doubling from `base` up to `ceiling`,
    drawn in its upper half ("equal jitter") so that processes that failed together do not
    retry together."""
    step = min(ceiling, base * 2 ** max(0, failures - 1))
    return random.uniform(step / 2, step)


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
        self.retained = 0
        self.stamped = 0
        self.process = health.process_name()
        self.started_at = utcnow()
        self.rounds: dict[str, int] = {}
        self.failures: dict[str, int] = {}
        self.roles: tuple[str, ...] = ()
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
        self.roles = tuple(r for r, on in (("delivery", delivery), ("inbox", inbox)) if on)
        if delivery:
            self._threads.append(
                threading.Thread(
                    target=self._loop,
                    args=("delivery", self.outbox_wake, lambda: self._deliver(client)),
                    name="accord-delivery",
                    daemon=True,
                )
            )
        if inbox:
            self._threads.append(
                threading.Thread(
                    target=self._loop,
                    args=("inbox", self.inbox_wake, self._process),
                    name="accord-inbox",
                    daemon=True,
                )
            )
            self._threads.append(
                threading.Thread(target=self._prune_loop, name="accord-prune", daemon=True)
            )
            if self.settings.retention_interval_seconds > 0:
                self._threads.append(
                    threading.Thread(
                        target=self._retention_loop, name="accord-retention", daemon=True
                    )
                )
            self._threads.append(
                threading.Thread(target=self._stamp_loop, name="accord-stamp", daemon=True)
            )
        if self.roles:
            self._threads.append(
                threading.Thread(target=self._heartbeat_loop, name="accord-heartbeat", daemon=True)
            )
        for thread in self._threads:
            thread.start()

    def _deliver(self, client: httpx.Client) -> int:
        if self._sqlite_lock is not None and not self._sqlite_lock.acquire():
            return 0  # another process delivers this SQLite outbox; try again after a poll
        started = time.perf_counter()
        sent = delivery.deliver_once(self.factory, self.node, self.settings, client)
        meters = metrics.meters()
        meters.delivery_rounds.observe(time.perf_counter() - started)
        meters.delivered.inc(sent)
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
        # a failed prune is retried sooner than its period, never later
        self._periodic(
            "pruning the quarantine", self.prune, self.settings.quarantine_prune_seconds, min
        )

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        """A transaction that only reads (no SQLite write lock), as `Runtime.reading`."""
        bind = self.factory.kw["bind"]
        reads = session_factory(bind, read_only=True, parts=self.factory.kw["info"].values())
        session = reads()
        try:
            yield session
        finally:
            session.close()

    def stamp(self) -> int:
        """Ask the node's TSA to stamp the checkpoints whose attempt is due (no write lock held
        while it answers); return how many it stamped. Those it did not stay pending."""
        done = stamp_pending(
            self._reading,
            lambda: unit_of_work(self.factory),
            tsa=TimestampAuthority.from_settings(self.settings),
            settings=self.settings,
        )
        self.stamped += len(done.stamped)
        return len(done.stamped)

    def _stamp_loop(self) -> None:
        # a failed round (the database, a misconfigured TSA) is retried sooner, never later
        self._periodic(
            "stamping checkpoints", self.stamp, self.settings.tsa_stamp_poll_seconds, min
        )

    def retain(self) -> int:
        """One retention run (`accord retention apply` at this moment), a chunk of cases per
        transaction, stopping between chunks when the workers stop; return the cases erased."""
        erased, left = retention.apply(
            lambda: unit_of_work(self.factory),
            node=self.node,
            now=utcnow(),
            stop=self.stop.is_set,
        )
        if erased or left:
            log.info("%s", retention.summary(erased, left))
        self.retained += len(erased)
        return len(erased)

    def _retention_loop(self) -> None:
        # a failed run (the database, a case the run cannot erase) is retried sooner, never later
        self._periodic(
            "the retention run", self.retain, self.settings.retention_interval_seconds, min
        )

    def _periodic(
        self,
        what: str,
        step: Callable[[], object],
        period: float,
        bound: Callable[[float, float], float],
    ) -> None:
        """Run `step` every `period` seconds until stopped; after a failure wait
        `bound(period, backoff)` and log one line."""
        failures = 0
        while not self.stop.is_set():
            try:
                step()
                failures = 0
                wait = period
            except Exception as exc:
                failures += 1
                wait = bound(period, self._backoff(failures))
                log.warning(
                    "%s failed (%s); retry %d in %.1f s",
                    what,
                    failure_line(exc, self.settings.resolved_database_url),
                    failures,
                    wait,
                )
            self.stop.wait(wait)

    def _backoff(self, failures: int) -> float:
        return backoff_seconds(
            failures,
            base=self.settings.worker_backoff_base_seconds,
            ceiling=self.settings.worker_backoff_max_seconds,
        )

    def beat(self) -> None:
        """Record now that this process's workers live (read by /readyz and /metrics)."""
        health.beat(
            self.factory,
            process=self.process,
            roles=self.roles,
            started_at=self.started_at,
            rounds=self.rounds,
            failures=self.failures,
        )

    def _heartbeat_loop(self) -> None:
        # a failed beat is retried no more often than the beat itself
        self._periodic(
            "recording the worker heartbeat", self.beat, self.settings.worker_heartbeat_seconds, max
        )

    def shutdown(self, timeout: float = 10.0) -> None:
        self.stop.set()
        self.outbox_wake.set()
        self.inbox_wake.set()
        for thread in self._threads:
            thread.join(timeout)
        if self._sqlite_lock is not None:
            self._sqlite_lock.release()
        if self.roles:
            try:
                health.forget(self.factory, process=self.process)
            except Exception as exc:
                log.warning(
                    "could not remove this worker's heartbeat (%s)",
                    failure_line(exc, self.settings.resolved_database_url),
                )

    def _loop(self, role: str, wake: threading.Event, step: Callable[[], int]) -> None:
        """Run `step` until stopped. A failed round waits an exponential backoff with jitter
        and logs one line (the traceback only at debug level); a recovery says so."""
        failures = 0
        while not self.stop.is_set():
            wake.clear()  # before the step, so a commit during it wakes the next round
            try:
                progressed = step()
            except Exception as exc:
                failures += 1
                self.failures[role] = failures
                metrics.meters().worker_failures.labels(role).inc()
                wait = self._backoff(failures)
                log.warning(
                    "%s worker: round failed (%s); retry %d in %.1f s",
                    role,
                    failure_line(exc, self.settings.resolved_database_url),
                    failures,
                    wait,
                )
                log.debug("%s worker: the failure's traceback", role, exc_info=exc)
                self.stop.wait(wait)
                continue
            self.rounds[role] = self.rounds.get(role, 0) + 1
            if failures:
                log.info("%s worker: recovered after %d failed rounds", role, failures)
                failures = 0
                self.failures[role] = 0
            if not progressed:
                wake.wait(self.settings.delivery_poll_seconds)
