"""REST API for identity screening (/api/v1/identity): the watchlist, one person, batch jobs,
and the proposals made on removal batches and fugitive notices.

docs/architecture.md, "Identity resolution": persons are matched across scripts and
romanisations against the watchlist held by this node; every screening is written to the audit log.
docs/security.md, "Need-to-know": watchlist entries and screening jobs belong to the unit of the
officer who made them; another unit's are answered as not found, and each attempt is audited.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response
from sqlalchemy.orm import Session

from accord.accounts.service import Principal
from accord.api import RuntimeDep, audited, remote, require
from accord.audit import service as audit
from accord.cases import service as cases
from accord.core.errors import NotFound
from accord.core.permissions import Permission
from accord.idempotency.http import IdempotencyKeyHeader, answer_once
from accord.idempotency.service import Answer
from accord.identity import integration, service
from accord.identity.models import ScreeningJob
from accord.identity.schemas import (
    CandidateOut,
    CaseScreeningOut,
    ConfirmIn,
    ConfirmOut,
    MatchOut,
    PersonIn,
    ProblemOut,
    ProposalOut,
    ScreeningOut,
    ScreeningStart,
    WatchlistLoad,
    WatchlistLoaded,
)

router = APIRouter(prefix="/api/v1/identity", tags=["identity"])

Screener = Annotated[Principal, Depends(require(Permission.IDENTITY_SCREEN))]


@router.post("/watchlist")
def load_watchlist(
    body: WatchlistLoad, runtime: RuntimeDep, officer: Screener, request: Request
) -> WatchlistLoaded:
    """Add persons to the watchlist of the officer's unit, or replace them by id (entries of
    another unit with the same id are that unit's, and stay as they are)."""
    with runtime.transaction() as session:
        added, updated, problems = service.add_to_watchlist(
            session, persons=[p.model_dump() for p in body.persons], unit=officer.unit
        )
        audit.record(
            session,
            actor=officer.username,
            action="identity.watchlist",
            outcome="ok",
            subject=f"{added} added, {updated} updated",
            remote_addr=remote(request),
            detail={"unit": officer.unit, "records": [p.id for p in body.persons][:100]},
        )
        size = service.watchlist_size(session, unit=officer.unit)
    return WatchlistLoaded(
        added=added,
        updated=updated,
        problems=[ProblemOut.model_validate(p) for p in problems],
        watchlist_records=size,
    )


def _not_found(
    runtime: RuntimeDep, officer: Principal, action: str, request: Request, subject: str
) -> None:
    """Audit a request for an entry or job that the officer's unit does not hold, in its own
    transaction (the request's is rolled back by the refusal)."""
    with runtime.transaction() as session:
        audited(session, officer, action, request, subject=subject, outcome="not_found")


@router.get("/watchlist/{record_id}")
def watchlist_entry(
    record_id: str, runtime: RuntimeDep, officer: Screener, request: Request
) -> PersonIn:
    """One entry of the watchlist of the officer's unit."""
    try:
        with runtime.transaction() as session:
            entry = service.get_entry(session, record_id=record_id, unit=officer.unit)
            audited(session, officer, "identity.watchlist.read", request, subject=record_id)
            return PersonIn.model_validate(service.entry_person(entry))
    except NotFound:
        _not_found(runtime, officer, "identity.watchlist.read", request, record_id)
        raise


@router.delete("/watchlist/{record_id}", status_code=204)
def remove_watchlist_entry(
    record_id: str, runtime: RuntimeDep, officer: Screener, request: Request
) -> Response:
    """Take one entry off the watchlist of the officer's unit."""
    try:
        with runtime.transaction() as session:
            service.remove_entry(session, record_id=record_id, unit=officer.unit)
            audited(session, officer, "identity.watchlist.delete", request, subject=record_id)
    except NotFound:
        _not_found(runtime, officer, "identity.watchlist.delete", request, record_id)
        raise
    return Response(status_code=204)


@router.post("/match")
def match(body: PersonIn, runtime: RuntimeDep, officer: Screener, request: Request) -> MatchOut:
    """Screen one person against the watchlist of the officer's unit: candidates with scores,
    decisions and explanations, best first (at most one `match`)."""
    with runtime.transaction() as session:
        candidates, problems, size = service.match_person(
            session, person=body.model_dump(), unit=officer.unit
        )
        audit.record(
            session,
            actor=officer.username,
            action="identity.match",
            outcome="ok",
            subject=body.id,
            remote_addr=remote(request),
        )
    return MatchOut(
        query_id=body.id,
        candidates=[CandidateOut.model_validate(c) for c in candidates],
        problems=[ProblemOut.model_validate(p) for p in problems],
        watchlist_records=size,
    )


