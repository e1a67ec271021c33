"""Anchors of the audit log: its head (an entry's id and hash) signed by this node and given to
each peer inside the checkpoints they exchange, so that the peer's copy shows our log was
neither shortened nor rewritten up to that entry.

The hash chain alone shows an entry edited or removed in the middle; it cannot show entries
removed from the end, or a log rewritten from the start and chained anew. An anchor the peer
holds can: the entry it names must still be there, with that hash. The peer answers which of
our anchors it holds through a signed federation answer (`audit.anchors`), and each anchor
carries our own signature, so the peer can neither invent one nor alter one.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nacl.exceptions import BadSignatureError
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.audit.models import AuditAnchor, AuditEntry
from accord.audit.schemas import AnchorsQuery, AuditAnchorMessage
from accord.core.canonical import canonical_bytes
from accord.core.clock import iso, utcnow
from accord.federation.keys import NodeIdentity, Verifier, b64, unb64
from accord.federation.kinds import Kind, Rejected

PURPOSE = "accord.audit.anchor/1"
ANCHORS_QUERY_KIND = "audit.anchors"


def anchor_document(anchor: AuditAnchorMessage | AuditAnchor) -> dict[str, Any]:
    """What the anchor's signature covers: no checkpoint, act or envelope signed with the same
    key can pass for one."""
    return {
        "purpose": PURPOSE,
        "node": anchor.node,
        "peer": anchor.peer,
        "entry_id": anchor.entry_id,
        "entry_hash": anchor.entry_hash,
        "made_at": anchor.made_at,
    }


def _message(row: AuditAnchor) -> AuditAnchorMessage:
    return AuditAnchorMessage(
        node=row.node,
        peer=row.peer,
        entry_id=row.entry_id,
        entry_hash=row.entry_hash,
        made_at=row.made_at,
        signature=row.signature,
    )


def give_anchor(session: Session, *, node: NodeIdentity, peer: str) -> AuditAnchorMessage | None:
    """Our audit log's head as it is now, signed for `peer` and kept here as given (our own
    record of what the peer holds); the last one given again while the head has not moved.
    None while the log is empty."""
    head = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    if head is None:
        return None
    entry_id, entry_hash = head
    last = session.scalars(
        select(AuditAnchor)
        .where(AuditAnchor.node == node.name, AuditAnchor.peer == peer)
        .order_by(AuditAnchor.id.desc())
        .limit(1)
    ).first()
    if last is not None and last.entry_id == entry_id and last.entry_hash == entry_hash:
        return _message(last)
    now = utcnow()
    row = AuditAnchor(
        node=node.name,
        peer=peer,
        entry_id=entry_id,
        entry_hash=entry_hash,
        made_at=iso(now),
        signature="",
        kept_at=now,
    )
    row.signature = b64(node.signing.sign(canonical_bytes(anchor_document(row))).signature)
    session.add(row)
    return _message(row)


def anchor_verifies(anchor: AuditAnchorMessage | AuditAnchor, key: Verifier) -> bool:
    """Whether the anchor's signature is `key`'s over its document."""
    try:
        key.verify(canonical_bytes(anchor_document(anchor)), unb64(anchor.signature))
    except (BadSignatureError, binascii.Error, ValueError):
        return False
    return True


def check_peer_anchor(
    anchor: AuditAnchorMessage, *, sender: str, receiver: str, key: Verifier
) -> None:
    """Refuse (quarantine) an anchor that is not `sender`'s, for us, by its pinned key. Called
    before the message's handler writes anything."""
    if anchor.node != sender or anchor.peer != receiver:
        raise Rejected(
            f"an audit anchor of {anchor.node}'s log for {anchor.peer}, sent by {sender} to "
            f"{receiver}"
        )
    if not anchor_verifies(anchor, key):
        raise Rejected(f"{sender}'s audit anchor at entry {anchor.entry_id}: signature invalid")


def keep_peer_anchor(session: Session, anchor: AuditAnchorMessage) -> None:
    """Keep a checked anchor of the peer's audit log (once: the same anchor again is skipped)."""
    seen = session.scalars(
        select(AuditAnchor.id).where(
            AuditAnchor.node == anchor.node,
            AuditAnchor.peer == anchor.peer,
            AuditAnchor.entry_id == anchor.entry_id,
            AuditAnchor.signature == anchor.signature,
        )
    ).first()
    if seen is not None:
        return
    session.add(
        AuditAnchor(
            node=anchor.node,
            peer=anchor.peer,
            entry_id=anchor.entry_id,
            entry_hash=anchor.entry_hash,
            made_at=anchor.made_at,
            signature=anchor.signature,
            kept_at=utcnow(),
        )
    )


