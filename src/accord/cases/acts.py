"""Signed acts: each case-log event carries the signature of the node whose officer took it.

The sequencer orders the acts of both sides but cannot author the other side's: an act is
signed, with the actor node's Ed25519 key, over what was done (case, action, side, node,
officer, payload, submission id, time). Every replica checks the signature against the actor's
pinned key (or its own), so each side can prove what the other did and neither can write for
the other. The signed document names its purpose, so no envelope or receipt signed with the
same key can pass for an act.
"""

from __future__ import annotations

import binascii
from datetime import timedelta
from typing import Any

from nacl.exceptions import BadSignatureError

from accord.core.canonical import canonical_bytes
from accord.federation.keys import NodeIdentity, Verifier, b64, unb64

PURPOSE = "accord.case.act/1"
SIGNATURE_LENGTH = 88
"""Characters of a base64 Ed25519 signature."""

CLOCK_TOLERANCE = timedelta(minutes=5)
"""How far two nodes' clocks may disagree when one compares dates it made itself with the
other's (an act of ours appended by the sequencer)."""

FUTURE_LIMIT = timedelta(hours=1)
"""How far ahead of our clock a peer's event or act may be dated. Its dates are fixed once
signed, so a peer whose clock ran fast must not stall its cases for good (an envelope's sent_at,
checked against the tighter replay window, is re-sent with a fresh one; an event is not); a
date further ahead than this is refused: the peer's clock is wrong, or the date a lie."""


def act_document(
    *,
    reference: str,
    action: str,
    side: str,
    actor_node: str,
    actor_officer: str,
    payload: dict[str, Any],
    submission_id: str | None,
    acted_at: str,
) -> dict[str, Any]:
    """What an act's signature covers."""
    return {
        "purpose": PURPOSE,
        "reference": reference,
        "action": action,
        "side": side,
        "actor_node": actor_node,
        "actor_officer": actor_officer,
        "payload": payload,
        "submission_id": submission_id,
        "acted_at": acted_at,
    }


def sign_act(node: NodeIdentity, document: dict[str, Any]) -> str:
    return b64(node.signing.sign(canonical_bytes(document)).signature)


def act_verifies(document: dict[str, Any], signature: str | None, key: Verifier) -> bool:
    """Whether `signature` is the act's, by `key`: one key, or a node's current key and those
    it held before its rotations (so that acts signed before a rotation still verify)."""
    if not isinstance(signature, str) or len(signature) != SIGNATURE_LENGTH:
        return False
    try:
        key.verify(canonical_bytes(document), unb64(signature))
    except (BadSignatureError, binascii.Error, ValueError):
        return False
    return True
