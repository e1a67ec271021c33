"""Dialogue use cases: the scorecard and the stuck cases, computed from this node's case logs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.cases.definitions import workflow_for
from accord.cases.models import Case, CaseEvent
from accord.cases.service import open_deadlines
from accord.core.clock import parse_iso
from accord.dialogue.scorecard import CaseRecord, LoggedEvent, side_figures, stuck


def case_records(session: Session) -> list[CaseRecord]:
    """Every case of the node as the pure scorecard sees it (one query for all events)."""
    events: dict[Any, list[LoggedEvent]] = defaultdict(list)
    for row in session.scalars(select(CaseEvent).order_by(CaseEvent.case_id, CaseEvent.seq)):
        events[row.case_id].append(
            LoggedEvent(
                row.seq,
                row.action,
                row.side,
                parse_iso(row.occurred_at),
                row.payload,
                row.state_after,
            )
        )
    records = []
    for case in session.scalars(select(Case)):
        workflow = workflow_for(case.case_type)
        records.append(
            CaseRecord(
                reference=case.reference,
                case_type=case.case_type,
                area=case.area,
                requesting_node=case.requesting_node,
                requested_node=case.requested_node,
                events=tuple(events[case.id]),
                final_states=frozenset(s.name for s in workflow.states if s.final),
                deadlines=tuple((d.name, d.owner.value, d.due_at) for d in open_deadlines(case)),
            )
        )
    return records


def scorecard(
    session: Session, *, nodes: list[str], start: datetime, end: datetime
) -> dict[str, Any]:
    """Per area and per side, this period and the one before it (for the trend)."""
    records = case_records(session)
    previous_start = start - (end - start)
    by_area: dict[str, list[CaseRecord]] = defaultdict(list)
    for record in records:
        by_area[record.area].append(record)
    by_area["all"] = records

    def figures(chosen: list[CaseRecord], node: str, a: datetime, b: datetime) -> dict[str, Any]:
        return asdict(side_figures(chosen, node=node, start=a, end=b))

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


def stuck_cases(session: Session, *, nodes: list[str], now: datetime) -> dict[str, list[Any]]:
    """For each side, the cases waiting on it beyond a deadline, oldest first."""
    records = case_records(session)
    return {
        node: [
            {"reference": ref, "deadline": name, "due": due.isoformat()}
            for ref, name, due in stuck(records, node=node, now=now)
        ]
        for node in nodes
    }
