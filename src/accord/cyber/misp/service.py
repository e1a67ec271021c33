"""MISP use cases: import an event onto a cyber case, write a case's indicators as a MISP event,
serve them as a MISP feed. Each refuses what the case's handling code forbids."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.accounts.service import Principal
from accord.attachments import service as attachments
from accord.audit import service as audit
from accord.cases import service as cases
from accord.cases.definitions.cyber import CYBER
from accord.cases.enums import HandlingCode
from accord.cases.models import Case, CaseEvent
from accord.core.errors import Forbidden, InvalidInput
from accord.cyber import handling, sightings
from accord.cyber.misp.reader import read_event
from accord.cyber.misp.writer import CaseEvent as CaseSummary
from accord.cyber.misp.writer import Feed, OpeningIndicator, Written, feed_of, write_event
from accord.cyber.stix import required_handling_code, strictest
from accord.federation.keys import NodeIdentity

MISP_MEDIA_TYPE = "application/json"


@dataclass
class Imported:
    """What an import put on the case."""

    reference: str
    event_uuid: str
    indicators: int
    observables: int
    notes: int
    handling_code: HandlingCode | None
    problems: list[str] = field(default_factory=list)
    already: int | None = None
    """the log event that attached these very bytes before (nothing was attached again)"""
    updates: list[int] = field(default_factory=list)
    """the log events that attached earlier versions of this event"""


def _cyber_case(session: Session, reference: str, viewer: Principal | None) -> Case:
    case = (
        cases.get_visible_case(session, reference=reference, viewer=viewer)
        if viewer is not None
        else cases.get_case(session, reference=reference)
    )
    if case.case_type != CYBER.case_type:
        raise InvalidInput(f"{reference} is a {case.case_type} case; MISP events go on cyber cases")
    return case


def import_event(
    session: Session,
    *,
    node: NodeIdentity,
    reference: str,
    content: bytes,
    officer: str,
    filename: str = "",
) -> Imported:
    """Put a MISP event on a cyber case: its STIX bundle (checked and attached as `cyber attach`
    does) and, beside it, the event as received. Refused if its tags or distribution levels
    ask for stricter handling than the case carries. The same bytes a second time attach
    nothing (`already`); a new version of an event on the case names the earlier (`updates`)."""
    case = _cyber_case(session, reference, None)
    parsed = read_event(content)
    case_code = HandlingCode(case.handling_code)
    if handling.too_strict(parsed.handling_code, case_code):
        raise Forbidden(
            f"MISP event {parsed.event_uuid} needs handling code {parsed.handling_code} but the "
            f"case is {case_code} ({'; '.join(parsed.reasons[:5])}); raise the case's handling "
            "code or import a less restricted event",
            detail={"needed": str(parsed.handling_code), "reasons": parsed.reasons[:20]},
        )
    outcome = Imported(
        reference=reference,
        event_uuid=parsed.event_uuid,
        indicators=parsed.indicators,
        observables=parsed.observables,
        notes=parsed.notes,
        handling_code=parsed.handling_code,
        problems=parsed.problems,
    )
    sha = hashlib.sha256(content).hexdigest()
    for record in attachments.attachments_of(session, case=case):
        if record.get("media_type") != MISP_MEDIA_TYPE:
            continue
        if record.get("sha256") == sha:
            outcome.already = int(record["seq"])
            return outcome
        if str(record.get("description", "")).startswith(_described(parsed.event_uuid)):
            outcome.updates.append(int(record["seq"]))
    stem = filename.rsplit(".", 1)[0] if filename else f"misp-event-{parsed.event_uuid}"
    sightings.attach_bundle(
        session,
        node=node,
        reference=reference,
        bundle=parsed.content(),
        officer=officer,
        filename=f"{stem}.stix.json",
    )
    attachments.attach(
        session,
        node=node,
        reference=reference,
        content=io.BytesIO(content),
        filename=filename or f"misp-event-{parsed.event_uuid}.json",
        media_type=MISP_MEDIA_TYPE,
        handling_code=strictest([case_code, parsed.handling_code or case_code]) or case_code,
        description=f"{_described(parsed.event_uuid)}: {parsed.info[:200]}",
        officer=officer,
    )
    return outcome


def _described(event_uuid: str) -> str:
    return f"MISP event {event_uuid} as received"


def _restrictions(
    session: Session, case: Case, stix: list[tuple[dict[str, Any], list[Any]]]
) -> list[str]:
    """What on the case may not leave Accord (an empty list: nothing), by the one rule of
    `accord.cyber.handling`: the case, its events and files, and each STIX object's markings."""
    found: list[str] = []
    if not handling.exportable(case.handling_code):
        found.append(f"the case {case.reference} ({case.handling_code})")
    found += [
        item
        for item in attachments.h2_items(session, case=case)
        if not item.startswith("the case ")
    ]
    for record, objects in stix:
        if not handling.exportable(record.get("handling_code")):
            found.append(f"the bundle {record['filename']} ({record['handling_code']})")
            continue
        marked = [obj for obj in objects if handling.refusal(obj, handling.EXPORT) is not None]
        if marked:
            found.append(
                f"the bundle {record['filename']} ({len(marked)} objects marked "
                f"{required_handling_code(marked[0])} or stricter, e.g. {marked[0].get('id')})"
            )
    return found


