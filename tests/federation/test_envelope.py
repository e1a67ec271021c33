"""Envelopes: any tampered byte is refused; replays are refused; old envelopes are refused."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from accord.audit.models import AuditEntry
from accord.core.clock import iso, new_id, utcnow
from accord.federation.envelope import seal
from accord.federation.keys import PeerKeys
from accord.federation.models import InboxItem, QuarantineItem
from tests.helpers import Node, deliver

BODY = {
    "reference": "MLA-US-2026-000001",
    "submission_id": "01890000-0000-7000-8000-000000000000",
    "action": "note",
    "payload": {"text": "hello"},
    "actor_officer": "x",
    "submitted_at": "2026-01-01T00:00:00.000000Z",
    "signature": "A" * 86 + "==",  # the act's signature is the case layer's to check
}


def sealed(sender: Node, receiver: Node, *, sent_at: str | None = None) -> dict[str, Any]:
    keys = PeerKeys.from_b64(
        receiver.name, receiver.identity.signing_public, receiver.identity.encryption_public
    )
    return seal(
        sender.identity,
        keys,
        envelope_id=new_id(),
        kind="case.submit",
        body=BODY,
        sent_at=sent_at or iso(utcnow()),
    )


def count(node: Node, model: type) -> int:
    with node.runtime.reading() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_tampered_byte_is_refused(pair: tuple[Node, Node], data: st.DataObject) -> None:
    us, cn = pair
    envelope = sealed(us, cn)
    raw = bytearray(json.dumps(envelope).encode())
    position = data.draw(st.integers(0, len(raw) - 1), label="position")
    replacement = data.draw(st.integers(0, 255).filter(lambda b: b != raw[position]), label="byte")
    raw[position] = replacement
    try:
        tampered = json.loads(bytes(raw))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return  # no longer JSON: refused before it is even an envelope (tested in test_inbox)
    stored_before = count(cn, InboxItem)
    outcome = deliver(cn, [tampered])
    if tampered == envelope:
        return  # the byte changed only JSON insignificant text (e.g. escaping)
    assert count(cn, InboxItem) == stored_before
    # refused at authentication (shape, sender, signature), never merely quarantined later
    assert outcome.error is not None and outcome.status in (400, 401, 403)


def test_an_intact_envelope_is_stored_once_and_a_replay_is_only_acknowledged(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    envelope = sealed(us, cn)
    first = deliver(cn, [envelope])
    second = deliver(cn, [envelope])
    assert first.receipts[0]["status"] == "stored"
    assert second.receipts[0]["status"] == "duplicate"
    assert count(cn, InboxItem) == 1


def test_an_envelope_sent_outside_the_window_is_refused_and_kept(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    stale = sealed(us, cn, sent_at=iso(utcnow() - timedelta(hours=2)))
    outcome = deliver(cn, [stale])
    assert outcome.status == 400
    assert outcome.error is not None and "outside the ±300 s window" in outcome.error
    assert count(cn, InboxItem) == 0
    assert count(cn, QuarantineItem) == 1
    assert count(cn, AuditEntry) == 1


def test_an_envelope_for_another_node_is_refused(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    envelope = sealed(us, us)  # encrypted and addressed to the sender itself
    outcome = deliver(cn, [envelope])
    assert outcome.error is not None
    assert outcome.status in (400, 401, 403)
