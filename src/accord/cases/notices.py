"""Importing notices: a file of INTERPOL's notices API opens a fugitive case per notice, or
finds the case that already holds the notice (same entity_id, same peer, on either node) and
links to it, or updates it from a newer publication through its own log event.

The file as received is attached to each case it opens or updates, so its bytes and SHA-256
travel to the peer with the case (docs/workflows.md).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.attachments import service as attachments
from accord.cases import service
from accord.cases.casetype import case_types
from accord.cases.definitions.fugitive import FUGITIVE, UPDATE_NOTICE, notice_title
from accord.cases.definitions.notices import NoticeFile, NoticeRead, Shape, read_notice_file
from accord.cases.enums import Area, HandlingCode, Priority
from accord.cases.models import Case, CaseEvent
from accord.cases.workflow import ATTACH_ACTION
from accord.core.dialects import JsonText
from accord.core.errors import InvalidInput
from accord.federation.keys import NodeIdentity

OPENED = "opened"
LINKED = "linked"
UPDATED = "updated"
REFUSED = "refused"

Progress = Callable[[int, int], None]
"""(notices done, notices in the file), after each notice."""


@dataclass
class NoticeOutcome:
    """What importing one notice of a file did."""

    position: str
    notice_id: str
    kind: str
    outcome: str
    """opened, linked (the case already holds it), updated (from a newer notice) or refused"""
    explanation: str
    case: Case | None = None
    event: CaseEvent | None = None
    """the update's event; None when the update waits for the peer, which keeps the log"""
    error: InvalidInput | None = None


@dataclass
class NoticeImport:
    file: NoticeFile
    outcomes: list[NoticeOutcome]


def notice_bytes(notice: dict[str, Any] | str) -> bytes:
    """The bytes of a notice sent through the API: its text exactly as given, or (sent as a
    JSON object, whose bytes are gone once parsed) its JSON serialisation."""
    if isinstance(notice, str):
        return notice.encode("utf-8")
    return json.dumps(notice, ensure_ascii=False, indent=2).encode("utf-8")


def case_holding(session: Session, *, peer: str, notice_id: str, kind: str) -> Case | None:
    """The fugitive case with `peer` that holds this notice, opened here or by the peer (both
    nodes fold the same facts from the log)."""
    query = (
        select(Case)
        .where(
            Case.case_type == FUGITIVE.case_type,
            Case.peer == peer,
            JsonText(Case.facts, "notice_id") == notice_id,
        )
        .order_by(Case.opened_at)
    )
    for case in session.scalars(query):
        if str((case.facts or {}).get("notice_kind") or "red") == kind:
            return case
    return None


def import_notices(
    session: Session,
    *,
    node: NodeIdentity,
    peer: str,
    raw: bytes,
    priority: Priority,
    handling_code: HandlingCode,
    officer: str,
    unit: str | None = None,
    progress: Progress | None = None,
) -> NoticeImport:
    """Import every notice of a file of the notices API. A file of one notice that cannot be
    read is refused (InvalidInput naming its field); in a search page each notice is answered
    on its own, and the others are imported."""
    read = read_notice_file(raw)
    if read.shape is not Shape.SEARCH_PAGE and read.notices[0].error is not None:
        raise read.notices[0].error
    outcomes: list[NoticeOutcome] = []
    for done, notice in enumerate(read.notices, start=1):
        if notice.details is None:
            error = notice.error or InvalidInput(f"{notice.position}: not read")
            outcomes.append(
                NoticeOutcome(
                    notice.position,
                    notice.notice_id,
                    notice.kind,
                    REFUSED,
                    error.message,
                    error=error,
                )
            )
        else:
            outcomes.append(
                _import_one(
                    session,
                    node=node,
                    peer=peer,
                    file=read,
                    notice=notice,
                    details=notice.details,
                    priority=priority,
                    handling_code=handling_code,
                    officer=officer,
                    unit=unit,
                )
            )
        if progress is not None:
            progress(done, len(read.notices))
    return NoticeImport(read, outcomes)


def _import_one(
    session: Session,
    *,
    node: NodeIdentity,
    peer: str,
    file: NoticeFile,
    notice: NoticeRead,
    details: dict[str, Any],
    priority: Priority,
    handling_code: HandlingCode,
    officer: str,
    unit: str | None,
) -> NoticeOutcome:
    details = FUGITIVE.validate_opening(details)
    source = details["source"]
    held = case_holding(session, peer=peer, notice_id=notice.notice_id, kind=notice.kind)
    if held is None or not notice.notice_id:
        case = service.open_case(
            session,
            node=node,
            case_type=FUGITIVE.case_type,
            peer=peer,
            area=Area.FUGITIVES,
            priority=priority,
            handling_code=handling_code,
            title=notice_title(details),
            details=details,
            officer=officer,
            unit=unit,
        )
        _attach_original(session, node, case, file, officer)
        return NoticeOutcome(
            notice.position,
            notice.notice_id,
            notice.kind,
            OPENED,
            f"{notice.kind} notice {notice.notice_id or '(no entity_id)'} opened {case.reference}",
            case=case,
        )
    facts = held.facts or {}
    same = f"{notice.kind} notice {notice.notice_id} is already on {held.reference}"
    if case_types(session).workflow(held.case_type).state(held.state).final:
        return NoticeOutcome(
            notice.position,
            notice.notice_id,
            notice.kind,
            LINKED,
            f"{same}, which is {held.state}: not updated (a closed case takes no update)",
            case=held,
        )
    if source["content_sha256"] == facts.get("notice_content"):
        return NoticeOutcome(
            notice.position,
            notice.notice_id,
            notice.kind,
            LINKED,
            f"{same}, unchanged",
            case=held,
        )
    if source["summary"] and not facts.get("notice_summary"):
        return NoticeOutcome(
            notice.position,
            notice.notice_id,
            notice.kind,
            LINKED,
            f"{same}; a search page's summary does not replace the whole notice it holds",
            case=held,
        )
    acted = service.act(
        session,
        node=node,
        reference=held.reference,
        action=UPDATE_NOTICE,
        payload={
            "notice": details,
            "previous_content_sha256": str(facts.get("notice_content") or ""),
            "reason": f"imported from a {file.shape.value} of {source['api']}",
        },
        officer=officer,
    )
    _attach_original(session, node, held, file, officer)
    waiting = "" if acted.event else " (sent to the peer, which keeps its log)"
    return NoticeOutcome(
        notice.position,
        notice.notice_id,
        notice.kind,
        UPDATED,
        f"{same}; the newer notice updates it{waiting}",
        case=held,
        event=acted.event,
    )


def _attach_original(
    session: Session, node: NodeIdentity, case: Case, file: NoticeFile, officer: str
) -> None:
    """The file as received, byte for byte, on the case (once per case and file)."""
    held = {
        row.payload.get("sha256")
        for row in session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == ATTACH_ACTION)
        )
    }
    if file.sha256 in held:
        return
    entity = file.notices[0].notice_id if file.shape is not Shape.SEARCH_PAGE else ""
    name = f"notice-{entity.replace('/', '-')}.json" if entity else "notices-search-page.json"
    attachments.attach(
        session,
        node=node,
        reference=case.reference,
        content=io.BytesIO(file.original),
        filename=name,
        media_type="application/json",
        handling_code=HandlingCode(case.handling_code),
        description=f"the {file.shape.value} as received (SHA-256 {file.sha256})",
        officer=officer,
    )
