"""Attaching files to cases, sending them to the peer in chunks, receiving and verifying them.

A blob is stored once, by its SHA-256, but a case holds a file only if it was uploaded to that
case here or its chunks came for that case from the peer that announced it (`attach`) in the
case's log; a file is served only through a case that holds it.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from accord.accounts.service import Principal
from accord.attachments.enums import FileStatus
from accord.attachments.models import Blob, CaseFile
from accord.attachments.store import CHUNK, BlobStore, transfer_key
from accord.cases import service as cases
from accord.cases.enums import HandlingCode
from accord.cases.models import Case, CaseEvent
from accord.cases.workflow import ATTACH_ACTION
from accord.config import Settings
from accord.core.clock import utcnow
from accord.core.db import unit_of_work
from accord.core.errors import Conflict, Forbidden, InvalidInput, NotFound, NotInitialised
from accord.core.media import FALLBACK, media_type_problem
from accord.cyber import handling
from accord.cyber.stix import parse_bundle
from accord.federation.keys import NodeIdentity
from accord.federation.kinds import Deferred, Rejected
from accord.federation.models import InboxItem
from accord.federation.outbox import enqueue

log = logging.getLogger(__name__)

MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024
CHUNK_KIND = "blob.chunk"
EXPIRY_ROUND_SECONDS = 60.0
"""How often the workers look for transfers to expire (more often if the expiry is shorter)."""


class ChunkMessage(BaseModel):
    """`blob.chunk`: one piece of an attachment, encrypted in its envelope like any message,
    sent for the case whose log announced the file."""

    model_config = ConfigDict(extra="forbid")

    reference: str = Field(min_length=1, max_length=64)
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
    media_type = media_type or FALLBACK
    problem = media_type_problem(media_type)
    if problem:  # refused before the file is stored, not after
        raise InvalidInput(f"the file's {problem}")
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
            "media_type": media_type,
            "handling_code": handling_code.value,
            "description": description,
        },
        officer=officer,
    )
    _hold(session, node, acted.case, sha, size, origin=node.name)
    if acted.case.shared:
        _send(session, node, acted.case, sha, size)
    return acted


def _hold(
    session: Session, node: NodeIdentity, case: Case, sha: str, size: int, *, origin: str
) -> None:
    """Record that `case` holds the file (its content is here, verified, for this case)."""
    now = utcnow()
    held = session.get(CaseFile, (case.id, sha))
    if held is None:
        session.add(
            CaseFile(
                case_id=case.id,
                sha256=sha,
                status=FileStatus.AVAILABLE.value,
                size=size,
                chunks=_chunk_count(size),
                origin=origin,
                started_at=now,
                completed_at=now,
            )
        )
    elif held.status != FileStatus.AVAILABLE:
        store_of(node).discard(transfer_key(case.id, sha))
        held.status, held.completed_at = FileStatus.AVAILABLE.value, now


def _send(session: Session, node: NodeIdentity, case: Case, sha: str, size: int) -> None:
    """Queue the file's chunks in the case's stream: they never overtake the event (or the
    submission) that announces the file, which the receiver needs before it takes them."""
    count = _chunk_count(size)
    blocks = store_of(node).chunks(sha) if size else iter([b""])
    for index, block in enumerate(blocks):
        message = ChunkMessage(
            reference=case.reference,
            sha256=sha,
            size=size,
            index=index,
            count=count,
            data=base64.b64encode(block).decode("ascii"),
        )
        enqueue(
            session,
            peer=case.peer,
            stream=case.reference,
            kind=CHUNK_KIND,
            body=message.model_dump(),
        )


def send_backlog(session: Session, node: NodeIdentity, case: Case, events: list[CaseEvent]) -> None:
    """When a case is first shared, the files attached while it was a draft go with it."""
    held = holdings(session, case=case)
    for event in events:
        sha = event.payload.get("sha256") if event.action == ATTACH_ACTION else None
        if sha and held.get(sha) is FileStatus.AVAILABLE and store_of(node).has(sha):
            _send(session, node, case, sha, int(event.payload["size"]))


# -- receiving --------------------------------------------------------------------------------


def receive_chunk(session: Session, node: NodeIdentity, sender: str, message: Any) -> None:
    """Keep one chunk of a file that the sender announced on a case shared with it; with the
    last one, join them and keep the file for that case only if its hash holds."""
    assert isinstance(message, ChunkMessage)
    sha, what = message.sha256, f"blob {message.sha256} for {message.reference}"
    if message.count != _chunk_count(message.size) or message.index >= message.count:
        raise Rejected(
            f"{what}: chunk {message.index} of {message.count} "
            f"does not fit a size of {message.size} bytes"
        )
    case = session.scalar(select(Case).where(Case.reference == message.reference))
    announced = _announcements(session, case, sender, sha) if case is not None else []
    sizes = sorted({int(p["size"]) for p in announced})
    if case is None or not sizes:
        if _announcement_unsettled(session, sender, message.reference):
            raise Deferred(f"{what}: waiting for the event that announces it")
        raise Rejected(
            f"{what}: no attach event of {sender} on a case shared with it announces this "
            "file; chunk refused and not kept"
        )
    if message.size not in sizes:
        raise Rejected(
            f"{what}: announced as {' or '.join(map(str, sizes))} bytes, "
            f"the chunk says {message.size}; refused"
        )
    held = session.get(CaseFile, (case.id, sha), with_for_update=True)
    if held is not None and held.status == FileStatus.AVAILABLE:
        return  # this case holds it already: a redelivered or resent chunk
    try:
        data = base64.b64decode(message.data, validate=True)
    except (binascii.Error, ValueError):
        raise Rejected(f"{what}: chunk {message.index} is not base64") from None
    last = message.index == message.count - 1
    expected = message.size - CHUNK * (message.count - 1) if last else CHUNK
    if len(data) != expected:
        raise Rejected(f"{what}: chunk {message.index} has {len(data)} bytes, expected {expected}")
    store = store_of(node)
    key = transfer_key(case.id, sha)
    store.put_chunk(key, message.index, data)
    complete = store.received(key) == message.count
    if complete and not store.assemble(key, sha, message.size):
        raise Rejected(
            f"{what}: the joined chunks do not match the SHA-256; "
            "discarded, the sender must send it again"
        )
    if complete and (refused := _stix_refusal(store, case, sha, announced)) is not None:
        if session.get(Blob, sha) is None:  # no case here holds these bytes: not kept
            store.path(sha).unlink(missing_ok=True)
        raise Rejected(f"{what}: {refused}; refused and not kept")
    now = utcnow()
    if held is None:
        held = CaseFile(
            case_id=case.id,
            sha256=sha,
            status=FileStatus.RECEIVING.value,
            size=message.size,
            chunks=message.count,
            origin=sender,
            started_at=now,
        )
        session.add(held)
    elif held.status == FileStatus.NOT_RECEIVED:  # expired before: this is a new transfer
        held.status, held.started_at = FileStatus.RECEIVING.value, now
    if complete:
        held.status, held.completed_at = FileStatus.AVAILABLE.value, now
        blob = session.get(Blob, sha)
        if blob is None:
            session.add(
                Blob(
                    sha256=sha,
                    size=message.size,
                    chunks=message.count,
                    complete=True,
                    origin=sender,
                    created_at=now,
                    completed_at=now,
                )
            )
        elif not blob.complete:
            blob.complete, blob.completed_at = True, now


def _announcements(session: Session, case: Case, sender: str, sha: str) -> list[dict[str, Any]]:
    """The attach events' payloads in which `sender` announced `sha` on `case`."""
    if not case.shared or sender != case.peer:
        return []
    payloads = session.scalars(
        select(CaseEvent.payload).where(
            CaseEvent.case_id == case.id,
            CaseEvent.action == ATTACH_ACTION,
            CaseEvent.actor_node == sender,
        )
    )
    return [p for p in payloads if p.get("sha256") == sha]


