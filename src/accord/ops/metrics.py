"""Prometheus metrics (prometheus-client): what this process measures (requests per route,
delivery rounds, worker failures) and what the database holds (outbox depth and age per peer,
delivery latency, inbox and quarantine counts, screening jobs, worker heartbeats), read at
each scrape.

Several web and worker processes: set `PROMETHEUS_MULTIPROC_DIR` to an empty folder that every
process of the node shares (emptied when the node starts, e.g. systemd's `RuntimeDirectory=`)
before they start; each process then writes its measurements there and a scrape of any web
process adds them up (prometheus-client's multiprocess mode). What comes from the database is
read once per scrape, whichever process answers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from accord.core.clock import utcnow
from accord.federation.models import InboxItem, OutboxItem, QuarantineItem
from accord.identity.models import ScreeningJob
from accord.ops.models import WorkerHeartbeat

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

RECENT = timedelta(minutes=15)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class Meters:
    """What this process measures itself."""

    registry: CollectorRegistry
    requests: Histogram
    delivery_rounds: Histogram
    delivered: Counter
    worker_failures: Counter
    up: Gauge


@cache
def meters() -> Meters:
    """The process's meters, made at first use (never at import: in multiprocess mode
    prometheus-client must see the folder before the first meter is made)."""
    registry = CollectorRegistry(auto_describe=True)
    return Meters(
        registry=registry,
        requests=Histogram(
            "accord_http_request_duration_seconds",
            "HTTP requests by method, route template and status",
            ("method", "route", "status"),
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        delivery_rounds=Histogram(
            "accord_delivery_round_duration_seconds",
            "one round of the delivery worker: claim, seal, send and settle",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        delivered=Counter(
            "accord_delivery_envelopes",
            "envelopes delivered by this process's delivery worker",
            registry=registry,
        ),
        worker_failures=Counter(
            "accord_worker_failures",
            "worker rounds that failed (each followed by a backoff)",
            ("role",),
            registry=registry,
        ),
        up=Gauge(
            "accord_process_up",
            "1 for every running Accord process",
            registry=registry,
            multiprocess_mode="livesum",
        ),
    )


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    meters().requests.labels(method, route, str(status)).observe(seconds)


class StoreCollector(Collector):
    """Figures read from the database at each scrape."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def collect(self) -> Iterator[Metric]:
        with self.factory() as session:
            yield from self._outbox(session)
            yield from self._inbox(session)
            yield from self._screening(session)
            yield from self._heartbeats(session)

    def _outbox(self, session: Session) -> Iterable[Metric]:
        depth = GaugeMetricFamily(
            "accord_outbox_pending", "envelopes waiting for delivery, per peer", labels=["peer"]
        )
        age = GaugeMetricFamily(
            "accord_outbox_oldest_pending_seconds",
            "age of the oldest envelope waiting for delivery, per peer",
            labels=["peer"],
        )
        moment = utcnow()
        for peer, count, oldest in session.execute(
            select(OutboxItem.peer, func.count(), func.min(OutboxItem.created_at))
            .where(OutboxItem.status == "pending")
            .group_by(OutboxItem.peer)
        ):
            depth.add_metric([peer], count)
            age.add_metric([peer], (moment - oldest).total_seconds())
        latency = GaugeMetricFamily(
            "accord_delivery_latency_seconds",
            "from written to the outbox to receipted by the peer, over the envelopes delivered "
            f"in the last {RECENT.seconds // 60} minutes, per peer (mean and max)",
            labels=["peer", "stat"],
        )
        recent = GaugeMetricFamily(
            "accord_delivered_recent",
            f"envelopes delivered in the last {RECENT.seconds // 60} minutes, per peer",
            labels=["peer"],
        )
        waits: dict[str, list[float]] = {}
        for peer, created, done in session.execute(
            select(OutboxItem.peer, OutboxItem.created_at, OutboxItem.delivered_at).where(
                OutboxItem.status == "delivered", OutboxItem.delivered_at >= moment - RECENT
            )
        ):
            if done is not None:
                waits.setdefault(peer, []).append(max(0.0, (done - created).total_seconds()))
        for peer, values in sorted(waits.items()):
            latency.add_metric([peer, "mean"], sum(values) / len(values))
            latency.add_metric([peer, "max"], max(values))
            recent.add_metric([peer], len(values))
        return [depth, age, latency, recent]

    def _inbox(self, session: Session) -> Iterable[Metric]:
        received = CounterMetricFamily(
            "accord_inbox_envelopes",
            "envelopes stored in the inbox, per sender and status",
            labels=["sender", "status"],
        )
        for sender, status, count in session.execute(
            select(InboxItem.sender, InboxItem.status, func.count()).group_by(
                InboxItem.sender, InboxItem.status
            )
        ):
            received.add_metric([sender, status], count)
        refused = CounterMetricFamily(
            "accord_quarantine_refusals",
            "refusals counted in the quarantine, per stage (rows past the retention are "
            "deleted, so this can fall back)",
            labels=["stage"],
        )
        for stage, count in session.execute(
            select(QuarantineItem.stage, func.coalesce(func.sum(QuarantineItem.count), 0)).group_by(
                QuarantineItem.stage
            )
        ):
            refused.add_metric([stage], int(count))
        return [received, refused]

    def _screening(self, session: Session) -> Iterable[Metric]:
        jobs = GaugeMetricFamily(
            "accord_screening_jobs", "identity screening jobs by status", labels=["status"]
        )
        for status, count in session.execute(
            select(ScreeningJob.status, func.count()).group_by(ScreeningJob.status)
        ):
            jobs.add_metric([status], count)
        return [jobs]

    def _heartbeats(self, session: Session) -> Iterable[Metric]:
        seen = GaugeMetricFamily(
            "accord_worker_heartbeat_age_seconds",
            "seconds since the freshest heartbeat of a worker of each role",
            labels=["role"],
        )
        moment = utcnow()
        for role, latest in session.execute(
            select(WorkerHeartbeat.role, func.max(WorkerHeartbeat.beat_at)).group_by(
                WorkerHeartbeat.role
            )
        ):
            seen.add_metric([role], (moment - latest).total_seconds())
        return [seen]


class _Own(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()


def exposition(factory: sessionmaker[Session]) -> bytes:
    """The text a scrape gets: every process's meters (all of them in multiprocess mode) and
    the store's figures."""
    scrape = CollectorRegistry(auto_describe=False)
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.MultiProcessCollector(scrape)  # type: ignore[no-untyped-call]
    else:
        scrape.register(_Own(meters().registry))
    scrape.register(StoreCollector(factory))
    return generate_latest(scrape)


def process_started() -> None:
    meters().up.set(1)


def process_stopped() -> None:
    """In multiprocess mode, the files of a process that ends are let go of."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
