"""Timestamps read from peers and clients: what `parse_iso` accepts and how it refuses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from accord.core.clock import iso, parse_iso


def test_round_trip_in_utc() -> None:
    moment = datetime(2026, 12, 4, 18, 30, 1, 123456, tzinfo=UTC)
    assert parse_iso(iso(moment)) == moment
    assert parse_iso("2026-12-05T02:30:01.123456+08:00") == moment


def test_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="has no time zone"):
        parse_iso("2026-12-04T18:30:00")


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_an_iso_text_outside_the_calendar_in_utc_is_a_value_error(text: str) -> None:
    # valid ISO 8601, but its UTC moment falls before year 1 or after 9999: a ValueError like any
    # other unreadable time, never an OverflowError that a caller does not expect
    with pytest.raises(ValueError, match="out of range"):
        parse_iso(text)
