"""REST API for cases (/api/v1/cases): create, list, show, act, log, verify, share.

Each route declares the permission it needs; need-to-know (unit or explicit share) is checked
by the service; every read of case content and every action is written to the audit log.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from accord.accounts.service import Principal
from accord.api import RuntimeDep, audited, require
from accord.cases import notices, service
from accord.cases.definitions.notices import Shape as NoticeShape
from accord.cases.diagram import render_svg
from accord.cases.schemas import (
    ActionRequest,
    ActOutcome,
    CaseCreate,
    CaseDetail,
    CaseOut,
    EventOut,
    NoticeImport,
    NoticeImported,
    NoticePageImported,
    NoticeResult,
    PendingOut,
    VerifyOut,
)
from accord.core.labels import Lang
from accord.core.permissions import Permission
from accord.core.schemas import MAX_OFFSET, Page
from accord.federation.client import asker
from accord.idempotency.http import IdempotencyKeyHeader, answer_once
from accord.idempotency.service import Answer
from accord.runtime import Runtime

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])

Reader = Annotated[Principal, Depends(require(Permission.CASE_READ))]
Opener = Annotated[Principal, Depends(require(Permission.CASE_OPEN))]
Actor = Annotated[Principal, Depends(require(Permission.CASE_ACT))]
Sharer = Annotated[Principal, Depends(require(Permission.CASE_SHARE))]


def _open(
    runtime: Runtime,
    officer: Principal,
    request: Request,
    body: CaseCreate,
    key: str | None,
    sent: BaseModel,
) -> Response:
    """Open the case `body` describes; `sent` is the request's body as sent (the fingerprint of
    an Idempotency-Key)."""

    def perform(session: Session) -> Answer:
        node = runtime.node
        case = service.open_case(
            session,
            node=node,
            case_type=body.case_type,
            peer=body.peer,
            area=body.area,
            priority=body.priority,
            handling_code=body.handling_code,
            title=body.title,
            details=body.details,
            officer=officer.officer,
            unit=officer.unit,
        )
        audited(session, officer, "case.open", request, subject=case.reference)
        detail = service.describe(session, case=case, node_name=node.name)
        return Answer(201, detail.model_dump(mode="json"))

    return answer_once(
        runtime,
        request,
        officer=officer,
        key=key,
        body=sent.model_dump(mode="json"),
        perform=perform,
    )


@router.post("", status_code=201, response_model=CaseDetail)
def create_case(
    body: CaseCreate,
    runtime: RuntimeDep,
    officer: Opener,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    return _open(runtime, officer, request, body, idempotency_key, body)


def _notice_result(outcome: notices.NoticeOutcome) -> NoticeResult:
    return NoticeResult(
        position=outcome.position,
        notice_id=outcome.notice_id,
        kind=outcome.kind,
        outcome=outcome.outcome,
        explanation=outcome.explanation,
        reference=outcome.case.reference if outcome.case is not None else None,
        event_seq=outcome.event.seq if outcome.event is not None else None,
    )


@router.post(
    "/notices",
    status_code=201,
    response_model=NoticeImported | NoticePageImported,
    responses={200: {"description": "linked to or updated the case that holds the notice"}},
)
def import_notice(
    body: NoticeImport,
    runtime: RuntimeDep,
    officer: Opener,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Import a file of INTERPOL's public notices API: a red or yellow notice opens a fugitive
    case (201), or links to the case that already holds it, or updates that case from a newer
    notice (200, `notice.outcome` says which); a search page is answered notice by notice. An
    images listing or any other file is refused with what it is."""

    def perform(session: Session) -> Answer:
        node = runtime.node
        imported = notices.import_notices(
            session,
            node=node,
            peer=body.peer,
            raw=notices.notice_bytes(body.notice),
            priority=body.priority,
            handling_code=body.handling_code,
            officer=officer.officer,
            unit=officer.unit,
        )
        results = [_notice_result(o) for o in imported.outcomes]
        opened = any(o.outcome == notices.OPENED for o in imported.outcomes)
        for outcome in imported.outcomes:
            if outcome.case is not None:
                action = "case.open" if outcome.outcome == notices.OPENED else "case.read"
                audited(session, officer, action, request, subject=outcome.case.reference)
        if imported.file.shape is NoticeShape.SEARCH_PAGE:
            page = NoticePageImported(
                file_shape=imported.file.shape.value,
                file_sha256=imported.file.sha256,
                notices=results,
            )
            return Answer(201 if opened else 200, page.model_dump(mode="json"))
        (outcome,) = imported.outcomes
        assert outcome.case is not None, "a single notice that is not read is refused"
        detail = service.describe(session, case=outcome.case, node_name=node.name)
        answer = NoticeImported(
            **detail.model_dump(),
            notice=results[0],
            file_shape=imported.file.shape.value,
            file_sha256=imported.file.sha256,
        )
        return Answer(201 if opened else 200, answer.model_dump(mode="json"))

    return answer_once(
        runtime,
        request,
        officer=officer,
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        perform=perform,
    )


