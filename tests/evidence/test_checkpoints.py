"""Checkpoints of real case logs (two nodes, SQLite and PostgreSQL) stamped by a real TSA:
signed heads, the TSA-down fault, and each change to the log that a checkpoint exposes. Each
checkpoint here is made by hand (ACCORD_CHECKPOINTS off)."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from accord.audit.models import AuditEntry
from accord.cases.models import Case, CaseEvent
from accord.core.canonical import canonical_bytes
from accord.core.clock import utcnow
from accord.core.errors import InvalidInput
from accord.evidence import merkle
from accord.evidence.checkpoints import (
    PENDING,
    STAMPED,
    add_peer_signature,
    checkpoint_document,
    consistency_proof,
    inclusion_proof,
    make_checkpoint,
    stamp_due,
    stamp_pending,
    verify_checkpoint,
)
from accord.evidence.models import Checkpoint
from accord.federation.keys import b64
from accord.federation.models import QuarantineItem
from tests.evidence.conftest import OpenSSLTSA
from tests.helpers import Node, act, pump, submitted_mla


@pytest.fixture(autouse=True)
def _checkpoints_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests make each checkpoint themselves: none at the case's changes of state (those
    are tested in test_checkpoints_in_use.py)."""
    monkeypatch.setenv("ACCORD_CHECKPOINTS", "false")


def _checkpoint(session: object, reference: str) -> Checkpoint:
    return session.scalars(  # type: ignore[attr-defined, no-any-return]
        select(Checkpoint).where(Checkpoint.reference == reference).order_by(Checkpoint.tree_size)
    ).all()[-1]


def test_a_checkpoint_signs_the_log_head_and_the_tsa_stamps_it(
    pair: tuple[Node, Node], tsa: OpenSSLTSA
) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    with us.runtime.transaction() as session:
        checkpoint = make_checkpoint(
            session, node=us.identity, reference=reference, reason="submit"
        )
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        assert (checkpoint.tree_size, checkpoint.head_hash) == (case.event_count, case.head_hash)
        assert checkpoint.status == PENDING
        again = make_checkpoint(session, node=us.identity, reference=reference, reason="again")
        assert again.id == checkpoint.id
    with us.runtime.transaction() as session:
        done = stamp_due(session, tsa=tsa.authority(), settings=us.runtime.settings)
        assert [c.reference for c in done.stamped] == [reference] and not done.waiting
    with us.runtime.transaction() as session:
        checkpoint = _checkpoint(session, reference)
        assert checkpoint.status == STAMPED and checkpoint.tsa_token and checkpoint.stamped_at
        assert (
            verify_checkpoint(
                session,
                checkpoint,
                signer_key=us.identity.signing.verify_key,
                tsa=tsa.authority(),
            )
            == []
        )


def test_tsa_down_leaves_the_checkpoint_pending_and_tsa_back_stamps_it(
    pair: tuple[Node, Node], tsa: OpenSSLTSA
) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    authority = tsa.authority(timeout=2)
    settings = us.runtime.settings.model_copy(update={"tsa_alert_after_seconds": 60.0})
    tsa.stop()
    start = utcnow()
    with us.runtime.transaction() as session:
        make_checkpoint(session, node=us.identity, reference=reference, reason="submit", now=start)
    rng = random.Random(7)
    with us.runtime.transaction() as session:
        first = stamp_due(session, tsa=authority, settings=settings, now=start, rng=rng)
        assert not first.stamped and len(first.waiting) == 1
    with us.runtime.transaction() as session:
        checkpoint = _checkpoint(session, reference)
        assert checkpoint.status == PENDING and checkpoint.attempts == 1
        assert "could not be reached" in (checkpoint.last_error or "")
        assert checkpoint.next_attempt_at is not None and checkpoint.next_attempt_at > start
        assert not checkpoint.alerted
        # Not retried before its time.
        early = stamp_due(session, tsa=authority, settings=settings, now=start, rng=rng)
        assert not early.stamped and not early.waiting
    # Still down past the alert age: one alert, logged and audited, and still kept.
    later = start + timedelta(minutes=5)
    with us.runtime.transaction() as session:
        stamp_due(session, tsa=authority, settings=settings, now=later, rng=rng)
        stamp_due(session, tsa=authority, settings=settings, now=later + timedelta(hours=1))
    with us.runtime.transaction() as session:
        checkpoint = _checkpoint(session, reference)
        assert checkpoint.status == PENDING and checkpoint.attempts == 3 and checkpoint.alerted
        alerts = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "evidence.timestamp_overdue")
        ).all()
        assert [a.subject for a in alerts] == [reference]
    tsa.start()
    with us.runtime.transaction() as session:
        back = stamp_due(session, tsa=authority, settings=settings, now=later + timedelta(hours=2))
        assert len(back.stamped) == 1
    with us.runtime.transaction() as session:
        checkpoint = _checkpoint(session, reference)
        assert checkpoint.status == STAMPED and checkpoint.last_error is None
        assert (
            verify_checkpoint(
                session, checkpoint, signer_key=us.identity.signing.verify_key, tsa=authority
            )
            == []
        )


