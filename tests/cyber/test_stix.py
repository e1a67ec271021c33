"""Bundles and patterns read with stix2, TLP 2.0 markings as handling codes, sightings built."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import stix2

from accord.cases.enums import HandlingCode
from accord.core.errors import InvalidInput
from accord.cyber.stix import (
    TLP2_MARKINGS,
    Observable,
    ObservableKind,
    TlpLevel,
    build_sighting,
    handling_code_for_tlp,
    handling_code_of,
    observables_of,
    parse_bundle,
    sightings_bundle,
    tlp_level_of,
    tlp_marking_for,
)
from tests.cyber.conftest import bundle, indicator_id, stix_indicator

K = ObservableKind


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("[ipv4-addr:value = '198.51.100.7']", [(K.IPV4, "198.51.100.7")]),
        ("[ipv6-addr:value = '2001:db8::1']", [(K.IPV6, "2001:db8::1")]),
        ("[ipv4-addr:value ISSUBSET '203.0.113.0/24']", [(K.IPV4, "203.0.113.0/24")]),
        ("[ipv6-addr:value ISSUBSET '2001:db8::/32']", [(K.IPV6, "2001:db8::/32")]),
        ("[domain-name:value = 'evil.example']", [(K.DOMAIN, "evil.example")]),
        ("[url:value = 'http://evil.example/a']", [(K.URL, "http://evil.example/a")]),
        ("[file:hashes.'SHA-256' = 'AB']", [(K.SHA256, "AB")]),
        ("[file:hashes.'SHA-1' = 'ab']", [(K.SHA1, "ab")]),
        ("[file:hashes.MD5 = 'ab']", [(K.MD5, "ab")]),
        ("[email-addr:value = 'o\\'brien@evil.example']", [(K.EMAIL, "o'brien@evil.example")]),
        (
            "[domain-name:value = 'a.example' OR url:value = 'http://b.example/']",
            [(K.DOMAIN, "a.example"), (K.URL, "http://b.example/")],
        ),
        (
            "[ipv4-addr:value IN ('192.0.2.1', '192.0.2.2')]",
            [(K.IPV4, "192.0.2.1"), (K.IPV4, "192.0.2.2")],
        ),
        (
            "[ipv4-addr:value = '192.0.2.1'] OR [domain-name:value = 'x.example']",
            [(K.IPV4, "192.0.2.1"), (K.DOMAIN, "x.example")],
        ),
    ],
)
def test_simple_patterns_become_observables(
    pattern: str, expected: list[tuple[ObservableKind, str]]
) -> None:
    observables, is_complex = observables_of(pattern)
    assert not is_complex
    assert observables == tuple(Observable(kind, value) for kind, value in expected)


def test_a_like_pattern_is_complex_without_anchor() -> None:
    assert observables_of("[url:value LIKE '%/wp-admin/%']") == ((), True)


def test_an_and_of_observations_is_complex_anchored_on_one_side() -> None:
    observables, is_complex = observables_of(
        "[ipv4-addr:value = '192.0.2.9'] AND [url:value LIKE '%evil%']"
    )
    assert is_complex
    assert observables == (Observable(K.IPV4, "192.0.2.9"),)


def test_an_or_with_an_unanchored_side_has_no_anchor() -> None:
    observables, is_complex = observables_of(
        "[ipv4-addr:value = '192.0.2.9'] OR [url:value LIKE '%evil%']"
    )
    assert is_complex and observables == ()


def test_a_broken_pattern_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        observables_of("[ipv4-addr:value = ")


def test_bundle_gives_indicators_and_skips_other_pattern_languages() -> None:
    parsed = parse_bundle(
        bundle(
            stix_indicator(1, "[ipv4-addr:value = '198.51.100.7']"),
            stix_indicator(2, "title: x", pattern_type="sigma"),
            stix_indicator(3, "[domain-name:value = 'x.example']", revoked=True),
        )
    )
    assert [i.id for i in parsed.indicators] == [indicator_id(1)]
    assert parsed.skipped == [indicator_id(2), indicator_id(3)]


def test_bad_field_is_named_with_the_object() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_bundle(bundle(stix_indicator(7, "[ipv4-addr:value = '1.2.3.4']", valid_from="x")))
    assert "bundle object 0 (indicator--00000000-0000-4000-8000-000000000007)" in str(caught.value)
    assert "'valid_from'" in str(caught.value)


def test_bad_pattern_is_named_with_the_object_in_quick_mode_too() -> None:
    with pytest.raises(InvalidInput, match=r"object 0 .*field 'pattern'"):
        parse_bundle(bundle(stix_indicator(1, "[ipv4-addr:value = ")), validate=False)


def test_missing_field_is_named() -> None:
    obj = stix_indicator(1, "[ipv4-addr:value = '1.2.3.4']")
    del obj["pattern_type"]
    with pytest.raises(InvalidInput, match="pattern_type"):
        parse_bundle(bundle(obj))
    with pytest.raises(InvalidInput, match="pattern_type"):
        parse_bundle(bundle(obj), validate=False)


def test_not_a_bundle_is_refused() -> None:
    with pytest.raises(InvalidInput, match="bundle"):
        parse_bundle(b'{"type": "indicator"}')
    with pytest.raises(InvalidInput, match="not JSON"):
        parse_bundle(b"{nope")


@pytest.mark.parametrize(
    ("level", "code"),
    [
        (TlpLevel.CLEAR, HandlingCode.H0),
        (TlpLevel.GREEN, HandlingCode.H0),
        (TlpLevel.AMBER, HandlingCode.H2),
        (TlpLevel.AMBER_STRICT, HandlingCode.H2),
        (TlpLevel.RED, HandlingCode.H3),
    ],
)
def test_tlp_levels_map_to_handling_codes(level: TlpLevel, code: HandlingCode) -> None:
    assert handling_code_for_tlp(level) is code
    assert tlp_level_of(TLP2_MARKINGS[level].id) is level


def test_tlp2_markings_are_the_published_objects() -> None:
    red = TLP2_MARKINGS[TlpLevel.RED]
    assert red.id == "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
    extension = red.extensions["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"]
    assert extension["tlp_2_0"] == "red"


def test_tlp1_markings_are_read_as_their_tlp2_levels() -> None:
    assert tlp_level_of(stix2.v21.TLP_WHITE.id) is TlpLevel.CLEAR
    assert tlp_level_of(stix2.v21.TLP_AMBER.id) is TlpLevel.AMBER


def test_strictest_marking_decides_and_unmarked_is_none() -> None:
    refs = [
        TLP2_MARKINGS[TlpLevel.GREEN].id,
        TLP2_MARKINGS[TlpLevel.RED].id,
        "marking-definition--x",
    ]
    assert handling_code_of(refs) is HandlingCode.H3
    assert handling_code_of(["marking-definition--x"]) is None


def test_writing_a_marking_never_loosens_the_handling_code() -> None:
    for code in HandlingCode:
        written = handling_code_of([tlp_marking_for(code).id])
        assert written is not None
        assert list(HandlingCode).index(written) >= list(HandlingCode).index(code)
    assert tlp_marking_for(HandlingCode.H0).id != TLP2_MARKINGS[TlpLevel.CLEAR].id


def test_sighting_is_valid_stix_with_the_indicator_markings() -> None:
    amber = TLP2_MARKINGS[TlpLevel.AMBER].id
    sighting = build_sighting(
        indicator_id=indicator_id(1),
        count=3,
        first_seen=datetime(2024, 5, 1, tzinfo=UTC),
        last_seen=datetime(2024, 5, 2, tzinfo=UTC),
        where_sighted_refs=["identity--00000000-0000-4000-8000-000000000009"],
        marking_refs=[amber],
    )
    out = sightings_bundle([sighting])
    reparsed = stix2.parse(out.serialize(), allow_custom=True)
    objects = {o.type: o for o in reparsed.objects}
    assert objects["sighting"].count == 3
    assert objects["sighting"].sighting_of_ref == indicator_id(1)
    assert objects["marking-definition"].id == amber


def test_a_sighting_needs_a_count() -> None:
    with pytest.raises(InvalidInput):
        build_sighting(
            indicator_id=indicator_id(1),
            count=0,
            first_seen=datetime(2024, 5, 1, tzinfo=UTC),
            last_seen=datetime(2024, 5, 1, tzinfo=UTC),
        )
