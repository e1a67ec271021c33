"""Pinning peers from their cards, and looking them up."""

from __future__ import annotations

from nacl.public import PublicKey
from nacl.signing import VerifyKey
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from accord.audit import service as audit
from accord.core.clock import new_id, utcnow
from accord.core.errors import Conflict, InvalidInput, NotFound
from accord.federation.keys import KeyRing, PeerKeys, fingerprint, unb64
from accord.federation.models import KeyHistory, Peer
from accord.federation.schemas import NodeCard
from accord.federation.tls import check_ca_bundle, normalise_pin


def add_peer(
    session: Session, *, card: NodeCard, own_name: str, own_namespace: str | None = None
) -> Peer:
    """Pin a peer's endpoint, public keys and reference namespace, after checking the card's
    fingerprint. Two nodes never share a namespace: each sequences its own references."""
    if card.name == own_name:
        raise InvalidInput(f"{card.name!r} is this node's own card; add the other node's card")
    expected = fingerprint(card.signing_key, card.encryption_key)
    if expected != card.fingerprint:
        raise InvalidInput(
            f"card of {card.name!r}: fingerprint {card.fingerprint} does not match its keys "
            f"({expected}); ask the peer for a fresh card"
        )
    existing = session.scalar(select(Peer).where(Peer.name == card.name))
    _check_namespace(session, card, own_namespace, existing)
    if existing is not None:
        if existing.fingerprint == card.fingerprint and _revoked(session, existing):
            raise Conflict(
                f"the keys of {card.name!r} in this card (fingerprint {card.fingerprint}) were "
                "revoked: ask the peer's operator for a card with new keys"
            )
        if existing.fingerprint == card.fingerprint:
            existing.endpoint = card.endpoint
            existing.active = True
            return existing
        if not existing.active and _revoked(session, existing):
            # its key was revoked after a compromise: the new card, checked out of band, replaces it
            existing.signing_key, existing.encryption_key = card.signing_key, card.encryption_key
            existing.fingerprint, existing.endpoint = card.fingerprint, card.endpoint
            existing.active = True
            session.flush()
            return existing
        raise Conflict(
            f"peer {card.name!r} is already pinned with other keys (fingerprint "
            f"{existing.fingerprint}); the peer rotates its keys with `accord keys rotate`, "
            "which announces them; after a compromise, revoke the old key first "
            f"(`accord peer revoke-key {card.name} FINGERPRINT`)"
        )
    peer = Peer(
        id=new_id(),
        name=card.name,
        country=card.country,
        endpoint=card.endpoint,
        signing_key=card.signing_key,
        encryption_key=card.encryption_key,
        fingerprint=card.fingerprint,
        namespace=card.reference_namespace,
        added_at=utcnow(),
        active=True,
    )
    session.add(peer)
    session.flush()
    return peer


def _revoked(session: Session, peer: Peer) -> bool:
    return (
        session.scalar(
            select(KeyHistory.id).where(
                KeyHistory.owner == peer.name,
                KeyHistory.fingerprint == peer.fingerprint,
                KeyHistory.revoked_at.is_not(None),
            )
        )
        is not None
    )


def _check_namespace(
    session: Session, card: NodeCard, own_namespace: str | None, existing: Peer | None
) -> None:
    namespace = card.reference_namespace
    if own_namespace is not None and namespace == own_namespace:
        raise Conflict(
            f"card of {card.name!r} claims the reference namespace {namespace!r}, which is this "
            "node's own: the peer must choose another (`accord init --namespace`)"
        )
    for other in session.scalars(select(Peer).where(Peer.name != card.name)):
        if peer_namespace(other) == namespace:
            raise Conflict(
                f"card of {card.name!r} claims the reference namespace {namespace!r}, which peer "
                f"{other.name!r} holds: each node's references must be its own"
            )
    if existing is not None and peer_namespace(existing) != namespace:
        raise Conflict(
            f"peer {card.name!r} is pinned with the reference namespace "
            f"{peer_namespace(existing)!r}, not {namespace!r}"
        )


def set_trust(
    session: Session,
    *,
    name: str,
    ca_pem: str | None = None,
    pin: str | None = None,
    system: bool = False,
    actor: str = "operator",
) -> Peer:
    """Set how this node trusts `name`'s TLS certificate: its CA (added to the system bundle
    for this peer only), a pin, or (`system`) the system bundle alone. Audited."""
    if system and (ca_pem or pin):
        raise InvalidInput("--system trusts the system bundle alone: give no --ca-file or --pin")
    if not system and not (ca_pem or pin):
        raise InvalidInput("give --ca-file, --pin, or --system to trust the system bundle alone")
    peer = get_peer(session, name)
    before = {"ca": bool(peer.tls_ca), "pin": peer.tls_pin}
    peer.tls_ca = check_ca_bundle(ca_pem, "the CA file") if ca_pem else None
    peer.tls_pin = normalise_pin(pin) if pin else None
    audit.record(
        session,
        actor=actor,
        action="federation.peer_tls_trust",
        outcome="ok",
        subject=name,
        detail={"before": before, "after": {"ca": bool(peer.tls_ca), "pin": peer.tls_pin}},
    )
    return peer


def peer_namespace(peer: Peer) -> str:
    """The middle part of the references `peer` sequences."""
    return peer.namespace or peer.country


def list_peers(session: Session) -> list[Peer]:
    return list(session.scalars(select(Peer).order_by(Peer.name)))


def find_peer(session: Session, name: str) -> Peer | None:
    return session.scalar(select(Peer).where(Peer.name == name, Peer.active.is_(True)))


def get_peer(session: Session, name: str) -> Peer:
    peer = find_peer(session, name)
    if peer is None:
        known = ", ".join(p.name for p in list_peers(session)) or "none yet"
        raise NotFound(f"no peer named {name!r} (peers: {known}); pin it with `accord peer add`")
    return peer


def key_history(session: Session, owner: str) -> list[KeyHistory]:
    """The keys `owner` (a peer, or this node) held before its rotations, newest first."""
    return list(
        session.scalars(
            select(KeyHistory).where(KeyHistory.owner == owner).order_by(KeyHistory.id.desc())
        )
    )


def peer_keys(peer: Peer) -> PeerKeys:
    """The peer's pinned keys with the history of its rotations: what it sends verifies with
    its current key or, until the overlap ends, with the key before; its acts with any key it
    held that was not revoked."""
    current = PeerKeys.from_b64(peer.name, peer.signing_key, peer.encryption_key)
    session = object_session(peer)
    history = key_history(session, peer.name) if session is not None else []
    if not history:
        return current
    now = utcnow()
    assert isinstance(current.verify, VerifyKey)
    overlap = [h for h in history if h.revoked_at is None and h.valid_until > now]
    kept = history  # acts were checked when they arrived: they keep verifying, revoked or not
    return PeerKeys(
        name=peer.name,
        verify=KeyRing([current.verify, *(VerifyKey(unb64(h.signing_key)) for h in overlap)]),
        encryption=current.encryption,
        acts=KeyRing([current.verify, *(VerifyKey(unb64(h.signing_key)) for h in kept)]),
        older=tuple(PublicKey(unb64(h.encryption_key)) for h in overlap),
    )
