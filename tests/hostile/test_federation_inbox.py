"""The federation inbox of a running node under hostile requests: garbage, truncated, replayed,
wrongly signed, stale, oversized and deeply nested envelopes are refused with a 4xx and a
reason — never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.core.clock import iso, new_id, utcnow
from accord.federation.envelope import seal
from accord.federation.keys import NodeIdentity, PeerKeys
from tests.hostile.conftest import LiveNode, examples


def envelope_to(
    node: LiveNode, sender: NodeIdentity | None = None, **changes: Any
) -> dict[str, Any]:
    """A sealed envelope from the pinned peer, with `changes` made after signing."""
    sealed = seal(
        sender or node.peer,
        PeerKeys.from_b64("US-DOJ", *_card_keys(node)),
        envelope_id=new_id(),
        kind="case.submit",
        body={},
        sent_at=changes.pop("sent_at", iso(utcnow())),
    )
    return {**sealed, **changes}


def _card_keys(node: LiveNode) -> tuple[str, str]:
    card = httpx.get(f"{node.url}/federation/v1/card", timeout=10).json()
    return card["signing_key"], card["encryption_key"]


def post(node: LiveNode, content: bytes, path: str = "/federation/v1/envelopes") -> httpx.Response:
    return httpx.post(
        node.url + path, content=content, headers={"content-type": "application/json"}, timeout=30
    )


def refused(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    reason = body.get("message") or body.get("error")
    assert words in reason, reason


def test_garbage_is_refused_as_not_json(live_node: LiveNode) -> None:
    refused(post(live_node, b"\x00\xff garbage"), 400, "not JSON")


def test_truncated_batch_is_refused_as_not_json(live_node: LiveNode) -> None:
    whole = json.dumps({"envelopes": [envelope_to(live_node)]}).encode()
    refused(post(live_node, whole[: len(whole) // 2]), 400, "not JSON")


def test_deeply_nested_json_is_refused_not_a_crash(live_node: LiveNode) -> None:
    refused(post(live_node, b"[" * 200_000 + b"]" * 200_000), 400, "nested too deep")
    refused(post(live_node, b'{"envelopes": [' + b"1" * 5000 + b"]}"), 400, "number too long")
    refused(post(live_node, b"[" * 30_000, "/federation/v1/query"), 400, "nested too deep")


def test_wrongly_signed_envelope_is_refused(live_node: LiveNode) -> None:
    forged = envelope_to(live_node, kind="case.note")  # changed after signing
    refused(post(live_node, json.dumps({"envelopes": [forged]}).encode()), 401, "signature")


def test_stale_envelope_is_refused_as_a_possible_replay(live_node: LiveNode) -> None:
    old = envelope_to(live_node, sent_at="2020-01-01T00:00:00Z")
    refused(post(live_node, json.dumps({"envelopes": [old]}).encode()), 400, "replay")


def test_replayed_envelope_gets_the_same_receipt_and_is_not_stored_twice(
    live_node: LiveNode,
) -> None:
    batch = json.dumps({"envelopes": [envelope_to(live_node)]}).encode()
    first = post(live_node, batch)
    again = post(live_node, batch)
    assert first.status_code == again.status_code == 200
    assert first.json()["receipts"][0]["status"] in ("stored", "quarantined")
    assert again.json()["receipts"][0]["status"] in ("duplicate", "quarantined")


def test_replayed_query_is_refused(live_node: LiveNode) -> None:
    keys = PeerKeys.from_b64("US-DOJ", *_card_keys(live_node))
    query = seal(
        live_node.peer,
        keys,
        envelope_id=new_id(),
        kind="case.head",
        body={"reference": "NOPE"},
        sent_at=iso(utcnow()),
    )
    first = post(live_node, json.dumps(query).encode(), "/federation/v1/query")
    assert first.status_code < 500, first.text
    again = post(live_node, json.dumps(query).encode(), "/federation/v1/query")
    assert again.status_code in (409, 422), again.text


def test_oversized_request_is_refused_before_reading_it(live_node: LiveNode) -> None:
    limit = live_node.settings.max_request_bytes
    refused(post(live_node, b" " * (limit + 1)), 413, "larger than")
    too_many = live_node.settings.max_envelopes_per_request + 1
    refused(post(live_node, json.dumps({"envelopes": [{}] * too_many}).encode()), 413, "limit")


@settings(
    max_examples=examples(60),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4)
                | st.dictionaries(
                    st.sampled_from(["envelopes", "v", "id", "from", "sig", "x"]), inner, max_size=4
                )
            ),
            max_leaves=15,
        ).map(lambda v: json.dumps(v).encode()),
    ),
    path=st.sampled_from(["/federation/v1/envelopes", "/federation/v1/query"]),
)
def test_any_request_to_the_inbox_is_answered_without_a_server_error(
    live_node: LiveNode, body: bytes, path: str
) -> None:
    response = post(live_node, body, path)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["error"]


@pytest.fixture(autouse=True)
def _node_is_up(live_node: LiveNode) -> None:
    assert httpx.get(f"{live_node.url}/healthz", timeout=10).status_code == 200
