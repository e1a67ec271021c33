"""Time in one place: UTC, second-precise ISO strings for the log, and UUIDv7 ids."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from uuid import UUID

import uuid6

SKEW = timedelta(seconds=float(os.environ.get("ACCORD_CLOCK_SKEW_SECONDS") or 0))
"""Added to every reading of the clock. For fault-injection tests only (clocks of two nodes out
of step); read once, from the environment, when the process starts. Leave it unset in production."""


def utcnow() -> datetime:
    return datetime.now(UTC) + SKEW


def iso(moment: datetime) -> str:
    """The log's timestamp form: UTC, microseconds, trailing Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        # "0001-01-01T00:00:00+01:00" is a valid ISO 8601 text whose UTC moment is before year 1
        raise ValueError(f"timestamp {text!r} is out of range") from None


def new_id() -> UUID:
    """A UUIDv7: time-ordered, so ids sort by creation."""
    value: UUID = uuid6.uuid7()
    return UUID(bytes=value.bytes)


_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> timedelta:
    """'30d', '8h', '90m', '45s' or a sum of them ('1d12h') as a timedelta."""
    import re

    parts = re.findall(r"(\d+(?:\.\d+)?)([dhms])", text.strip().lower())
    if not parts or "".join(n + u for n, u in parts) != text.strip().lower():
        raise ValueError(f"{text!r} is not a duration like 30d, 8h, 90m or 1d12h")
    return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in parts))
