"""The scorecard arithmetic: pure functions over case logs, every figure with its cases.

Definitions (the dialogue reviews these; change them here and in docs/dialogue.md together):
- a request is *sent* by its requesting node and *received* by its requested node when it is
  first shared (for `mla`, at approve_and_submit; for the other types, at opening);
- *first response*: the requested side's first event after that;
- *completed*: the case reached a final state other than `withdrawn`; `refused` counts as
  completed and as refused;
- percentiles are nearest-rank (p90 of 10 values is the 9th smallest);
- *backlog* is the cases received and still open at the end of the period, by age since receipt;
- *overdue*: open deadlines past due at the end of the period, for the side that owes them.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

SHARE_ACTIONS = {"mla": "approve_and_submit"}
"""The action that sends a case to the peer, for types that start as a local draft."""

AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("<30d", 0, 30),
    ("30-90d", 30, 90),
    ("90-180d", 90, 180),
    ("180-365d", 180, 365),
    (">365d", 365, None),
)


@dataclass(frozen=True)
class LoggedEvent:
    seq: int
    action: str
    side: str
    at: datetime
    payload: dict[str, Any]
    state_after: str


@dataclass(frozen=True)
class CaseRecord:
    reference: str
    case_type: str
    area: str
    requesting_node: str
    requested_node: str
    events: tuple[LoggedEvent, ...]
    final_states: frozenset[str]
    deadlines: tuple[tuple[str, str, datetime], ...] = ()
    """open deadlines now: (name, owner side, due)"""

    @property
    def received_at(self) -> datetime | None:
        action = SHARE_ACTIONS.get(self.case_type)
        for event in self.events:
            if action is None or event.action == action:
                return event.at
        return None

    def state_at(self, moment: datetime) -> str | None:
        state = None
        for event in self.events:
            if event.at >= moment:
                break
            state = event.state_after
        return state

    def first_response(self) -> LoggedEvent | None:
        received = self.received_at
        if received is None:
            return None
        for event in self.events:
            if event.at > received and event.side == "requested" and event.action != "note":
                return event
        return None

    def completion(self) -> LoggedEvent | None:
        for event in self.events:
            if event.state_after in self.final_states:
                return None if event.state_after == "withdrawn" else event
        return None

    def node(self, side: str) -> str:
        return self.requesting_node if side == "requesting" else self.requested_node


@dataclass
class Figure:
    """A number and the cases behind it, so the UI can link the one to the other."""

    value: float | int | str | None
    """str for exact decimal amounts"""
    cases: list[str] = field(default_factory=list)


@dataclass
class SideFigures:
    sent: Figure
    received: Figure
    first_response_median_days: Figure
    first_response_p90_days: Figure
    completion_median_days: Figure
    completion_p90_days: Figure
    completion_rate: Figure
    refusal_rate: Figure
    refusal_grounds: dict[str, int]
    backlog: dict[str, Figure]
    overdue: Figure
    fugitives_returned: Figure
    assets_returned: dict[str, Figure]
    removal_persons_verified: Figure
    removal_persons_removed: Figure
    removal_documented_within_30d: Figure
    cyber_acknowledged_in_time: Figure


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (share in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def _days(delta: timedelta) -> float:
    return round(delta.total_seconds() / 86400, 2)


def _in(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


def side_figures(
    records: Iterable[CaseRecord], *, node: str, start: datetime, end: datetime
) -> SideFigures:
    """The figures of one side (node) for cases in `records` (already filtered by area)."""
    records = list(records)
    sent = [r for r in records if r.requesting_node == node and _in(r.received_at, start, end)]
    received = [r for r in records if r.requested_node == node and _in(r.received_at, start, end)]

    responses: list[tuple[float, str]] = []
    completions: list[tuple[float, str]] = []
    completed: list[str] = []
    refused: list[str] = []
    grounds: dict[str, int] = defaultdict(int)
    for record in received:
        start_at = record.received_at
        assert start_at is not None
        first = record.first_response()
        if first is not None and first.at < end:
            responses.append((_days(first.at - start_at), record.reference))
        done = record.completion()
        if done is not None and done.at < end:
            completions.append((_days(done.at - start_at), record.reference))
            completed.append(record.reference)
            if done.state_after == "refused":
                refused.append(record.reference)
                for ground in done.payload.get("grounds", []):
                    grounds[ground] += 1

    backlog: dict[str, Figure] = {name: Figure(0) for name, _, _ in AGE_BUCKETS}
    overdue = Figure(0)
    for record in records:
        if record.requested_node != node or record.received_at is None:
            continue
        if record.received_at >= end:
            continue
        state = record.state_at(end)
        if state is None or state in record.final_states:
            continue
        age = (end - record.received_at).days
        for name, low, high in AGE_BUCKETS:
            if age >= low and (high is None or age < high):
                backlog[name].value = int(backlog[name].value or 0) + 1
                backlog[name].cases.append(record.reference)
    for record in records:
        for _name, owner, due in record.deadlines:
            if record.node(owner) == node and due < end:
                overdue.value = int(overdue.value or 0) + 1
                overdue.cases.append(record.reference)
                break

    returned = Figure(0)
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    amount_cases: dict[str, list[str]] = defaultdict(list)
    verified, removed, within, documented = Figure(0), Figure(0), Figure(None), 0
    on_time, cyber_total = 0, 0
    cyber_cases: list[str] = []
    within_cases: list[str] = []
    for record in records:
        if record.requested_node != node:
            continue
        confirmed_at: dict[str, datetime] = {}
        for event in record.events:
            if not _in(event.at, start, end):
                if record.case_type == "removal" and event.action == "confirm_identity":
                    confirmed_at[event.payload["person_id"]] = event.at
                continue
            if record.case_type == "fugitive" and event.action == "hand_over":
                returned.value = int(returned.value or 0) + 1
                returned.cases.append(record.reference)
            if record.case_type == "asset" and event.action == "return_assets":
                for item in event.payload.get("amounts", []):
                    amounts[item["currency"]] += Decimal(item["amount"])
                    if record.reference not in amount_cases[item["currency"]]:
                        amount_cases[item["currency"]].append(record.reference)
            if record.case_type == "removal":
                person = str(event.payload.get("person_id", ""))
                if event.action == "confirm_identity":
                    confirmed_at[person] = event.at
                    verified.value = int(verified.value or 0) + 1
                    verified.cases.append(record.reference)
                elif event.action == "record_removal":
                    removed.value = int(removed.value or 0) + 1
                    removed.cases.append(record.reference)
                elif event.action == "issue_travel_document" and person in confirmed_at:
                    documented += 1
                    if event.at - confirmed_at[person] <= timedelta(days=30):
                        within_cases.append(record.reference)
        if record.case_type == "cyber" and _in(record.received_at, start, end):
            acknowledged = next((e for e in record.events if e.action == "acknowledge"), None)
            opening = record.events[0]
            limit = opening.payload.get("deadline_seconds", {}).get("acknowledge")
            if limit is not None and record.received_at is not None:
                cyber_total += 1
                cyber_cases.append(record.reference)
                if (
                    acknowledged is not None
                    and (acknowledged.at - record.received_at).total_seconds() <= limit
                ):
                    on_time += 1
    if documented:
        within = Figure(round(len(within_cases) / documented, 4), sorted(set(within_cases)))
    for figure in (verified, removed, returned):
        figure.cases = sorted(set(figure.cases))
    cyber = Figure(round(on_time / cyber_total, 4) if cyber_total else None, cyber_cases)
    assets = {c: Figure(str(total), amount_cases[c]) for c, total in sorted(amounts.items())}

    response_days = [d for d, _ in responses]
    completion_days = [d for d, _ in completions]
    return SideFigures(
        sent=Figure(len(sent), [r.reference for r in sent]),
        received=Figure(len(received), [r.reference for r in received]),
        first_response_median_days=Figure(
            statistics.median(response_days) if response_days else None, [c for _, c in responses]
        ),
        first_response_p90_days=Figure(percentile(response_days, 0.9), [c for _, c in responses]),
        completion_median_days=Figure(
            statistics.median(completion_days) if completion_days else None,
            [c for _, c in completions],
        ),
        completion_p90_days=Figure(percentile(completion_days, 0.9), [c for _, c in completions]),
        completion_rate=Figure(
            round(len(completed) / len(received), 4) if received else None, completed
        ),
        refusal_rate=Figure(
            round(len(refused) / len(completed), 4) if completed else None, refused
        ),
        refusal_grounds=dict(grounds),
        backlog=backlog,
        overdue=overdue,
        fugitives_returned=returned,
        assets_returned=assets,
        removal_persons_verified=verified,
        removal_persons_removed=removed,
        removal_documented_within_30d=within,
        cyber_acknowledged_in_time=cyber,
    )


def stuck(
    records: Iterable[CaseRecord], *, node: str, now: datetime
) -> list[tuple[str, str, datetime]]:
    """Cases waiting on `node` beyond a deadline, oldest first: (reference, deadline, due)."""
    waiting: list[tuple[str, str, datetime]] = []
    for record in records:
        overdue = [
            (name, due)
            for name, owner, due in record.deadlines
            if record.node(owner) == node and due < now
        ]
        if overdue:
            name, due = min(overdue, key=lambda item: item[1])
            waiting.append((record.reference, name, due))
    return sorted(waiting, key=lambda item: item[2])