def _stix_refusal(
    store: BlobStore, case: Case, sha: str, announced: list[dict[str, Any]]
) -> str | None:
    """Why a STIX bundle the peer sent may not be held on `case` (None: it may): the TLP rule
    of `cyber.handling` holds for what arrives as it does for what we attach, so a peer cannot
    put TLP:RED objects on an H1 case, or label them with a laxer code than their markings ask."""
    types = {str(p.get("media_type") or "") for p in announced}
    if not any(t.startswith("application/stix+json") for t in types):
        return None
    try:
        parsed = parse_bundle(store.path(sha).read_bytes(), validate=False)
    except InvalidInput as exc:
        return f"announced as a STIX bundle, but {exc}"
    declared = [HandlingCode(p["handling_code"]) for p in announced if p.get("handling_code")]
    ceiling = min([HandlingCode(case.handling_code), *declared], key=list(HandlingCode).index)
    destination = handling.Destination(
        f"the case {case.reference}" + (f" as labelled ({ceiling})" if declared else ""),
        ceiling,
        "the sender must label it with a stricter handling code on a case that carries it",
    )
    try:
        handling.require_fits(parsed.objects, destination)
    except Forbidden as exc:
        return str(exc)
    return None


def _announcement_unsettled(session: Session, sender: str, reference: str) -> bool:
    """Whether an event or submission of the case from `sender` is stored but not yet applied
    (it may announce the file: a batch's envelopes may be processed out of order, and an
    event may wait for an earlier one). The chunk waits for it, and is woken when it is."""
    return (
        session.scalar(
            select(InboxItem.id)
            .where(
                InboxItem.sender == sender,
                InboxItem.stream == reference,
                InboxItem.kind.in_((cases.EVENT_KIND, cases.SUBMIT_KIND)),
                InboxItem.status.in_(("stored", "waiting")),
            )
            .limit(1)
        )
        is not None
    )