def anchors_held(session: Session, node: NodeIdentity, sender: str, query: Any) -> dict[str, Any]:
    """Answer a peer's question: the anchors of its audit log it gave us, the highest entries
    first, and how many we hold."""
    limit = query.limit if isinstance(query, AnchorsQuery) else 100
    held = (AuditAnchor.node == sender, AuditAnchor.peer == node.name)
    rows = session.scalars(
        select(AuditAnchor)
        .where(*held)
        .order_by(AuditAnchor.entry_id.desc(), AuditAnchor.id.desc())
        .limit(limit)
    )
    return {
        "holder": node.name,
        "node": sender,
        "count": session.scalar(select(func.count(AuditAnchor.id)).where(*held)) or 0,
        "anchors": [_message(r).model_dump(mode="json") for r in rows],
    }


def given_anchors(session: Session, *, node: str, limit: int = 100) -> list[AuditAnchorMessage]:
    """The anchors of our log we kept as we gave them, the highest entries first."""
    rows = session.scalars(
        select(AuditAnchor)
        .where(AuditAnchor.node == node)
        .order_by(AuditAnchor.entry_id.desc(), AuditAnchor.id.desc())
        .limit(limit)
    )
    return [_message(r) for r in rows]


def check_against_anchors(
    session: Session, anchors: list[AuditAnchorMessage], *, own_key: Verifier
) -> list[str]:
    """What is wrong with our audit log against anchors of it, in words:
    an anchored entry that is gone (the log was shortened) or whose hash is not the one
    anchored (rewritten); an anchor our key did not sign is named too (not ours to trust).
    Empty when every anchored entry is there with its hash: with the chain intact
    (`service.verify`), every entry up to the highest anchor is then as it was."""
    problems: list[str] = []
    last = session.scalar(select(func.max(AuditEntry.id)))
    for anchor in anchors:
        where = f"entry {anchor.entry_id}, anchored with {anchor.peer} at {anchor.made_at}"
        if not anchor_verifies(anchor, own_key):
            problems.append(f"{where}: the anchor is not signed by this node's key; ignored")
            continue
        entry_hash = session.scalar(select(AuditEntry.hash).where(AuditEntry.id == anchor.entry_id))
        if entry_hash is None:
            if last is None or last < anchor.entry_id:
                problems.append(
                    f"{where}: missing, the log now ends at entry {last or 0}: the audit log "
                    "was truncated"
                )
            else:
                problems.append(f"{where}: missing from the log: entries were removed")
        elif entry_hash != anchor.entry_hash:
            problems.append(
                f"{where}: its hash is not the one anchored: the audit log was rewritten"
            )
    return problems


Ask = Callable[[str, str, dict[str, Any]], dict[str, Any]]
"""(peer name, query kind, body) -> the peer's verified answer (`federation.client.asker`)"""


@dataclass
class PeerCheck:
    """Our audit log checked against the anchors of it one peer holds."""

    peer: str
    held: int = 0
    """How many anchors of our log the peer says it holds."""
    highest: int | None = None
    """The highest entry they anchor: up to it the log is as it was, if there is no problem."""
    problems: list[str] = field(default_factory=list)


def check_against_peer(session: Session, *, node: NodeIdentity, peer: str, ask: Ask) -> PeerCheck:
    """Ask `peer` (a signed federation answer) which anchors of our audit log it holds and
    check our log against each: an entry anchored there that is gone or changed is named. A
    peer that holds none is a problem too: nothing then shows the log was not shortened."""
    answer = ask(peer, ANCHORS_QUERY_KIND, AnchorsQuery().model_dump())
    result = PeerCheck(peer=peer, held=int(answer.get("count") or 0))
    if answer.get("holder") != peer or answer.get("node") != node.name:
        result.problems.append(f"{peer} answered about the anchors of another node's log")
        return result
    anchors: list[AuditAnchorMessage] = []
    for raw in answer.get("anchors") or []:
        try:
            anchor = AuditAnchorMessage.model_validate(raw)
        except ValidationError as exc:
            result.problems.append(f"{peer} sent an anchor that is not one: {exc.errors()[0]}")
            continue
        if anchor.node != node.name or anchor.peer != peer:
            result.problems.append(
                f"{peer} sent an anchor of {anchor.node}'s log given to {anchor.peer}; ignored"
            )
            continue
        anchors.append(anchor)
    if not anchors:
        result.problems.append(
            f"{peer} holds no anchor of our audit log yet (anchors travel with checkpoints): "
            "nothing there shows the log was not shortened"
        )
        return result
    result.highest = max(a.entry_id for a in anchors)
    result.problems.extend(check_against_anchors(session, anchors, own_key=node.act_keys))
    return result


def _stream(_query: Any) -> str:
    return "audit"


KINDS = (Kind(ANCHORS_QUERY_KIND, AnchorsQuery, _stream, query=anchors_held),)
