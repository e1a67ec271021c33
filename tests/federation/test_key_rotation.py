"""Key rotation and endpoint change as commands, while cases are in flight: the announcement,
signed with the old keys and the new, goes to the peer before anything else; the peer pins the
new keys (audited) and keeps the old as history; no envelope is lost or refused, and acts
signed before and after the rotation all verify on both sides. Delivery runs its real path
(claim, seal, the peer's inbox, receipts settled); only the HTTP hop is left out."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from accord.audit.models import AuditEntry
from accord.cases import service
from accord.cli.scenarios import MLA_STEPS
from accord.composition import assemble
from accord.core.db import unit_of_work
from accord.core.errors import Conflict
from accord.federation.announce import change_endpoint, revoke_key, rotate_keys
from accord.federation.delivery import _settle, claim_batches
from accord.federation.models import KeyHistory, OutboxItem, Peer, QuarantineItem
from accord.federation.peers import add_peer
from accord.runtime import Runtime
from tests.helpers import Node, act, asker, deliver, log_of, open_mla, process, submitted_mla


def send(node: Node, to: Node) -> int:
    """One delivery round from `node` to `to` through delivery's own claim and seal (which
    puts an announcement first), the peer's inbox, and the receipts settled."""
    factory, settings = node.runtime.factory, node.runtime.settings
    with unit_of_work(factory) as session:
        batches = [b for b in claim_batches(session, node.identity, settings) if b.peer == to.name]
    sent = 0
    for batch in batches:
        outcome = deliver(to, batch.envelopes)
        assert outcome.error is None, outcome.error
        response = httpx.Response(200, json={"receipts": outcome.receipts})
        with unit_of_work(factory) as session:
            sent += _settle(session, batch, response, None, settings)
        process(to)
    return sent


def exchange(*nodes: Node) -> None:
    for _ in range(30):
        if not sum(send(a, b) for a in nodes for b in nodes if a is not b):
            return
    raise AssertionError("the nodes did not go quiet")


def reloaded(node: Node) -> Node:
    """The node as a process started after the rotation sees it."""
    runtime = Runtime.open(node.runtime.settings, assemble())
    return Node(runtime=runtime, identity=runtime.node)


def count(node: Node, model: type, *where: object) -> int:
    with node.runtime.reading() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_rotation_while_cases_are_in_flight_loses_and_refuses_nothing(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    before = submitted_mla(us, cn)
    # in flight: our new case and submission, the peer's acts on the first
    in_flight = open_mla(us, cn.name)
    for step in MLA_STEPS[:2]:
        act(us, in_flight, step.action, step.payload)
    act(cn, before, MLA_STEPS[2].action, MLA_STEPS[2].payload)
    send(cn, us)  # the peer's submission is appended here; its event waits in our outbox

    old_print = us.identity.card().fingerprint
    with us.runtime.transaction() as session:
        new_print, told = rotate_keys(session, node=us.identity, overlap=timedelta(days=2))
    assert told == [cn.name] and new_print != old_print
    stale = us  # a process started before the rotation, still holding the old keys
    us = reloaded(us)
    assert us.identity.card().fingerprint == new_print

    act(us, in_flight, "note", {"text": "signed with the new key"})  # queued behind it
    with us.runtime.reading() as session:
        first = session.scalar(
            select(OutboxItem).where(OutboxItem.status == "pending").order_by(OutboxItem.id)
        )
        assert first is not None and first.kind != "node.announce"  # older items are first...
    assert send(us, cn) == 1  # ...but the announcement goes alone, first
    with cn.runtime.reading() as session:
        peer = session.scalar(select(Peer).where(Peer.name == us.name))
        assert peer is not None and peer.fingerprint == new_print
        kept = session.scalar(select(KeyHistory).where(KeyHistory.owner == us.name))
        assert kept is not None and kept.fingerprint == old_print and kept.replaced_by == new_print
        audited = session.scalar(
            select(AuditEntry).where(AuditEntry.action == "federation.peer_keys_rotated")
        )
        assert audited is not None and audited.detail["new"] == new_print  # on the peer

    # a process still on the old keys is accepted during the overlap, and opens what the
    # peer now seals to the new keys
    act(stale, before, "note", {"text": "from a process not restarted yet"})
    exchange(stale, cn)
    act(cn, before, MLA_STEPS[3].action, MLA_STEPS[3].payload)
    exchange(us, cn)

    assert count(cn, QuarantineItem) == 0 and count(us, QuarantineItem) == 0
    assert count(us, OutboxItem, OutboxItem.status != "delivered") == 0
    assert count(cn, OutboxItem, OutboxItem.status != "delivered") == 0
    for reference in (before, in_flight):
        assert log_of(us, reference) == log_of(cn, reference)
        for a, b in ((us, cn), (cn, us)):  # old and new signatures verify, on both sides
            with a.runtime.transaction() as session:
                out = service.verify(session, node=a.identity, reference=reference, ask=asker(a, b))
            assert out.identical, out.explanation
    notes = [e["payload"].get("text") for e in log_of(cn, in_flight)]
    assert "signed with the new key" in notes
    assert "from a process not restarted yet" in [
        e["payload"].get("text") for e in log_of(cn, before)
    ]
    stale.runtime.close()


def test_an_endpoint_change_is_announced_and_audited_on_the_peer(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    submitted_mla(us, cn)
    with us.runtime.transaction() as session:
        change_endpoint(session, node=us.identity, endpoint="https://accord.us.example:8443")
    exchange(replace(us, identity=reloaded(us).identity), cn)
    with cn.runtime.reading() as session:
        peer = session.scalar(select(Peer).where(Peer.name == us.name))
        assert peer is not None and peer.endpoint == "https://accord.us.example:8443"
        assert session.scalar(
            select(AuditEntry.id).where(AuditEntry.action == "federation.peer_endpoint_changed")
        )


def test_a_revoked_key_authenticates_nothing_and_a_new_card_replaces_it(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    with us.runtime.transaction() as session:
        rotate_keys(session, node=us.identity, overlap=timedelta(days=2))
    stale, us = us, reloaded(us)
    exchange(us, cn)
    old = stale.identity.card().fingerprint
    with cn.runtime.transaction() as session:
        revoke_key(session, peer=us.name, fingerprint_=old, reason="laptop stolen")
    act(stale, reference, "note", {"text": "signed with a revoked key"})
    with stale.runtime.reading() as session:
        batches = claim_batches(session, stale.identity, stale.runtime.settings)
    outcome = deliver(cn, batches[0].envelopes)
    assert outcome.status == 401 and "signature does not verify" in (outcome.error or "")
    # the current key, revoked: the peer is disabled until a new card is pinned
    with cn.runtime.transaction() as session:
        revoke_key(session, peer=us.name, fingerprint_=us.identity.card().fingerprint, reason="x")
    with cn.runtime.transaction() as session, pytest.raises(Conflict, match="were revoked"):
        add_peer(session, card=us.identity.card(), own_name=cn.name)
    with us.runtime.transaction() as session:  # new keys, their card checked out of band
        rotate_keys(session, node=us.identity, overlap=timedelta(days=2))
    fresh = reloaded(us)
    with cn.runtime.transaction() as session:
        peer = add_peer(session, card=fresh.identity.card(), own_name=cn.name)
        assert peer.active and peer.fingerprint == fresh.identity.card().fingerprint