def expire_partial(session: Session, *, node: NodeIdentity, older_than: timedelta) -> int:
    """Delete the chunks of every file not completed within `older_than` of its first chunk
    (the case shows it as not received), and folders of chunks that no transfer owns (left by a
    rolled-back batch, or kept by hash alone before 0010) unchanged for as long. Returns how
    many transfers expired."""
    cutoff = utcnow() - older_than
    store = store_of(node)
    stale = session.scalars(
        select(CaseFile)
        .where(CaseFile.status == FileStatus.RECEIVING.value, CaseFile.started_at < cutoff)
        .with_for_update()
    )
    expired = 0
    for held in stale:
        store.discard(transfer_key(held.case_id, held.sha256))
        held.status = FileStatus.NOT_RECEIVED.value
        expired += 1
    active = {
        transfer_key(case_id, sha)
        for case_id, sha in session.execute(
            select(CaseFile.case_id, CaseFile.sha256).where(
                CaseFile.status == FileStatus.RECEIVING.value
            )
        )
    }
    for name, changed in list(store.transfers()):
        if name not in active and changed < cutoff.timestamp():
            store.discard(name)
    if expired:
        log.info("attachments: %d partial transfers expired and their chunks deleted", expired)
    return expired


_last_expiry_round: dict[int, float] = {}
"""When each session factory (each node's database) was last looked at, on the monotonic
clock: the workers call `expire_transfers` at every inbox round, it looks once a minute."""


def expire_transfers(factory: sessionmaker[Session], node: NodeIdentity, settings: Settings) -> int:
    """The workers' periodic job: `expire_partial` in its own transaction, at most once every
    EXPIRY_ROUND_SECONDS (or half the expiry, if shorter). A failure is logged and tried again
    at the next round; it never stops the inbox."""
    after = settings.attachment_transfer_expiry_seconds
    now = time.monotonic()
    last = _last_expiry_round.get(id(factory))
    if last is not None and now - last < min(EXPIRY_ROUND_SECONDS, after / 2):
        return 0
    _last_expiry_round[id(factory)] = now
    try:
        with unit_of_work(factory) as session:
            return expire_partial(session, node=node, older_than=timedelta(seconds=after))
    except (OSError, SQLAlchemyError):
        log.warning("attachments: expiring partial transfers failed; next round", exc_info=True)
        return 0


# -- reading ----------------------------------------------------------------------------------


def holdings(session: Session, *, case: Case) -> dict[str, FileStatus]:
    """The files `case` holds or is receiving, by SHA-256."""
    rows = session.execute(
        select(CaseFile.sha256, CaseFile.status).where(CaseFile.case_id == case.id)
    )
    return {sha: FileStatus(status) for sha, status in rows}


