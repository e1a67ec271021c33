"""REST API of the dialogue (/api/v1/dialogue): mechanisms, rounds and their agreed outcomes,
the briefing pack, the scorecard and the stuck cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from accord.accounts.service import Principal
from accord.api import RuntimeDep, audited, require
from accord.core.clock import utcnow
from accord.core.errors import InvalidInput
from accord.core.permissions import Permission
from accord.dialogue import brief, service
from accord.dialogue.schemas import MechanismIn, MechanismOut, RoundActionIn, RoundIn, RoundOut
from accord.federation.peers import list_peers
from accord.idempotency.http import IdempotencyKeyHeader, answer_once
from accord.idempotency.service import Answer
from accord.runtime import Runtime

router = APIRouter(prefix="/api/v1/dialogue", tags=["dialogue"])

Reader = Annotated[Principal, Depends(require(Permission.DIALOGUE_READ))]
Manager = Annotated[Principal, Depends(require(Permission.DIALOGUE_MANAGE))]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@router.get("/mechanisms")
def mechanisms(runtime: RuntimeDep, _reader: Reader) -> list[MechanismOut]:
    """The dialogue mechanisms, the four of the dialogue by default."""
    with runtime.reading() as session:
        return [
            MechanismOut(code=m.code, en=m.en, zh=m.zh, active=m.active)
            for m in service.list_mechanisms(session)
        ]


@router.post("/mechanisms", status_code=201)
def add_mechanism(
    body: MechanismIn, runtime: RuntimeDep, manager: Manager, request: Request
) -> MechanismOut:
    """Add a mechanism (or rename and reactivate one with the same code)."""
    with runtime.transaction() as session:
        row = service.add_mechanism(session, mechanism=body)
        audited(session, manager, "dialogue.mechanism", request, subject=row.code)
        return MechanismOut(code=row.code, en=row.en, zh=row.zh, active=row.active)


@router.get("/rounds")
def rounds(runtime: RuntimeDep, _reader: Reader) -> list[RoundOut]:
    """Every round this node hosts or attends, newest first, with its outcomes."""
    with runtime.reading() as session:
        return service.list_rounds(session)


@router.post("/rounds", status_code=201, response_model=RoundOut)
def open_round(
    body: RoundIn,
    runtime: RuntimeDep,
    manager: Manager,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Open a round hosted by this node; the peer receives it and both hold its record."""

    def perform(session: Session) -> Answer:
        case = service.open_round(
            session, node=runtime.node, round_in=body, officer=manager.officer, unit=manager.unit
        )
        audited(session, manager, "dialogue.round.open", request, subject=case.reference)
        return Answer(201, service.get_round(session, case.reference).model_dump(mode="json"))

    return answer_once(
        runtime,
        request,
        officer=manager,
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        perform=perform,
    )


@router.get("/rounds/{reference}")
def get_round(reference: str, runtime: RuntimeDep, _reader: Reader) -> RoundOut:
    with runtime.reading() as session:
        return service.get_round(session, reference)


@router.post("/rounds/{reference}/actions", response_model=dict[str, Any])
def act_on_round(
    reference: str,
    body: RoundActionIn,
    runtime: RuntimeDep,
    manager: Manager,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Add an agenda item, record or update an agreed outcome, hold, conclude or cancel.
    On the guest's node the step is submitted to the host and shows as pending until it is
    sequenced."""

    def perform(session: Session) -> Answer:
        acted = service.act_on_round(
            session,
            node=runtime.node,
            reference=reference,
            action=body.action,
            payload=body.payload,
            officer=manager.officer,
        )
        audited(
            session,
            manager,
            "dialogue.round.act",
            request,
            subject=reference,
            detail={"action": body.action},
        )
        return Answer(
            200,
            {
                "round": service.get_round(session, reference).model_dump(mode="json"),
                "pending": acted.pending is not None,
            },
        )

    return answer_once(
        runtime,
        request,
        officer=manager,
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        perform=perform,
    )


@router.get("/rounds/{reference}/brief", response_model=None)
def round_brief(
    reference: str,
    runtime: RuntimeDep,
    _reader: Reader,
    lang: Literal["en", "zh"] = "en",
    format: Literal["html", "pdf"] = "html",
) -> Response:
    """The briefing pack of the round: outcomes, scorecard with charts, stuck cases."""
    return brief_response(runtime, reference, lang, format)


def brief_response(
    runtime: Runtime, reference: str, lang: Literal["en", "zh"], fmt: Literal["html", "pdf"]
) -> Response:
    """The briefing pack as a page, or as a PDF to download (the API's and the UI's)."""
    with runtime.reading() as session:
        pack = brief.build(session, reference=reference, lang=lang)
    if fmt == "pdf":
        return Response(
            brief.to_pdf(pack),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{reference}-{lang}.pdf"'},
        )
    return HTMLResponse(brief.to_html(pack))


@router.get("/scorecard")
def scorecard(
    runtime: RuntimeDep,
    _reader: Reader,
    start: datetime | None = Query(None, description="default: 90 days before the end"),
    end: datetime | None = Query(None, description="exclusive; default: now"),
) -> dict[str, Any]:
    """Per area and side, each figure with the cases behind it, and the previous period."""
    until = _utc(end) if end else utcnow()
    try:
        since = _utc(start) if start else until - timedelta(days=90)
    except OverflowError:
        raise InvalidInput(f"no 90 days before {until}: give a later end") from None
    with runtime.reading() as session:
        nodes = [runtime.node.name, *(p.name for p in list_peers(session))]
        return service.scorecard(session, nodes=nodes, start=since, end=until)


@router.get("/stuck")
def stuck(runtime: RuntimeDep, _reader: Reader) -> dict[str, list[Any]]:
    """For each side, the cases waiting on it beyond a deadline, oldest first."""
    with runtime.reading() as session:
        nodes = [runtime.node.name, *(p.name for p in list_peers(session))]
        return service.stuck_cases(session, nodes=nodes, now=utcnow())
