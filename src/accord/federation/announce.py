"""Key rotation and endpoint change, announced to every peer in a signed message.

`rotate_keys` makes new keys and writes a `node.announce` to each peer: the envelope is sealed
and signed with the keys being replaced (the ones the peer has pinned), and the new signing key
signs the announcement too, proving its holder made it. Delivery sends it to a peer before
anything else, with the old keys; the peer applies it as it stores it (`Kind.immediate`): it
pins the new keys, keeps the old ones as history (envelopes signed with them verify until the
overlap ends, acts for good) and audits the change. `change_endpoint` is announced the same
way. Revoking a key after a compromise is `revoke_key`, run on the peer after an out-of-band
check.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.public import PrivateKey
from nacl.signing import SigningKey, VerifyKey
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.audit import service as audit
from accord.core.canonical import canonical_bytes
from accord.core.clock import iso, parse_iso, utcnow
from accord.core.errors import InvalidInput, NotFound
from accord.federation.keys import (
    NodeIdentity,
    b64,
    fingerprint,
    history_keys,
    keep_in_history,
    replace_keys,
    unb64,
)
from accord.federation.kinds import Kind, Rejected
from accord.federation.models import KeyHistory, NodeRecord, OutboxItem, Peer
from accord.federation.outbox import enqueue
from accord.federation.peers import get_peer, list_peers
from accord.federation.schemas import NodeCard

ANNOUNCE_KIND = "node.announce"
STREAM = "node"
PROOF_PURPOSE = "accord.node.keys/1"
DEFAULT_OVERLAP = timedelta(days=7)
MAX_OVERLAP = timedelta(days=90)


class NewKeys(BaseModel):
    model_config = ConfigDict(extra="forbid")

    signing_key: str = Field(max_length=64)
    encryption_key: str = Field(max_length=64)
    fingerprint: str = Field(pattern=r"^[0-9a-f]{64}$")
    previous_fingerprint: str = Field(pattern=r"^[0-9a-f]{64}$")
    overlap_until: str = Field(max_length=40)
    proof: str = Field(max_length=100, description="the new signing key's signature")


class NodeAnnouncement(BaseModel):
    """`node.announce`: the sender's new keys, its new endpoint, or both."""

    model_config = ConfigDict(extra="forbid")

    node: str = Field(max_length=100)
    announced_at: str = Field(max_length=40)
    endpoint: str | None = Field(default=None, max_length=500)
    keys: NewKeys | None = None


def _proof_document(node: str, keys: dict[str, Any]) -> bytes:
    fields = {k: v for k, v in keys.items() if k != "proof"}
    return canonical_bytes({"purpose": PROOF_PURPOSE, "node": node, **fields})


def _announce(session: Session, node: NodeIdentity, body: NodeAnnouncement) -> list[str]:
    peers = [p.name for p in list_peers(session) if p.active]
    for name in peers:
        enqueue(
            session,
            peer=name,
            stream=STREAM,
            kind=ANNOUNCE_KIND,
            body=body.model_dump(mode="json", exclude_none=True),
        )
    return peers


