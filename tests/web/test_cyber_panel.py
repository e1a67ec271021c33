"""A cyber case's page shows its indicators, the matching runs and the sightings chart."""

from __future__ import annotations

import json
from pathlib import Path

from accord.cli import scenarios
from accord.cyber import sightings
from accord.cyber.matching.readers import LogFormat
from tests.cases.test_case_types import open_scenario
from tests.helpers import act, pump
from tests.web.conftest import Web


def test_the_case_page_shows_indicators_runs_and_the_chart(web: Web, tmp_path: Path) -> None:
    reference, _, _ = open_scenario(web.us, web.cn, scenarios.CYBER)  # CN asks, US matches
    pump(web.us, web.cn)
    client = web.client()
    web.sign_in(client, "smith")
    page = client.get(f"/cases/{reference}").text
    assert "2 indicators on the case" in page and "domain login-bank.example" in page
    assert "No sightings reported yet." in page

    act(web.us, reference, "acknowledge", {})
    pump(web.us, web.cn)
    log = tmp_path / "proxy.jsonl"
    log.write_text(json.dumps({"ts": "2026-11-21T01:00:00Z", "host": "login-bank.example"}) + "\n")
    with web.us.runtime.transaction() as session:
        found = sightings.case_indicators(session, node=web.us.identity, reference=reference)
        report = sightings.match_logs(found, [log], LogFormat.JSONL)
        sightings.report_sightings(
            session, node=web.us.identity, reference=reference, report=report,
            indicators=found.indicators, sources=[log], officer="Officer Smith",
        )  # fmt: skip
    pump(web.us, web.cn)
    page = client.get(f"/cases/{reference}").text
    assert "Matching runs" in page and "proxy.jsonl" in page
    assert '<figure class="chart"><svg' in page
    zh = web.client()
    web.sign_in(zh, "wang", lang="zh")
    assert "指标与命中" in zh.get(f"/cases/{reference}").text
