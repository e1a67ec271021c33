"""Attaching files to cases, sending them to the peer in chunks, receiving and verifying them."""

from __future__ import annotations

import base64
import binascii
from typing import Any, BinaryIO

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.accounts.service import Principal
from accord.attachments.models import Blob
from accord.attachments.store import CHUNK, BlobStore
from accord.cases import service as cases
from accord.cases.enums import HandlingCode
from accord.cases.models import Case, CaseEvent
from accord.cases.workflow import ATTACH_ACTION
from accord.core.clock import utcnow
from accord.core.errors import Conflict, Forbidden, NotFound, NotInitialised
from accord.federation.keys import NodeIdentity
from accord.federation.kinds import Rejected
from accord.federation.outbox import enqueue

MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024
CHUNK_KIND = "blob.chunk"


class ChunkMessage(BaseModel):
    """`blob.chunk`: one piece of an attachment, encrypted in its envelope like any message."""

    model_config = ConfigDict(extra="forbid")

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0, le=MAX_ATTACHMENT_BYTES)
    index: int = Field(ge=0)
    count: int = Field(ge=1)
    data: str = Field(max_length=(CHUNK * 4) // 3 + 8)


def store_of(node: NodeIdentity) -> BlobStore:
    if node.data_dir is None:
        raise NotInitialised("this node has no data folder for attachments")
    return BlobStore(node.data_dir / "blobs", max_bytes=MAX_ATTACHMENT_BYTES)


def _chunk_count(size: int) -> int:
    return max(1, -(-size // CHUNK))


def attach(
    session: Session,
    *,
    node: NodeIdentity,
    reference: str,
    content: BinaryIO,
    filename: str,
    media_type: str,
    handling_code: HandlingCode,
    description: str,
    officer: str,
) -> cases.Acted:
    """Store the file, record it in the case log, and queue its chunks for the peer."""
    store = store_of(node)
    sha, size = store.put(content)
    if session.get(Blob, sha) is None:
        session.add(
            Blob(
                sha256=sha,
                size=size,
                chunks=_chunk_count(size),
                complete=True,
                origin=node.name,
                created_at=utcnow(),
                completed_at=utcnow(),
            )
        )
    acted = cases.act(
        session,
        node=node,
        reference=reference,
        action=ATTACH_ACTION,
        payload={
            "sha256": sha,
            "filename": filename,
            "size": size,
            "media_type": media_type or "application/octet-stream",
            "handling_code": handling_code.value,
            "description": description,
        },
        officer=officer,
    )
    if acted.case.shared:
        _send(session, node, acted.case, sha, size)
    return acted


def _send(session: Session, node: NodeIdentity, case: Case, sha: str, size: int) -> None:
    count = _chunk_count(size)
    blocks = store_of(node).chunks(sha) if size else iter([b""])
    for index, block in enumerate(blocks):
        message = ChunkMessage(
            sha256=sha,
            size=size,
            index=index,
            count=count,
            data=base64.b64encode(block).decode("ascii"),
        )
        enqueue(
            session,
            peer=case.peer,
            stream=f"blob:{sha}",
            kind=CHUNK_KIND,
            body=message.model_dump(),
        )


def send_backlog(session: Session, node: NodeIdentity, case: Case, events: list[CaseEvent]) -> None:
    """When a case is first shared, the files attached while it was a draft go with it."""
    for event in events:
        if event.action == ATTACH_ACTION and store_of(node).has(event.payload["sha256"]):
            _send(session, node, case, event.payload["sha256"], int(event.payload["size"]))


def receive_chunk(session: Session, node: NodeIdentity, sender: str, message: Any) -> None:
    """Keep one chunk; with the last one, join them and keep the file only if its hash holds."""
    assert isinstance(message, ChunkMessage)
    if message.count != _chunk_count(message.size) or message.index >= message.count:
        raise Rejected(
            f"blob {message.sha256}: chunk {message.index} of {message.count} "
            f"does not fit a size of {message.size} bytes"
        )
    existing = session.get(Blob, message.sha256)
    if existing is not None and existing.complete:
        return
    try:
        data = base64.b64decode(message.data, validate=True)
    except (binascii.Error, ValueError):
        raise Rejected(f"blob {message.sha256}: chunk {message.index} is not base64") from None
    last = message.index == message.count - 1
    expected = message.size - CHUNK * (message.count - 1) if last else CHUNK
    if len(data) != expected:
        raise Rejected(
            f"blob {message.sha256}: chunk {message.index} has {len(data)} bytes, "
            f"expected {expected}"
        )
    store = store_of(node)
    store.put_chunk(message.sha256, message.index, data)
    complete = store.received(message.sha256) == message.count
    if complete and not store.assemble(message.sha256, message.size):
        raise Rejected(
            f"blob {message.sha256}: the joined chunks do not match the SHA-256; "
            "discarded, the sender must send it again"
        )
    if existing is None:
        existing = Blob(
            sha256=message.sha256,
            size=message.size,
            chunks=message.count,
            complete=False,
            origin=sender,
            created_at=utcnow(),
        )
        session.add(existing)
    if complete:
        existing.complete = True
        existing.completed_at = utcnow()


def attachments_of(session: Session, *, case: Case) -> list[dict[str, Any]]:
    """The case's attachments, each with whether its content is here and verified."""
    events = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.action == ATTACH_ACTION)
        .order_by(CaseEvent.seq)
    )
    out: list[dict[str, Any]] = []
    for event in events:
        blob = session.get(Blob, event.payload["sha256"])
        out.append(
            {
                **event.payload,
                "seq": event.seq,
                "by": event.actor_node,
                "available": bool(blob and blob.complete),
            }
        )
    return out


def open_attachment(
    session: Session, *, node: NodeIdentity, reference: str, sha256: str, viewer: Principal
) -> tuple[Any, dict[str, Any]]:
    """The file's path and its log record, if the viewer may see the case and it is here."""
    case = cases.get_visible_case(session, reference=reference, viewer=viewer)
    records = [a for a in attachments_of(session, case=case) if a["sha256"] == sha256]
    if not records:
        raise NotFound(f"case {reference} has no attachment {sha256}")
    if not records[0]["available"]:
        raise Conflict(f"attachment {sha256} is still on its way from {case.peer}")
    return store_of(node).path(sha256), records[0]


def h2_items(session: Session, *, case: Case) -> list[str]:
    """What in the case carries H2 (no third party without consent): refuses export/forwarding."""
    items: list[str] = []
    if case.handling_code == HandlingCode.H2.value:
        items.append(f"the case {case.reference}")
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))
    for event in events:
        if _carries_h2(event.payload):
            items.append(f"event {event.seq} ({event.action})")
    return items


def _carries_h2(value: Any) -> bool:
    if isinstance(value, dict):
        if value.get("handling_code") == HandlingCode.H2.value:
            return True
        return any(_carries_h2(v) for v in value.values())
    if isinstance(value, list):
        return any(_carries_h2(v) for v in value)
    return False


def export_case(session: Session, *, reference: str, viewer: Principal) -> dict[str, Any]:
    """The case log and attachment list as one document, unless something in it is H2."""
    case = cases.get_visible_case(session, reference=reference, viewer=viewer)
    restricted = h2_items(session, case=case)
    if restricted:
        raise Forbidden(
            "H2 (no third party without the sender's consent) forbids exporting "
            + ", ".join(restricted),
            detail={"restricted": restricted},
        )
    from accord.cases.schemas import EventOut

    return {
        "reference": case.reference,
        "head_hash": case.head_hash,
        "log": [
            EventOut.model_validate(e).model_dump(mode="json")
            for e in cases.case_log(session, reference=reference)
        ],
        "attachments": attachments_of(session, case=case),
    }
