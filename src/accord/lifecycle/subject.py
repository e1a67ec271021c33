"""Subject access: everything this node holds about one person, found by a name or a number
in the personal parts of its case logs and in its identity records and screening jobs, as one
JSON document (cases, events with the parts that name the person, attachments' metadata,
erasures, screening records, and the audit entries of all of those), or as a bilingual PDF."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.audit.models import AuditEntry
from accord.cases.casetype import case_types
from accord.cases.erasable import personal_values
from accord.cases.models import Case, CaseEvent, CaseEventPart
from accord.cases.workflow import ATTACH_ACTION, ERASE_ACTION
from accord.core.clock import iso, utcnow
from accord.core.errors import InvalidInput
from accord.core.templating import environment, pdf_of
from accord.identity.models import ScreeningJob, WatchlistEntry
from accord.identity.service import entry_fields

TEMPLATES = Path(__file__).parent / "templates"


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def subject_access(session: Session, *, query: str, node_name: str) -> dict[str, Any]:
    """The cases whose personal parts hold `query` (case-insensitive, NFKC), with what each
    holds about the person; erased parts are listed as erased, never shown."""
    wanted = _folded(query)
    # a Chinese name is often two characters (林慧): wide characters count double
    if sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in wanted) < 3:
        raise InvalidInput(
            "a subject access query needs at least 3 characters of a name or number "
            "(2 Chinese characters)"
        )
    types = case_types(session)
    found: list[dict[str, Any]] = []
    for case in session.scalars(select(Case).order_by(Case.reference)):
        names = types.get(case.case_type).personal
        events = list(
            session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
            )
        )
        hits = []
        for event in events:
            parts = {
                pointer: value
                for pointer, value in personal_values(event.payload, names)
                if wanted in _folded(str(value))
            }
            if parts:
                hits.append(
                    {
                        "seq": event.seq,
                        "action": event.action,
                        "occurred_at": event.occurred_at,
                        "actor_node": event.actor_node,
                        "actor_officer": event.actor_officer,
                        "parts": parts,
                    }
                )
        if not hits:
            continue
        erased = session.scalars(
            select(CaseEventPart).where(
                CaseEventPart.case_id == case.id, CaseEventPart.erased_at.is_not(None)
            )
        )
        found.append(
            {
                "reference": case.reference,
                "case_type": case.case_type,
                "state": case.state,
                "handling_code": case.handling_code,
                "peer": case.peer,
                "opened_at": iso(case.opened_at),
                "events": hits,
                "attachments": [
                    {k: e.payload.get(k) for k in ("filename", "sha256", "size", "media_type")}
                    for e in events
                    if e.action == ATTACH_ACTION
                ],
                "erasures": [
                    {"seq": e.seq, "occurred_at": e.occurred_at, "rule": e.payload.get("rule")}
                    for e in events
                    if e.action == ERASE_ACTION
                ],
                "erased_parts": [
                    {"seq": p.seq, "path": p.path, "erased_at": iso(p.erased_at)}
                    for p in erased
                    if p.erased_at is not None
                ],
                "audit": [
                    {"at": a.at, "actor": a.actor, "action": a.action, "outcome": a.outcome}
                    for a in session.scalars(
                        select(AuditEntry)
                        .where(AuditEntry.subject == case.reference)
                        .order_by(AuditEntry.id)
                    )
                ],
            }
        )
    return {
        "subject": query,
        "node": node_name,
        "generated_at": iso(utcnow()),
        "cases": found,
        "screening": _screening(session, wanted),
    }


def _screening(session: Session, wanted: str) -> dict[str, Any]:
    """The identity records (watchlist entries) and the screening jobs whose persons or results
    hold the query, with the audit entries about each."""
    records = []
    for entry in session.scalars(select(WatchlistEntry).order_by(WatchlistEntry.id)):
        fields = entry_fields(entry)
        if wanted in _folded(json.dumps(fields, ensure_ascii=False, default=str)):
            records.append({"unit": entry.unit, **fields, "updated_at": iso(entry.updated_at)})
    jobs = []
    for job in session.scalars(select(ScreeningJob).order_by(ScreeningJob.created_at)):
        persons = [
            p for p in job.persons or [] if wanted in _folded(json.dumps(p, ensure_ascii=False))
        ]
        results = [
            r for r in job.results or [] if wanted in _folded(json.dumps(r, ensure_ascii=False))
        ]
        if persons or results:
            jobs.append(
                {
                    "id": str(job.id),
                    "unit": job.unit,
                    "status": job.status,
                    "created_by": job.created_by,
                    "created_at": iso(job.created_at),
                    "persons": persons,
                    "results": results,
                }
            )
    subjects = [str(r["id"]) for r in records if r.get("id")] + [j["id"] for j in jobs]
    audit = (
        [
            {
                "at": a.at,
                "actor": a.actor,
                "action": a.action,
                "outcome": a.outcome,
                "subject": a.subject,
            }
            for a in session.scalars(
                select(AuditEntry).where(AuditEntry.subject.in_(subjects)).order_by(AuditEntry.id)
            )
        ]
        if subjects
        else []
    )
    return {"records": records, "jobs": jobs, "audit": audit}


def to_pdf(document: dict[str, Any]) -> bytes:
    """The export as a readable PDF, every heading in English and Chinese (WeasyPrint, with
    the CJK fonts the briefing pack uses)."""
    html = environment(TEMPLATES, "en").get_template("subject_access.html").render(doc=document)
    return pdf_of(html)
