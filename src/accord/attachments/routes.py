"""REST API for attachments (/api/v1/cases/{ref}/attachments) and the case export."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from accord.accounts.service import Principal
from accord.api import RuntimeDep, audited, require
from accord.attachments import service
from accord.cases import service as cases
from accord.cases.enums import HandlingCode
from accord.cases.schemas import ActOutcome, EventOut, PendingOut
from accord.core.errors import Forbidden
from accord.core.media import download_headers
from accord.core.permissions import Permission
from accord.idempotency.http import IdempotencyKeyHeader, answer_once
from accord.idempotency.service import Answer

router = APIRouter(prefix="/api/v1/cases", tags=["attachments"])

Reader = Annotated[Principal, Depends(require(Permission.CASE_READ))]
Writer = Annotated[Principal, Depends(require(Permission.ATTACHMENT_WRITE))]


def _sha256_of(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    while block := stream.read(1024 * 1024):
        digest.update(block)
    stream.seek(0)
    return digest.hexdigest()


@router.post("/{reference}/attachments", status_code=201, response_model=ActOutcome)
def upload(
    reference: str,
    runtime: RuntimeDep,
    officer: Writer,
    request: Request,
    file: Annotated[UploadFile, File(description="the file; its SHA-256 names it")],
    handling_code: Annotated[HandlingCode, Form()] = HandlingCode.H0,
    description: Annotated[str, Form(max_length=2000)] = "",
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Attach a file: stored by its hash, recorded in the log, sent to the peer in chunks."""
    filename = file.filename or "attachment"
    media_type = file.content_type or "application/octet-stream"

    def perform(session: Session) -> Answer:
        cases.get_visible_case(session, reference=reference, viewer=officer)
        acted = service.attach(
            session,
            node=runtime.node,
            reference=reference,
            content=file.file,
            filename=filename,
            media_type=media_type,
            handling_code=handling_code,
            description=description,
            officer=officer.officer,
        )
        audited(session, officer, "attachment.upload", request, subject=reference)
        if acted.event is not None:
            applied = ActOutcome(
                reference=reference, status="applied", event=EventOut.model_validate(acted.event)
            )
            return Answer(201, applied.model_dump(mode="json"))
        pending = ActOutcome(
            reference=reference, status="pending", pending=PendingOut.model_validate(acted.pending)
        )
        return Answer(201, pending.model_dump(mode="json"))

    sent: dict[str, object] = {}
    if idempotency_key is not None:  # the file is read twice only when a key asks for it
        sent = {
            "sha256": _sha256_of(file.file),
            "filename": filename,
            "media_type": media_type,
            "handling_code": handling_code.value,
            "description": description,
        }
    return answer_once(
        runtime, request, officer=officer, key=idempotency_key, body=sent, perform=perform
    )


@router.get("/{reference}/attachments")
def list_attachments(reference: str, runtime: RuntimeDep, viewer: Reader) -> list[dict[str, Any]]:
    """The case's files with their SHA-256 and whether the content is here and verified."""
    with runtime.reading() as session:
        case = cases.get_visible_case(session, reference=reference, viewer=viewer)
        return service.attachments_of(session, case=case)


@router.get("/{reference}/attachments/{sha256}")
def download(
    reference: str, sha256: str, runtime: RuntimeDep, viewer: Reader, request: Request
) -> FileResponse:
    """One file of the case, if the case names it and holds it (404 "no such file on this
    case" otherwise, 409 while it is on its way); Content-Type and Content-Disposition are made
    safe whatever the record holds (RFC 6838, RFC 6266 with RFC 5987 `filename*`); audited."""
    with runtime.transaction() as session:
        path, record = service.open_attachment(
            session, node=runtime.node, reference=reference, sha256=sha256, viewer=viewer
        )
        audited(
            session,
            viewer,
            "attachment.download",
            request,
            subject=reference,
            detail={"sha256": sha256, "handling_code": record["handling_code"]},
        )
    return FileResponse(path, headers=download_headers(record["filename"], record["media_type"]))


@router.get("/{reference}/export")
def export(reference: str, runtime: RuntimeDep, viewer: Reader, request: Request) -> Any:
    """The whole case as one document. Refused (403) if anything in it is H2; audited."""
    try:
        with runtime.transaction() as session:
            document = service.export_case(session, reference=reference, viewer=viewer)
            audited(session, viewer, "case.export", request, subject=reference)
            return document
    except Forbidden as refusal:
        with runtime.transaction() as session:
            audited(
                session,
                viewer,
                "case.export",
                request,
                subject=reference,
                outcome="refused",
                detail={"reason": refusal.message},
            )
        raise
