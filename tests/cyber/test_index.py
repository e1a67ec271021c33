"""The index answers for every indicator kind: exact and CIDR IPs, parent domains, normalised
URLs, hashes in any case, e-mails in any case."""

from __future__ import annotations

import pytest

from accord.cyber.matching.index import (
    BadValue,
    FieldKind,
    IndicatorIndex,
    normalise_url,
)
from accord.cyber.matching.suppression import SuppressionList
from tests.cyber.conftest import indicator, indicator_id

SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
SHA1 = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"
MD5 = "098f6bcd4621d373cade4e832627b4f6"


def index_of(*patterns: str) -> IndicatorIndex:
    return IndicatorIndex.build(indicator(n, p) for n, p in enumerate(patterns))


def hit_ids(index: IndicatorIndex, kind: FieldKind, value: str) -> list[str]:
    return sorted(index.ids[m.position] for m in index.match(kind, value))


def test_exact_ipv4_hits_only_itself() -> None:
    index = index_of("[ipv4-addr:value = '198.51.100.7']")
    assert hit_ids(index, FieldKind.IP, "198.51.100.7") == [indicator_id(0)]
    assert hit_ids(index, FieldKind.IP, "198.51.100.70") == []
    assert hit_ids(index, FieldKind.IP, "98.51.100.7") == []


def test_ipv4_mapped_ipv6_is_the_ipv4_address() -> None:
    index = index_of("[ipv4-addr:value = '198.51.100.7']")
    assert hit_ids(index, FieldKind.IP, "::ffff:198.51.100.7") == [indicator_id(0)]


@pytest.mark.parametrize(
    ("address", "inside"),
    [
        ("203.0.113.0", True),
        ("203.0.113.255", True),
        ("203.0.112.255", False),
        ("203.0.114.0", False),
    ],
)
def test_ipv4_cidr_edges(address: str, inside: bool) -> None:
    index = index_of("[ipv4-addr:value ISSUBSET '203.0.113.0/24']")
    assert bool(hit_ids(index, FieldKind.IP, address)) is inside


def test_cidr_written_with_equals_and_host_bits_still_matches_the_network() -> None:
    index = index_of("[ipv4-addr:value = '203.0.113.77/30']")
    assert hit_ids(index, FieldKind.IP, "203.0.113.76")
    assert hit_ids(index, FieldKind.IP, "203.0.113.79")
    assert not hit_ids(index, FieldKind.IP, "203.0.113.80")


def test_nested_networks_both_hit() -> None:
    index = index_of(
        "[ipv4-addr:value ISSUBSET '198.18.0.0/15']",
        "[ipv4-addr:value ISSUBSET '198.19.4.0/24']",
        "[ipv4-addr:value = '198.19.4.4']",
    )
    assert hit_ids(index, FieldKind.IP, "198.19.4.4") == [indicator_id(i) for i in range(3)]
    assert hit_ids(index, FieldKind.IP, "198.18.0.1") == [indicator_id(0)]


def test_slash_zero_and_slash_32() -> None:
    index = index_of(
        "[ipv4-addr:value ISSUBSET '0.0.0.0/0']", "[ipv4-addr:value ISSUBSET '192.0.2.5/32']"
    )
    assert hit_ids(index, FieldKind.IP, "255.255.255.255") == [indicator_id(0)]
    assert hit_ids(index, FieldKind.IP, "192.0.2.5") == [indicator_id(0), indicator_id(1)]


def test_ipv6_exact_in_any_spelling() -> None:
    index = index_of("[ipv6-addr:value = '2001:db8::1']")
    assert hit_ids(index, FieldKind.IP, "2001:0DB8:0000:0000:0000:0000:0000:0001")
    assert hit_ids(index, FieldKind.IP, "[2001:db8::1]")
    assert not hit_ids(index, FieldKind.IP, "2001:db8::2")


