"""REST API for cases (/api/v1/cases): create, list, show, act, log, verify."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Query, Response

from accord.api import RuntimeDep, TokenDep
from accord.cases import service
from accord.cases.definitions import workflow_for
from accord.cases.definitions.fugitive import notice_from_interpol, notice_title
from accord.cases.diagram import render_svg
from accord.cases.enums import Area
from accord.cases.schemas import (
    ActionRequest,
    ActOutcome,
    CaseCreate,
    CaseDetail,
    CaseOut,
    EventOut,
    NoticeImport,
    PendingOut,
    VerifyOut,
)
from accord.core.labels import Lang
from accord.core.schemas import Page
from accord.federation.client import asker

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])


@router.post("", status_code=201)
def create_case(body: CaseCreate, runtime: RuntimeDep, token: TokenDep) -> CaseDetail:
    node = runtime.node
    with runtime.transaction() as session:
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
            officer=body.officer or token,
        )
        return service.describe(session, case=case, node_name=node.name)


@router.post("/notices", status_code=201)
def import_notice(body: NoticeImport, runtime: RuntimeDep, token: TokenDep) -> CaseDetail:
    """Open a fugitive case from a notice (INTERPOL public notice JSON fields)."""
    node = runtime.node
    details = notice_from_interpol(body.notice)
    with runtime.transaction() as session:
        case = service.open_case(
            session,
            node=node,
            case_type="fugitive",
            peer=body.peer,
            area=Area.FUGITIVES,
            priority=body.priority,
            handling_code=body.handling_code,
            title=notice_title(details),
            details=details,
            officer=body.officer or token,
        )
        return service.describe(session, case=case, node_name=node.name)


@router.get("")
def list_cases(
    runtime: RuntimeDep,
    _token: TokenDep,
    state: str | None = None,
    case_type: str | None = None,
    due_within_hours: float | None = Query(
        None, ge=0, le=24 * 365, description="only cases with a deadline due within (0: overdue)"
    ),
    offset: int = Query(0, ge=0),
    limit: int = Query(50, ge=1, le=500),
) -> Page[CaseOut]:
    """Cases on this node; `due_within_hours` lists what is overdue or due soon, soonest first."""
    due = timedelta(hours=due_within_hours) if due_within_hours is not None else None
    with runtime.reading() as session:
        rows, total = service.list_cases(
            session, state=state, case_type=case_type, due_within=due, offset=offset, limit=limit
        )
        items: list[CaseOut] = [
            service.describe(session, case=c, node_name=runtime.node.name, detailed=False)
            for c in rows
        ]
        return Page[CaseOut](items=items, total=total, offset=offset, limit=limit)


@router.get("/{reference}")
def show_case(reference: str, runtime: RuntimeDep, _token: TokenDep) -> CaseDetail:
    with runtime.reading() as session:
        case = service.get_case(session, reference=reference)
        return service.describe(session, case=case, node_name=runtime.node.name)


@router.post("/{reference}/actions", status_code=201)
def act(
    reference: str, body: ActionRequest, runtime: RuntimeDep, token: TokenDep, response: Response
) -> ActOutcome:
    """Applied at once (201) when this node sequences the case, else pending (202)."""
    with runtime.transaction() as session:
        acted = service.act(
            session,
            node=runtime.node,
            reference=reference,
            action=body.action,
            payload=body.payload,
            officer=body.officer or token,
        )
        if acted.event is not None:
            return ActOutcome(
                reference=reference, status="applied", event=EventOut.model_validate(acted.event)
            )
        response.status_code = 202
        return ActOutcome(
            reference=reference, status="pending", pending=PendingOut.model_validate(acted.pending)
        )


@router.get("/{reference}/diagram.svg", response_class=Response)
def case_diagram(
    reference: str, runtime: RuntimeDep, _token: TokenDep, lang: Lang = "en"
) -> Response:
    """The case's workflow with its current state highlighted."""
    with runtime.reading() as session:
        case = service.get_case(session, reference=reference)
        svg = render_svg(workflow_for(case.case_type), current=case.state, lang=lang)
    return Response(content=svg, media_type="image/svg+xml")


@router.get("/{reference}/log")
def case_log(reference: str, runtime: RuntimeDep, _token: TokenDep) -> list[EventOut]:
    with runtime.reading() as session:
        return [EventOut.model_validate(e) for e in service.case_log(session, reference=reference)]


@router.get("/{reference}/verify")
def verify_case(reference: str, runtime: RuntimeDep, _token: TokenDep) -> VerifyOut:
    node = runtime.node
    with runtime.reading() as session:
        return service.verify(
            session,
            node=node,
            reference=reference,
            ask=asker(session, node),
        )