def _opening(session: Session, case: Case) -> list[OpeningIndicator]:
    first = session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq == 1)
    )
    assert first is not None
    found = []
    for item in first.payload["details"].get("indicators", []):
        indicator = sightings.opening_indicator(case.reference, item["type"], item["value"])
        found.append(OpeningIndicator(indicator.id, item["type"], item["value"]))
    return found


def case_event(
    session: Session, *, node: NodeIdentity, reference: str, viewer: Principal | None = None
) -> Written:
    """The case's indicators and observables (its opening's and every STIX bundle on it) as
    one MISP event. Refused (Forbidden) if the case or anything on it is H2 or H3."""
    case = _cyber_case(session, reference, viewer)
    store = attachments.store_of(node)
    stix: list[tuple[dict[str, Any], list[Any]]] = []
    waiting: list[str] = []
    for record in attachments.attachments_of(session, case=case):
        if not str(record.get("media_type", "")).startswith("application/stix+json"):
            continue
        if not record["available"]:
            waiting.append(f"bundle {record['filename']} has not arrived yet; left out")
            continue
        content = json.loads(store.path(record["sha256"]).read_bytes())
        stix.append((record, list(content.get("objects", []))))
    restricted = _restrictions(session, case, stix)
    if restricted:
        raise Forbidden(
            "the handling code forbids passing to MISP (H2: no third party without the sender's "
            "consent; H3: the sender's own restrictions, which MISP cannot carry): "
            + ", ".join(restricted),
            detail={"restricted": restricted},
        )
    summary = CaseSummary(
        node=node.name,
        reference=case.reference,
        title=case.title,
        opened=case.opened_at,
        updated=case.updated_at,
        closed=CYBER.state(case.state).final,
        handling_code=HandlingCode(case.handling_code),
    )
    written = write_event(
        summary, (obj for _, objects in stix for obj in objects), _opening(session, case)
    )
    written.problems = waiting + written.problems
    return written


def case_feed(
    session: Session, *, node: NodeIdentity, reference: str, viewer: Principal | None = None
) -> Feed:
    """The case as a MISP feed of one event."""
    return feed_of([case_event(session, node=node, reference=reference, viewer=viewer).event])


def record_refusal(
    session: Session, *, actor: str, action: str, reference: str, reason: str, remote: str | None
) -> None:
    """The audit entry of a refused export (written in a transaction of its own by the caller,
    since the refused one is rolled back)."""
    audit.record(
        session,
        actor=actor,
        action=action,
        outcome="refused",
        subject=reference,
        remote_addr=remote,
        detail={"reason": reason[:1000]},
    )


def record_export(session: Session, *, actor: str, reference: str, written: Written) -> None:
    """The audit entry of an event written out of Accord."""
    audit.record(
        session,
        actor=actor,
        action="misp.export",
        outcome="ok",
        subject=reference,
        detail={"event": str(written.event.uuid), "attributes": written.attributes},
    )
