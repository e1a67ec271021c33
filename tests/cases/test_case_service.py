"""Cases between two nodes on real databases: sequencing, replication, pending and rejection."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from accord.cases import service
from accord.cases.models import Case, CaseEvent
from accord.cli.scenarios import MLA_STEPS
from accord.core.errors import Conflict, Forbidden, NotFound
from accord.federation.models import OutboxItem
from tests.helpers import Node, act, asker, log_of, open_mla, pump, submitted_mla


def outbox_size(node: Node) -> int:
    with node.runtime.transaction() as session:
        return session.scalar(select(func.count()).select_from(OutboxItem)) or 0


def test_references_are_numbered_per_type_country_and_year(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    first, second = open_mla(us, cn.name), open_mla(us, cn.name)
    assert first.startswith("MLA-US-") and first.endswith("-000001")
    assert second.endswith("-000002")


def test_a_draft_is_not_sent_to_the_peer(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = open_mla(us, cn.name)
    act(us, reference, "send_to_review", {})
    assert outbox_size(us) == 0


def test_opening_a_case_with_an_unknown_peer_is_refused(pair: tuple[Node, Node]) -> None:
    us, _ = pair
    with pytest.raises(NotFound, match="no peer named 'FR-X'"):
        open_mla(us, "FR-X")


def test_whole_mla_case_leaves_both_sides_with_the_same_log(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = open_mla(us, cn.name)
    nodes = {"requesting": us, "requested": cn}
    for step in MLA_STEPS:
        act(nodes[step.side], reference, step.action, step.payload)
        pump(us, cn)
    us_log, cn_log = log_of(us, reference), log_of(cn, reference)
    assert len(us_log) == len(MLA_STEPS) + 1
    assert us_log == cn_log
    assert us_log[-1]["state_after"] == "closed"
    with us.runtime.transaction() as session:
        case = service.get_case(session, reference=reference)
        assert service.refold(session, case=case).state == case.state == "closed"
        result = service.verify(session, node=us.identity, reference=reference, ask=asker(us, cn))
    assert result.identical and result.peer_head == us_log[-1]["hash"]


def test_requested_side_action_waits_as_pending_until_applied(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    acted = act(cn, reference, "acknowledge", {})
    assert acted.event is None and acted.pending is not None
    with cn.runtime.transaction() as session:
        case = service.get_case(session, reference=reference)
        assert case.state == "submitted"  # not until the sequencer has appended it
    pump(us, cn)
    with cn.runtime.transaction() as session:
        case = service.get_case(session, reference=reference)
        (pending,) = service.pending_actions(session, case=case)
        assert (case.state, pending.status, pending.event_seq) == ("received", "applied", 4)


def test_sequencer_rejects_a_submission_overtaken_by_events(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    act(cn, reference, "acknowledge", {})  # in flight ...
    act(us, reference, "withdraw", {"reason": "suspect deceased"})  # ... when this lands first
    pump(us, cn)
    with cn.runtime.transaction() as session:
        case = service.get_case(session, reference=reference)
        (pending,) = service.pending_actions(session, case=case)
        assert case.state == "withdrawn"
        assert pending.status == "rejected"
        assert "not allowed in state 'withdrawn'" in (pending.reason or "")
    assert log_of(us, reference) == log_of(cn, reference)


def test_a_node_that_is_not_a_party_cannot_act(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = open_mla(us, cn.name)
    with us.runtime.transaction() as session:
        case = service.get_case(session, reference=reference)
        with pytest.raises(Forbidden):
            service.side_of(case, "FR-X")


def test_verify_detects_a_locally_edited_event(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    with cn.runtime.transaction() as session:
        case_id = session.scalar(select(Case.id).where(Case.reference == reference))
        session.execute(
            update(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.seq == 2)
            .values(payload={"note": "rewritten"})
        )
    with cn.runtime.transaction() as session, pytest.raises(Conflict, match="event 2 breaks"):
        service.verify(session, node=cn.identity, reference=reference, ask=asker(cn, us))