def rotate_keys(
    session: Session, *, node: NodeIdentity, overlap: timedelta = DEFAULT_OVERLAP
) -> tuple[str, list[str]]:
    """New keys for this node, announced to every peer; returns the new fingerprint and the
    peers told. The old keys stay in keys/history/ (to sign the announcement and open what
    peers sealed to them during the overlap) and in `key_history`."""
    if not timedelta(0) < overlap <= MAX_OVERLAP:
        raise InvalidInput(f"the overlap must be more than 0 and at most {MAX_OVERLAP.days} days")
    keys_dir = node.keys_dir
    if keys_dir is None:
        raise InvalidInput("this node has no data folder to keep its keys in")
    record = session.scalar(select(NodeRecord).with_for_update())
    assert record is not None
    if record.signing_key != node.signing_public:
        raise InvalidInput(
            "this process holds keys other than the node's current ones (rotated since it "
            "started): run the command again"
        )
    now = utcnow()
    old = fingerprint(node.signing_public, node.encryption_public)
    keep_in_history(keys_dir, node.signing, node.encryption)
    signing, encryption = SigningKey.generate(), PrivateKey.generate()
    new_signing, new_encryption = b64(bytes(signing.verify_key)), b64(bytes(encryption.public_key))
    new = fingerprint(new_signing, new_encryption)
    keys: dict[str, Any] = {
        "signing_key": new_signing,
        "encryption_key": new_encryption,
        "fingerprint": new,
        "previous_fingerprint": old,
        "overlap_until": iso(now + overlap),
    }
    keys["proof"] = b64(signing.sign(_proof_document(node.name, keys)).signature)
    session.add(
        KeyHistory(
            owner=node.name,
            signing_key=node.signing_public,
            encryption_key=node.encryption_public,
            fingerprint=old,
            valid_from=_previous_rotation(session, node.name) or record.created_at,
            valid_until=now + overlap,
            replaced_by=new,
        )
    )
    record.signing_key, record.encryption_key = new_signing, new_encryption
    body = NodeAnnouncement(node=node.name, announced_at=iso(now), keys=NewKeys(**keys))
    peers = _announce(session, node, body)
    audit.record(
        session,
        actor="operator",
        action="node.keys_rotated",
        outcome="ok",
        subject=node.name,
        detail={
            "previous": old,
            "new": new,
            "overlap_until": keys["overlap_until"],
            "peers": peers,
        },
    )
    session.flush()
    replace_keys(keys_dir, signing, encryption)  # last: a failure before leaves the old keys
    return new, peers


def _previous_rotation(session: Session, owner: str) -> datetime | None:
    return session.scalar(
        select(KeyHistory.valid_until)
        .where(KeyHistory.owner == owner)
        .order_by(KeyHistory.id.desc())
        .limit(1)
    )


def change_endpoint(session: Session, *, node: NodeIdentity, endpoint: str) -> list[str]:
    """Record this node's new endpoint and announce it to every peer; returns the peers told."""
    card = node.card().model_dump()
    card["endpoint"] = endpoint
    NodeCard.model_validate(card)  # the same rules a peer applies
    record = session.scalar(select(NodeRecord).with_for_update())
    assert record is not None
    before, record.endpoint = record.endpoint, endpoint
    body = NodeAnnouncement(node=node.name, announced_at=iso(utcnow()), endpoint=endpoint)
    peers = _announce(session, node, body)
    audit.record(
        session,
        actor="operator",
        action="node.endpoint_changed",
        outcome="ok",
        subject=node.name,
        detail={"before": before, "after": endpoint, "peers": peers},
    )
    return peers


def sealing_identity(node: NodeIdentity, item: OutboxItem) -> NodeIdentity:
    """The keys to seal an outbox item with: an announcement of new keys goes out under the
    keys it replaces (the ones the peer has pinned), everything else under our current ones."""
    keys = item.body.get("keys") if item.kind == ANNOUNCE_KIND else None
    if not isinstance(keys, dict):
        return node
    previous = keys.get("previous_fingerprint")
    if fingerprint(node.signing_public, node.encryption_public) == previous:
        return node
    for signing, encryption in history_keys(node.keys_dir) if node.keys_dir else []:
        pair = fingerprint(b64(bytes(signing.verify_key)), b64(bytes(encryption.public_key)))
        if pair == previous:
            return NodeIdentity(
                node.name,
                node.country,
                node.endpoint,
                signing,
                encryption,
                node.intake_unit,
                node.data_dir,
                node.namespace,
            )
    return node


def first_announcement(session: Session, peer: str) -> OutboxItem | None:
    """The earliest announcement still to deliver to `peer`: nothing else goes before it."""
    return session.scalar(
        select(OutboxItem)
        .where(
            OutboxItem.peer == peer,
            OutboxItem.kind == ANNOUNCE_KIND,
            OutboxItem.status == "pending",
        )
        .order_by(OutboxItem.id)
        .limit(1)
    )


