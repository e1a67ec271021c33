"""Sealing and opening envelopes: sign the whole, encrypt the body to the peer (crypto_box)."""

from __future__ import annotations

import binascii
import json
from functools import lru_cache
from typing import Any
from uuid import UUID

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.public import Box, PrivateKey, PublicKey

from accord.core import jsontext
from accord.core.canonical import canonical_bytes
from accord.federation.keys import NodeIdentity, PeerKeys, Verifier, b64, unb64
from accord.federation.schemas import Envelope

VERSION = 1


class EnvelopeRefused(Exception):
    """An envelope that cannot be accepted; `reason` says why, `status` the HTTP answer."""

    def __init__(self, reason: str, *, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@lru_cache(maxsize=1024)
def _box(own_private: bytes, peer_public: bytes) -> Box:
    """The precomputed shared key of a (node, peer) pair; computing it costs a scalar mult."""
    return Box(PrivateKey(own_private), PublicKey(peer_public))


def box_for(node: NodeIdentity, peer: PeerKeys) -> Box:
    return _box(bytes(node.encryption), bytes(peer.encryption))


def seal(
    node: NodeIdentity,
    peer: PeerKeys,
    *,
    envelope_id: UUID,
    kind: str,
    body: dict[str, Any],
    sent_at: str,
) -> dict[str, Any]:
    ciphertext = box_for(node, peer).encrypt(canonical_bytes(body))
    unsigned: dict[str, Any] = {
        "v": VERSION,
        "id": str(envelope_id),
        "from": node.name,
        "to": peer.name,
        "sent_at": sent_at,
        "kind": kind,
        "body": b64(bytes(ciphertext)),
    }
    return {**unsigned, "sig": sign(node, unsigned)}


def sign(node: NodeIdentity, document: dict[str, Any]) -> str:
    return b64(node.signing.sign(canonical_bytes(document)).signature)


def sign_document(node: NodeIdentity, document: dict[str, Any]) -> dict[str, Any]:
    return {**document, "sig": sign(node, document)}


def verify_document(document: dict[str, Any], key: Verifier) -> dict[str, Any]:
    """Check the `sig` of a signed document; return it without `sig`."""
    unsigned = {k: v for k, v in document.items() if k != "sig"}
    signature = document.get("sig")
    if not isinstance(signature, str):
        raise EnvelopeRefused("missing signature", status=401)
    try:
        key.verify(canonical_bytes(unsigned), unb64(signature))
    except (BadSignatureError, binascii.Error, ValueError):
        raise EnvelopeRefused("signature does not verify with the pinned key", status=401) from None
    return unsigned


def verify_envelope(envelope: Envelope, peer: PeerKeys) -> None:
    verify_document(envelope.model_dump(mode="json", by_alias=True), peer.verify)


def _decrypt(node: NodeIdentity, peer: PeerKeys, ciphertext: bytes) -> bytes | None:
    """Open with our key and the peer's; after a rotation (theirs or ours) a message sealed
    during the overlap may need the key before, on either side."""
    try:
        return box_for(node, peer).decrypt(ciphertext)
    except (CryptoError, ValueError):
        pass
    theirs = [peer.encryption, *peer.older]
    for own in node.decryption_keys():
        for public in theirs:
            if own is node.encryption and public is peer.encryption:
                continue  # tried above
            try:
                return _box(bytes(own), bytes(public)).decrypt(ciphertext)
            except (CryptoError, ValueError):
                continue
    return None


def open_body(node: NodeIdentity, peer: PeerKeys, envelope: Envelope) -> dict[str, Any]:
    """Decrypt and parse the body of an envelope whose signature has been verified."""
    try:
        ciphertext = unb64(envelope.body)
    except (binascii.Error, ValueError):
        raise EnvelopeRefused("body does not decrypt with our key and the sender's") from None
    plaintext = _decrypt(node, peer, ciphertext)
    if plaintext is None:
        raise EnvelopeRefused("body does not decrypt with our key and the sender's") from None
    try:
        body = jsontext.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EnvelopeRefused(f"body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise EnvelopeRefused("body is not a JSON object")
    return body
