"""Subject access: everything this node holds about one person, found by a name or a number
in the personal parts of its case logs, as one JSON document (cases, events with the parts that
name the person, attachments' metadata, erasures, and the audit entries of those cases)."""

from __future__ import annotations

import unicodedata
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


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def subject_access(session: Session, *, query: str, node_name: str) -> dict[str, Any]:
    """The cases whose personal parts hold `query` (case-insensitive, NFKC), with what each
    holds about the person; erased parts are listed as erased, never shown."""
    wanted = _folded(query)
    if len(wanted) < 3:
        raise InvalidInput("a subject access query needs at least 3 characters of a name or number")
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
    }
