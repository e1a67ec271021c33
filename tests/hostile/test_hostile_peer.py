"""A hostile peer: the pinned partner node's real keys used against us (a compromised or
dishonest node of a partner authority). Each test is one attack from the adversarial run, and
what must hold: the peer cannot speak for us, cannot take our references, cannot open a case
it is no party to, and learns nothing of our drafts. On SQLite and PostgreSQL (`pair`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from accord.cases import service
from accord.cases.acts import act_document, sign_act
from accord.cases.enums import Area, HandlingCode, Priority
from accord.cases.log import event_hash
from accord.cases.models import Case, CaseEvent, PendingAction
from accord.cli import scenarios
from accord.core.clock import iso, new_id, utcnow
from accord.federation.envelope import seal
from accord.federation.keys import NodeIdentity, PeerKeys
from accord.federation.models import QuarantineItem
from accord.federation.peers import get_peer
from tests.helpers import Node, act, deliver, open_from, process, pump

OPENINGS = {sc.opening["case_type"]: sc.opening for sc in scenarios.ALL}


def send(sender: Node, receiver: Node, kind: str, body: dict[str, Any]) -> None:
    """Seal `body` with the sender's real keys, deliver it, and let the receiver process it."""
    keys = PeerKeys.from_b64(
        receiver.name, receiver.identity.signing_public, receiver.identity.encryption_public
    )
    envelope = seal(
        sender.identity,
        keys,
        envelope_id=new_id(),
        kind=kind,
        body=body,
        sent_at=iso(utcnow()),
    )
    outcome = deliver(receiver, [envelope])
    assert outcome.receipts[0]["status"] == "stored", outcome.receipts
    process(receiver)


def last_refusal(node: Node) -> str:
    with node.runtime.reading() as session:
        row = session.scalars(select(QuarantineItem).order_by(QuarantineItem.id.desc())).first()
    assert row is not None, "nothing was quarantined"
    return row.reason


def forged_event(
    signer: NodeIdentity,
    *,
    reference: str,
    sequencer: str,
    seq: int,
    prev_hash: str,
    action: str,
    side: str,
    actor_node: str,
    payload: dict[str, Any],
    actor_officer: str = "Officer Smith",
    submission_id: str | None = None,
    occurred_at: str | None = None,
    signature: str | None = "sign",
) -> dict[str, Any]:
    """A `case.event` body, well formed and hashed, its act signed by `signer`."""
    at = occurred_at or iso(utcnow())
    document = act_document(
        reference=reference,
        action=action,
        side=side,
        actor_node=actor_node,
        actor_officer=actor_officer,
        payload=payload,
        submission_id=submission_id,
        acted_at=at,
    )
    fields: dict[str, Any] = {
        "seq": seq,
        "action": action,
        "side": side,
        "actor_node": actor_node,
        "actor_officer": actor_officer,
        "payload": payload,
        "occurred_at": at,
        "submission_id": submission_id,
        "prev_hash": prev_hash,
        "acted_at": at,
        "signature": sign_act(signer, document) if signature == "sign" else signature,
    }
    fields["hash"] = event_hash({**fields, "reference": reference})
    return {"reference": reference, "sequencer": sequencer, "event": fields}


def unsigned_submission(reference: str) -> dict[str, Any]:
    """A well-formed `case.submit` body whose act signature is made up."""
    return {
        "reference": reference,
        "submission_id": str(new_id()),
        "action": "acknowledge",
        "payload": {"note": ""},
        "actor_officer": "王警官",
        "submitted_at": iso(utcnow()),
        "signature": "A" * 86 + "==",
    }


def head(node: Node, reference: str) -> tuple[str, int, str]:
    with node.runtime.reading() as session:
        case = service.get_case(session, reference=reference)
        return case.state, case.event_count, case.head_hash


def intel_from(cn: Node, us: Node) -> str:
    """An intelligence referral the peer (CN, its sequencer) shares with us."""
    reference = open_from(cn, us.name, OPENINGS["intel"])
    pump(us, cn)
    return reference


# -- 1. the sequencer cannot write our side's actions ---------------------------------------