@pytest.mark.parametrize(
    ("address", "inside"),
    [
        ("2001:db8:abcd::", True),
        ("2001:db8:abcd:ffff:ffff:ffff:ffff:ffff", True),
        ("2001:db8:abcc:ffff:ffff:ffff:ffff:ffff", False),
        ("2001:db8:abce::", False),
    ],
)
def test_ipv6_cidr_edges(address: str, inside: bool) -> None:
    index = index_of("[ipv6-addr:value ISSUBSET '2001:db8:abcd::/48']")
    assert bool(hit_ids(index, FieldKind.IP, address)) is inside


def test_an_ip_field_that_holds_no_ip_is_a_bad_value() -> None:
    index = index_of("[ipv4-addr:value = '198.51.100.7']")
    with pytest.raises(BadValue):
        index.match(FieldKind.IP, "198.51.100.256")
    with pytest.raises(BadValue):
        index.match(FieldKind.IP, "not-an-ip")


def test_domain_matches_itself_and_subdomains_in_any_case() -> None:
    index = index_of("[domain-name:value = 'example.com']")
    for name in ("example.com", "EXAMPLE.com.", "a.example.com", "x.y.Example.COM"):
        assert hit_ids(index, FieldKind.DOMAIN, name) == [indicator_id(0)], name


def test_domain_does_not_match_lookalikes_or_parents() -> None:
    index = index_of("[domain-name:value = 'example.com']", "[domain-name:value = 'a.b.test']")
    for name in ("notexample.com", "example.com.evil", "examplecom", "com", "b.test", "xa.b.test"):
        assert hit_ids(index, FieldKind.DOMAIN, name) == [], name


def test_parent_and_child_domain_indicators_both_hit_the_child() -> None:
    index = index_of("[domain-name:value = 'example.com']", "[domain-name:value = 'a.example.com']")
    assert len(hit_ids(index, FieldKind.DOMAIN, "x.a.example.com")) == 2


def test_host_field_with_a_port_or_an_ip() -> None:
    index = index_of("[domain-name:value = 'example.com']", "[ipv4-addr:value = '192.0.2.1']")
    assert hit_ids(index, FieldKind.DOMAIN, "www.example.com:8080") == [indicator_id(0)]
    assert hit_ids(index, FieldKind.DOMAIN, "192.0.2.1") == [indicator_id(1)]


def test_unicode_domain_matches_its_punycode() -> None:
    index = index_of("[domain-name:value = 'xn--bcher-kva.example']")
    assert hit_ids(index, FieldKind.DOMAIN, "www.bücher.example") == [indicator_id(0)]


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("HTTP://Evil.Example:80/a/", "http://evil.example/a"),
        ("https://evil.example:443", "https://evil.example/"),
        ("https://evil.example:8443/", "https://evil.example:8443/"),
        ("http://evil.example/%7euser/%2f", "http://evil.example/~user/%2F"),
        ("http://evil.example/a#fragment", "http://evil.example/a"),
        ("evil.example/a?b=1", "http://evil.example/a?b=1"),
        ("http://evil.example/a/?q=1", "http://evil.example/a?q=1"),
    ],
)
def test_url_normalisation(written: str, normal: str) -> None:
    assert normalise_url(written) == normal


def test_url_indicator_hits_every_spelling_but_not_another_path() -> None:
    index = index_of("[url:value = 'http://evil.example/payload.exe']")
    assert hit_ids(index, FieldKind.URL, "HTTP://EVIL.example:80/payload.exe")
    assert hit_ids(index, FieldKind.URL, "http://evil.example/payload%2Eexe")
    assert not hit_ids(index, FieldKind.URL, "http://evil.example/payload.exe.txt")
    assert not hit_ids(index, FieldKind.URL, "http://evil.example/Payload.exe")


def test_url_host_is_checked_against_domains_and_ips() -> None:
    index = index_of("[domain-name:value = 'evil.example']", "[ipv4-addr:value = '192.0.2.1']")
    assert hit_ids(index, FieldKind.URL, "https://cdn.evil.example/x") == [indicator_id(0)]
    assert hit_ids(index, FieldKind.URL, "http://192.0.2.1:8080/x") == [indicator_id(1)]


