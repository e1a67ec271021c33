"""Scale-out on PostgreSQL: many delivery workers share one outbox without sending an envelope
twice or out of order within its stream (the throughput is measured in benchmarks/scale_out.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from accord.config import Settings
from accord.core.clock import utcnow
from accord.federation.delivery import claim_batches
from accord.federation.models import OutboxItem
from accord.federation.outbox import enqueue
from benchmarks.scale_out import pg_databases, run_once
from tests.conftest import IN_CI, pg_problem
from tests.helpers import Node, make_node, peer_up


@pytest.fixture
def postgresql() -> None:
    problem = pg_problem()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL must be reachable in CI: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")


@pytest.fixture
def pg_pair(tmp_path: Path, postgresql: None) -> Iterator[tuple[Node, Node]]:
    with pg_databases(2) as (us_url, cn_url):
        us = make_node(tmp_path, us_url, "US-DOJ", "US")
        cn = make_node(tmp_path, cn_url, "CN-MOJ", "CN")
        peer_up(us, cn)
        try:
            yield us, cn
        finally:
            us.runtime.close()
            cn.runtime.close()


def fill(node: Node, peer: str, streams: int, per_stream: int) -> None:
    with node.runtime.transaction() as session:
        for n in range(per_stream):
            for s in range(streams):
                enqueue(session, peer=peer, stream=f"S{s}", kind="case.event", body={"n": n})


def test_two_claims_on_postgresql_take_disjoint_streams_from_their_heads(
    pg_pair: tuple[Node, Node],
) -> None:
    us, cn = pg_pair
    fill(us, cn.name, streams=6, per_stream=5)
    settings = Settings(delivery_batch=10)
    first = us.runtime.factory()
    second = us.runtime.factory()
    try:
        a = claim_batches(first, us.identity, settings)  # its transaction stays open
        b = claim_batches(second, us.identity, settings)
        with us.runtime.reading() as session:
            stream_of = dict(session.execute(select(OutboxItem.id, OutboxItem.stream)).all())
        a_ids = [i for batch in a for i, _ in batch.items]
        b_ids = [i for batch in b for i, _ in batch.items]
        assert a_ids and b_ids
        assert not {stream_of[i] for i in a_ids} & {stream_of[i] for i in b_ids}
        for ids in (a_ids, b_ids):  # each claimed stream is sent from its first item, in order
            for stream in {stream_of[i] for i in ids}:
                mine = [i for i in ids if stream_of[i] == stream]
                everything = sorted(i for i, s in stream_of.items() if s == stream)
                assert mine == everything[: len(mine)]
        # What A claimed and delivered is not claimed again once A commits.
        for item in first.scalars(select(OutboxItem).where(OutboxItem.id.in_(a_ids))):
            item.status, item.delivered_at = "delivered", utcnow()
        first.commit()
        second.rollback()
        again = claim_batches(second, us.identity, settings)
        assert not {i for batch in again for i, _ in batch.items} & set(a_ids)
    finally:
        first.close()
        second.close()


def test_three_delivery_workers_on_postgresql_send_each_envelope_once_in_order(
    tmp_path: Path, postgresql: None
) -> None:
    items, streams = 600, 12
    with pg_databases(2) as urls:
        result = run_once(tmp_path, urls, workers=3, items=items, streams=streams)
    # each case is opened, sent to review and submitted first, and its submission checkpointed
    # (one evidence.checkpoint offer per case, in its stream; 53 events stay under the interval)
    total = items + 3 * streams + streams
    assert result["duplicates"] == 0, result
    assert result["sent_to_receiver"] == total
    assert result["inbox_rows"] == result["inbox_distinct"] == result["outbox_items"] == total
    assert result["undelivered"] == 0
    assert result["streams_out_of_order"] == []
    delivered = result["delivered_per_worker"]
    assert sum(delivered) == total, delivered
    assert sum(1 for count in delivered if count > 0) >= 2, delivered  # they did share the work
