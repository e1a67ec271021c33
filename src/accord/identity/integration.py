"""Identity screening in cases: the persons of a removal batch, or the subject of a fugitive
notice, screened on arrival against this node's records as proposals an officer confirms.

Proposals are the requested side's working data, never case events: only the workflow action
an officer takes on confirming one (confirm_identity / deny_identity) reaches the case log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from accord.cases import service as cases
from accord.cases.casetype import case_types
from accord.cases.correction import current_details
from accord.cases.enums import PersonStatus, Side
from accord.cases.models import Case
from accord.core.clock import iso, utcnow
from accord.core.errors import AccordError, Conflict, InvalidInput, NotFound
from accord.core.labels import Labelled
from accord.federation.keys import NodeIdentity
from accord.identity import service
from accord.identity.models import ScreeningJob, WatchlistEntry
from accord.identity.records import person_from_row
from accord.identity.screening import Decision, Screener

log = logging.getLogger(__name__)

ON_RECEIPT = "screening on receipt"
# A case's screening is the screening job with this id: found without a column of its own.
_CASE_SCREENING = UUID("6f1d2a9e-4c3b-5a7d-9e8f-0a1b2c3d4e5f")


class Outcome(Labelled):
    """What screening proposes for one person."""

    VERIFIED = "verified", "Verified: a record matches", "已核实：有匹配记录"
    NOT_VERIFIED = (
        "not_verified",
        "Not verified: candidates, none certain",
        "未核实：有候选记录但均不确定",
    )
    NO_CANDIDATE = "no_candidate", "Not verified: no candidate", "未核实：无候选记录"


# The removal action that confirms each outcome.
ACTION_OF = {
    Outcome.VERIFIED: "confirm_identity",
    Outcome.NOT_VERIFIED: "deny_identity",
    Outcome.NO_CANDIDATE: "deny_identity",
}


@dataclass(frozen=True)
class Confirmed:
    proposal: dict[str, Any]
    acted: cases.Acted


def screening_id(reference: str) -> UUID:
    return uuid5(_CASE_SCREENING, reference)


def subjects(
    session: Session, case_type: str, details: Mapping[str, Any]
) -> list[dict[str, object]]:
    """The persons a case asks about, as record fields (`id` is the person's id in the case):
    none when the case's details are gone (its subject retracted), and without a person whose
    name was erased."""
    screened = case_types(session).get(case_type).screened
    if screened is None or not details:
        return []
    return [p for p in screened(details) if p.get("name")]


def propose(screener: Screener, person: Mapping[str, object], row: int) -> dict[str, Any]:
    """One person's proposal: the outcome, the best candidate with its score and explanation,
    and the problems found in the person's fields."""
    record, problems = person_from_row(person, row)
    candidates = screener.screen(record) if record is not None else []
    best = candidates[0] if candidates else None
    if best is None:
        outcome = Outcome.NO_CANDIDATE
        explanation = f"no candidate among {len(screener.index)} records"
    else:
        outcome = Outcome.VERIFIED if best.decision is Decision.MATCH else Outcome.NOT_VERIFIED
        explanation = best.explanation
    return {
        "person_id": str(person["id"]),
        "name": str(person.get("name") or ""),
        "outcome": outcome.value,
        "candidate_id": best.candidate_id if best else None,
        "score": best.score if best else None,
        "candidates": len(candidates),
        "explanation": explanation,
        "problems": [p.message for p in problems],
        "confirmed_by": None,
        "confirmed_at": None,
        "action": None,
    }


def screen_case(session: Session, *, node: NodeIdentity, reference: str, by: str) -> ScreeningJob:
    """Screen the case's persons against this node's records and store the proposals (again:
    a proposal already confirmed is kept as it was)."""
    case = cases.get_case(session, reference=reference)
    _check_screened(session, case, node)
    job = session.get(ScreeningJob, screening_id(reference))
    kept = {
        p["person_id"]: p for p in (job.results if job is not None else []) if p["confirmed_at"]
    }
    return _screen(session, case, by, kept)


def _screen(
    session: Session, case: Case, by: str, kept: Mapping[str, dict[str, Any]]
) -> ScreeningJob:
    reference = case.reference
    details = current_details(case, cases.header_of(session, case))
    persons = subjects(session, case.case_type, details)
    job = session.get(ScreeningJob, screening_id(reference))
    active = service.screener(session)
    if not len(active.index):
        # Every person would come out "no candidate", and a hurried confirmation deny them all.
        raise InvalidInput(
            "this node holds no records to screen against: import them with `accord identity "
            f"import` (or POST /api/v1/identity/watchlist), then screen {reference} again"
        )
    proposals = [
        kept.get(str(person["id"])) or propose(active, person, row)
        for row, person in enumerate(persons, start=1)
    ]
    now = utcnow()
    if job is None:
        job = ScreeningJob(id=screening_id(reference), created_at=now)
        session.add(job)
    job.status, job.error, job.created_by = "done", None, by[:100]
    job.total = job.done = len(persons)
    job.matches = sum(p["outcome"] == Outcome.VERIFIED for p in proposals)
    job.persons, job.results, job.problems = persons, proposals, []
    job.finished_at = now
    session.flush()
    return job


def _check_screened(session: Session, case: Case, node: NodeIdentity) -> None:
    if case_types(session).get(case.case_type).screened is None:
        served = " and ".join(t.name for t in case_types(session).screened())
        raise InvalidInput(
            f"{case.reference} is a {case.case_type} case; identity screening serves {served} cases"
        )
    if cases.side_of(case, node.name) is not Side.REQUESTED:
        raise InvalidInput(
            f"{case.reference}: the requested side ({case.requested_node}) screens the case's "
            "persons against its records, not the side that asks"
        )


def screen_on_receipt(session: Session, node: NodeIdentity, case: Case) -> None:
    """The hook run when a case arrives from the peer. Screening must never cost the case its
    arrival: a failure is recorded for the officer (who can screen again) and the case stored."""
    if case.requested_node != node.name:
        return
    try:
        with session.begin_nested():
            screen_case(session, node=node, reference=case.reference, by=ON_RECEIPT)
    except OperationalError:
        raise  # the database itself: the inbox retries the whole item
    except Exception as exc:
        if isinstance(exc, AccordError):
            log.warning("case %s not screened on receipt: %s", case.reference, exc.message)
            reason = exc.message
        else:
            log.exception("screening case %s on receipt failed", case.reference)
            reason = f"{type(exc).__name__}: {exc}"
        job = session.get(ScreeningJob, screening_id(case.reference))
        if job is None:
            job = ScreeningJob(
                id=screening_id(case.reference), total=0, done=0, matches=0, created_at=utcnow()
            )
            session.add(job)
        job.status, job.created_by, job.finished_at = "failed", ON_RECEIPT, utcnow()
        job.persons, job.results, job.problems = [], [], []
        job.error = reason[:500]


def forget_screening(session: Session, case: Case) -> None:
    """The hook run when personal parts of a case are erased (by an erasure, a correction or a
    retraction): its screening proposals, which copy the persons screened, go with them, and
    the persons still named in the case (corrected, without those retracted or erased) are
    screened again. A confirmation already taken stays marked on its person's new proposal."""
    job = session.get(ScreeningJob, screening_id(case.reference))
    if job is None:
        return
    confirmed = {
        p["person_id"]: {k: p[k] for k in ("confirmed_by", "confirmed_at", "action")}
        for p in job.results
        if p.get("confirmed_at")
    }
    was_done, by = job.status == "done", job.created_by
    session.delete(job)
    session.flush()
    details = current_details(case, cases.header_of(session, case))
    if not was_done or not subjects(session, case.case_type, details):
        return
    try:
        with session.begin_nested():
            rescreened = _screen(session, case, by, {})
    except AccordError as exc:  # no records left to screen against: the proposals stay gone
        log.warning("case %s not screened again after an erasure: %s", case.reference, exc)
        return
    rescreened.results = [{**p, **confirmed.get(p["person_id"], {})} for p in rescreened.results]


def case_screening(session: Session, *, reference: str) -> ScreeningJob:
    job = session.get(ScreeningJob, screening_id(reference))
    if job is None:
        raise NotFound(
            f"{reference} has not been screened; screen it with "
            f"`accord identity screen {reference}` or POST /api/v1/identity/cases/{reference}"
            "/proposals"
        )
    return job


def proposals(session: Session, *, reference: str) -> tuple[ScreeningJob, list[dict[str, Any]]]:
    """The case's screening and its proposals, each with where the person now stands in the
    case (`person_status`, for a removal batch)."""
    case = cases.get_case(session, reference=reference)
    job = case_screening(session, reference=reference)
    statuses: dict[str, str] = (case.facts or {}).get("persons", {})
    return job, [{**p, "person_status": statuses.get(p["person_id"])} for p in job.results]


def confirm(
    session: Session,
    *,
    node: NodeIdentity,
    reference: str,
    person_id: str,
    officer: str,
    note: str = "",
) -> Confirmed:
    """Take the removal action that a person's proposal calls for, in the officer's name:
    confirm_identity (with the matched record's characters and identity card number) or
    deny_identity (with the reason screening found)."""
    case = cases.get_case(session, reference=reference)
    if case.case_type != "removal":
        raise InvalidInput(
            f"{reference} is a {case.case_type} case: its proposals guide the search and are not "
            "confirmed as a case action (report what was found with the case's own actions)"
        )
    job = case_screening(session, reference=reference)
    index = {p["person_id"]: i for i, p in enumerate(job.results)}
    if person_id not in index:
        raise NotFound(f"no proposal for person {person_id!r} in {reference}")
    proposal = dict(job.results[index[person_id]])
    if proposal["confirmed_at"]:
        raise Conflict(
            f"the proposal for {person_id} was confirmed by {proposal['confirmed_by']} at "
            f"{proposal['confirmed_at']} ({proposal['action']})"
        )
    status = (case.facts or {}).get("persons", {}).get(person_id)
    if status is not None and status != PersonStatus.PENDING.value:
        raise Conflict(f"person {person_id} is already {status} in {reference}")
    outcome = Outcome(proposal["outcome"])
    action = ACTION_OF[outcome]
    acted = cases.act(
        session,
        node=node,
        reference=reference,
        action=action,
        payload=_payload(session, proposal, outcome, note),
        officer=officer,
    )
    proposal.update(confirmed_by=officer, confirmed_at=iso(utcnow()), action=action)
    results = list(job.results)
    results[index[person_id]] = proposal
    job.results = results  # a new list: the JSON column sees the change
    session.flush()
    return Confirmed(proposal=proposal, acted=acted)


def _payload(
    session: Session, proposal: Mapping[str, Any], outcome: Outcome, note: str
) -> dict[str, Any]:
    person_id = proposal["person_id"]
    if outcome is Outcome.VERIFIED:
        entry = session.scalar(
            select(WatchlistEntry).where(WatchlistEntry.record_id == proposal["candidate_id"])
        )
        found = f"identity screening: our record matches (score {proposal['score']:.2f})"
        return {
            "person_id": person_id,
            "confirmed_name_native": (entry.name_native or "") if entry else "",
            "confirmed_id_number": (entry.id_number or "") if entry else "",
            "note": "; ".join(t for t in (found, note.strip()) if t)[:2000],
        }
    if outcome is Outcome.NOT_VERIFIED:
        reason = (
            f"identity screening: no record matches with confidence (best candidate scored "
            f"{proposal['score']:.2f})"
        )
    else:
        reason = "identity screening: no record of this person"
    text = "; ".join(t for t in (reason, note.strip()) if t)
    return {"person_id": person_id, "reason": text[:2000]}