def file_status(held: dict[str, FileStatus], case: Case, sha: object, by: str) -> FileStatus:
    """A file named by `by` on the case: here, on its way (announced by the peer, not or not
    wholly received), or not received (its transfer expired, or our side named a file it never
    uploaded to this case)."""
    missing = FileStatus.RECEIVING if by == case.peer else FileStatus.NOT_RECEIVED
    return held.get(str(sha), missing)


def attachments_of(session: Session, *, case: Case) -> list[dict[str, Any]]:
    """The case's attachments, each with whether its content is here, for this case, verified."""
    events = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.action == ATTACH_ACTION)
        .order_by(CaseEvent.seq)
    )
    held = holdings(session, case=case)
    out: list[dict[str, Any]] = []
    for event in events:
        status = file_status(held, case, event.payload.get("sha256"), event.actor_node)
        out.append(
            {
                **event.payload,
                "seq": event.seq,
                "by": event.actor_node,
                "available": status is FileStatus.AVAILABLE,
                "status": status,
            }
        )
    return out


def _named(session: Session, case: Case, sha256: str) -> dict[str, Any] | None:
    """The case's record of the file `sha256`: its attach event, or else an evidence item of
    the log that gives that SHA-256 (named by no file name: the hash stands for it)."""
    evidence: dict[str, Any] | None = None
    for event in session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    ):
        if event.action == ATTACH_ACTION and event.payload.get("sha256") == sha256:
            return {**event.payload, "seq": event.seq, "by": event.actor_node}
        if evidence is None and (item := _evidence_item(event.payload, sha256)) is not None:
            evidence = {
                "sha256": sha256,
                "filename": sha256,
                "media_type": FALLBACK,
                "handling_code": str(item.get("handling_code") or case.handling_code),
                "description": str(item.get("description") or ""),
                "seq": event.seq,
                "by": event.actor_node,
            }
    return evidence


def _evidence_item(value: Any, sha256: str) -> dict[str, Any] | None:
    if isinstance(value, dict):
        if value.get("sha256") == sha256:
            return value
        values: Any = value.values()
    elif isinstance(value, list):
        values = value
    else:
        return None
    for inner in values:
        if (found := _evidence_item(inner, sha256)) is not None:
            return found
    return None


def open_attachment(
    session: Session, *, node: NodeIdentity, reference: str, sha256: str, viewer: Principal
) -> tuple[Path, dict[str, Any]]:
    """The file's path and its log record, if the viewer may see the case, the case names the
    file and holds it (uploaded to it here, or received for it and verified)."""
    case = cases.get_visible_case(session, reference=reference, viewer=viewer)
    record = _named(session, case, sha256)
    if record is None:
        raise NotFound(
            f"no such file on this case: {reference} names no file by that SHA-256; "
            f"GET /api/v1/cases/{reference}/attachments lists its files"
        )
    status = file_status(holdings(session, case=case), case, sha256, record["by"])
    if status is FileStatus.RECEIVING:
        raise Conflict(f"attachment {sha256} is still on its way from {case.peer}")
    if status is FileStatus.NOT_RECEIVED:
        raise Conflict(
            f"attachment {sha256} was not received on this case: no upload here, or its "
            f"transfer from {case.peer} did not complete in time and was discarded (ask "
            f"{case.peer} to attach it again)"
        )
    path = store_of(node).path(sha256)
    if not path.is_file():
        raise Conflict(f"attachment {sha256} is missing from this node's blob folder")
    return path, {**record, "status": status}


def h2_items(session: Session, *, case: Case) -> list[str]:
    """What in the case carries H2 (no third party without consent) or stricter: refuses
    export/forwarding (the one rule, `accord.cyber.handling`, says which codes may leave)."""
    items: list[str] = []
    if not handling.exportable(case.handling_code):
        items.append(f"the case {case.reference}")
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))
    for event in events:
        if _carries_h2(event.payload):
            items.append(f"event {event.seq} ({event.action})")
    return items


_CODES = {code.value for code in HandlingCode}


def _carries_h2(value: Any) -> bool:
    if isinstance(value, dict):
        code = value.get("handling_code")
        if code in _CODES and not handling.exportable(code):
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
            "H2 (no third party without the sender's consent) or H3 forbids exporting "
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