@pytest.mark.parametrize(
    ("pattern", "value"),
    [
        (f"[file:hashes.'SHA-256' = '{SHA256.upper()}']", SHA256),
        (f"[file:hashes.'SHA-1' = '{SHA1}']", SHA1.upper()),
        (f"[file:hashes.MD5 = '{MD5}']", MD5.upper()),
    ],
)
def test_hashes_match_in_any_case(pattern: str, value: str) -> None:
    index = index_of(pattern)
    assert hit_ids(index, FieldKind.HASH, value) == [indicator_id(0)]
    assert hit_ids(index, FieldKind.HASH, value[:-1] + ("0" if value[-1] != "0" else "1")) == []


def test_a_hash_of_the_wrong_length_for_its_kind_is_rejected() -> None:
    index = index_of(f"[file:hashes.'SHA-256' = '{MD5}']", "[ipv4-addr:value = '1.2.3.999']")
    assert len(index) == 0
    assert [r.indicator_id for r in index.rejected] == [indicator_id(0), indicator_id(1)]


def test_email_matches_in_any_case_and_with_a_display_name() -> None:
    index = index_of("[email-addr:value = 'Boss@Evil.Example']")
    assert hit_ids(index, FieldKind.EMAIL, "boss@evil.example") == [indicator_id(0)]
    assert hit_ids(index, FieldKind.EMAIL, '"The Boss" <BOSS@EVIL.EXAMPLE>') == [indicator_id(0)]
    assert hit_ids(index, FieldKind.EMAIL, "boss2@evil.example") == []


def test_one_indicator_with_several_values_hits_on_each() -> None:
    index = index_of("[ipv4-addr:value = '192.0.2.1' OR domain-name:value = 'evil.example']")
    assert hit_ids(index, FieldKind.IP, "192.0.2.1") == [indicator_id(0)]
    assert hit_ids(index, FieldKind.DOMAIN, "evil.example") == [indicator_id(0)]


def test_benign_values_are_left_out_of_the_index() -> None:
    suppression = SuppressionList.defaults()
    index = IndicatorIndex.build(
        [
            indicator(0, "[ipv4-addr:value = '10.1.2.3']"),
            indicator(1, "[ipv4-addr:value = '8.8.8.8' OR ipv4-addr:value = '192.0.2.1']"),
            indicator(2, "[ipv4-addr:value ISSUBSET '0.0.0.0/0']"),
        ],
        suppression.key_entry,
    )
    assert index.ids == [indicator_id(1), indicator_id(2)]
    assert hit_ids(index, FieldKind.IP, "8.8.8.8") == [indicator_id(2)]
    assert {s.indicator_id for s in index.suppressed} == {indicator_id(0), indicator_id(1)}


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        (FieldKind.IP, ["192.0.2.1", "::ffff:192.0.2.1", "2001:DB8::1", " 192.0.2.1", "x", "-"]),
        (
            FieldKind.DOMAIN,
            ["EVIL.example", "a.evil.example.", "evil.example:443", "bücher.example"],
        ),
        (FieldKind.URL, ["HTTP://evil.example/a", "http://x.evil.example/", "http://192.0.2.1/"]),
        (FieldKind.HASH, [MD5.upper(), f" {MD5}", "zz", SHA1]),
        (
            FieldKind.EMAIL,
            ["BOSS@EVIL.EXAMPLE", "Boss <boss@evil.example>", "mailto:boss@evil.example"],
        ),
    ],
)
def test_the_screen_never_drops_a_value_that_hits_or_is_bad(
    kind: FieldKind, values: list[str]
) -> None:
    index = index_of(
        "[ipv4-addr:value = '192.0.2.1']",
        "[ipv6-addr:value = '2001:db8::1']",
        "[domain-name:value = 'evil.example']",
        "[domain-name:value = 'xn--bcher-kva.example']",
        f"[file:hashes.MD5 = '{MD5}']",
        f"[file:hashes.'SHA-1' = '{SHA1}']",
        "[email-addr:value = 'boss@evil.example']",
    )
    screened = index.screen(kind, values)
    for value in values:
        try:
            must_look = bool(index.match(kind, value))
        except BadValue:
            must_look = True
        assert not must_look or value in screened, value
