"""Audit anchoring between two nodes (SQLite and PostgreSQL, the peer asked through its real
query path): each checkpoint message carries the sender's audit head signed for the receiver;
our log checked against the anchors the peer holds is verified untouched, and a log shortened
from the end or rewritten and chained anew (which the hash chain alone cannot show) is named."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from accord.audit import anchors
from accord.audit import service as audit
from accord.audit.models import AuditAnchor, AuditEntry
from accord.evidence.checkpoints import CHECKPOINT_KIND
from accord.federation.models import OutboxItem, QuarantineItem
from tests.helpers import Node, act, asker, deliver, process, pump, submitted_mla, take_outbox


def busy(node: Node, entries: int = 5) -> None:
    """Some audited work on the node: its audit log grows."""
    with node.runtime.transaction() as session:
        for n in range(entries):
            audit.record(session, actor="tester", action=f"case.read{n}", outcome="ok")


def anchored(us: Node, cn: Node) -> tuple[str, int]:
    """A case through submission and acknowledgement: two checkpoints, so each node has given
    the other its audit head. Returns the reference and the highest entry CN holds of ours."""
    busy(us)
    busy(cn)
    reference = submitted_mla(us, cn)
    act(cn, reference, "acknowledge", {})
    pump(us, cn)
    with cn.runtime.reading() as session:
        highest = session.scalar(
            select(func.max(AuditAnchor.entry_id)).where(AuditAnchor.node == us.name)
        )
    assert highest is not None
    return reference, highest


def against_cn(us: Node, cn: Node) -> anchors.PeerCheck:
    with us.runtime.reading() as session:
        return anchors.check_against_peer(
            session, node=us.identity, peer=cn.name, ask=asker(us, cn)
        )


def local(node: Node) -> list[str]:
    with node.runtime.reading() as session:
        given = anchors.given_anchors(session, node=node.name)
        return audit.verify(session) + anchors.check_against_anchors(
            session, given, own_key=node.identity.act_keys
        )


def test_each_node_holds_the_others_anchors_and_an_untouched_log_verifies(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    _, highest = anchored(us, cn)
    for holder, of in ((cn, us), (us, cn)):
        with holder.runtime.reading() as session:
            rows = session.scalars(select(AuditAnchor).where(AuditAnchor.node == of.name)).all()
            assert rows and all(r.peer == holder.name for r in rows)
            assert all(anchors.anchor_verifies(r, of.identity.signing.verify_key) for r in rows)
    check = against_cn(us, cn)
    assert check.problems == [] and check.highest == highest and check.held >= 1
    assert local(us) == []


def test_a_log_shortened_from_the_end_is_detected_against_the_peer(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    _, highest = anchored(us, cn)
    with us.runtime.transaction() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.id >= highest - 2))
        # a thorough intruder removes our own record of what we gave too
        session.execute(delete(AuditAnchor).where(AuditAnchor.node == us.name))
    assert local(us) == []  # the chain of what is left is intact: alone, it cannot tell
    check = against_cn(us, cn)
    assert (
        f"entry {highest}, anchored with {cn.name} at " in check.problems[0]
        and f"missing, the log now ends at entry {highest - 3}: the audit log was truncated"
        in check.problems[0]
    )


def _rechain(session: Session, entry_id: int, detail: dict[str, Any]) -> None:
    """Rewrite one entry and chain every later one anew, as an intruder with the database would."""
    previous = session.scalar(select(AuditEntry.hash).where(AuditEntry.id == entry_id - 1))
    for entry in session.scalars(
        select(AuditEntry).where(AuditEntry.id >= entry_id).order_by(AuditEntry.id)
    ):
        if entry.id == entry_id:
            entry.detail = detail
        entry.prev_hash = previous or audit.GENESIS
        values = {name: getattr(entry, name) for name in audit._FIELDS}
        entry.hash = audit._entry_hash(values)
        previous = entry.hash
        session.flush()


def test_a_log_rewritten_and_chained_anew_is_detected_against_the_peer(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    _, highest = anchored(us, cn)
    with us.runtime.transaction() as session:
        _rechain(session, 2, {"rewritten": True})
        session.execute(delete(AuditAnchor).where(AuditAnchor.node == us.name))
    assert local(us) == []
    problems = against_cn(us, cn).problems
    assert problems and all("the audit log was rewritten" in p for p in problems)
    assert any(p.startswith(f"entry {highest}, anchored with {cn.name}") for p in problems)


def test_an_anchor_the_peer_altered_is_not_taken_for_ours(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    _, highest = anchored(us, cn)
    with cn.runtime.transaction() as session:
        row = session.scalars(
            select(AuditAnchor).where(AuditAnchor.node == us.name, AuditAnchor.entry_id == highest)
        ).one()
        row.entry_hash = "ee" * 32
    problems = against_cn(us, cn).problems
    assert problems == [
        f"entry {highest}, anchored with {cn.name} at {row.made_at}: the anchor is not signed "
        "by this node's key; ignored"
    ]


def test_a_checkpoint_whose_audit_anchor_does_not_verify_is_quarantined(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    busy(us)
    reference = submitted_mla(us, cn)
    act(cn, reference, "acknowledge", {})
    deliver(us, take_outbox(cn, to=us.name))  # only to US: its checkpoint offer waits to leave
    process(us)
    with us.runtime.transaction() as session:
        item = session.scalars(
            select(OutboxItem).where(
                OutboxItem.kind == CHECKPOINT_KIND, OutboxItem.status == "pending"
            )
        ).one()
        body = dict(item.body)
        body["audit_anchor"] = {**body["audit_anchor"], "entry_hash": "ab" * 32}
        item.body = body
    with cn.runtime.reading() as session:
        kept = session.scalar(select(func.count(AuditAnchor.id)))
    pump(us, cn)
    with cn.runtime.reading() as session:
        reasons = session.scalars(
            select(QuarantineItem.reason).where(QuarantineItem.kind == CHECKPOINT_KIND)
        ).all()
        assert reasons == [
            f"{us.name}'s audit anchor at entry {body['audit_anchor']['entry_id']}: "
            "signature invalid"
        ]
        assert session.scalar(select(func.count(AuditAnchor.id))) == kept