@router.post("/screenings", status_code=202)
def start_screening(
    body: ScreeningStart,
    runtime: RuntimeDep,
    officer: Screener,
    request: Request,
    background: BackgroundTasks,
) -> ScreeningOut:
    """Start screening a batch against the watchlist of the officer's unit, in the background;
    poll GET /screenings/{job_id} for progress (officers of the same unit may)."""
    with runtime.transaction() as session:
        job = service.start_job(
            session,
            persons=[p.model_dump() for p in body.persons],
            created_by=officer.username,
            unit=officer.unit,
        )
        audit.record(
            session,
            actor=officer.username,
            action="identity.screening",
            outcome="ok",
            subject=str(job.id),
            remote_addr=remote(request),
        )
        out = ScreeningOut.model_validate(job)
    background.add_task(service.run_job, runtime.factory, job_id=job.id)
    return out


@router.get("/screenings/{job_id}")
def screening(
    job_id: UUID, runtime: RuntimeDep, officer: Screener, request: Request
) -> ScreeningOut:
    """A screening job of the officer's unit: its status and progress, and its candidates once
    done."""
    try:
        with runtime.transaction() as session:
            job = service.visible_job(session, job_id=job_id, unit=officer.unit)
            audited(session, officer, "identity.screening.read", request, subject=str(job_id))
            return ScreeningOut.model_validate(job)
    except NotFound:
        _not_found(runtime, officer, "identity.screening.read", request, str(job_id))
        raise


def _screening_out(
    reference: str, job: ScreeningJob, proposals: list[dict[str, object]]
) -> CaseScreeningOut:
    return CaseScreeningOut(
        reference=reference,
        status=job.status,
        screened_by=job.created_by,
        screened_at=job.finished_at,
        error=job.error,
        proposals=[ProposalOut.model_validate(p) for p in proposals],
    )


@router.get("/cases/{reference}/proposals")
def case_proposals(
    reference: str, runtime: RuntimeDep, officer: Screener, request: Request
) -> CaseScreeningOut:
    """What screening proposes for each person of a removal batch (or a fugitive notice's
    subject), against this node's records; docs/architecture.md, "Identity resolution"."""
    officer.require(Permission.CASE_READ)
    with runtime.transaction() as session:
        cases.get_visible_case(session, reference=reference, viewer=officer)
        job, proposals = integration.proposals(session, reference=reference)
        audited(session, officer, "identity.proposals", request, subject=reference)
        return _screening_out(reference, job, proposals)


@router.post("/cases/{reference}/proposals")
def screen_case(
    reference: str, runtime: RuntimeDep, officer: Screener, request: Request
) -> CaseScreeningOut:
    """Screen the case's persons again (after the records changed); confirmed proposals are
    kept."""
    officer.require(Permission.CASE_READ)
    with runtime.transaction() as session:
        cases.get_visible_case(session, reference=reference, viewer=officer)
        integration.screen_case(session, node=runtime.node, reference=reference, by=officer.officer)
        job, proposals = integration.proposals(session, reference=reference)
        audited(session, officer, "identity.screen_case", request, subject=reference)
        return _screening_out(reference, job, proposals)


@router.post("/cases/{reference}/proposals/{person_id}/confirm", response_model=ConfirmOut)
def confirm_proposal(
    reference: str,
    person_id: str,
    body: ConfirmIn,
    runtime: RuntimeDep,
    officer: Screener,
    request: Request,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Confirm one person's proposal: the removal action it calls for (confirm_identity or
    deny_identity) is taken in the officer's name and reaches the case log."""

    def perform(session: Session) -> Answer:
        case = cases.get_visible_case(session, reference=reference, viewer=officer)
        workflow = runtime.case_types.workflow(case.case_type)
        for action in set(integration.ACTION_OF.values()):
            officer.require_action(review=workflow.action(action).review)
        done = integration.confirm(
            session,
            node=runtime.node,
            reference=reference,
            person_id=person_id,
            officer=officer.officer,
            note=body.note,
        )
        audited(
            session,
            officer,
            f"case.act.{done.proposal['action']}",
            request,
            subject=reference,
            detail={"person_id": person_id, "from": "identity proposal"},
        )
        confirmed = ConfirmOut(
            reference=reference,
            proposal=ProposalOut.model_validate(done.proposal),
            status="applied" if done.acted.event is not None else "pending",
        )
        return Answer(200, confirmed.model_dump(mode="json"))

    return answer_once(
        runtime,
        request,
        officer=officer,
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        perform=perform,
    )
