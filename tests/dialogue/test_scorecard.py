"""Scorecard figures against hand-computed values on a small fixture of case logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from accord.composition import assemble
from accord.dialogue.scorecard import (
    CaseRecord,
    Figure,
    LoggedEvent,
    percentile,
    side_figures,
    stuck,
)

US, CN = "US-DOJ", "CN-MOJ"
START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 7, 1, tzinfo=UTC)
TYPES = assemble().case_types
MEASURES = {t.name: t.metrics for t in TYPES if t.metrics is not None}


def record(
    case_type: str,
    ref: str,
    requesting: str,
    requested: str,
    events: list[LoggedEvent],
    deadlines: tuple[Any, ...] = (),
) -> CaseRecord:
    """A case log as the scorecard reads it, with what its type declares."""
    declared = TYPES.get(case_type)
    return CaseRecord(
        ref,
        case_type,
        declared.default_area.value,
        requesting,
        requested,
        tuple(events),
        frozenset(s.name for s in declared.workflow.states if s.final),
        deadlines,
        share_action=declared.share_action,
        withdrawn_states=declared.withdrawn_states,
        refused_states=declared.refused_states,
        bookkeeping=declared.bookkeeping,
    )


def day(n: float) -> datetime:
    return START + timedelta(days=n)


def ev(seq: int, action: str, side: str, at: datetime, state: str, **payload: Any) -> LoggedEvent:
    return LoggedEvent(seq, action, side, at, payload, state)


def mla(ref: str, events: list[LoggedEvent], deadlines: tuple[Any, ...] = ()) -> CaseRecord:
    return record("mla", ref, US, CN, events, deadlines)


def submitted(at: datetime) -> list[LoggedEvent]:
    return [
        ev(1, "open", "requesting", at - timedelta(days=3), "draft"),
        ev(2, "send_to_review", "requesting", at - timedelta(days=2), "legal_review"),
        ev(3, "approve_and_submit", "requesting", at, "submitted"),
    ]


# A: received day 10, first response day 12 (2 days), closed day 40 (30 days)
A = mla(
    "A",
    [
        *submitted(day(10)),
        ev(4, "acknowledge", "requested", day(12), "received"),
        ev(5, "close", "requesting", day(40), "closed"),
    ],
)
# B: received day 20, a note does not count as a response; acknowledged day 30 (10 days);
#    refused day 50 (30 days) on two grounds
B = mla(
    "B",
    [
        *submitted(day(20)),
        ev(4, "note", "requested", day(21), "submitted"),
        ev(5, "acknowledge", "requested", day(30), "received"),
        ev(
            6,
            "refuse",
            "requested",
            day(50),
            "refused",
            grounds=["political_offence", "no_dual_criminality"],
        ),
    ],
)
# C: received day 100, never answered, still open at the end: backlog 30-90d (81 days), overdue
C = mla("C", submitted(day(100)), deadlines=(("acknowledge", "requested", day(105)),))
# D: received day 60, withdrawn day 70: not completed, not in the backlog
D = mla("D", [*submitted(day(60)), ev(4, "withdraw", "requesting", day(70), "withdrawn")])
# E: received before the period (day -30), answered inside: counts in no received figure,
#    but its response inside the period is not counted either (it was received earlier)
E = mla("E", [*submitted(day(-30)), ev(4, "acknowledge", "requested", day(5), "received")])
# F: a draft never submitted: nobody received it
F = mla("F", [ev(1, "open", "requesting", day(3), "draft")])
RECORDS = [A, B, C, D, E, F]


def test_requests_sent_and_received_count_cases_shared_in_the_period() -> None:
    us = side_figures(RECORDS, node=US, start=START, end=END)
    cn = side_figures(RECORDS, node=CN, start=START, end=END)
    assert us.sent.value == 4 and sorted(us.sent.cases) == ["A", "B", "C", "D"]
    assert cn.received.value == 4 and us.received.value == 0


def test_response_and_completion_times_median_and_p90() -> None:
    cn = side_figures(RECORDS, node=CN, start=START, end=END)
    assert cn.first_response_median_days.value == 6.0  # median of 2 and 10
    assert cn.first_response_p90_days.value == 10.0
    assert cn.completion_median_days.value == 30.0  # A and B both took 30 days
    assert sorted(cn.completion_median_days.cases) == ["A", "B"]


def test_completion_and_refusal_rates_with_grounds() -> None:
    cn = side_figures(RECORDS, node=CN, start=START, end=END)
    assert cn.completion_rate.value == 0.5  # A and B of A, B, C, D
    assert cn.refusal_rate.value == 0.5 and cn.refusal_rate.cases == ["B"]
    assert cn.refusal_grounds == {"political_offence": 1, "no_dual_criminality": 1}


def test_backlog_and_overdue_at_the_end_of_the_period() -> None:
    cn = side_figures(RECORDS, node=CN, start=START, end=END)
    assert cn.backlog["30-90d"].value == 1 and cn.backlog["30-90d"].cases == ["C"]
    assert cn.backlog["180-365d"].cases == ["E"]  # received before the period, still open
    assert sum(int(f.value or 0) for f in cn.backlog.values()) == 2
    assert cn.overdue.value == 1 and cn.overdue.cases == ["C"]


def test_a_case_spanning_periods_counts_where_it_happened() -> None:
    first_half = side_figures(RECORDS, node=CN, start=START, end=day(45))
    assert sorted(first_half.received.cases) == ["A", "B"]
    assert first_half.completion_rate.value == 0.5  # A closed day 40; B refused day 50: later
    assert first_half.backlog["<30d"].cases == ["B"]


def test_stuck_cases_are_the_overdue_ones_of_each_side_oldest_first() -> None:
    G = mla("G", submitted(day(30)), deadlines=(("decide", "requested", day(60)),))
    assert stuck([C, G, A], node=CN, now=END) == [
        ("G", "decide", day(60)),
        ("C", "acknowledge", day(105)),
    ]
    assert stuck([C, G], node=US, now=END) == []


def test_percentile_is_nearest_rank() -> None:
    assert percentile(list(range(1, 11)), 0.9) == 9
    assert percentile([5.0], 0.9) == 5.0 and percentile([], 0.5) is None


def test_removal_persons_and_the_thirty_day_clock() -> None:
    events = [
        ev(1, "open", "requesting", day(1), "requested"),
        ev(2, "acknowledge", "requested", day(2), "in_progress"),
        ev(3, "confirm_identity", "requested", day(3), "in_progress", person_id="P1"),
        ev(4, "confirm_identity", "requested", day(3), "in_progress", person_id="P2"),
        ev(5, "issue_travel_document", "requested", day(20), "in_progress", person_id="P1"),
        ev(6, "issue_travel_document", "requested", day(50), "in_progress", person_id="P2"),
        ev(7, "record_removal", "requesting", day(25), "in_progress", person_id="P1"),
    ]
    removal = record("removal", "R", US, CN, events)
    cn = side_figures([removal], node=CN, start=START, end=END, measures=MEASURES).metrics
    assert cn["removal_persons_verified"] == Figure(2, ["R"])
    assert cn["removal_persons_removed"] == Figure(1, ["R"])
    assert cn["removal_documented_within_30d"] == Figure(0.5, ["R"])  # P1 in 17 days, P2 in 47


def test_assets_returned_are_summed_exactly_per_currency() -> None:
    events = [
        ev(1, "open", "requesting", day(1), "tracing"),
        ev(
            2,
            "return_assets",
            "requested",
            day(90),
            "returned",
            amounts=[{"currency": "USD", "amount": "0.10"}, {"currency": "EUR", "amount": "5"}],
        ),
        ev(
            3,
            "return_assets",
            "requested",
            day(95),
            "returned",
            amounts=[{"currency": "USD", "amount": "0.20"}],
        ),
    ]
    asset = record("asset", "S", CN, US, events)
    us = side_figures([asset], node=US, start=START, end=END, measures=MEASURES).metrics
    assert us["assets_returned"] == {"EUR": Figure("5", ["S"]), "USD": Figure("0.30", ["S"])}


def test_the_cli_prints_a_zero_figure_and_a_dash_only_for_none() -> None:
    from accord.cli.dialogue import _shown

    # A refusal rate of 0 or a response within the minute is a figure, not "no data".
    assert [_shown(v) for v in (0.0, 0, 0.25, None)] == ["0.0", "0", "0.25", "—"]
