"""Builders shared by the cyber tests: indicators, bundles and log files made on the spot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from accord.cyber.stix import IndicatorPattern, observables_of


def indicator_id(n: int) -> str:
    return f"indicator--00000000-0000-4000-8000-{n:012d}"


def indicator(n: int, pattern: str, markings: tuple[str, ...] = ()) -> IndicatorPattern:
    observables, is_complex = observables_of(pattern)
    return IndicatorPattern(indicator_id(n), pattern, observables, is_complex, markings)


def stix_indicator(n: int, pattern: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": indicator_id(n),
        "created": "2024-05-01T00:00:00.000Z",
        "modified": "2024-05-01T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2024-05-01T00:00:00Z",
        **extra,
    }


def bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "bundle",
        "id": "bundle--00000000-0000-4000-8000-000000000001",
        "objects": list(objects),
    }


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path