@router.get("")
def list_cases(
    runtime: RuntimeDep,
    viewer: Reader,
    request: Request,
    state: str | None = None,
    case_type: str | None = None,
    due_within_hours: float | None = Query(
        None, ge=0, le=24 * 365, description="only cases with a deadline due within (0: overdue)"
    ),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
    limit: int = Query(50, ge=1, le=500),
) -> Page[CaseOut]:
    """Cases this officer may see; `due_within_hours` lists what is overdue or due soon."""
    due = timedelta(hours=due_within_hours) if due_within_hours is not None else None
    with runtime.transaction() as session:
        rows, total = service.list_cases(
            session,
            state=state,
            case_type=case_type,
            due_within=due,
            viewer=viewer,
            offset=offset,
            limit=limit,
        )
        audited(session, viewer, "case.list", request, detail={"count": len(rows)})
        items: list[CaseOut] = [
            service.describe(session, case=c, node_name=runtime.node.name, detailed=False)
            for c in rows
        ]
        return Page[CaseOut](items=items, total=total, offset=offset, limit=limit)


@router.get("/{reference}")
def show_case(reference: str, runtime: RuntimeDep, viewer: Reader, request: Request) -> CaseDetail:
    with runtime.transaction() as session:
        case = service.get_visible_case(session, reference=reference, viewer=viewer)
        audited(session, viewer, "case.read", request, subject=reference)
        return service.describe(session, case=case, node_name=runtime.node.name)


@router.post("/{reference}/actions", status_code=201, response_model=ActOutcome)
def act(
    reference: str,
    body: ActionRequest,
    runtime: RuntimeDep,
    officer: Actor,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Applied at once (201) when this node sequences the case, else pending (202)."""
    officer.require(Permission.CASE_ACT)

    def perform(session: Session) -> Answer:
        case = service.get_visible_case(session, reference=reference, viewer=officer)
        declared = runtime.case_types.workflow(case.case_type).action(body.action)
        officer.require_action(review=declared.review)
        acted = service.act(
            session,
            node=runtime.node,
            reference=reference,
            action=body.action,
            payload=body.payload,
            officer=officer.officer,
        )
        audited(session, officer, f"case.act.{body.action}", request, subject=reference)
        if acted.event is not None:
            applied = ActOutcome(
                reference=reference, status="applied", event=EventOut.model_validate(acted.event)
            )
            return Answer(201, applied.model_dump(mode="json"))
        pending = ActOutcome(
            reference=reference, status="pending", pending=PendingOut.model_validate(acted.pending)
        )
        return Answer(202, pending.model_dump(mode="json"))

    return answer_once(
        runtime,
        request,
        officer=officer,
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        perform=perform,
    )


class ShareRequest(BaseModel):
    username: str = Field(min_length=1, max_length=100)


@router.post("/{reference}/shares", status_code=204)
def share_case(
    reference: str, body: ShareRequest, runtime: RuntimeDep, officer: Sharer, request: Request
) -> Response:
    """Share the case with one officer outside its unit (need-to-know)."""
    with runtime.transaction() as session:
        service.share_case(session, reference=reference, username=body.username, by=officer)
        audited(
            session,
            officer,
            "case.share",
            request,
            subject=reference,
            detail={"with": body.username},
        )
    return Response(status_code=204)


@router.get("/{reference}/diagram.svg", response_class=Response)
def case_diagram(
    reference: str, runtime: RuntimeDep, viewer: Reader, lang: Lang = "en"
) -> Response:
    """The case's workflow with its current state highlighted."""
    with runtime.reading() as session:
        case = service.get_visible_case(session, reference=reference, viewer=viewer)
        svg = render_svg(runtime.case_types.workflow(case.case_type), current=case.state, lang=lang)
    return Response(content=svg, media_type="image/svg+xml")


@router.get("/{reference}/log")
def case_log(
    reference: str, runtime: RuntimeDep, viewer: Reader, request: Request
) -> list[EventOut]:
    with runtime.transaction() as session:
        service.get_visible_case(session, reference=reference, viewer=viewer)
        audited(session, viewer, "case.read_log", request, subject=reference)
        return [EventOut.model_validate(e) for e in service.case_log(session, reference=reference)]


@router.get("/{reference}/verify")
def verify_case(reference: str, runtime: RuntimeDep, viewer: Reader) -> VerifyOut:
    node = runtime.node
    with runtime.reading() as session:
        service.get_visible_case(session, reference=reference, viewer=viewer)
        return service.verify(session, node=node, reference=reference, ask=asker(session, node))
