"""Delivery: retries with capped exponential backoff and jitter; nothing dropped; alerts."""

from __future__ import annotations

import random
import socket
from datetime import timedelta

import httpx
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from accord.audit.models import AuditEntry
from accord.cli.scenarios import MLA_STEPS
from accord.config import Settings
from accord.core.clock import utcnow
from accord.federation.delivery import backoff, deliver_once
from accord.federation.models import OutboxItem, Peer
from tests.helpers import Node, act, open_mla


@given(attempts=st.integers(1, 200), seed=st.integers(0, 2**32))
def test_backoff_grows_is_capped_and_jittered(attempts: int, seed: int) -> None:
    wait = backoff(attempts, base=0.5, cap=300.0, rng=random.Random(seed))
    nominal = min(300.0, 0.5 * 2 ** min(attempts - 1, 30))
    assert 0.5 * nominal <= wait < 1.5 * nominal


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there once the socket is closed


def test_unreachable_peer_keeps_items_retries_later_and_alerts(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    with us.runtime.transaction() as session:
        session.execute(
            update(Peer)
            .where(Peer.name == cn.name)
            .values(endpoint=f"http://127.0.0.1:{closed_port()}")
        )
    reference = open_mla(us, cn.name)
    for step in MLA_STEPS[:2]:
        act(us, reference, step.action, step.payload)
    settings = Settings(delivery_alert_after_seconds=1)
    with us.runtime.transaction() as session:  # as if the items had waited for an hour
        session.execute(update(OutboxItem).values(created_at=utcnow() - timedelta(hours=1)))
    with httpx.Client() as client:
        assert deliver_once(us.runtime.factory, us.identity, settings, client) == 0
        # a second round finds nothing due: the items wait for their backoff
        assert deliver_once(us.runtime.factory, us.identity, settings, client) == 0
    with us.runtime.reading() as session:
        items = session.scalars(select(OutboxItem)).all()
        alerts = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "federation.delivery_overdue")
        ).all()
    # open, send_to_review, approve_and_submit, and the checkpoint of the submission that the
    # sequencer offers the peer (evidence.checkpoint): nothing dropped
    assert sorted(i.kind for i in items) == [*["case.event"] * 3, "evidence.checkpoint"]
    assert all(i.status == "pending" and i.attempts == 1 for i in items)
    assert all(i.next_attempt_at > utcnow() for i in items)
    assert all("ConnectError" in (i.last_error or "") for i in items)
    assert len(alerts) == 4 and all(i.alerted for i in items)


def test_retries_scheduled_by_a_clock_since_put_back_are_due_at_once(
    pair: tuple[Node, Node],
) -> None:
    """Found by the fault-injection suite: retries scheduled while the node's clock ran 400 s
    fast waited those 400 s after the clock was corrected, holding up their streams."""
    us, cn = pair
    with us.runtime.transaction() as session:
        session.execute(
            update(Peer)
            .where(Peer.name == cn.name)
            .values(endpoint=f"http://127.0.0.1:{closed_port()}")
        )
    reference = open_mla(us, cn.name)
    for step in MLA_STEPS[:2]:
        act(us, reference, step.action, step.payload)
    settings = Settings(delivery_backoff_max_seconds=2)
    with us.runtime.transaction() as session:
        session.execute(
            update(OutboxItem).values(next_attempt_at=utcnow() + timedelta(seconds=400))
        )
    with httpx.Client() as client:
        deliver_once(us.runtime.factory, us.identity, settings, client)
        deliver_once(us.runtime.factory, us.identity, settings, client)  # now inside the cap
    with us.runtime.reading() as session:
        items = session.scalars(select(OutboxItem)).all()
    assert len(items) == 4 and all(i.attempts == 1 for i in items)  # 3 events, 1 checkpoint
    assert all(i.next_attempt_at <= utcnow() + timedelta(seconds=3) for i in items)
