"""Dialogue use cases: mechanisms, rounds and their agreed outcomes (each round a joint log that
the hosting node sequences, like a case), and the scorecard and stuck cases computed from this
node's case logs."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any
from uuid import UUID
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, load_only

from accord.cases import service as cases
from accord.cases.casetype import case_types
from accord.cases.definitions.round import AGENDA, HELD, OUTCOMES, ROUND, ROUND_DETAILS
from accord.cases.enums import Area, HandlingCode, OutcomeStatus, Priority, Side
from accord.cases.models import Case, CaseEvent, CaseEventPart
from accord.cases.service import open_deadlines
from accord.core.clock import parse_iso, utcnow
from accord.core.errors import Conflict, InvalidInput, NotFound
from accord.dialogue.models import Mechanism
from accord.dialogue.schemas import (
    AgendaItemOut,
    MechanismIn,
    OutcomeOut,
    RoundIn,
    RoundOut,
)
from accord.dialogue.scorecard import CaseRecord, LoggedEvent, side_figures, stuck
from accord.federation.keys import NodeIdentity

# -- mechanisms -------------------------------------------------------------------------------


def list_mechanisms(session: Session, *, active_only: bool = False) -> list[Mechanism]:
    query = select(Mechanism).order_by(Mechanism.position, Mechanism.code)
    if active_only:
        query = query.where(Mechanism.active.is_(True))
    return list(session.scalars(query))


def get_mechanism(session: Session, code: str) -> Mechanism:
    mechanism = session.get(Mechanism, code)
    if mechanism is None or not mechanism.active:
        known = ", ".join(m.code for m in list_mechanisms(session, active_only=True)) or "none"
        raise NotFound(f"no active dialogue mechanism {code!r} (mechanisms: {known})")
    return mechanism


def add_mechanism(session: Session, *, mechanism: MechanismIn) -> Mechanism:
    """Add a mechanism, or reactivate and rename one with the same code."""
    row = session.get(Mechanism, mechanism.code)
    if row is None:
        position = len(list_mechanisms(session))
        row = Mechanism(code=mechanism.code, position=position)
        session.add(row)
    row.en, row.zh, row.active = mechanism.en, mechanism.zh, True
    session.flush()
    return row


def retire_mechanism(session: Session, *, code: str) -> Mechanism:
    """Retire a mechanism: no new rounds; its past rounds keep their record."""
    row = get_mechanism(session, code)
    row.active = False
    session.flush()
    return row


# -- rounds -----------------------------------------------------------------------------------


def check_round_opening(session: Session, details: dict[str, Any]) -> None:
    """A round names an active mechanism of ours and a number not yet used in it."""
    mechanism = get_mechanism(session, details["mechanism"])
    taken = [
        r.reference
        for r in list_rounds(session)
        if r.mechanism == mechanism.code
        and r.number == details["number"]
        and r.state != "cancelled"
    ]
    if taken:
        raise Conflict(
            f"round {details['number']} of {mechanism.code} already exists ({taken[0]}); "
            "cancel it first or choose another number"
        )


def open_round(
    session: Session,
    *,
    node: NodeIdentity,
    round_in: RoundIn,
    officer: str,
    unit: str | None = None,
) -> Case:
    """Open a round hosted by this node with `round_in.peer` as guest; we sequence its log.
    (A round opened as a case, through the case API, passes the same check.)"""
    mechanism = get_mechanism(session, round_in.mechanism)
    return cases.open_case(
        session,
        node=node,
        case_type=ROUND.case_type,
        peer=round_in.peer,
        area=Area.DIALOGUE,
        priority=Priority.ROUTINE,
        handling_code=HandlingCode.H0,
        title=f"{mechanism.en}, round {round_in.number}",
        details=round_in.model_dump(mode="json", exclude={"peer"}),
        officer=officer,
        unit=unit,
    )


def act_on_round(
    session: Session,
    *,
    node: NodeIdentity,
    reference: str,
    action: str,
    payload: dict[str, Any],
    officer: str,
) -> cases.Acted:
    """Take a step on a round (the guest's steps go to the host as submissions)."""
    get_round_case(session, reference)
    return cases.act(
        session, node=node, reference=reference, action=action, payload=payload, officer=officer
    )


def get_round_case(session: Session, reference: str) -> Case:
    case = cases.get_case(session, reference=reference)
    if case.case_type != ROUND.case_type:
        raise InvalidInput(f"{reference} is a {case.case_type} case, not a dialogue round")
    return case


def list_rounds(session: Session) -> list[RoundOut]:
    """Every round this node takes part in, newest first."""
    rows = session.scalars(
        select(Case).where(Case.case_type == ROUND.case_type).order_by(Case.opened_at.desc())
    )
    names = {m.code: m for m in list_mechanisms(session)}
    return [
        round_view(row, names.get(row.facts.get(ROUND_DETAILS, {}).get("mechanism", "")))
        for row in rows
    ]


def get_round(session: Session, reference: str) -> RoundOut:
    case = get_round_case(session, reference)
    code = case.facts.get(ROUND_DETAILS, {}).get("mechanism", "")
    return round_view(case, session.get(Mechanism, code))


def round_view(case: Case, mechanism: Mechanism | None, today: date | None = None) -> RoundOut:
    """The round as both sides hold it: details, agenda and outcomes with their owners' names."""
    today = today or utcnow().date()
    details = case.facts.get(ROUND_DETAILS, {})
    held = case.facts.get(HELD) or {}
    code = details.get("mechanism", "")
    outcomes = []
    for number, item in enumerate(case.facts.get(OUTCOMES, []), start=1):
        due = date.fromisoformat(item["due"])
        status = OutcomeStatus(item["status"])
        outcomes.append(
            OutcomeOut(
                outcome_id=item["outcome_id"],
                number=number,
                text_en=item["text_en"],
                text_zh=item["text_zh"],
                area=item["area"],
                owner=case.requesting_node
                if item["owner"] == Side.REQUESTING
                else case.requested_node,
                due=due,
                status=status.value,
                overdue=not status.settled and due < today,
                cases=list(item["cases"]),
                history=list(item["history"]),
            )
        )
    return RoundOut(
        reference=case.reference,
        mechanism=code,
        mechanism_en=mechanism.en if mechanism else code,
        mechanism_zh=mechanism.zh if mechanism else code,
        number=details.get("number", 0),
        starts_on=details.get("starts_on"),
        ends_on=details.get("ends_on"),
        venue=details.get("venue", ""),
        host=case.requesting_node,
        guest=case.requested_node,
        host_cochair=details.get("host_cochair", ""),
        guest_cochair=details.get("guest_cochair", ""),
        state=case.state,
        held_on=held.get("held_on"),
        summary_en=held.get("summary_en", ""),
        summary_zh=held.get("summary_zh", ""),
        agenda=[AgendaItemOut.model_validate(item) for item in case.facts.get(AGENDA, [])],
        outcomes=outcomes,
        head_hash=case.head_hash,
        event_count=case.event_count,
    )


def previous_round(session: Session, current: RoundOut) -> RoundOut | None:
    """The latest earlier round of the same mechanism with the same peer (for the period)."""
    earlier = [
        r
        for r in list_rounds(session)
        if r.mechanism == current.mechanism
        and {r.host, r.guest} == {current.host, current.guest}
        and r.starts_on < current.starts_on
        and r.state != "cancelled"
    ]
    return max(earlier, key=lambda r: r.starts_on, default=None)


# -- scorecard --------------------------------------------------------------------------------


_READ: WeakKeyDictionary[Engine, tuple[tuple[int, int | None, int], list[CaseRecord]]] = (
    WeakKeyDictionary()
)
"""The last records read from each database, with the mark of the logs they were read at."""


def log_mark(session: Session) -> tuple[int, int | None, int]:
    """(events, highest event id, erased parts) of the node's case logs. Logs are append-only,
    the case columns the scorecard reads (its deadlines) change only with an event appended in
    the same transaction, and an erasure that overwrites a stored payload marks the part erased:
    the records read at one mark are the records at any equal mark. (The count catches an event
    committed after one with a higher id.)"""
    erased = (
        select(func.count(CaseEventPart.id))
        .where(CaseEventPart.erased_at.is_not(None))
        .scalar_subquery()
    )
    count, highest, parts = session.execute(
        select(func.count(CaseEvent.id), func.max(CaseEvent.id), erased)
    ).one()
    return int(count), highest, int(parts)


def case_records(session: Session) -> list[CaseRecord]:
    """Every case of the node as the pure scorecard sees it; read again only when a log has
    grown since the last read from this database (see `log_mark`): with a year of history,
    reading the logs was most of the scorecard page, loaded by every officer."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    mark = log_mark(session)
    cached = _READ.get(engine)
    if cached is not None and cached[0] == mark:
        return list(cached[1])
    records = read_case_records(session)
    _READ[engine] = (mark, records)
    return list(records)


def read_case_records(session: Session) -> list[CaseRecord]:
    """Every case of the node as the pure scorecard sees it, from the database (one query for
    all events, of the columns the scorecard reads only); the dialogue's own rounds are not
    cases of cooperation and are left out."""
    events: dict[UUID, list[LoggedEvent]] = defaultdict(list)
    rows = session.execute(
        select(
            CaseEvent.case_id,
            CaseEvent.seq,
            CaseEvent.action,
            CaseEvent.side,
            CaseEvent.occurred_at,
            CaseEvent.payload,
            CaseEvent.state_after,
        )
        .join(Case, Case.id == CaseEvent.case_id)
        .where(Case.case_type != ROUND.case_type)
        .order_by(CaseEvent.case_id, CaseEvent.seq)
    )
    for case_id, seq, action, side, occurred_at, payload, state_after in rows:
        events[case_id].append(
            LoggedEvent(seq, action, side, parse_iso(occurred_at), payload, state_after)
        )
    declared = case_types(session)
    final_states = {
        t.name: frozenset(s.name for s in t.workflow.states if s.final) for t in declared
    }
    records = []
    # whole Case rows are cheap beside the events (one per case); open_deadlines reads them
    only = load_only(
        Case.reference,
        Case.case_type,
        Case.area,
        Case.requesting_node,
        Case.requested_node,
        Case.deadlines,
    )
    for case in session.scalars(
        select(Case).options(only).where(Case.case_type != ROUND.case_type)
    ):
        kind = declared.get(case.case_type)
        records.append(
            CaseRecord(
                reference=case.reference,
                case_type=case.case_type,
                area=case.area,
                requesting_node=case.requesting_node,
                requested_node=case.requested_node,
                events=tuple(events[case.id]),
                final_states=final_states[case.case_type],
                deadlines=tuple((d.name, d.owner.value, d.due_at) for d in open_deadlines(case)),
                share_action=kind.share_action,
                withdrawn_states=kind.withdrawn_states,
                refused_states=kind.refused_states,
                bookkeeping=kind.bookkeeping,
            )
        )
    return records


def scorecard(
    session: Session,
    *,
    nodes: list[str],
    start: datetime,
    end: datetime,
    records: list[CaseRecord] | None = None,
) -> dict[str, Any]:
    """Per area and per side, this period and the one before it (for the trend); `records`
    are `case_records(session)` when the caller has them already."""
    if start >= end:
        raise InvalidInput(f"the period starts ({start}) after it ends ({end}); swap them")
    try:
        previous_start = start - (end - start)
    except OverflowError:
        raise InvalidInput(
            f"the period {start} to {end} is too long to compare with the one before it"
        ) from None
    if records is None:
        records = case_records(session)
    by_area: dict[str, list[CaseRecord]] = defaultdict(list)
    for record in records:
        by_area[record.area].append(record)
    by_area["all"] = records

    measures = {t.name: t.metrics for t in case_types(session) if t.metrics is not None}

    def figures(chosen: list[CaseRecord], node: str, a: datetime, b: datetime) -> dict[str, Any]:
        return side_figures(chosen, node=node, start=a, end=b, measures=measures).flat()

    return {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "previous": {"start": previous_start.isoformat(), "end": start.isoformat()},
        "areas": {
            area: {
                node: {
                    "current": figures(chosen, node, start, end),
                    "previous": figures(chosen, node, previous_start, start),
                }
                for node in nodes
            }
            for area, chosen in sorted(by_area.items())
        },
    }


def stuck_cases(
    session: Session,
    *,
    nodes: list[str],
    now: datetime,
    records: list[CaseRecord] | None = None,
) -> dict[str, list[Any]]:
    """For each side, the cases waiting on it beyond a deadline, oldest first."""
    if records is None:
        records = case_records(session)
    return {
        node: [
            {"reference": ref, "deadline": name, "due": due.isoformat()}
            for ref, name, due in stuck(records, node=node, now=now)
        ]
        for node in nodes
    }
