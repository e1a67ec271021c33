"""STIX as it is published: custom properties and custom objects kept as received and validated
as STIX 2.1 §11 allows; simple patterns validated without the ANTLR parse; context-only bundles
on cyber cases with `accord cyber attach`; ATT&CK for ICS to a peer and back whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import stix2.v21.sdo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from accord.attachments.service import attachments_of
from accord.cases import service as cases
from accord.cli import scenarios
from accord.cli.root import app
from accord.core.errors import InvalidInput
from accord.cyber import stix
from accord.cyber.stix import parse_bundle, validate_object
from accord.cyber.taxii import service
from tests.cases.test_case_types import open_scenario
from tests.cyber.conftest import stix_indicator
from tests.helpers import Node, published_samples, pump

SAMPLES = published_samples("stix")
ATTACK_ICS = SAMPLES / "attack-ics-slice.json"


def tactic(**changes: Any) -> dict[str, Any]:
    return {
        "type": "x-mitre-tactic",
        "spec_version": "2.1",
        "id": "x-mitre-tactic--298fe907-7931-4fd2-8131-2814dd493134",
        "created": "2018-10-17T00:14:20.652Z",
        "modified": "2025-04-16T21:26:21.065Z",
        "name": "Inhibit Response Function",
        "x_mitre_shortname": "inhibit-response-function",
        **changes,
    }


def test_custom_objects_and_properties_are_valid_as_stix_allows() -> None:
    validate_object(tactic(), where="object 0")
    validate_object(stix_indicator(1, "[ipv4-addr:value = '1.2.3.4']", x_mitre_note="x"), where="o")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"type": "X-Mitre"}, "custom object type"),
        ({"type": "x--tactic", "id": "x--tactic--298fe907-7931-4fd2-8131-2814dd493134"}, "§11.2"),
        ({"id": "x-mitre-tactic--not-a-uuid"}, "field 'id'"),
        ({"spec_version": "2.0"}, "spec_version"),
        ({"created": "yesterday"}, "field 'created'"),
        ({"modified": "2010-01-01T00:00:00.000Z"}, "earlier than 'created'"),
        ({"object_marking_refs": ["identity--298fe907-7931-4fd2-8131-2814dd493134"]}, "marking"),
        ({"x": 1}, "§11.1"),
        ({"x_Mitre_Bad": 1}, "§11.1"),
    ],
)
def test_a_custom_object_is_refused_for_what_stix_forbids(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        validate_object(tactic(**changes), where="object 0")


def test_simple_patterns_skip_the_antlr_parse_and_others_do_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[str] = []
    full = stix2.v21.sdo.run_validator

    def counting(pattern: str, version: str) -> Any:
        parsed.append(pattern)
        return full(pattern, version)

    monkeypatch.setattr(stix2.v21.sdo, "run_validator", counting)
    validate_object(stix_indicator(1, "[ipv4-addr:value = '198.51.100.7']"), where="o")
    validate_object(stix_indicator(2, "[file:hashes.'SHA-256' = '" + "a" * 64 + "']"), where="o")
    assert parsed == []
    validate_object(stix_indicator(3, "[url:value LIKE '%evil%']"), where="o")
    assert parsed == ["[url:value LIKE '%evil%']"]
    with pytest.raises(InvalidInput, match="pattern"):
        validate_object(stix_indicator(4, "[ipv4-addr:value = '1.2.3.4'"), where="o")


def _context_bundle(path: Path) -> Path:
    bundle = json.loads(ATTACK_ICS.read_text(encoding="utf-8"))
    assert not [o for o in bundle["objects"] if o["type"] == "indicator"]
    path.write_bytes(ATTACK_ICS.read_bytes())
    return path


def test_cyber_attach_takes_a_context_only_bundle(pair: tuple[Node, Node], tmp_path: Path) -> None:
    us, cn = pair
    reference, opener, _ = open_scenario(us, cn, scenarios.CYBER)
    url = str(opener.runtime.engine.url.render_as_string(hide_password=False))
    result = CliRunner().invoke(
        app,
        ["--data", str(tmp_path / opener.name), "--database-url", url, "cyber", "attach",
         reference, str(_context_bundle(tmp_path / "attack-ics.json"))],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with opener.runtime.reading() as session:
        case = cases.get_case(session, reference=reference)
        [attached] = attachments_of(session, case=case)
    assert attached["filename"] == "attack-ics.json"
    assert "12 objects, 0 indicators" in attached["description"]


def test_attack_for_ics_reaches_the_peer_whole(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    objects = parse_bundle(ATTACK_ICS.read_bytes()).objects
    with us.runtime.transaction() as session:
        target = service.writable(session, f"to-{cn.name}")
        status = service.add_objects(session, collection=target, objects=objects, actor="a")
    assert (status.success_count, status.failure_count) == (len(objects), 0)
    pump(us, cn)
    with cn.runtime.reading() as session:
        page = service.object_page(
            session,
            collection=service.collection_id(f"from-{us.name}"),
            filters=service.parse_filter({"match[version]": "all"}),
            after=0,
            limit=100,
        )
    assert [json.loads(row.body) for row in page.rows] == objects


def _indicators_of_the_samples() -> list[dict[str, Any]]:
    found = []
    for path in sorted(SAMPLES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        objects = data["objects"] if data.get("type") == "bundle" else [data]
        found += [o for o in objects if o["type"] == "indicator"]
    return found


_BAD_VALUES: dict[str, list[Any]] = {
    "id": ["indicator--1", "malware--00000000-0000-4000-8000-000000000001", 7,
           "indicator--00000000-0000-4000-0000-000000000001"],
    "created": ["2024-13-01T00:00:00.000Z", "2024-05-01", 1, "2024-05-01T00:00:00.0000000Z"],
    "modified": ["2000-01-01T00:00:00.000Z", "later"],
    "valid_from": ["2024-05-01T25:00:00Z", None],
    "valid_until": ["2000-01-01T00:00:00Z", "2024-05-01T00:00:00Z"],
    "pattern": ["[ipv4-addr:value = '1.2.3.4'", "[file:hashes.MD5 = 'abc']",
                "[file:hashes.'SHA-256' = '" + "g" * 64 + "']", r"[url:value = 'a\nb']",
                "[domain-name:value = 'a.example'] OR [domain-name:value = 'b.example']", 5],
    "pattern_type": ["", 3],
    "spec_version": ["2.0", "2.2"],
    "labels": [[], "one", [1], [""]],
    "indicator_types": [[], [None]],
    "name": [1, None],
    "confidence": [101, -1, "50", True, 5.5],
    "revoked": ["yes", 1],
    "created_by_ref": ["identity--x", "malware--00000000-0000-4000-8000-000000000001"],
    "object_marking_refs": [[], ["identity--00000000-0000-4000-8000-000000000001"], "x"],
}  # fmt: skip


def _stix2_accepts(obj: dict[str, Any]) -> bool:
    try:
        stix2.parse(dict(obj), allow_custom=True, version="2.1")
    except Exception:  # whatever stix2 raises is a refusal
        return False
    return True


def _accepted(obj: dict[str, Any]) -> bool:
    try:
        validate_object(obj, where="o")
    except InvalidInput:
        return False
    return True


def test_the_fast_check_decides_as_stix2_does_on_samples_and_their_mutations() -> None:
    until = "2030-01-01T00:00:00Z"
    common = [
        stix_indicator(1, "[ipv4-addr:value = '198.51.100.7']", labels=["c2"], confidence=80),
        stix_indicator(2, "[file:hashes.'SHA-256' = '" + "A" * 64 + "']", name="kit"),
        stix_indicator(3, "[domain-name:value = 'a\\'b.example']", valid_until=until),
    ]
    assert all(stix._fast_indicator(obj) for obj in common)
    bases = [*_indicators_of_the_samples(), *common]
    cases = list(bases)
    for base in bases:
        for name, values in _BAD_VALUES.items():
            cases += [{**base, name: value} for value in values]
    for obj in cases:
        assert _accepted(obj) == _stix2_accepts(obj), obj


_GOOD: dict[str, list[Any]] = {
    "id": ["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"],
    "created": ["2024-05-01T00:00:00.000Z", "2024-05-01T00:00:00Z"],
    "modified": ["2024-05-01T00:00:00.000Z", "2024-06-01T00:00:00.123456Z"],
    "valid_from": ["2024-05-01T00:00:00Z"],
    "valid_until": ["2025-05-01T00:00:00Z"],
    "pattern": [
        "[ipv4-addr:value = '198.51.100.7']",
        "[file:hashes.MD5 = '" + "a" * 32 + "']",
        "[domain-name:value = 'a.example']",
    ],
    "pattern_type": ["stix"],
    "spec_version": ["2.1"],
    "labels": [["c2"]],
    "confidence": [0, 100],
    "revoked": [False],
    "created_by_ref": ["identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"],
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_mix_of_good_and_bad_fields_is_decided_as_stix2_decides(data: st.DataObject) -> None:
    obj: dict[str, Any] = {"type": "indicator"}
    for name in sorted(set(_GOOD) | set(_BAD_VALUES)):
        # mostly good, so that most objects are one bad field away from valid
        choice = data.draw(st.sampled_from(["good"] * 8 + ["bad", "absent"]), label=name)
        if choice == "good" and name in _GOOD:
            obj[name] = data.draw(st.sampled_from(_GOOD[name]), label=name)
        elif choice == "bad" and name in _BAD_VALUES:
            obj[name] = data.draw(st.sampled_from(_BAD_VALUES[name]), label=name)
    assert _accepted(obj) == _stix2_accepts(obj), obj