def apply_announcement(session: Session, node: NodeIdentity, sender: str, message: Any) -> None:
    """As the peer: pin the sender's new keys (keeping the old as history) or endpoint."""
    assert isinstance(message, NodeAnnouncement)
    if message.node != sender:
        raise Rejected(f"{sender} announced for {message.node}")
    peer = get_peer(session, sender)
    if message.endpoint is not None:
        before, peer.endpoint = peer.endpoint, message.endpoint
        audit.record(
            session,
            actor=f"peer:{sender}",
            action="federation.peer_endpoint_changed",
            outcome="ok",
            subject=sender,
            detail={"before": before, "after": message.endpoint},
        )
    if message.keys is not None:
        _pin_new_keys(session, peer, message.keys)


def _pin_new_keys(session: Session, peer: Peer, keys: NewKeys) -> None:
    where = f"{peer.name}'s key rotation"
    if keys.fingerprint == peer.fingerprint:
        return  # already applied: a redelivered announcement
    if keys.previous_fingerprint != peer.fingerprint:
        raise Rejected(
            f"{where} replaces {keys.previous_fingerprint}, but {peer.fingerprint} is pinned"
        )
    if fingerprint(keys.signing_key, keys.encryption_key) != keys.fingerprint:
        raise Rejected(f"{where}: the fingerprint does not match the new keys")
    try:
        VerifyKey(unb64(keys.signing_key)).verify(
            _proof_document(peer.name, keys.model_dump(mode="json")), unb64(keys.proof)
        )
        until = parse_iso(keys.overlap_until)
    except (BadSignatureError, ValueError, TypeError):
        raise Rejected(f"{where}: the new key's proof does not verify") from None
    now = utcnow()
    until = min(max(until, now), now + MAX_OVERLAP)
    session.add(
        KeyHistory(
            owner=peer.name,
            signing_key=peer.signing_key,
            encryption_key=peer.encryption_key,
            fingerprint=peer.fingerprint,
            valid_from=peer.added_at,
            valid_until=until,
            replaced_by=keys.fingerprint,
        )
    )
    previous = peer.fingerprint
    peer.signing_key, peer.encryption_key = keys.signing_key, keys.encryption_key
    peer.fingerprint = keys.fingerprint
    audit.record(
        session,
        actor=f"peer:{peer.name}",
        action="federation.peer_keys_rotated",
        outcome="ok",
        subject=peer.name,
        detail={"previous": previous, "new": keys.fingerprint, "overlap_until": iso(until)},
    )
    session.flush()


def revoke_key(session: Session, *, peer: str, fingerprint_: str, reason: str) -> str:
    """After a compromise confirmed out of band: `peer`'s key `fingerprint_` authenticates no
    envelope any more. An old key leaves the history's overlap at once; the current key
    disables the peer until its new card is pinned (`accord peer add NEW-CARD.json`)."""
    row = get_peer(session, peer)
    now = utcnow()
    if fingerprint_ == row.fingerprint:
        row.active = False
        session.add(
            KeyHistory(
                owner=peer,
                signing_key=row.signing_key,
                encryption_key=row.encryption_key,
                fingerprint=row.fingerprint,
                valid_from=row.added_at,
                valid_until=now,
                revoked_at=now,
                revoked_reason=reason,
            )
        )
        outcome = "the current key: the peer is disabled until its new card is pinned"
    else:
        old = session.scalar(
            select(KeyHistory).where(
                KeyHistory.owner == peer, KeyHistory.fingerprint == fingerprint_
            )
        )
        if old is None:
            raise NotFound(f"{peer} has no key {fingerprint_} (`accord peer keys {peer}` lists)")
        old.revoked_at, old.revoked_reason = now, reason
        old.valid_until = min(old.valid_until, now)
        outcome = "an old key: no envelope signed with it is accepted any more"
    audit.record(
        session,
        actor="operator",
        action="federation.peer_key_revoked",
        outcome="ok",
        subject=peer,
        detail={"fingerprint": fingerprint_, "reason": reason, "what": outcome},
    )
    return outcome


KINDS = (
    Kind(
        ANNOUNCE_KIND,
        NodeAnnouncement,
        lambda _m: STREAM,
        handler=apply_announcement,
        immediate=True,
    ),
)
