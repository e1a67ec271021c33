"""STIX as it is published: custom properties and custom objects kept as received and validated
as STIX 2.1 §11 allows; simple patterns validated without the ANTLR parse; context-only bundles
on cyber cases with `accord cyber attach`; ATT&CK for ICS to a peer and back whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import stix2.v21.sdo
from typer.testing import CliRunner

from accord.attachments.service import attachments_of
from accord.cases import service as cases
from accord.cli import scenarios
from accord.cli.root import app
from accord.core.errors import InvalidInput
from accord.cyber.stix import parse_bundle, validate_object
from accord.cyber.taxii import service
from tests.cases.test_case_types import open_scenario
from tests.cyber.conftest import stix_indicator
from tests.helpers import Node, pump

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "stix"
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
