"""Asking a peer a signed question and checking its signed answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy.orm import Session

from accord.core.clock import iso, new_id, utcnow
from accord.core.errors import PeerUnreachable
from accord.federation.envelope import EnvelopeRefused, seal, verify_document
from accord.federation.keys import NodeIdentity
from accord.federation.models import Peer
from accord.federation.peers import get_peer, peer_keys
from accord.federation.tls import explain, verify_for

QUERY_PATH = "/federation/v1/query"


def ask(
    node: NodeIdentity, peer: Peer, kind: str, body: dict[str, Any], *, timeout: float = 15.0
) -> dict[str, Any]:
    keys = peer_keys(peer)
    envelope_id = new_id()
    envelope = seal(
        node, keys, envelope_id=envelope_id, kind=kind, body=body, sent_at=iso(utcnow())
    )
    try:
        response = httpx.post(
            peer.endpoint.rstrip("/") + QUERY_PATH,
            json=envelope,
            timeout=timeout,
            verify=verify_for(peer.tls_ca, peer.tls_pin),
        )
    except httpx.HTTPError as exc:
        problem = explain(str(exc), peer.name)
        raise PeerUnreachable(
            f"cannot reach {peer.name} at {peer.endpoint}: {problem}"
            + ("" if problem != str(exc) else "; is it running?")
        ) from exc
    if response.status_code != 200:
        raise PeerUnreachable(
            f"{peer.name} refused the query (HTTP {response.status_code}): {response.text[:300]}"
        )
    try:
        reply = response.json()
        verify_document(reply, keys.verify)
    except (ValueError, EnvelopeRefused) as exc:
        raise PeerUnreachable(f"{peer.name} sent an unverifiable answer: {exc}") from exc
    if reply.get("in_reply_to") != str(envelope_id) or reply.get("responder") != peer.name:
        raise PeerUnreachable(f"{peer.name} answered another question")
    answer = reply.get("answer")
    if not isinstance(answer, dict):
        raise PeerUnreachable(f"{peer.name} sent an answer without content")
    return answer


def asker(
    session: Session, node: NodeIdentity
) -> Callable[[str, str, dict[str, Any]], dict[str, Any]]:
    """`ask` bound to this node, resolving peers by name in `session`."""

    def ask_by_name(peer_name: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        return ask(node, get_peer(session, peer_name), kind, body)

    return ask_by_name
