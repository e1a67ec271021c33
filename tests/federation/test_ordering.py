"""Delivery in any order and with duplicates yields the same log on both sides."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from accord.cases import service
from accord.cases.schemas import EventOut
from accord.cli.scenarios import MLA_STEPS
from accord.composition import assemble
from accord.config import Settings
from accord.core.clock import iso, utcnow
from accord.core.migrate import upgrade
from accord.federation.envelope import seal
from accord.federation.models import OutboxItem
from accord.federation.peers import add_peer, find_peer, peer_keys
from accord.runtime import Runtime
from tests.helpers import Node, act, deliver, log_of, open_mla, process, pump, submitted_mla


def replica_of(node: Node, url: str, sequencer: Node) -> Node:
    """The same node (same keys) on an empty database: a second chance to receive everything."""
    upgrade(url)
    runtime = Runtime.open(Settings(data_dir=Path("unused"), database_url=url), assemble())
    with runtime.transaction() as session:
        add_peer(session, card=sequencer.identity.card(), own_name=node.name)
    return Node(runtime=runtime, identity=node.identity)


def replicated_bodies(sequencer: Node) -> list[tuple[Any, str, dict[str, Any]]]:
    with sequencer.runtime.reading() as session:
        rows = session.scalars(
            select(OutboxItem).where(OutboxItem.kind == "case.event").order_by(OutboxItem.id)
        )
        return [(r.envelope_id, r.kind, r.body) for r in rows]


def send(sequencer: Node, to: Node, item: tuple[Any, str, dict[str, Any]]) -> None:
    envelope_id, kind, body = item
    with sequencer.runtime.reading() as session:
        peer = find_peer(session, to.name)
        assert peer is not None
        keys = peer_keys(peer)
    envelope = seal(
        sequencer.identity,
        keys,
        envelope_id=envelope_id,
        kind=kind,
        body=body,
        sent_at=iso(utcnow()),
    )
    outcome = deliver(to, [envelope])
    assert outcome.error is None, outcome.error
    process(to)


def test_any_order_with_duplicates_gives_the_same_log(
    pair: tuple[Node, Node], database_url: Callable[[str], str]
) -> None:
    us, cn = pair
    reference = open_mla(us, cn.name)
    sides = {"requesting": us, "requested": cn}
    for step in MLA_STEPS:
        act(sides[step.side], reference, step.action, step.payload)
        pump(us, cn)
    items = replicated_bodies(us)
    expected = log_of(us, reference)
    assert len(items) == len(expected) == len(MLA_STEPS) + 1

    @settings(max_examples=15, deadline=None)
    @given(
        order=st.permutations(range(len(items))),
        extra=st.lists(
            st.tuples(st.sampled_from(range(len(items))), st.integers(0, 100)), max_size=8
        ),
    )
    def deliver_shuffled(order: list[int], extra: list[tuple[int, int]]) -> None:
        sequence = list(order)
        for index, at in extra:
            sequence.insert(at % (len(sequence) + 1), index)
        fresh = replica_of(cn, database_url("replica"), us)
        try:
            for index in sequence:
                send(us, fresh, items[index])
            assert log_of(fresh, reference) == expected
            with fresh.runtime.reading() as session:
                case = service.get_case(session, reference=reference)
                assert case.state == "closed" and case.event_count == len(items)
        finally:
            fresh.runtime.close()

    deliver_shuffled()


def test_a_submission_delivered_twice_is_applied_once(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    act(cn, reference, "note", {"text": "once"})
    with cn.runtime.transaction() as session:
        (item,) = session.scalars(select(OutboxItem).where(OutboxItem.status == "pending")).all()
        duplicate = (item.envelope_id, item.kind, item.body)
    send(cn, us, duplicate)
    send(cn, us, duplicate)
    notes = [e for e in log_of(us, reference) if e["action"] == "note"]
    assert len(notes) == 1
    assert EventOut.model_validate(notes[0]).actor_node == cn.name