def test_the_sequencer_cannot_append_an_act_in_our_name(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = intel_from(cn, us)
    state, count, head_hash = head(us, reference)
    forged = {
        "reference": reference,
        "sequencer": cn.name,
        "seq": count + 1,
        "prev_hash": head_hash,
        "action": "acknowledge",
        "side": "requested",
        "actor_node": us.name,
        "payload": {"note": ""},
    }
    # signed with the peer's own key, but naming our node and officer
    send(cn, us, "case.event", forged_event(cn.identity, **forged))
    assert "is not signed by US-DOJ, the node it names" in last_refusal(us)
    # with no signature at all
    send(cn, us, "case.event", forged_event(cn.identity, **forged, signature=None))
    assert "carries no signed act" in last_refusal(us)
    assert head(us, reference) == (state, count, head_hash)


def test_the_sequencer_cannot_settle_our_pending_act_with_another_payload(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    reference = intel_from(cn, us)
    pending = act(us, reference, "acknowledge", {"note": "received, thank you"}).pending
    assert pending is not None
    state, count, head_hash = head(us, reference)
    # the peer drops our submission from its outbox and appends its own version of it
    base = {
        "reference": reference,
        "sequencer": cn.name,
        "seq": count + 1,
        "prev_hash": head_hash,
        "action": "acknowledge",
        "side": "requested",
        "actor_node": us.name,
        "submission_id": str(pending.id),
    }
    send(cn, us, "case.event", forged_event(cn.identity, **base, payload={"note": "useless"}))
    assert "is not signed by US-DOJ" in last_refusal(us)
    with us.runtime.reading() as session:
        row = session.get(PendingAction, pending.id)
        assert row is not None and row.status == "pending"
    assert head(us, reference) == (state, count, head_hash)


def test_the_sequencer_cannot_backdate_or_postdate_an_event(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = intel_from(cn, us)
    state, count, head_hash = head(us, reference)
    # the peer's own act, properly signed, dated long before the case or a year ahead
    for occurred_at, refusal in (
        ("2001-01-01T00:00:00.000000Z", "is dated before the event it follows"),
        ("2099-01-01T00:00:00.000000Z", "is dated in the future"),
    ):
        dated = forged_event(
            cn.identity,
            reference=reference,
            sequencer=cn.name,
            seq=count + 1,
            prev_hash=head_hash,
            action="note",
            side="requesting",
            actor_node=cn.name,
            payload={"text": f"dated {occurred_at}", "handling_code": "H0"},
            occurred_at=occurred_at,
        )
        send(cn, us, "case.event", dated)
        assert refusal in last_refusal(us)
    assert head(us, reference) == (state, count, head_hash)


def test_a_submission_that_the_sender_did_not_sign_is_refused(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = open_from(us, cn.name, OPENINGS["cyber"])
    pump(us, cn)
    state, count, head_hash = head(us, reference)
    send(cn, us, "case.submit", unsigned_submission(reference))
    assert f"is not signed by {cn.name}" in last_refusal(us)
    assert head(us, reference) == (state, count, head_hash)


def test_every_event_of_an_exchange_carries_its_actors_signature(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = open_from(us, cn.name, OPENINGS["cyber"])
    pump(us, cn)
    act(cn, reference, "acknowledge", {"note": "on it"})
    pump(us, cn)
    for node in (us, cn):
        with node.runtime.reading() as session:
            case = service.get_case(session, reference=reference)
            events = list(
                session.scalars(
                    select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
                )
            )
        assert [(e.action, e.actor_node) for e in events] == [
            ("open", us.name),
            ("acknowledge", cn.name),
        ]
        assert all(e.signature and e.acted_at for e in events)
    assert head(us, reference) == head(cn, reference)


# -- 2. references live in the sequencer's namespace ----------------------------------------


def _opening_by(cn: Node, us: Node, **header: Any) -> dict[str, Any]:
    """An opening event signed by the peer, with `header` fields changed."""
    opening = OPENINGS["mla"]
    actor = header.pop("actor_node", cn.name)
    details = {
        "case_type": "mla",
        "reference": "MLA-CN-2026-000001",
        "area": opening["area"],
        "priority": opening["priority"],
        "handling_code": opening["handling_code"],
        "title": opening["title"],
        "requesting_node": cn.name,
        "requested_node": us.name,
        "sequencer": cn.name,
        "details": opening["details"],
        "deadline_seconds": {},
    }
    details.update(header)
    return forged_event(
        cn.identity,
        reference=details["reference"],
        sequencer=details["sequencer"],
        seq=1,
        prev_hash="0" * 64,
        action="open",
        side="requesting",
        actor_node=actor,
        payload=details,
    )


def _open_mla(us: Node, peer: str) -> str:
    opening = OPENINGS["mla"]
    with us.runtime.transaction() as session:
        return service.open_case(
            session,
            node=us.identity,
            case_type="mla",
            peer=peer,
            area=Area(opening["area"]),
            priority=Priority(opening["priority"]),
            handling_code=HandlingCode(opening["handling_code"]),
            title=opening["title"],
            details=opening["details"],
            officer="Officer Smith",
        ).reference


def test_the_peer_cannot_open_a_case_under_our_next_reference(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    first = _open_mla(us, cn.name)
    assert first == "MLA-US-2026-000001"
    send(cn, us, "case.event", _opening_by(cn, us, reference="MLA-US-2026-000002"))
    assert "not a mla reference in CN-MOJ's namespace (MLA-CN-…)" in last_refusal(us)
    # our own numbering goes on, and opening a case never fails on a taken reference
    assert [_open_mla(us, cn.name) for _ in range(2)] == [
        "MLA-US-2026-000002",
        "MLA-US-2026-000003",
    ]


def test_the_peer_cannot_claim_a_third_nodes_reference(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    send(cn, us, "case.event", _opening_by(cn, us, reference="MLA-FR-2026-000001"))
    assert "not a mla reference in CN-MOJ's namespace" in last_refusal(us)
    with us.runtime.reading() as session:
        assert session.scalar(select(Case.id)) is None


# -- 3. the opening event ---------------------------------------------------------------------


def test_the_peer_cannot_open_a_case_for_a_third_party_or_in_our_name(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    send(cn, us, "case.event", _opening_by(cn, us, requesting_node="FR-MJ"))
    assert "a peer opens only its own requests to us" in last_refusal(us)
    send(
        cn,
        us,
        "case.event",
        _opening_by(cn, us, requesting_node=us.name, requested_node=cn.name),
    )
    assert "a peer opens only its own requests to us" in last_refusal(us)
    send(cn, us, "case.event", _opening_by(cn, us, actor_node=us.name))
    assert "its opening act is US-DOJ's, not CN-MOJ's" in last_refusal(us)
    with us.runtime.reading() as session:
        assert session.scalar(select(Case.id)) is None


def test_the_peer_agreement_bounds_the_case_types_and_handling_codes_it_may_open(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    with us.runtime.transaction() as session:
        peer = get_peer(session, cn.name)
        peer.agreement = {"case_types": ["intel"], "handling_codes": ["H0", "H1"]}
    send(cn, us, "case.event", _opening_by(cn, us))
    assert "mla cases are not in the agreement with CN-MOJ" in last_refusal(us)
    with us.runtime.transaction() as session:
        peer = get_peer(session, cn.name)
        peer.agreement = {"case_types": ["mla"], "handling_codes": ["H0"]}
    send(cn, us, "case.event", _opening_by(cn, us, handling_code="H2"))
    assert "handling code H2 is not in the agreement with CN-MOJ" in last_refusal(us)


# -- 7. drafts do not exist for the peer ------------------------------------------------------


def test_a_submission_to_our_draft_is_answered_as_for_no_case(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    draft = _open_mla(us, cn.name)  # a draft: never shared
    for reference in (draft, "MLA-US-2026-000999"):
        send(cn, us, "case.submit", unsigned_submission(reference))
        assert last_refusal(us) == f"no case {reference!r} here"
    with us.runtime.transaction() as session:
        answers = [
            service.head(session, us.identity, cn.name, type("Q", (), {"reference": r})())
            for r in (draft, "MLA-US-2026-000999")
        ]
    assert answers == [
        {"reference": draft, "found": False},
        {"reference": "MLA-US-2026-000999", "found": False},
    ]
