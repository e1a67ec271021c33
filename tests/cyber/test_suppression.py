"""Known-benign values: the defaults and the operator's own list."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.core.errors import InvalidInput
from accord.cyber.matching.suppression import SuppressionList
from accord.cyber.stix import ObservableKind

K = ObservableKind


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (K.IPV4, "10.20.30.40"),
        (K.IPV4, "172.31.255.255"),
        (K.IPV4, "192.168.1.1"),
        (K.IPV4, "127.0.0.1"),
        (K.IPV4, "169.254.169.254"),
        (K.IPV4, "8.8.8.8"),
        (K.IPV4, "1.1.1.1"),
        (K.IPV4, "9.9.9.9"),
        (K.IPV6, "::1"),
        (K.IPV6, "fe80::1"),
        (K.IPV6, "fd00::5"),
        (K.IPV6, "2606:4700:4700::1111"),
        (K.DOMAIN, "dns.google"),
        (K.MD5, "d41d8cd98f00b204e9800998ecf8427e"),
    ],
)
def test_defaults_suppress_private_ranges_resolvers_and_empty_file(
    kind: ObservableKind, value: str
) -> None:
    assert SuppressionList.defaults().entry_for(kind, value) is not None


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (K.IPV4, "172.32.0.1"),
        (K.IPV4, "11.0.0.1"),
        (K.IPV4, "8.8.8.9"),
        (K.IPV6, "2001:db8::1"),
        (K.DOMAIN, "google.com"),
    ],
)
def test_defaults_leave_public_values_alone(kind: ObservableKind, value: str) -> None:
    assert SuppressionList.defaults().entry_for(kind, value) is None


def test_operator_entries_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "benign.txt"
    path.write_text(
        "# our own\n"
        "203.0.113.0/24   # scanner range\n"
        "\n"
        "corp.example\n"
        "http://intranet.example/health\n"
        "noc@corp.example\n"
    )
    suppression = SuppressionList()
    suppression.add_file(path)
    assert suppression.entry_for(K.IPV4, "203.0.113.9") == "203.0.113.0/24"
    assert suppression.entry_for(K.DOMAIN, "mail.corp.example") == "corp.example"
    assert suppression.entry_for(K.DOMAIN, "notcorp.example") is None
    assert suppression.entry_for(K.URL, "http://intranet.example/health") is not None
    assert suppression.entry_for(K.URL, "https://www.corp.example/x") == "corp.example"
    assert suppression.entry_for(K.EMAIL, "noc@corp.example") is not None
    assert suppression.entry_for(K.IPV4, "10.0.0.1") is None  # no defaults asked for


def test_a_bad_entry_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "benign.txt"
    path.write_text("192.0.2.1\n300.1.1.1/8\n")
    with pytest.raises(InvalidInput, match=r"benign.txt:2"):
        SuppressionList().add_file(path)


def test_a_network_only_partly_benign_is_not_benign() -> None:
    suppression = SuppressionList.defaults()
    assert suppression.key_entry(K.IPV4, (0x0A000000, 16)) == "10.0.0.0/8"
    assert suppression.key_entry(K.IPV4, (0x08000000, 8)) is None
