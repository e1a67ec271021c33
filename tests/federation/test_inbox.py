"""The inbox: each refusal gets its status, a quarantine row with the reason, an audit entry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from accord.audit import service as audit
from accord.audit.models import AuditEntry
from accord.config import Settings
from accord.core.clock import iso, new_id, utcnow
from accord.federation import inbox
from accord.federation.envelope import seal
from accord.federation.keys import PeerKeys
from accord.federation.models import InboxItem, QuarantineItem
from accord.federation.node import init_node
from tests.helpers import Node, deliver, process


def keys_of(node: Node) -> PeerKeys:
    return PeerKeys.from_b64(
        node.name, node.identity.signing_public, node.identity.encryption_public
    )


def quarantine(node: Node) -> list[QuarantineItem]:
    with node.runtime.reading() as session:
        return list(session.scalars(select(QuarantineItem).order_by(QuarantineItem.id)))


def audits(node: Node) -> list[AuditEntry]:
    with node.runtime.reading() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def envelope(sender: Node, receiver: Node, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    return seal(
        sender.identity,
        keys_of(receiver),
        envelope_id=new_id(),
        kind=kind,
        body=body,
        sent_at=iso(utcnow()),
    )


def test_unknown_sender_is_forbidden_quarantined_and_audited(
    pair: tuple[Node, Node], tmp_path: Any
) -> None:
    _, cn = pair
    settings = Settings(data_dir=tmp_path / "stranger", database_url=f"sqlite:///{tmp_path}/s.db")
    stranger, _ = init_node(settings, name="XX-ROGUE", country="XX", endpoint="http://x.test")
    rogue = Node(runtime=cn.runtime, identity=stranger)  # only its identity is used to seal
    outcome = deliver(cn, [envelope(rogue, cn, "case.submit", {})])
    assert outcome.status == 403
    assert "unknown sender 'XX-ROGUE'" in (outcome.error or "")
    (kept,) = quarantine(cn)
    assert kept.sender == "XX-ROGUE" and "unknown sender" in kept.reason
    assert audits(cn)[-1].action == "federation.envelope_refused"


def test_bad_signature_is_unauthenticated(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    forged = envelope(us, cn, "case.submit", {})
    forged["kind"] = "case.event"  # signed as case.submit
    outcome = deliver(cn, [forged])
    assert outcome.status == 401
    assert "signature does not verify" in quarantine(cn)[-1].reason


def test_malformed_envelope_is_refused_with_the_field_named(pair: tuple[Node, Node]) -> None:
    _, cn = pair
    outcome = deliver(cn, [{"v": 1, "id": "not-a-uuid"}])
    assert outcome.status == 400
    assert "malformed envelope" in (outcome.error or "") and "id" in (outcome.error or "")


def test_body_that_fails_its_schema_is_receipted_as_quarantined(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    outcome = deliver(cn, [envelope(us, cn, "case.submit", {"reference": "X", "surprise": 1})])
    assert outcome.error is None
    (receipt,) = outcome.receipts
    assert receipt["status"] == "quarantined"
    assert "does not match its schema" in receipt["reason"]
    assert quarantine(cn)[-1].stage == "body"
    with cn.runtime.reading() as session:
        assert session.scalar(select(InboxItem.id)) is None


def test_unknown_kind_is_quarantined(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    outcome = deliver(cn, [envelope(us, cn, "case.teleport", {})])
    assert outcome.receipts[0]["status"] == "quarantined"
    assert "unknown message kind" in outcome.receipts[0]["reason"]


def test_authentic_message_refused_in_processing_is_quarantined_not_lost(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    body = {
        "reference": "MLA-CN-2026-000009",
        "submission_id": str(new_id()),
        "action": "note",
        "payload": {"text": "?"},
        "actor_officer": "x",
        "submitted_at": iso(utcnow()),
        "signature": "A" * 86 + "==",
    }
    outcome = deliver(cn, [envelope(us, cn, "case.submit", body)])
    assert outcome.receipts[0]["status"] == "stored"
    process(cn)
    kept = quarantine(cn)[-1]
    assert kept.stage == "processing" and "no case 'MLA-CN-2026-000009'" in kept.reason
    with cn.runtime.reading() as session:
        item = session.scalar(select(InboxItem))
        assert item is not None and item.status == "quarantined"


def test_not_json_is_refused_and_kept(pair: tuple[Node, Node]) -> None:
    _, cn = pair
    with cn.runtime.transaction() as session:
        outcome = inbox.refuse_request(
            session,
            status=400,
            reason="request is not JSON",
            raw=b"\xff\x00garbage",
            remote_addr="198.51.100.7",
        )
    assert outcome.status == 400
    kept = quarantine(cn)[-1]
    assert kept.raw.startswith("base64:") and kept.remote_addr == "198.51.100.7"


def test_audit_chain_detects_an_edited_entry(pair: tuple[Node, Node]) -> None:
    _, cn = pair
    with cn.runtime.transaction() as session:
        for n in range(3):
            audit.record(session, actor="t", action=f"a{n}", outcome="ok")
    with cn.runtime.transaction() as session:
        assert audit.verify(session) == []
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()[1]
        entry.actor = "someone else"
    with cn.runtime.reading() as session:
        problems = audit.verify(session)
    assert any("content does not match its hash" in p for p in problems)
