"""MISP interoperability: a MISP event goes onto a cyber case as STIX and comes back out as the
same MISP event; TLP tags, distribution levels and handling codes are read and written both
ways; what the handling code forbids is refused; a real HTTP server serves the case as a MISP
feed that PyMISP reads as MISP would."""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymisp import MISPEvent
from pymisp.abstract import describe_types
from sqlalchemy import select
from typer.testing import CliRunner

from accord.accounts.service import create_user, issue_token
from accord.app import create_app
from accord.attachments.service import attachments_of
from accord.audit.models import AuditEntry
from accord.cases import service as cases
from accord.cases.enums import HandlingCode
from accord.cli import scenarios
from accord.cli.demo import free_port
from accord.cli.root import app as cli
from accord.config import Settings
from accord.core.errors import Forbidden, InvalidInput
from accord.core.permissions import Role
from accord.cyber import sightings
from accord.cyber.misp import attributes as types
from accord.cyber.misp import policy
from accord.cyber.misp.reader import read_event
from accord.cyber.misp.service import case_event, case_feed, import_event
from accord.cyber.misp.writer import CaseEvent as CaseSummary
from accord.cyber.misp.writer import write_event
from accord.cyber.stix import TlpLevel, observables_of, parse_bundle, tlp_level_of
from tests.helpers import Node, open_from, published_samples, pump

EVENT_UUID = "5e6b7c2a-3f1d-4e8a-9b0c-1d2e3f4a5b6c"


def _attribute(n: int, misp_type: str, value: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": str(1000 + n),
        "event_id": "42",
        "object_id": "0",
        "uuid": f"5e6b7c2a-0000-4000-8000-{n:012d}",
        "type": misp_type,
        "category": extra.pop("category", "Network activity"),
        "value": value,
        "to_ids": extra.pop("to_ids", True),
        "comment": extra.pop("comment", ""),
        "timestamp": str(1764000000 + n),
        "distribution": "5",
        "sharing_group_id": "0",
        "deleted": False,
        "disable_correlation": False,
        "first_seen": None,
        "last_seen": None,
        **extra,
    }


def _tag(name: str) -> dict[str, Any]:
    return {"id": "7", "name": name, "colour": "#33FF00", "exportable": True, "local": False}


_KIT_MASTER = 'misp-galaxy:threat-actor="Kit Master"'


def misp_event(
    *, event_tags: tuple[str, ...] = ("tlp:green", _KIT_MASTER), **event: Any
) -> dict[str, Any]:
    """A MISP event as MISP's REST API answers GET /events/view/42 (the fields of its JSON
    format: the event, its attributes, an object, tags at both levels)."""
    return {
        "Event": {
            "id": "42",
            "orgc_id": "3",
            "org_id": "3",
            "date": "2026-11-24",
            "threat_level_id": "2",
            "info": "Phishing kit imitating bank logins",
            "published": True,
            "uuid": EVENT_UUID,
            "attribute_count": "9",
            "analysis": "1",
            "timestamp": "1764000100",
            "distribution": "1",
            "proposal_email_lock": False,
            "locked": False,
            "publish_timestamp": "1764000200",
            "sharing_group_id": "0",
            "disable_correlation": False,
            "extends_uuid": "",
            "Org": {"id": "3", "name": "CN-CERT", "uuid": "5e6b7c2a-aaaa-4000-8000-000000000001"},
            "Orgc": {"id": "3", "name": "CN-CERT", "uuid": "5e6b7c2a-aaaa-4000-8000-000000000001"},
            "Attribute": [
                _attribute(
                    1,
                    "ip-dst",
                    "203.0.113.10",
                    comment="C2 server",
                    Tag=[_tag("tlp:green"), _tag("kill-chain:Command and Control")],
                ),
                _attribute(2, "ip-src", "198.51.100.0/24", comment="scanning range"),
                _attribute(
                    3,
                    "domain",
                    "login-bank.example",
                    Tag=[_tag('phishing:techniques="credential-harvesting"')],
                ),
                _attribute(
                    4, "hostname", "cdn.evil-kit.example", to_ids=False, comment="seen in DNS only"
                ),
                _attribute(5, "url", "http://login-bank.example/secure/index.php?id=7"),
                _attribute(
                    6, "email-src", "support@login-bank.example", category="Payload delivery"
                ),
                _attribute(
                    7, "sha256", "a" * 64, category="Payload delivery", comment="kit archive"
                ),
                _attribute(
                    8,
                    "filename|md5",
                    "kit.zip|" + "b" * 32,
                    category="Payload delivery",
                    to_ids=False,
                ),
                _attribute(9, "domain|ip", "panel.evil-kit.example|203.0.113.11"),
                _attribute(10, "ip-dst|port", "203.0.113.12|8443"),
                _attribute(
                    11, "btc", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", category="Financial fraud"
                ),
                _attribute(
                    12, "text", "operator handle: kitmaster", category="Other", to_ids=False
                ),
            ],
            "Object": [
                {
                    "id": "12",
                    "name": "file",
                    "meta-category": "file",
                    "description": "File object describing a file with meta-information",
                    "template_uuid": "688c46fb-5edb-40a3-8273-1af7923e2215",
                    "template_version": "25",
                    "event_id": "42",
                    "uuid": "5e6b7c2a-bbbb-4000-8000-000000000001",
                    "timestamp": "1764000050",
                    "distribution": "5",
                    "sharing_group_id": "0",
                    "comment": "the dropper",
                    "deleted": False,
                    "Attribute": [
                        {
                            **_attribute(
                                20, "filename", "invoice.exe", category="Payload delivery"
                            ),
                            "object_relation": "filename",
                        },
                        {
                            **_attribute(21, "md5", "c" * 32, category="Payload delivery"),
                            "object_relation": "md5",
                        },
                        {
                            **_attribute(
                                22, "sha1", "d" * 40, category="Payload delivery", to_ids=False
                            ),
                            "object_relation": "sha1",
                        },
                    ],
                }
            ],
            "Tag": [_tag(name) for name in event_tags],
            "Galaxy": [
                {
                    "uuid": "7cdff317-a673-4474-84ec-4f1754947823",
                    "name": "Threat Actor",
                    "type": "threat-actor",
                    "GalaxyCluster": [{"value": "Kit Master", "tag_name": _KIT_MASTER}],
                }
            ],
            **event,
        }
    }


