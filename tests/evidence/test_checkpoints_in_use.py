"""Checkpoints made by the case service itself (the composition root's hook): at every change of
a shared case's state and every N events, on the sequencer only, countersigned by the peer;
none with ACCORD_CHECKPOINTS off; stamped by the worker inside `accord serve`/`accord worker`.
Two nodes in one process, on SQLite and PostgreSQL (the same over real HTTP:
test_checkpoints_two_nodes.py)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from accord.cases.models import Case, CaseEvent
from accord.cli.scenarios import MLA_STEPS
from accord.evidence.checkpoints import STAMPED, verify_checkpoint
from accord.evidence.models import Checkpoint
from accord.federation.workers import Workers
from tests.evidence.conftest import OpenSSLTSA
from tests.helpers import Node, act, open_mla, pump


def held(node: Node, reference: str) -> list[tuple[int, str, str, str, str | None]]:
    with node.runtime.reading() as session:
        return [
            (c.tree_size, c.reason, c.root_hash, c.signature, c.peer_signature)
            for c in session.scalars(
                select(Checkpoint)
                .where(Checkpoint.reference == reference)
                .order_by(Checkpoint.tree_size)
            )
        ]


def state_changes(node: Node, reference: str) -> list[tuple[int, str]]:
    """(seq, action) of each event that moved the shared case into another state."""
    with node.runtime.reading() as session:
        case = session.scalars(select(Case).where(Case.reference == reference)).one()
        events = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
        ).all()
    changes, before, shared = [], None, False
    for event in events:
        # the draft's own states are the sequencer's alone: the first checkpoint is the share
        shared = shared or event.action == "approve_and_submit"
        if shared and event.state_after != before:
            changes.append((event.seq, event.action))
        before = event.state_after
    return changes


def play_mla(us: Node, cn: Node) -> str:
    reference = open_mla(us, cn.name)
    for step in MLA_STEPS:
        act(us if step.side == "requesting" else cn, reference, step.action, step.payload)
        pump(us, cn)
    return reference


def test_every_change_of_state_is_checkpointed_and_both_nodes_hold_both_signatures(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    reference = play_mla(us, cn)
    changes = state_changes(us, reference)
    actions = [a for _, a in changes]
    # submission, acceptance, execution, closing, and every other move of the workflow
    for action in ("approve_and_submit", "accept", "begin_execution", "close"):
        assert action in actions
    ours, theirs = held(us, reference), held(cn, reference)
    assert [(size, reason) for size, reason, *_ in ours] == changes
    assert ours == theirs
    assert all(peer_signature is not None for *_, peer_signature in ours)
    for node in (us, cn):
        with node.runtime.reading() as session:
            for checkpoint in session.scalars(
                select(Checkpoint).where(Checkpoint.reference == reference)
            ):
                assert checkpoint.made_by == us.name and checkpoint.peer == cn.name
                assert (
                    verify_checkpoint(
                        session,
                        checkpoint,
                        signer_key=us.identity.signing.verify_key,
                        peer_key=cn.identity.signing.verify_key,
                    )
                    == []
                )


def test_the_requested_side_makes_no_checkpoint_of_its_own(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = play_mla(us, cn)
    with cn.runtime.reading() as session:
        makers = set(session.scalars(select(Checkpoint.made_by)))
    assert makers == {us.name} and held(cn, reference)


def test_a_checkpoint_every_n_events_between_changes_of_state(
    pair: tuple[Node, Node], monkeypatch: pytest.MonkeyPatch
) -> None:
    us, cn = pair
    monkeypatch.setattr(us.runtime.settings, "checkpoint_every_events", 4)
    reference = open_mla(us, cn.name)
    for step in MLA_STEPS[:2]:
        act(us, reference, step.action, step.payload)
    submitted = held(us, reference)
    assert [(size, reason) for size, reason, *_ in submitted] == [(3, "approve_and_submit")]
    for i in range(6):
        act(us, reference, "note", {"text": f"note {i}"})
    pump(us, cn)
    assert [(size, reason) for size, reason, *_ in held(us, reference)] == [
        (3, "approve_and_submit"),
        (4, "every 4 events"),
        (8, "every 4 events"),
    ]
    assert held(cn, reference) == held(us, reference)


def test_with_checkpoints_off_the_case_service_makes_none(
    pair: tuple[Node, Node], monkeypatch: pytest.MonkeyPatch
) -> None:
    us, cn = pair
    monkeypatch.setattr(us.runtime.settings, "checkpoints", False)
    reference = play_mla(us, cn)
    assert held(us, reference) == [] and held(cn, reference) == []


def test_the_worker_stamps_the_checkpoints_of_both_nodes(
    pair: tuple[Node, Node], tsa: OpenSSLTSA
) -> None:
    us, cn = pair
    reference = open_mla(us, cn.name)
    for step in MLA_STEPS[:4]:
        act(us if step.side == "requesting" else cn, reference, step.action, step.payload)
        pump(us, cn)
    assert len(held(us, reference)) == 3  # submitted, received, under review
    workers = []
    for node in (us, cn):
        settings = node.runtime.settings.model_copy(
            update={
                "tsa_url": tsa.url,
                "tsa_certificate_file": tsa.certificate_file,
                "tsa_ca_file": tsa.ca_file,
                "tsa_stamp_poll_seconds": 0.2,
                "delivery_poll_seconds": 0.2,
            }
        )
        worker = Workers(node.runtime.factory, node.identity, settings)
        worker.start(delivery=False, inbox=True)
        workers.append(worker)
    try:
        deadline = time.monotonic() + 60
        while sum(w.stamped for w in workers) < 6 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        for worker in workers:
            worker.shutdown()
    assert [w.stamped for w in workers] == [3, 3]
    for node in (us, cn):
        with node.runtime.reading() as session:
            for checkpoint in session.scalars(select(Checkpoint)):
                assert checkpoint.status == STAMPED
                assert (
                    verify_checkpoint(
                        session,
                        checkpoint,
                        signer_key=us.identity.signing.verify_key,
                        peer_key=cn.identity.signing.verify_key,
                        tsa=tsa.authority(),
                    )
                    == []
                )