def test_without_a_tsa_checkpoints_wait_and_say_why(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    with us.runtime.transaction() as session:
        make_checkpoint(session, node=us.identity, reference=reference, reason="submit")
        round_ = stamp_due(session, tsa=None, settings=us.runtime.settings)
        assert len(round_.waiting) == 1
        assert "ACCORD_TSA_URL" in (round_.waiting[0].last_error or "")


def test_both_nodes_signatures_verify_and_a_wrong_one_is_refused(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    with us.runtime.transaction() as session:
        checkpoint = make_checkpoint(
            session, node=us.identity, reference=reference, reason="submit"
        )
        document = canonical_bytes(checkpoint_document(checkpoint))
        theirs = b64(cn.identity.signing.sign(document).signature)
        with pytest.raises(InvalidInput, match="is not CN-MOJ's over that checkpoint"):
            add_peer_signature(
                session,
                checkpoint=checkpoint,
                signature=checkpoint.signature,  # ours, offered as theirs
                peer_key=cn.identity.signing.verify_key,
            )
        add_peer_signature(
            session,
            checkpoint=checkpoint,
            signature=theirs,
            peer_key=cn.identity.signing.verify_key,
        )
        assert checkpoint.peer_signature == theirs
        assert (
            verify_checkpoint(
                session,
                checkpoint,
                signer_key=us.identity.signing.verify_key,
                peer_key=cn.identity.signing.verify_key,
            )
            == []
        )
        # Keys swapped: each signature is named as not verifying.
        problems = verify_checkpoint(
            session,
            checkpoint,
            signer_key=cn.identity.signing.verify_key,
            peer_key=us.identity.signing.verify_key,
        )
        assert problems == [
            "US-DOJ's signature does not verify",
            "CN-MOJ's signature does not verify",
        ]


def test_a_changed_or_removed_event_is_named_against_the_checkpoint(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    key = us.identity.signing.verify_key
    with us.runtime.transaction() as session:
        checkpoint = make_checkpoint(
            session, node=us.identity, reference=reference, reason="submit"
        )
        case_id = checkpoint.case_id
        size = checkpoint.tree_size
    act(cn, reference, "acknowledge", {})
    pump(us, cn)
    with us.runtime.transaction() as session:
        # The log grew: the checkpoint still holds for its first events.
        assert verify_checkpoint(session, _checkpoint(session, reference), signer_key=key) == []
    with us.runtime.transaction() as session:
        session.execute(
            update(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.seq == 2)
            .values(hash="ab" * 32)
        )
        assert verify_checkpoint(session, _checkpoint(session, reference), signer_key=key) == [
            f"the root of the log's first {size} events is not the one signed: an event was "
            "changed, removed or reordered"
        ]
        session.rollback()
    with us.runtime.transaction() as session:
        session.execute(
            delete(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.seq >= size - 1)
        )
        assert verify_checkpoint(session, _checkpoint(session, reference), signer_key=key) == [
            f"the log holds {size - 2} events, fewer than the {size} the checkpoint signed: "
            "events were removed"
        ]
        session.rollback()


def test_a_token_of_another_checkpoint_is_named(pair: tuple[Node, Node], tsa: OpenSSLTSA) -> None:
    us, cn = pair
    first, second = submitted_mla(us, cn), submitted_mla(us, cn)
    with us.runtime.transaction() as session:
        a = make_checkpoint(session, node=us.identity, reference=first, reason="submit")
        b = make_checkpoint(session, node=us.identity, reference=second, reason="submit")
        stamp_due(session, tsa=tsa.authority(), settings=us.runtime.settings)
        b.tsa_token = a.tsa_token
        problems = verify_checkpoint(
            session, b, signer_key=us.identity.signing.verify_key, tsa=tsa.authority()
        )
        assert problems == ["the timestamp token does not verify: Mismatch between messages"]
        session.rollback()


def test_one_event_is_proven_in_the_signed_tree(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    with us.runtime.transaction() as session:
        checkpoint = make_checkpoint(
            session, node=us.identity, reference=reference, reason="submit"
        )
        root = bytes.fromhex(checkpoint.root_hash)
        for seq in range(1, checkpoint.tree_size + 1):
            event_hash, path = inclusion_proof(session, checkpoint, seq)
            assert merkle.verify_inclusion(
                seq - 1,
                checkpoint.tree_size,
                bytes.fromhex(event_hash),
                [bytes.fromhex(p) for p in path],
                root,
            )
        with pytest.raises(InvalidInput, match="covers events 1 to"):
            inclusion_proof(session, checkpoint, checkpoint.tree_size + 1)


def test_a_later_checkpoint_is_proven_to_extend_an_earlier_one(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    with us.runtime.transaction() as session:
        older = make_checkpoint(session, node=us.identity, reference=reference, reason="submit")
        older_root, older_size = older.root_hash, older.tree_size
    act(cn, reference, "acknowledge", {})
    pump(us, cn)
    with us.runtime.transaction() as session:
        newer = make_checkpoint(session, node=us.identity, reference=reference, reason="receive")
        older = session.scalars(
            select(Checkpoint).where(
                Checkpoint.reference == reference, Checkpoint.tree_size == older_size
            )
        ).one()
        assert newer.tree_size > older.tree_size
        proof = [bytes.fromhex(p) for p in consistency_proof(session, older, newer)]
        assert merkle.verify_consistency(
            older.tree_size,
            newer.tree_size,
            bytes.fromhex(older_root),
            bytes.fromhex(newer.root_hash),
            proof,
        )
        with pytest.raises(InvalidInput, match="is not older than"):
            consistency_proof(session, newer, older)


def test_both_nodes_come_to_hold_both_signatures(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    with us.runtime.transaction() as session:
        make_checkpoint(session, node=us.identity, reference=reference, reason="submit")
    pump(us, cn)
    us_key, cn_key = us.identity.signing.verify_key, cn.identity.signing.verify_key
    held = {}
    for node in (us, cn):
        with node.runtime.transaction() as session:
            checkpoint = _checkpoint(session, reference)
            assert (checkpoint.made_by, checkpoint.peer) == (us.name, cn.name)
            assert checkpoint.peer_signature is not None
            assert verify_checkpoint(session, checkpoint, signer_key=us_key, peer_key=cn_key) == []
            held[node.name] = (
                checkpoint.root_hash,
                checkpoint.signature,
                checkpoint.peer_signature,
            )
    assert held[us.name] == held[cn.name]


def test_only_the_sequencer_makes_checkpoints(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    with (
        cn.runtime.transaction() as session,
        pytest.raises(InvalidInput, match="sequenced by US-DOJ: that node makes its checkpoints"),
    ):
        make_checkpoint(session, node=cn.identity, reference=reference, reason="submit")


def test_a_checkpoint_of_a_log_the_peer_holds_otherwise_is_quarantined(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    with cn.runtime.transaction() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        session.execute(
            update(CaseEvent)
            .where(CaseEvent.case_id == case.id, CaseEvent.seq == 1)
            .values(hash="cd" * 32)
        )
    with us.runtime.transaction() as session:
        make_checkpoint(session, node=us.identity, reference=reference, reason="submit")
    pump(us, cn)
    with cn.runtime.transaction() as session:
        assert session.scalars(select(Checkpoint)).all() == []
        reasons = session.scalars(
            select(QuarantineItem.reason).where(QuarantineItem.kind == "evidence.checkpoint")
        ).all()
        assert len(reasons) == 1 and "the logs differ" in reasons[0]
    with us.runtime.transaction() as session:
        assert _checkpoint(session, reference).peer_signature is None


def test_the_worker_pass_stamps_outside_the_write_transaction(
    pair: tuple[Node, Node], tsa: OpenSSLTSA
) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    runtime = us.runtime
    with runtime.transaction() as session:
        make_checkpoint(session, node=us.identity, reference=reference, reason="submit")
    tsa.stop()
    down = stamp_pending(
        runtime.reading,
        runtime.transaction,
        tsa=tsa.authority(timeout=2),
        settings=runtime.settings,
    )
    assert not down.stamped and len(down.waiting) == 1
    tsa.start()
    later = utcnow() + timedelta(hours=1)
    back = stamp_pending(
        runtime.reading,
        runtime.transaction,
        tsa=tsa.authority(),
        settings=runtime.settings,
        now=later,
    )
    assert len(back.stamped) == 1
    again = stamp_pending(
        runtime.reading,
        runtime.transaction,
        tsa=tsa.authority(),
        settings=runtime.settings,
        now=later,
    )
    assert not again.stamped and not again.waiting and tsa.requests == 1
    with runtime.transaction() as session:
        checkpoint = _checkpoint(session, reference)
        assert checkpoint.status == STAMPED and checkpoint.attempts == 1