def _cyber_case(us: Node, cn: Node, code: HandlingCode) -> str:
    opening = copy.deepcopy(scenarios.CYBER.opening)
    opening["handling_code"] = code.value
    reference = open_from(cn, us.name, opening)
    pump(us, cn)
    return reference


def _attributes(event: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every attribute of an event, top level and in objects, by uuid, as the fields the round
    trip keeps: value, type, to_ids, comment, tags."""
    found: dict[str, dict[str, Any]] = {}
    body = event.get("Event", event)
    items = list(body.get("Attribute", []))
    for obj in body.get("Object", []):
        items += [{**a, "_object": (obj["name"], obj["uuid"])} for a in obj.get("Attribute", [])]
    for a in items:
        found[a["uuid"]] = {
            "type": a["type"],
            "value": a["value"],
            "to_ids": a["to_ids"] in (True, "1", 1),
            "comment": a.get("comment", ""),
            "tags": sorted(t["name"] for t in a.get("Tag", [])),
            "object": a.get("_object"),
        }
    return found


# -- reading -----------------------------------------------------------------------------------


def test_each_attribute_becomes_an_indicator_or_observed_data_and_the_rest_is_reported() -> None:
    parsed = read_event(json.dumps(misp_event()).encode())
    bundle = parse_bundle(parsed.bundle)
    by_id = {obj["id"]: obj for obj in bundle.objects}
    patterns = {i.id: i.pattern for i in bundle.indicators}
    assert patterns["indicator--5e6b7c2a-0000-4000-8000-000000000001"] == (
        "[ipv4-addr:value = '203.0.113.10']"
    )
    assert patterns["indicator--5e6b7c2a-0000-4000-8000-000000000002"] == (
        "[ipv4-addr:value ISSUBSET '198.51.100.0/24']"
    )
    assert patterns["indicator--5e6b7c2a-0000-4000-8000-000000000009"] == (
        "[domain-name:value = 'panel.evil-kit.example' AND "
        "domain-name:resolves_to_refs[*].value = '203.0.113.11']"
    )
    assert patterns["indicator--5e6b7c2a-0000-4000-8000-000000000010"] == (
        "[network-traffic:dst_ref.value = '203.0.113.12' AND network-traffic:dst_port = 8443]"
    )
    # to_ids false: observed data of the observable, never an indicator the matcher would use
    observed = by_id["observed-data--5e6b7c2a-0000-4000-8000-000000000004"]
    (sco_id,) = observed["object_refs"]
    assert by_id[sco_id] == {
        **by_id[sco_id],
        "type": "domain-name",
        "value": "cdn.evil-kit.example",
    }
    assert observed["x_misp_comment"] == "seen in DNS only"
    file_obs = by_id["observed-data--5e6b7c2a-0000-4000-8000-000000000008"]
    assert by_id[file_obs["object_refs"][0]]["hashes"] == {"MD5": "b" * 32}
    # the object is a grouping of its attributes, the event a report of everything
    grouping = by_id["grouping--5e6b7c2a-bbbb-4000-8000-000000000001"]
    assert len(grouping["object_refs"]) == 3 and 'misp:name="file"' in grouping["labels"]
    report = by_id[f"report--{EVENT_UUID}"]
    assert report["name"] == "Phishing kit imitating bank logins"
    assert by_id[report["created_by_ref"]]["name"] == "CN-CERT"
    assert (parsed.indicators, parsed.observables, parsed.notes) == (10, 3, 2)
    # a type no pattern or observable says travels as a note on the event, and is said;
    # prose (text, comment) is a note by nature
    note = by_id["note--5e6b7c2a-0000-4000-8000-000000000011"]
    assert note["content"] == "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
    assert note["object_refs"] == [f"report--{EVENT_UUID}"]
    assert by_id["note--5e6b7c2a-0000-4000-8000-000000000012"]["content"].startswith("operator")
    # nothing silently dropped: the btc address is named, and the galaxy
    assert len(parsed.problems) == 2
    assert (
        "(5e6b7c2a-0000-4000-8000-000000000011, btc): type 'btc' has no STIX pattern"
        in (parsed.problems[0])
    )
    assert parsed.problems[1].startswith("the event's Galaxy (1) has no STIX form here")


def test_indicators_read_from_misp_match_logs_like_any_other() -> None:
    parsed = read_event(misp_event())
    bundle = parse_bundle(parsed.bundle)
    observables = {(o.kind.value, o.value) for i in bundle.indicators for o in i.observables}
    assert ("ipv4", "203.0.113.10") in observables
    assert ("domain", "login-bank.example") in observables
    assert ("sha256", "a" * 64) in observables
    assert ("md5", "c" * 32) in observables


_EXAMPLES = {
    "ip-src": "198.51.100.7",
    "ip-dst": "2001:db8::7",
    "domain": "evil.example",
    "hostname": "www.evil.example",
    "url": "http://evil.example/a?b=c'd",
    "uri": "/gate.php",
    "link": "https://report.example/42",
    "email": "a@evil.example",
    "email-src": "b@evil.example",
    "email-dst": "c@evil.example",
    "email-subject": "Your invoice",
    "filename": "invoice.exe",
    "mutex": "Global\\kit-7",
    "regkey": "HKLM\\Software\\Kit",
    "AS": "64500",
    "mac-address": "00:11:22:33:44:55",
    "domain|ip": "evil.example|203.0.113.5",
    "ip-src|port": "203.0.113.5|4444",
    "ip-dst|port": "203.0.113.6|443",
    "md5": "a" * 32,
    "sha1": "b" * 40,
    "sha256": "c" * 64,
    "sha512": "d" * 128,
    "filename|md5": "a.exe|" + "a" * 32,
    "filename|sha1": "a.exe|" + "b" * 40,
    "filename|sha256": "a.exe|" + "c" * 64,
    "filename|sha512": "a.exe|" + "d" * 128,
    "x509-fingerprint-md5": "e" * 32,
    "x509-fingerprint-sha1": "f" * 40,
    "x509-fingerprint-sha256": "0" * 64,
}


def test_every_mapped_type_has_an_example() -> None:
    assert set(_EXAMPLES) == set(types.TYPES)


@pytest.mark.parametrize(("misp_type", "value"), sorted(_EXAMPLES.items()))
@pytest.mark.parametrize("to_ids", [True, False], ids=["indicator", "observed"])
def test_each_type_maps_to_valid_stix_and_its_value_reads_back(
    misp_type: str, value: str, to_ids: bool
) -> None:
    category = describe_types["sane_defaults"][misp_type]["default_category"]
    event = misp_event()
    event["Event"]["Attribute"] = [
        _attribute(1, misp_type, value, to_ids=to_ids, category=category)
    ]
    event["Event"]["Object"] = []
    parsed = read_event(event)
    assert parsed.problems == [s for s in parsed.problems if "Galaxy" in s]
    written = write_event(SUMMARY_H0, parse_bundle(parsed.bundle).objects)
    (attribute,) = _attributes(written.event.to_feed()).values()
    assert (attribute["type"], attribute["value"], attribute["to_ids"]) == (
        misp_type,
        value,
        to_ids,
    )


@pytest.mark.parametrize(
    ("misp_type", "value", "stix_type"),
    [
        ("yara", 'rule kit { strings: $a = "kitmaster" condition: $a }', "indicator"),
        ("snort", 'alert tcp any any -> any 443 (msg:"kit"; sid:1;)', "indicator"),
        ("sigma", "title: kit\ndetection:\n  condition: selection", "indicator"),
        ("text", "operator handle: kitmaster", "note"),
        ("btc", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "note"),
        ("port", "8443", "note"),
        ("attachment", "kit.zip", "note"),
    ],
)
@pytest.mark.parametrize("to_ids", [True, False], ids=["to_ids", "not_to_ids"])
def test_rules_and_types_without_a_pattern_travel_and_come_back(
    misp_type: str, value: str, stix_type: str, to_ids: bool
) -> None:
    category = describe_types["sane_defaults"][misp_type]["default_category"]
    event = misp_event()
    event["Event"]["Attribute"] = [
        _attribute(1, misp_type, value, to_ids=to_ids, category=category, comment="why")
    ]
    event["Event"]["Object"] = []
    if misp_type == "attachment":
        event["Event"]["Attribute"][0]["data"] = "UEsDBAoAAAAAAA=="
    parsed = read_event(event)
    assert ("file content ('data') is not carried" in " ".join(parsed.problems)) == (
        misp_type == "attachment"
    )
    bundle = parse_bundle(parsed.bundle)
    (carried,) = [o for o in bundle.objects if o["id"].endswith("0000-4000-8000-000000000001")]
    assert carried["type"] == stix_type
    assert bundle.indicators == []  # neither a rule nor a note is matched against logs
    written = write_event(SUMMARY_H0, bundle.objects)
    (attribute,) = _attributes(written.event.to_feed()).values()
    assert (attribute["type"], attribute["value"], attribute["to_ids"], attribute["comment"]) == (
        misp_type,
        value,
        to_ids,
        "why",
    )


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (b"\xef\xbb\xbf{", "not JSON"),
        ({"response": [misp_event(), misp_event()]}, "search result of 2 events"),
        ([misp_event(), misp_event()], "list of 2 items"),
        ({"response": [{"Event": {"id": "1"}}]}, "expected a MISP event"),
        ({"Event": {**misp_event()["Event"], "uuid": "42"}}, "field 'uuid': '42' is not a UUID"),
        ({"Event": {**misp_event()["Event"], "info": ""}}, "field 'info'"),
        ({"Event": {**misp_event()["Event"], "distribution": "9"}}, "'distribution': '9'"),
        ({"Event": {**misp_event()["Event"], "Attribute": [], "Object": []}}, "no attribute"),
    ],
)
def test_an_unreadable_event_is_refused_naming_what_is_wrong(event: Any, message: str) -> None:
    content = event if isinstance(event, bytes) else json.dumps(event).encode()
    with pytest.raises(InvalidInput, match=message):
        read_event(content)


def test_a_search_result_or_list_of_one_event_reads_as_that_event() -> None:
    # as MISP itself reads a feed's event file
    for wrapped in ({"response": [misp_event()]}, [misp_event()]):
        assert read_event(json.dumps(wrapped)).event_uuid == EVENT_UUID


def test_a_value_that_does_not_fit_its_type_is_reported_not_imported() -> None:
    event = misp_event()
    event["Event"]["Attribute"] = [
        _attribute(1, "ip-dst", "203.0.113.999"),
        _attribute(2, "sha256", "abc", category="Payload delivery"),
        _attribute(3, "domain", "fine.example", category="Financial fraud"),
        {**_attribute(4, "domain", "two.example"), "uuid": "not-a-uuid"},
        _attribute(5, "domain", "three.example", to_ids="maybe"),
    ]
    event["Event"]["Object"] = []
    parsed = read_event(event)
    assert parsed.indicators == 1
    assert "'203.0.113.999' is not an IP address" in parsed.problems[0]
    assert "'abc' is not a SHA-256 hash (64 hex digits)" in parsed.problems[1]
    # a category MISP does not give the type is kept, and said
    assert parsed.problems[2].endswith("type domain is not of category Financial fraud; kept")
    # a field of one attribute that cannot be read leaves that attribute out, not the event
    assert "field 'uuid': 'not-a-uuid' is not a UUID; not imported" in parsed.problems[3]
    assert "field 'to_ids': 'maybe' is not true or false; not imported" in parsed.problems[4]


SAMPLES = published_samples("stix")
SUMMARY_H0 = CaseSummary(
    node="US-DOJ",
    reference="CYB-US-2026-000002",
    title="every type",
    opened=datetime(2026, 11, 1, tzinfo=UTC),
    updated=datetime(2026, 11, 2, tzinfo=UTC),
    closed=False,
    handling_code=HandlingCode.H0,
)
SUMMARY = CaseSummary(
    node="US-DOJ",
    reference="CYB-US-2026-000001",
    title="published samples",
    opened=datetime(2026, 11, 1, tzinfo=UTC),
    updated=datetime(2026, 11, 2, tzinfo=UTC),
    closed=False,
    handling_code=HandlingCode.H1,
)


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_every_published_stix_sample_leaves_as_misp_and_reads_back_the_same(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    objects = document.get("objects", [document])  # one sample is a single object
    written = write_event(SUMMARY, objects)
    event = written.event.to_feed()
    attributes = _attributes(event)
    problems = " ".join(written.problems)
    # each indicator and observed data is an attribute of the same uuid, or named as left out
    for obj in objects:
        ident = obj["id"].split("--", 1)[1]
        if obj["type"] in ("indicator", "observed-data"):
            assert ident in attributes or obj["id"] in problems, obj["id"]
        elif obj["type"] not in ("identity", "marking-definition", "report", "grouping"):
            assert obj["type"] in problems or obj["type"] in _OBSERVABLE_TYPES, obj["type"]
    # MISP's own model reads it, and reading it back gives patterns that look for the same
    loaded = MISPEvent()
    loaded.load(json.dumps(event))
    assert len(loaded.attributes) == len(attributes)
    if not attributes:
        return
    again = {i.id: i for i in parse_bundle(read_event(event).bundle).indicators}
    for obj in objects:
        if obj["type"] == "indicator" and obj["id"] in again:
            before = set(observables_of(obj["pattern"])[0])
            assert set(again[obj["id"]].observables) == before, obj["pattern"]
    assert {i for i, a in attributes.items() if a["to_ids"]} == {i.split("--", 1)[1] for i in again}


_OBSERVABLE_TYPES = {
    "ipv4-addr",
    "ipv6-addr",
    "domain-name",
    "url",
    "file",
    "email-addr",
    "windows-registry-key",
    "network-traffic",
    "mutex",
    "autonomous-system",
}


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_FIELDS = st.sampled_from(
    [
        "uuid",
        "type",
        "value",
        "to_ids",
        "category",
        "comment",
        "timestamp",
        "first_seen",
        "last_seen",
        "distribution",
        "Tag",
        "deleted",
        "object_relation",
        "name",
        "Attribute",
    ]
)


@settings(max_examples=150, deadline=2000, database=None, suppress_health_check=list(HealthCheck))
@given(
    event=st.dictionaries(
        st.sampled_from(
            [
                "uuid",
                "info",
                "timestamp",
                "date",
                "distribution",
                "Tag",
                "Orgc",
                "publish_timestamp",
            ]
        ),
        _JSON,
    ),
    attributes=st.lists(st.dictionaries(_FIELDS, _JSON, max_size=8), max_size=3),
    objects=st.lists(st.dictionaries(_FIELDS, _JSON, max_size=8), max_size=2),
)
def test_any_event_is_read_or_refused_naming_why(
    event: dict[str, Any], attributes: list[Any], objects: list[Any]
) -> None:
    """Fuzzed: over the real event, fields replaced by any JSON; read or InvalidInput only."""
    body = {**misp_event()["Event"], **event}
    body["Attribute"] = [{**_attribute(1, "domain", "a.example"), **a} for a in attributes]
    body["Object"] = [{**misp_event()["Event"]["Object"][0], **o} for o in objects]
    try:
        parsed = read_event(json.dumps({"Event": body}).encode())
    except InvalidInput as exc:
        assert exc.message
        return
    parse_bundle(parsed.bundle)  # what is read is valid STIX


# -- TLP and handling codes, both ways ---------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "distribution", "needed"),
    [
        ((), None, None),
        (("tlp:clear",), None, HandlingCode.H0),
        (("tlp:white",), None, HandlingCode.H0),
        (("tlp:green",), "3", HandlingCode.H0),
        (("tlp:amber",), None, HandlingCode.H2),
        (("tlp:amber+strict",), None, HandlingCode.H2),
        (("tlp:red",), None, HandlingCode.H3),
        (("tlp:green",), "0", HandlingCode.H2),  # your organisation only
        ((), "4", HandlingCode.H2),  # a sharing group
        (("tlp:green", 'accord:handling-code="H1"'), None, HandlingCode.H1),
        (("tlp:ex:chr",), None, HandlingCode.H3),  # a TLP word Accord does not know: as RED
    ],
)
def test_tlp_tags_and_distribution_are_read_as_handling_codes(
    tags: tuple[str, ...], distribution: str | None, needed: HandlingCode | None
) -> None:
    event = misp_event(event_tags=tags)
    event["Event"]["distribution"] = distribution
    event["Event"]["Attribute"] = [_attribute(1, "domain", "one.example")]
    event["Event"]["Object"] = []
    assert read_event(event).handling_code == needed


def test_the_strictest_attribute_decides_and_its_marking_travels_with_it() -> None:
    event = misp_event()
    event["Event"]["Attribute"][2]["Tag"].append(_tag("tlp:amber"))
    parsed = read_event(event)
    assert parsed.handling_code is HandlingCode.H2
    assert "tag tlp:amber on attribute 2" in " ".join(parsed.reasons)
    by_id = {obj["id"]: obj for obj in parsed.bundle["objects"]}
    amber = by_id["indicator--5e6b7c2a-0000-4000-8000-000000000003"]["object_marking_refs"]
    green = by_id["indicator--5e6b7c2a-0000-4000-8000-000000000005"]["object_marking_refs"]
    assert [tlp_level_of(r) for r in amber] == [TlpLevel.AMBER]
    assert [tlp_level_of(r) for r in green] == [TlpLevel.GREEN]


@pytest.mark.parametrize(
    ("code", "tag"), [(HandlingCode.H0, "tlp:green"), (HandlingCode.H1, "tlp:amber")]
)
def test_a_handling_code_leaves_as_a_tlp_tag_and_its_own_tag_and_reads_back_no_looser(
    code: HandlingCode, tag: str
) -> None:
    assert policy.tlp_tag_for(code) == tag
    written = [policy.tlp_tag_for(code), policy.handling_tag_for(code)]
    event = misp_event(event_tags=tuple(written))
    event["Event"]["distribution"] = None
    read = read_event(event).handling_code
    assert read is not None and list(HandlingCode).index(read) >= list(HandlingCode).index(code)


# -- on a case ---------------------------------------------------------------------------------


def test_a_misp_event_goes_on_a_case_and_comes_back_the_same(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = _cyber_case(us, cn, HandlingCode.H0)
    original = misp_event()
    with cn.runtime.transaction() as session:
        imported = import_event(
            session,
            node=cn.identity,
            reference=reference,
            content=json.dumps(original).encode(),
            officer="analyst",
            filename="event-42.json",
        )
    assert (imported.indicators, imported.observables) == (10, 3)
    assert imported.handling_code is HandlingCode.H0
    pump(us, cn)
    # both files are on the case on both sides: the STIX bundle and the event as received
    for node in (cn, us):
        with node.runtime.reading() as session:
            case = cases.get_case(session, reference=reference)
            files = {a["filename"]: a for a in attachments_of(session, case=case)}
            found = sightings.case_indicators(session, node=node.identity, reference=reference)
        assert set(files) == {"event-42.stix.json", "event-42.json"}
        assert all(f["available"] for f in files.values())
        assert len(found.indicators) == 2 + 10  # the opening's and the event's

    with us.runtime.reading() as session:
        written = case_event(session, node=us.identity, reference=reference)
    exported = json.loads(written.event.to_json())
    before, after = _attributes(original), _attributes(exported)
    assert {k: after[k] for k in before} == before
    # the opening's two indicators come too, as attributes of their own
    assert len(after) == len(before) + 2
    event_tags = {t["name"] for t in exported["Tag"]}
    assert event_tags == {"tlp:green", 'accord:handling-code="H0"', _KIT_MASTER}
    assert exported["uuid"] != EVENT_UUID and exported["info"].startswith(reference)
    assert written.problems == []
    # and PyMISP, which MISP's own tools are built on, reads it back
    again = MISPEvent()
    again.load(written.event.to_json())
    assert len(again.attributes) + sum(len(o.attributes) for o in again.objects) == len(after)


def test_the_same_event_twice_attaches_once_and_a_new_version_updates_it(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    reference = _cyber_case(us, cn, HandlingCode.H0)
    first = json.dumps(misp_event()).encode()
    newer = misp_event(timestamp="1764090000")
    newer["Event"]["Attribute"][0].update(comment="C2 server, still up", timestamp="1764090000")

    def put(content: bytes) -> Any:
        with cn.runtime.transaction() as session:
            return import_event(
                session, node=cn.identity, reference=reference, content=content, officer="a"
            )

    assert put(first).already is None
    again = put(first)
    with cn.runtime.reading() as session:
        held = attachments_of(session, case=cases.get_case(session, reference=reference))
    assert again.already == max(a["seq"] for a in held) and len(held) == 2
    updated = put(json.dumps(newer).encode())
    assert updated.already is None and updated.updates == [again.already]
    with cn.runtime.reading() as session:
        exported = json.loads(
            case_event(session, node=cn.identity, reference=reference).event.to_json()
        )
    c2 = _attributes(exported)["5e6b7c2a-0000-4000-8000-000000000001"]
    assert c2["comment"] == "C2 server, still up"  # the last version of the indicator


def test_an_event_stricter_than_the_case_is_refused(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = _cyber_case(us, cn, HandlingCode.H1)
    event = misp_event(event_tags=("tlp:amber",))
    with (
        cn.runtime.transaction() as session,
        pytest.raises(
            Forbidden,
            match=r"needs handling code H2 but the case is H1 .*tag tlp:amber on the event",
        ),
    ):
        import_event(
            session,
            node=cn.identity,
            reference=reference,
            content=json.dumps(event).encode(),
            officer="analyst",
        )
    with cn.runtime.reading() as session:
        case = cases.get_case(session, reference=reference)
        assert attachments_of(session, case=case) == []


def test_a_case_the_handling_code_forbids_to_pass_on_is_not_exported(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    for code in (HandlingCode.H2, HandlingCode.H3):
        reference = _cyber_case(us, cn, code)
        with cn.runtime.transaction() as session:
            import_event(
                session,
                node=cn.identity,
                reference=reference,
                content=json.dumps(misp_event()).encode(),
                officer="analyst",
            )
        with (
            cn.runtime.reading() as session,
            pytest.raises(Forbidden, match=f"the case {reference} \\({code}\\)"),
        ):
            case_event(session, node=cn.identity, reference=reference)


def test_a_tlp_tag_looser_than_the_case_leaves_raised_to_the_case(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    reference = _cyber_case(us, cn, HandlingCode.H1)
    event = misp_event(event_tags=("tlp:clear",))
    with cn.runtime.transaction() as session:
        import_event(
            session,
            node=cn.identity,
            reference=reference,
            content=json.dumps(event).encode(),
            officer="analyst",
        )
        written = case_event(session, node=cn.identity, reference=reference)
    exported = json.loads(written.event.to_json())
    assert {t["name"] for t in exported["Tag"]} == {"tlp:amber", 'accord:handling-code="H1"'}
    c2 = _attributes(exported)["5e6b7c2a-0000-4000-8000-000000000001"]
    assert "tlp:green" not in c2["tags"] and "tlp:amber" in c2["tags"]
    assert any("tlp:green is looser than the case's H1" in p for p in written.problems)


# -- the feed ----------------------------------------------------------------------------------


def test_the_feed_manifest_and_hashes_agree_with_its_event(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = _cyber_case(us, cn, HandlingCode.H0)
    with cn.runtime.transaction() as session:
        import_event(
            session,
            node=cn.identity,
            reference=reference,
            content=json.dumps(misp_event()).encode(),
            officer="analyst",
        )
        feed = case_feed(session, node=cn.identity, reference=reference)
    ((uuid, summary),) = feed.manifest.items()
    event = feed.events[uuid]["Event"]
    assert summary["info"] == event["info"] and summary["timestamp"] == int(event["timestamp"])
    assert {t["name"] for t in summary["Tag"]} == {
        "tlp:green",
        'accord:handling-code="H0"',
        _KIT_MASTER,
    }
    values = [a["value"] for a in event["Attribute"]]
    values += [a["value"] for o in event["Object"] for a in o["Attribute"]]
    parts = [p for v in values for p in (v.split("|") if "|" in v else [v])]
    expected = sorted(f"{hashlib.md5(p.encode()).hexdigest()},{uuid}" for p in parts)
    assert sorted(feed.hashes) == expected


# -- over HTTP ---------------------------------------------------------------------------------


class _Served:
    def __init__(self, node: Node) -> None:
        settings = Settings(
            data_dir=node.runtime.settings.data_dir,
            database_url=node.runtime.settings.database_url,
            run_workers=False,
        )
        self.port = free_port()
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise AssertionError("the node did not start serving")
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def served(pair: tuple[Node, Node]) -> Iterator[tuple[Node, str, dict[str, str]]]:
    """CN-MOJ serving HTTP on loopback, with analyst tokens of its central authority and of
    another unit."""
    _, cn = pair
    tokens = {}
    with cn.runtime.transaction() as session:
        for unit in ("central-authority", "cyber-unit"):
            user = create_user(
                session,
                username=f"analyst-{unit}",
                display_name="Analyst",
                role=Role.ANALYST,
                unit=unit,
                password="correct horse battery staple",
            )
            tokens[unit] = issue_token(session, name="misp", user=user)
        officer = create_user(
            session,
            username="officer",
            display_name="Officer",
            role=Role.LIAISON_OFFICER,
            unit="central-authority",
            password="correct horse battery staple",
        )
        tokens["officer"] = issue_token(session, name="misp", user=officer)
    with _Served(cn) as url:
        yield cn, url, tokens


def test_a_misp_instance_pulls_the_case_feed_over_http(
    pair: tuple[Node, Node], served: tuple[Node, str, dict[str, str]]
) -> None:
    us, _ = pair
    cn, url, tokens = served
    reference = _cyber_case(us, cn, HandlingCode.H0)
    with cn.runtime.transaction() as session:
        import_event(
            session,
            node=cn.identity,
            reference=reference,
            content=json.dumps(misp_event()).encode(),
            officer="analyst",
        )
    feed = f"{url}/misp/feeds/{reference}"
    auth = {"Authorization": f"Bearer {tokens['central-authority']}"}
    # as MISP fetches a feed of the "MISP Feed" format: the manifest, then each event
    manifest = httpx.get(f"{feed}/manifest.json", headers=auth, timeout=30)
    assert manifest.status_code == 200, manifest.text
    ((uuid, summary),) = manifest.json().items()
    event = httpx.get(f"{feed}/{uuid}.json", headers=auth, timeout=30)
    assert event.status_code == 200 and event.headers["content-type"] == "application/json"
    loaded = MISPEvent()
    loaded.load(event.text)
    assert loaded.uuid == uuid and loaded.info == summary["info"]
    hashes = httpx.get(f"{feed}/hashes.csv", headers=auth, timeout=30)
    assert hashes.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(hashes.text)))
    assert {row[1] for row in rows} == {uuid}
    assert hashlib.md5(b"203.0.113.10").hexdigest() in {row[0] for row in rows}
    # the same bytes as the service writes, and every read audited
    with cn.runtime.reading() as session:
        assert (
            json.loads(event.text)
            == case_feed(session, node=cn.identity, reference=reference).events[uuid]
        )
        actions = list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.action.like("misp.%"))
                .order_by(AuditEntry.id)
            )
        )
    assert actions == ["misp.feed_manifest", "misp.feed_event", "misp.feed_hashes"]

    # refusals: no token, another role, another unit, an unknown event, a forbidden case
    assert httpx.get(f"{feed}/manifest.json", timeout=30).status_code == 401
    officer = {"Authorization": f"Bearer {tokens['officer']}"}
    assert httpx.get(f"{feed}/manifest.json", headers=officer, timeout=30).status_code == 403
    other = {"Authorization": f"Bearer {tokens['cyber-unit']}"}
    assert httpx.get(f"{feed}/manifest.json", headers=other, timeout=30).status_code == 404
    missing = httpx.get(f"{feed}/{EVENT_UUID}.json", headers=auth, timeout=30)
    assert missing.status_code == 404 and "manifest.json" in missing.json()["message"]

    restricted = _cyber_case(us, cn, HandlingCode.H2)
    refused = httpx.get(f"{url}/misp/feeds/{restricted}/manifest.json", headers=auth, timeout=30)
    assert refused.status_code == 403 and "H2" in refused.json()["message"]
    with cn.runtime.reading() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.subject == restricted)).one()
    assert (entry.action, entry.outcome) == ("misp.feed_manifest", "refused")


# -- the command line --------------------------------------------------------------------------


def test_the_cli_imports_and_exports_an_event(pair: tuple[Node, Node], tmp_path: Path) -> None:
    us, cn = pair
    reference = _cyber_case(us, cn, HandlingCode.H0)
    source = tmp_path / "event.json"
    source.write_text(json.dumps(misp_event()), encoding="utf-8")
    env = {
        "ACCORD_DATA_DIR": str(cn.runtime.settings.data_dir),
        "ACCORD_DATABASE_URL": str(cn.runtime.settings.database_url),
    }
    runner = CliRunner()
    imported = runner.invoke(cli, ["cyber", "misp-import", reference, str(source)], env=env)
    assert imported.exit_code == 0, imported.output
    assert "10 indicators, 3 observables" in imported.output
    assert "btc" in imported.output  # the problems are listed
    out = tmp_path / "out.json"
    exported = runner.invoke(cli, ["cyber", "misp-export", reference, "--out", str(out)], env=env)
    assert exported.exit_code == 0, exported.output
    written = json.loads(out.read_text(encoding="utf-8"))
    assert _attributes(written)["5e6b7c2a-0000-4000-8000-000000000001"]["value"] == "203.0.113.10"
    restricted = _cyber_case(us, cn, HandlingCode.H2)
    refused = runner.invoke(cli, ["cyber", "misp-export", restricted], env=env)
    assert isinstance(refused.exception, Forbidden) and f"the case {restricted} (H2)" in str(
        refused.exception
    )
    with cn.runtime.reading() as session:
        outcomes = list(
            session.scalars(
                select(AuditEntry.outcome)
                .where(AuditEntry.action == "misp.export")
                .order_by(AuditEntry.id)
            )
        )
    assert outcomes == ["ok", "refused"]
