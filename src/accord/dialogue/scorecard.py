"""The scorecard arithmetic: pure functions over case logs, every figure with its cases.

Definitions (the dialogue reviews these; change them here and in docs/dialogue.md together):
- a request is *sent* by its requesting node and *received* by its requested node when it is
  first shared (at its type's share action for a type prepared as a draft, else at opening);
- *first response*: the requested side's first event after that that is not bookkeeping;
- *completed*: the case reached a final state its type does not declare withdrawn; a state it
  declares refused counts as completed and as refused;
- percentiles are nearest-rank (p90 of 10 values is the 9th smallest);
- *backlog* is the cases received and still open at the end of the period, by age since receipt;
- *overdue*: open deadlines past due at the end of the period, for the side that owes them;
- each case type adds its own figures (`CaseType.metrics`), from the cases it received.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import format_decimal, get_currency_name

from accord.cases.metrics import CaseRecord, Figure, Figures, LoggedEvent, Measure, Period

__all__ = [
    "CaseRecord",
    "Figure",
    "LoggedEvent",
    "SideFigures",
    "money",
    "side_figures",
    "stuck",
]

AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("<30d", 0, 30),
    ("30-90d", 30, 90),
    ("90-180d", 90, 180),
    ("180-365d", 180, 365),
    (">365d", 365, None),
)


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
    metrics: Figures = field(default_factory=dict)
    """Each case type's own figures, by name (its `CaseType.metrics`)."""

    def flat(self) -> dict[str, Any]:
        """As the API and the briefing pack publish them: the types' figures beside the rest.
        (Built field by field: `dataclasses.asdict` deep-copies every list of references and
        was half the scorecard's arithmetic.)"""
        common = {
            f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name != "metrics"
        }
        return {**common, **{name: _plain(figure) for name, figure in self.metrics.items()}}


def _plain(value: object) -> Any:
    """A figure, a dict of figures or of counts, as plain data (lists copied, not deeply)."""
    if isinstance(value, Figure):
        return {"value": value.value, "cases": list(value.cases)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def money(amount: object, currency: str, lang: str = "en") -> str:
    """An exact amount as officials read it: "USD 2,500,000.50" in English, "2,500,000.50 美元"
    in Chinese (the currency's CLDR name); two decimals at least, the wire's four at most."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return f"{currency} {amount}"
    text = format_decimal(value, format="#,##0.00##", locale="en", decimal_quantization=False)
    if lang == "zh":
        return f"{text} {get_currency_name(currency, locale='zh_Hans_CN')}"
    return f"{currency} {text}"


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (share in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def _days(delta: timedelta) -> float:
    return round(delta.total_seconds() / 86400, 2)


def side_figures(
    records: Iterable[CaseRecord],
    *,
    node: str,
    start: datetime,
    end: datetime,
    measures: Mapping[str, Measure] | None = None,
) -> SideFigures:
    """The figures of one side (node) for cases in `records` (already filtered by area);
    `measures` by case type give each type's own figures."""
    records = list(records)
    period = Period(node, start, end)
    sent = [r for r in records if r.requesting_node == node and period.holds(r.received_at)]
    received = [r for r in records if r.requested_node == node and period.holds(r.received_at)]

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
            if done.state_after in record.refused_states:
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

    metrics: Figures = {}
    for case_type, measure in (measures or {}).items():
        own = [r for r in records if r.case_type == case_type and r.requested_node == node]
        metrics.update(measure(own, period))

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
        metrics=metrics,
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
