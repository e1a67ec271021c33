"""Health that tells the truth: whether this process can serve (a real query, a blob written)
and whether the node works (its workers' heartbeats fresh, its outbox moving); and the
heartbeats the workers record."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from accord.config import Settings
from accord.core.clock import utcnow
from accord.core.db import failure_line, unit_of_work
from accord.federation import reconcile
from accord.federation.models import OutboxItem
from accord.ops.models import WorkerHeartbeat

ROLES = ("delivery", "inbox")
"""The worker roles a node needs somewhere: one delivery and one inbox worker at least."""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    seconds: float = 0.0

    def as_json(self) -> dict[str, object]:
        return {"ok": self.ok, "detail": self.detail, "ms": round(self.seconds * 1000, 1)}


@dataclass(frozen=True)
class Health:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failed(self) -> list[str]:
        return [check.name for check in self.checks if not check.ok]

    def as_json(self) -> dict[str, object]:
        return {
            "status": "ok" if self.ok else "failing",
            "failed": self.failed,
            "checks": {check.name: check.as_json() for check in self.checks},
        }


def check_database(factory: sessionmaker[Session], url: str) -> Check:
    started = time.perf_counter()
    try:
        with factory() as session:
            session.execute(text("SELECT 1")).scalar_one()
    except Exception as exc:  # any reason it did not answer is the answer
        return Check("database", False, failure_line(exc, url), time.perf_counter() - started)
    return Check("database", True, "answered SELECT 1", time.perf_counter() - started)


def check_blob_store(blobs: Path) -> Check:
    """A file written, synced and removed in the blob folder, as an upload would be."""
    started = time.perf_counter()
    probe = blobs / f".probe-{socket.gethostname()}-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"accord readiness probe\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        probe.unlink()
    except OSError as exc:
        return Check(
            "blob_store",
            False,
            f"cannot write in {blobs}: {exc.strerror or exc}",
            time.perf_counter() - started,
        )
    return Check("blob_store", True, f"{blobs} writable", time.perf_counter() - started)


def _age(now: datetime, then: datetime) -> float:
    return (now - then).total_seconds()


def check_workers(factory: sessionmaker[Session], settings: Settings, url: str) -> Check:
    started = time.perf_counter()
    now = utcnow()
    try:
        with factory() as session:
            rows = session.execute(
                select(WorkerHeartbeat.role, func.max(WorkerHeartbeat.beat_at)).group_by(
                    WorkerHeartbeat.role
                )
            ).all()
    except Exception as exc:
        return Check("workers", False, failure_line(exc, url), time.perf_counter() - started)
    latest = {role: beat for role, beat in rows}
    problems, fine = [], []
    for role in ROLES:
        beat = latest.get(role)
        if beat is None:
            problems.append(f"no {role} worker has ever recorded a heartbeat")
        elif _age(now, beat) > settings.worker_stale_seconds:
            problems.append(f"last {role} heartbeat {_age(now, beat):.0f} s ago")
        else:
            fine.append(f"{role} {_age(now, beat):.0f} s ago")
    seconds = time.perf_counter() - started
    if problems:
        return Check("workers", False, "; ".join(problems), seconds)
    return Check("workers", True, "latest heartbeats: " + ", ".join(fine), seconds)


def check_outbox(factory: sessionmaker[Session], settings: Settings, url: str) -> Check:
    started = time.perf_counter()
    limit = settings.ready_outbox_age_seconds
    try:
        with factory() as session:
            oldest = session.execute(
                select(OutboxItem.peer, func.min(OutboxItem.created_at))
                .where(OutboxItem.status == "pending")
                .group_by(OutboxItem.peer)
            ).all()
    except Exception as exc:
        return Check("outbox", False, failure_line(exc, url), time.perf_counter() - started)
    now = utcnow()
    late = sorted(
        (peer, _age(now, created))
        for peer, created in oldest
        if limit and _age(now, created) > limit
    )
    seconds = time.perf_counter() - started
    if late:
        return Check(
            "outbox",
            False,
            "undelivered longer than "
            f"{limit:.0f} s: " + ", ".join(f"to {peer} for {age:.0f} s" for peer, age in late),
            seconds,
        )
    waiting = max((_age(now, created) for _, created in oldest), default=0.0)
    return Check("outbox", True, f"oldest pending envelope {waiting:.0f} s old", seconds)


def check_reconciled(factory: sessionmaker[Session], url: str) -> Check:
    """After a restore the node sequences and delivers nothing until it has reconciled with
    every peer (`accord federation reconcile`): not ready until then."""
    started = time.perf_counter()
    try:
        with factory() as session:
            state = reconcile.status(session)
    except Exception as exc:
        return Check("reconciled", False, failure_line(exc, url), time.perf_counter() - started)
    return Check("reconciled", not state.held, state.describe(), time.perf_counter() - started)


def serving(factory: sessionmaker[Session], settings: Settings) -> Health:
    """What the reverse proxy asks of each web process: can it answer requests now?"""
    url = settings.resolved_database_url
    return Health([check_database(factory, url), check_blob_store(settings.data_dir / "blobs")])


def readiness(factory: sessionmaker[Session], settings: Settings) -> Health:
    """Whether the node works: this process can serve, and its work moves."""
    url = settings.resolved_database_url
    checks = serving(factory, settings).checks
    if not checks[0].ok:  # no database: nothing below can be known
        return Health(checks)
    return Health(
        [
            *checks,
            check_workers(factory, settings, url),
            check_outbox(factory, settings, url),
            check_reconciled(factory, url),
        ]
    )


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(
    factory: sessionmaker[Session],
    *,
    process: str,
    roles: tuple[str, ...],
    started_at: datetime,
    rounds: dict[str, int],
    failures: dict[str, int],
) -> None:
    """Record that this worker process lives, one row per role it runs."""
    now = utcnow()
    host, _, pid = process.rpartition(":")
    with unit_of_work(factory) as session:
        for role in roles:
            row = session.get(WorkerHeartbeat, (process, role))
            if row is None:
                row = WorkerHeartbeat(
                    process=process, role=role, host=host, pid=int(pid), started_at=started_at
                )
                session.add(row)
            row.beat_at = now
            row.rounds = rounds.get(role, 0)
            row.failures = failures.get(role, 0)
        # Rows of processes that died without saying so are kept a day, for the record.
        session.execute(
            delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - timedelta(days=1))
        )


def forget(factory: sessionmaker[Session], *, process: str) -> None:
    """A worker process that stops cleanly takes its heartbeats away."""
    with unit_of_work(factory) as session:
        session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.process == process))
