"""Indicators travel with a cyber case and sightings come back on it: CN sends a request with
indicators (in the opening and in a STIX bundle), US matches its logs, CN sees the sightings."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import stix2
from typer.testing import CliRunner

from accord.attachments.service import attachments_of, store_of
from accord.cases import service as cases
from accord.cases.enums import HandlingCode
from accord.cli import scenarios
from accord.cli.root import app
from accord.core.errors import Forbidden, InvalidInput, WorkflowViolation
from accord.cyber import sightings
from accord.cyber.matching.readers import LogFormat
from accord.cyber.stix import tlp_marking_for
from tests.cases.test_case_types import open_scenario
from tests.helpers import Node, act, log_of, pump

SEEN = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _bundle(*patterns: str, marking: HandlingCode | None = None) -> bytes:
    extra = {"object_marking_refs": [tlp_marking_for(marking).id]} if marking else {}
    objects = [
        stix2.v21.Indicator(pattern=p, pattern_type="stix", valid_from=SEEN, **extra)
        for p in patterns
    ]
    return stix2.v21.Bundle(objects=objects).serialize().encode()


def _log(path: Path) -> Path:
    lines = [
        {"ts": "2026-11-21T01:00:00Z", "src_ip": "10.0.0.5", "query": "login-bank.example"},
        {"ts": "2026-11-21T02:00:00Z", "src_ip": "10.0.0.6", "dst_ip": "203.0.113.10"},
        {"ts": "2026-11-21T03:00:00Z", "src_ip": "10.0.0.7", "query": "cdn.evil-kit.example"},
        {"ts": "2026-11-21T04:00:00Z", "src_ip": "10.0.0.7", "query": "www.evil-kit.example"},
        {"ts": "2026-11-21T05:00:00Z", "src_ip": "10.0.0.8", "query": "harmless.example"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_sightings_of_the_requested_side_arrive_on_the_case(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    us, cn = pair
    reference, opener, other = open_scenario(us, cn, scenarios.CYBER)
    assert (opener, other) == (cn, us)
    with cn.runtime.transaction() as session:
        sightings.attach_bundle(
            session,
            node=cn.identity,
            reference=reference,
            bundle=_bundle(
                "[domain-name:value = 'evil-kit.example']",
                "[file:hashes.MD5 = '" + "0" * 31 + "1']",
            ),
            officer="analyst",
        )
    pump(us, cn)
    act(us, reference, "acknowledge", {})
    pump(us, cn)

    with us.runtime.reading() as session:
        found = sightings.case_indicators(session, node=us.identity, reference=reference)
    assert len(found.indicators) == 4 and found.waiting == []
    report = sightings.match_logs(found, [_log(tmp_path / "dns.jsonl")], LogFormat.JSONL)
    assert report.hit_lines == 4
    with us.runtime.transaction() as session:
        sightings.report_sightings(
            session,
            node=us.identity,
            reference=reference,
            report=report,
            indicators=found.indicators,
            sources=[tmp_path / "dns.jsonl"],
            officer="US analyst",
        )
    pump(us, cn)

    assert log_of(us, reference) == log_of(cn, reference)
    with cn.runtime.reading() as session:
        case = cases.get_case(session, reference=reference)
        [run] = sightings.runs_of(session, case=case)
        files = attachments_of(session, case=case)
    by_value = {found.values[s["indicator_id"]]: s for s in run.sightings}
    assert by_value["domain login-bank.example"]["count"] == 1
    assert by_value["ipv4 203.0.113.10"]["count"] == 1
    kit = by_value["[domain-name:value = 'evil-kit.example']"]
    assert kit["count"] == 2 and kit["first_seen"].startswith("2026-11-21T03:00")
    assert sorted(kit["values"]) == ["cdn.evil-kit.example", "www.evil-kit.example"]
    assert run.lines == 5 and run.sources == ["dns.jsonl"] and run.officer == "US analyst"
    # the STIX Sightings bundle reached CN too, verified by its hash
    [sighting_file] = [f for f in files if f["filename"].startswith("sightings-")]
    assert sighting_file["available"] and sighting_file["by"] == us.name
    bundle = json.loads(store_of(cn.identity).path(sighting_file["sha256"]).read_bytes())
    assert sorted(o["count"] for o in bundle["objects"] if o["type"] == "sighting") == [1, 1, 2]
    chart = sightings.sightings_chart([run], lambda key: found.values[key])
    assert chart.startswith("<svg")


def test_bundles_are_checked_before_they_go_on_the_case(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference, _, _ = open_scenario(us, cn, scenarios.CYBER)  # H1
    with cn.runtime.transaction() as session:
        with pytest.raises(Forbidden, match=r"need handling code H3 but the case .* carries H1"):
            sightings.attach_bundle(
                session, node=cn.identity, reference=reference, officer="a",
                bundle=_bundle("[ipv4-addr:value = '198.51.100.1']", marking=HandlingCode.H3),
            )  # fmt: skip
        with pytest.raises(InvalidInput, match="not JSON"):
            sightings.attach_bundle(
                session, node=cn.identity, reference=reference, bundle=b"{", officer="a"
            )
    mla, _, _ = open_scenario(us, cn, scenarios.MLA)
    with us.runtime.transaction() as session, pytest.raises(InvalidInput, match="cyber cases"):
        sightings.case_indicators(session, node=us.identity, reference=mla)


def test_sightings_need_the_request_acknowledged(pair: tuple[Node, Node], tmp_path: Path) -> None:
    us, cn = pair
    reference, _, _ = open_scenario(us, cn, scenarios.CYBER)
    pump(us, cn)
    with us.runtime.reading() as session:
        found = sightings.case_indicators(session, node=us.identity, reference=reference)
    report = sightings.match_logs(found, [_log(tmp_path / "dns.jsonl")], LogFormat.JSONL)
    with (
        us.runtime.transaction() as session,
        pytest.raises(WorkflowViolation, match="not allowed in state 'requested'"),
    ):
        sightings.report_sightings(
            session, node=us.identity, reference=reference, report=report,
            indicators=found.indicators, sources=[], officer="x",
        )  # fmt: skip


def test_the_cli_matches_a_case_and_reports_on_it(pair: tuple[Node, Node], tmp_path: Path) -> None:
    us, cn = pair
    reference, _, _ = open_scenario(us, cn, scenarios.CYBER)
    pump(us, cn)
    act(us, reference, "acknowledge", {})
    pump(us, cn)
    url = str(us.runtime.engine.url.render_as_string(hide_password=False))
    result = CliRunner().invoke(
        app,
        ["--data", str(tmp_path / us.name), "--database-url", url, "cyber", "match",
         "--case", reference, "--logs", str(_log(tmp_path / "dns.jsonl")), "--format", "jsonl",
         "--out", str(tmp_path / "out.json"), "--officer", "US analyst"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 indicators on the case" in result.output
    assert "sightings of 2 indicators sent to CN-MOJ" in result.output
    pump(us, cn)
    with cn.runtime.reading() as session:
        [run] = sightings.runs_of(session, case=cases.get_case(session, reference=reference))
    assert sorted(s["count"] for s in run.sightings) == [1, 1]
    both = CliRunner().invoke(app, ["cyber", "match", "--logs", "x", "--format", "jsonl"])
    assert both.exit_code != 0 and "give either --indicators" in str(both.exception or both.output)
