"""`accord cyber match` end to end on small files: a bundle in, a bundle of sightings out."""

from __future__ import annotations

import json
from pathlib import Path

import stix2
from typer.testing import CliRunner

from accord.cli.root import app
from accord.core.errors import InvalidInput
from accord.cyber.stix import TLP2_MARKINGS, TlpLevel
from tests.cyber.conftest import bundle, indicator_id, stix_indicator, write_jsonl

ZEEK_CONN = (
    "#separator \\x09\n"
    "#fields\tts\tuid\tid.orig_h\tid.resp_h\n"
    "1714521600.0\tC1\t10.0.0.5\t203.0.113.9\n"
    "1714521700.0\tC2\t10.0.0.5\t8.8.8.8\n"
    "this line is broken\n"
)


def write_bundle(path: Path) -> Path:
    red = TLP2_MARKINGS[TlpLevel.RED]
    objects = [
        json.loads(red.serialize()),
        stix_indicator(
            1, "[ipv4-addr:value ISSUBSET '203.0.113.0/24']", object_marking_refs=[red.id]
        ),
        stix_indicator(2, "[domain-name:value = 'evil.example']"),
        stix_indicator(3, "[ipv4-addr:value = '8.8.8.8']"),
    ]
    path.write_text(json.dumps(bundle(*objects)))
    return path


def test_match_writes_sightings_with_markings_and_reports(tmp_path: Path) -> None:
    indicators = write_bundle(tmp_path / "bundle.json")
    conn = tmp_path / "conn.log"
    conn.write_text(ZEEK_CONN)
    out = tmp_path / "sightings.json"
    result = CliRunner().invoke(
        app,
        [
            "cyber",
            "match",
            "--indicators",
            str(indicators),
            "--logs",
            str(conn),
            "--format",
            "zeek",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "bad line" in result.output and f"{conn}:5" in result.output
    parsed = stix2.parse(out.read_text(), allow_custom=True)
    sightings = [o for o in parsed.objects if o.type == "sighting"]
    assert [(s.sighting_of_ref, s.count) for s in sightings] == [(indicator_id(1), 1)]
    assert sightings[0].object_marking_refs == [TLP2_MARKINGS[TlpLevel.RED].id]
    assert any(o.type == "marking-definition" for o in parsed.objects)


def test_match_over_several_logs_with_an_operator_suppression_list(tmp_path: Path) -> None:
    indicators = write_bundle(tmp_path / "bundle.json")
    dns = write_jsonl(
        tmp_path / "dns.jsonl",
        [
            {"ts": 1714521600, "query": "a.evil.example"},
            {"ts": 1714521660, "query": "evil.example"},
        ],
    )
    more = write_jsonl(tmp_path / "dns2.jsonl", [{"query": "cdn.evil.example"}])
    benign = tmp_path / "benign.txt"
    benign.write_text("cdn.evil.example\n")
    out = tmp_path / "s.json"
    result = CliRunner().invoke(
        app,
        [
            "cyber",
            "match",
            "-i",
            str(indicators),
            "-l",
            str(dns),
            "-l",
            str(more),
            "-f",
            "jsonl",
            "-o",
            str(out),
            "--suppress",
            str(benign),
            "--quick",
        ],
    )
    assert result.exit_code == 0, result.output
    sightings = json.loads(out.read_text())["objects"]
    assert [(s["sighting_of_ref"], s["count"]) for s in sightings] == [(indicator_id(2), 2)]
    assert sightings[0]["first_seen"].startswith("2024-05-01T00:00:00")
    assert sightings[0]["last_seen"].startswith("2024-05-01T00:01:00")


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    indicators = write_bundle(tmp_path / "bundle.json")
    log = write_jsonl(tmp_path / "l.jsonl", [])
    result = CliRunner().invoke(
        app, ["cyber", "match", "-i", str(indicators), "-l", str(log), "-f", "syslog"]
    )
    assert isinstance(result.exception, InvalidInput)
    assert "syslog" in result.exception.message


def test_only_the_named_fields_are_checked_without_the_default_list(tmp_path: Path) -> None:
    indicators = write_bundle(tmp_path / "bundle.json")
    log = write_jsonl(
        tmp_path / "proxy.jsonl",
        [{"query": "evil.example", "peer": "203.0.113.7"}, {"peer": "8.8.8.8"}],
    )
    out = tmp_path / "s.json"
    base = ["cyber", "match", "-i", str(indicators), "-l", str(log), "-f", "jsonl", "-o", str(out)]
    result = CliRunner().invoke(
        app, [*base, "--no-default-fields", "--field", "peer=ip", "--no-default-suppression"]
    )
    assert result.exit_code == 0, result.output
    sightings = [o for o in json.loads(out.read_text())["objects"] if o["type"] == "sighting"]
    # `query` is a default field name: left out, evil.example is not sighted.
    assert sorted((s["sighting_of_ref"], s["count"]) for s in sightings) == [
        (indicator_id(1), 1),
        (indicator_id(3), 1),
    ]
    refused = CliRunner().invoke(app, [*base, "--no-default-fields"])
    assert refused.exit_code != 0
    assert "--no-default-fields needs at least one --field" in refused.output + str(
        refused.exception
    )
