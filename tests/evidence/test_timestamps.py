"""RFC 3161 timestamps from a real TSA (OpenSSL behind HTTP), and every way a token is wrong."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from accord.config import Settings
from accord.core.errors import InvalidInput
from accord.evidence.timestamps import (
    TimestampAuthority,
    TimestampInvalid,
    TimestampUnavailable,
    request_timestamp,
    verify_timestamp,
)
from tests.evidence.conftest import OpenSSLTSA, make_certificates

MESSAGE = b'{"purpose":"accord.evidence.checkpoint/1","tree_size":3}'


def test_a_stamp_from_the_tsa_verifies_and_says_when(tsa: OpenSSLTSA) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    stamp = request_timestamp(tsa.authority(), MESSAGE)
    assert (
        before - timedelta(seconds=2)
        <= stamp.stamped_at
        <= datetime.now(UTC) + timedelta(seconds=2)
    )
    assert stamp.tsa == "CN=Accord Test TSA"
    again = verify_timestamp(
        stamp.token, MESSAGE, certificate=tsa.authority().certificate, roots=tsa.authority().roots
    )
    assert again == stamp
    assert tsa.requests == 1


def test_openssl_verifies_the_token_we_keep(tsa: OpenSSLTSA, tmp_path: Path) -> None:
    """The token is the TSA's answer as received: any RFC 3161 tool can check it."""
    stamp = request_timestamp(tsa.authority(), MESSAGE)
    (tmp_path / "r.tsr").write_bytes(stamp.token)
    (tmp_path / "m").write_bytes(MESSAGE)
    result = subprocess.run(
        [
            "openssl",
            "ts",
            "-verify",
            "-data",
            str(tmp_path / "m"),
            "-in",
            str(tmp_path / "r.tsr"),
            "-CAfile",
            str(tsa.ca_file),
            "-untrusted",
            str(tsa.certificate_file),
        ],
        capture_output=True,
        text=True,
    )
    assert "Verification: OK" in result.stdout, result.stderr


def test_a_token_for_another_message_is_refused(tsa: OpenSSLTSA) -> None:
    authority = tsa.authority()
    stamp = request_timestamp(authority, MESSAGE)
    with pytest.raises(TimestampInvalid, match="does not verify: Mismatch between messages"):
        verify_timestamp(
            stamp.token, MESSAGE + b" ", certificate=authority.certificate, roots=authority.roots
        )


def test_a_token_with_a_flipped_byte_is_refused(tsa: OpenSSLTSA) -> None:
    authority = tsa.authority()
    token = bytearray(request_timestamp(authority, MESSAGE).token)
    token[-10] ^= 0x01  # inside the signature
    with pytest.raises(TimestampInvalid):
        verify_timestamp(
            bytes(token), MESSAGE, certificate=authority.certificate, roots=authority.roots
        )


def test_a_token_from_another_tsa_is_refused(tsa: OpenSSLTSA, tmp_path: Path) -> None:
    stamp = request_timestamp(tsa.authority(), MESSAGE)
    ca_file, certificate_file, _ = make_certificates(tmp_path / "other", common_name="Other TSA")
    other_cert = x509.load_pem_x509_certificate(certificate_file.read_bytes())
    other_roots = tuple(x509.load_pem_x509_certificates(ca_file.read_bytes()))
    with pytest.raises(TimestampInvalid, match="does not verify"):
        verify_timestamp(stamp.token, MESSAGE, certificate=other_cert, roots=other_roots)
    # The right pinned certificate under a CA that did not issue it: refused too.
    with pytest.raises(TimestampInvalid, match="does not verify"):
        verify_timestamp(
            stamp.token, MESSAGE, certificate=tsa.authority().certificate, roots=other_roots
        )


def test_something_that_is_not_a_token_is_named(tsa: OpenSSLTSA) -> None:
    cert = x509.load_pem_x509_certificate(tsa.certificate_file.read_bytes())
    with pytest.raises(TimestampInvalid, match="not an RFC 3161 timestamp response"):
        verify_timestamp(b"\x30\x03\x02\x01\x00", MESSAGE, certificate=cert, roots=[cert])


def test_a_tsa_that_is_down_is_unavailable_not_an_error_of_ours(tsa: OpenSSLTSA) -> None:
    authority = tsa.authority(timeout=2)
    tsa.stop()
    with pytest.raises(TimestampUnavailable, match="could not be reached"):
        request_timestamp(authority, MESSAGE)
    tsa.start()
    assert request_timestamp(authority, MESSAGE).serial_number >= 1


def test_a_url_that_answers_something_else_is_unavailable(tsa: OpenSSLTSA) -> None:
    wrong = replace(tsa.authority(), url=tsa.url.replace("/tsa", "/not-the-tsa"))
    with pytest.raises(TimestampUnavailable, match="answered HTTP 404"):
        request_timestamp(wrong, MESSAGE)
    nothing = replace(tsa.authority(), url="http://127.0.0.1:9/tsa", timeout=1)
    with pytest.raises(TimestampUnavailable, match="could not be reached"):
        request_timestamp(nothing, MESSAGE)


def test_settings_name_what_is_missing(tsa: OpenSSLTSA, tmp_path: Path) -> None:
    assert TimestampAuthority.from_settings(Settings(data_dir=tmp_path)) is None
    with pytest.raises(InvalidInput, match="ACCORD_TSA_CERTIFICATE_FILE is not"):
        TimestampAuthority.from_settings(Settings(data_dir=tmp_path, tsa_url=tsa.url))
    with pytest.raises(InvalidInput, match="ACCORD_TSA_CERTIFICATE_FILE: cannot read"):
        TimestampAuthority.from_settings(
            Settings(
                data_dir=tmp_path, tsa_url=tsa.url, tsa_certificate_file=tmp_path / "missing.pem"
            )
        )
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(InvalidInput, match=r"ACCORD_TSA_CA_FILE: .* holds no PEM certificate"):
        TimestampAuthority.from_settings(
            Settings(
                data_dir=tmp_path,
                tsa_url=tsa.url,
                tsa_certificate_file=tsa.certificate_file,
                tsa_ca_file=tmp_path / "junk.pem",
            )
        )
    authority = TimestampAuthority.from_settings(
        Settings(
            data_dir=tmp_path,
            tsa_url=tsa.url,
            tsa_certificate_file=tsa.certificate_file,
            tsa_ca_file=tsa.ca_file,
        )
    )
    assert authority is not None
    stamp = request_timestamp(authority, MESSAGE)
    assert stamp.tsa == "CN=Accord Test TSA"
