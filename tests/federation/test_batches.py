"""Delivery rounds on SQLite and PostgreSQL: one way of filling each peer's request, so the same
limits (items and bytes per request) and the same order within a stream on both."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from accord.config import Settings
from accord.core.clock import utcnow
from accord.federation.delivery import claim_batches
from accord.federation.models import OutboxItem
from accord.federation.outbox import enqueue
from tests.helpers import Node

UNPINNED = "XX-NONE"


def fill(node: Node, peer: str, *, streams: int, per_stream: int, text: str = "") -> None:
    with node.runtime.transaction() as session:
        for n in range(per_stream):
            for s in range(streams):
                body = {"stream": f"S{s}", "n": n, "text": text}
                enqueue(session, peer=peer, stream=f"S{s}", kind="case.event", body=body)


def deliver_rounds(node: Node, settings: Settings) -> list[list[tuple[str, int, int]]]:
    """Claim rounds until nothing is due, marking what was claimed delivered; per request, its
    items as (stream, n, envelope bytes)."""
    requests: list[list[tuple[str, int, int]]] = []
    while True:
        with node.runtime.transaction() as session:
            batches = claim_batches(session, node.identity, settings)
            if not batches:
                return requests
            for batch in batches:
                ids = [outbox_id for outbox_id, _ in batch.items]
                items = {
                    i.id: i
                    for i in session.scalars(select(OutboxItem).where(OutboxItem.id.in_(ids)))
                }
                requests.append(
                    [
                        (items[i].body["stream"], items[i].body["n"], len(json.dumps(envelope)))
                        for i, envelope in zip(ids, batch.envelopes, strict=True)
                    ]
                )
                for item in items.values():
                    item.status, item.delivered_at = "delivered", utcnow()


@pytest.mark.parametrize(
    ("text", "largest"),
    [("", 7), ("x" * 12_000, 3)],  # the count binds; the bytes do (about 16 kB sealed each)
)
def test_each_request_keeps_within_the_limits_and_each_stream_in_order(
    pair: tuple[Node, Node], text: str, largest: int
) -> None:
    us, cn = pair
    fill(us, cn.name, streams=5, per_stream=6, text=text)
    requests = deliver_rounds(us, Settings(delivery_batch=7, delivery_max_bytes=65_536))
    assert max(len(request) for request in requests) == largest
    assert all(sum(size for *_, size in request) <= 65_536 for request in requests)
    sent: dict[str, list[int]] = {}
    for request in requests:
        for stream, n, _ in request:
            sent.setdefault(stream, []).append(n)
    assert sent == {f"S{s}": list(range(6)) for s in range(5)}  # all, once, in order


def test_an_envelope_larger_than_the_byte_limit_goes_alone(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    fill(us, cn.name, streams=2, per_stream=2, text="x" * 70_000)
    requests = deliver_rounds(us, Settings(delivery_max_bytes=65_536))
    assert [len(request) for request in requests] == [1, 1, 1, 1]


def test_a_stream_with_an_item_waiting_for_its_retry_is_held_back_whole(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    fill(us, cn.name, streams=3, per_stream=3)
    with us.runtime.transaction() as session:
        session.execute(
            update(OutboxItem)
            .where(OutboxItem.stream == "S1", OutboxItem.body["n"].as_integer() == 1)
            .values(next_attempt_at=utcnow() + timedelta(seconds=30))
        )
    requests = deliver_rounds(us, Settings())
    assert sorted((stream, n) for request in requests for stream, n, _ in request) == [
        (f"S{s}", n) for s in (0, 2) for n in range(3)
    ]


def test_items_for_a_peer_no_longer_pinned_fail_and_wait_for_their_retry(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    fill(us, UNPINNED, streams=2, per_stream=2)
    fill(us, cn.name, streams=1, per_stream=2)
    requests = deliver_rounds(us, Settings())
    assert [[(stream, n) for stream, n, _ in request] for request in requests] == [
        [("S0", 0), ("S0", 1)]
    ]
    with us.runtime.reading() as session:
        unsent = session.scalars(select(OutboxItem).where(OutboxItem.peer == UNPINNED)).all()
    assert len(unsent) == 4
    assert all(i.status == "pending" and i.attempts == 1 for i in unsent)
    assert all("not pinned" in (i.last_error or "") for i in unsent)
