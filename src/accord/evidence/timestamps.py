"""Trusted timestamps (RFC 3161): ask the node's time-stamping authority to stamp a message's
SHA-256 and check the token it returns against the TSA's pinned certificate and its CA.

The token kept is the whole TimeStampResp (DER) the TSA answered, so a third party can check
it with any RFC 3161 tool (`openssl ts -verify`). Nothing here retries: a TSA that cannot be
reached raises `TimestampUnavailable`, and the checkpoint that wanted the stamp stays pending.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)
from rfc3161_client.tsp import PKIStatus

from accord.config import Settings
from accord.core.errors import InvalidInput, PeerUnreachable

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"
"""Media types of RFC 3161 §3.4 (TSP over HTTP)."""

MAX_REPLY_BYTES = 64 * 1024


class TimestampUnavailable(PeerUnreachable):
    """The TSA could not be reached, or answered with something other than a granted token."""

    code = "timestamp_unavailable"


class TimestampInvalid(InvalidInput):
    """A timestamp token that does not prove what it should (bad signature, other message,
    untrusted TSA, not a token at all)."""

    code = "timestamp_invalid"


@dataclass(frozen=True)
class TimestampAuthority:
    """The TSA a node uses: where to ask, and whom to believe (its signing certificate,
    pinned, and the CA certificates its chain ends in)."""

    url: str
    certificate: x509.Certificate
    roots: tuple[x509.Certificate, ...]
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> TimestampAuthority | None:
        """The configured TSA, or None when ACCORD_TSA_URL is unset (checkpoints then wait
        unstamped). A URL without its certificates is refused, naming the setting."""
        if not settings.tsa_url:
            return None
        if settings.tsa_certificate_file is None:
            raise InvalidInput(
                "ACCORD_TSA_URL is set but ACCORD_TSA_CERTIFICATE_FILE is not: give the PEM "
                "file of the TSA's signing certificate"
            )
        certificate = _load_certificates(
            settings.tsa_certificate_file, "ACCORD_TSA_CERTIFICATE_FILE"
        )[0]
        ca_file = settings.tsa_ca_file or settings.tsa_certificate_file
        roots = tuple(_load_certificates(ca_file, "ACCORD_TSA_CA_FILE"))
        return cls(
            url=settings.tsa_url,
            certificate=certificate,
            roots=roots,
            timeout=settings.tsa_timeout_seconds,
        )


def _load_certificates(path: Path, setting: str) -> list[x509.Certificate]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{setting}: cannot read {path}: {exc.strerror}") from None
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise InvalidInput(f"{setting}: {path} holds no PEM certificate") from None
    return certificates


@dataclass(frozen=True)
class Timestamp:
    """A verified token: the TSA's answer as received, and what it says."""

    token: bytes
    stamped_at: datetime
    serial_number: int
    tsa: str
    """The TSA certificate's subject (RFC 4514)."""


def request_timestamp(
    tsa: TimestampAuthority, message: bytes, *, client: httpx.Client | None = None
) -> Timestamp:
    """Ask `tsa` to stamp SHA-256(`message`) (RFC 3161 §2.4.1, with a nonce and the TSA's
    certificate requested) and return the verified token."""
    request = (
        TimestampRequestBuilder()
        .data(message)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)
        .cert_request(cert_request=True)
        .build()
    )
    try:
        if client is None:
            with httpx.Client(timeout=tsa.timeout) as own:
                response = own.post(
                    tsa.url, content=request.as_bytes(), headers={"Content-Type": QUERY_TYPE}
                )
        else:
            response = client.post(
                tsa.url,
                content=request.as_bytes(),
                headers={"Content-Type": QUERY_TYPE},
                timeout=tsa.timeout,
            )
    except httpx.HTTPError as exc:
        raise TimestampUnavailable(
            f"the time-stamping authority at {tsa.url} could not be reached: {exc}"
        ) from None
    if response.status_code != 200:
        raise TimestampUnavailable(
            f"the time-stamping authority at {tsa.url} answered HTTP {response.status_code}"
        )
    if len(response.content) > MAX_REPLY_BYTES:
        raise TimestampUnavailable(
            f"the time-stamping authority at {tsa.url} answered {len(response.content)} bytes, "
            f"more than a token takes ({MAX_REPLY_BYTES})"
        )
    try:
        parsed = decode_timestamp_response(response.content)
    except ValueError as exc:
        raise TimestampUnavailable(
            f"the time-stamping authority at {tsa.url} answered something that is not an "
            f"RFC 3161 response: {exc}"
        ) from None
    if parsed.status != PKIStatus.GRANTED:
        raise TimestampUnavailable(
            f"the time-stamping authority at {tsa.url} refused the request (status "
            f"{parsed.status}: {parsed.status_string or 'no reason given'})"
        )
    return verify_timestamp(
        response.content,
        message,
        certificate=tsa.certificate,
        roots=tsa.roots,
        nonce=request.nonce,
    )


def verify_timestamp(
    token: bytes,
    message: bytes,
    *,
    certificate: x509.Certificate,
    roots: tuple[x509.Certificate, ...] | list[x509.Certificate],
    nonce: int | None = None,
) -> Timestamp:
    """Check that `token` (a DER TimeStampResp) is a granted stamp of SHA-256(`message`),
    signed by `certificate` (whose extended key usage is time stamping, critical) chaining to
    one of `roots` at the stamp's time; return what it says, or raise `TimestampInvalid`
    naming what failed."""
    try:
        parsed = decode_timestamp_response(token)
    except ValueError as exc:
        raise TimestampInvalid(f"not an RFC 3161 timestamp response: {exc}") from None
    if parsed.tst_info.message_imprint.hash_algorithm != x509.ObjectIdentifier(
        "2.16.840.1.101.3.4.2.1"
    ):
        raise TimestampInvalid("the token stamps a digest other than SHA-256")
    builder = VerifierBuilder().tsa_certificate(certificate)
    for root in roots:
        builder = builder.add_root_certificate(root)
    if nonce is not None:
        builder = builder.nonce(nonce)
    try:
        builder.build().verify(parsed, hashlib.sha256(message).digest())
    except VerificationError as exc:
        raise TimestampInvalid(f"the timestamp token does not verify: {exc}") from None
    return Timestamp(
        token=token,
        stamped_at=parsed.tst_info.gen_time,
        serial_number=parsed.tst_info.serial_number,
        tsa=certificate.subject.rfc4514_string(),
    )
