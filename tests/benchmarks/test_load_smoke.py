"""A short run of the load benchmark (benchmarks/load.py), so that it keeps working: three
officers on two real nodes for a few seconds, no errors, and the JSON the docs quote."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "load.py"


@pytest.mark.e2e
def test_three_officers_for_a_few_seconds_without_errors() -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--officers",
            "3",
            "--seconds",
            "4",
            "--baseline-seconds",
            "2",
            "--think-ms",
            "300",
            "--exchange-every",
            "1",
            "--seed-cases",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:] + run.stdout[-3000:]
    report = json.loads(run.stdout)
    assert report["errors"] == 0, report["error_examples"]
    assert report["meets_target"]["no_errors"] is True
    for kind in ("page", "api_read", "api_write", "web_write", "healthz"):
        for figure in ("count", "errors", "per_s", "p50_ms", "p95_ms", "p99_ms"):
            assert figure in report["load"][kind]
            assert figure in report["baseline"][kind]
    assert report["load"]["page"]["count"] > 0
    assert report["load"]["page"]["p95_ms"] is not None
    assert set(report["p95_ratio_load_to_baseline"]) >= {"page", "api_read", "api_write"}
    exchange = report["exchange"]
    assert exchange["differing"] == []
    assert sum(exchange["cases_submitted_during_load"].values()) > 0
    assert sum(exchange["delivered_during_load"].values()) > 0
    assert exchange["shared_cases_verified"] >= 2
    assert report["sign_in"]["count"] == 3
    assert len(report["loadavg_before"]) == 3 and len(report["loadavg_after"]) == 3
    assert report["officers"] == 3 and report["store"] == "sqlite"
