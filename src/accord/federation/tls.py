"""Per-peer TLS trust: a peer behind its agency's own CA, or with a pinned certificate.

A peer record may carry PEM certificates to trust (added to the system bundle, for that peer
only: the system bundle is never replaced) or a pin, the SHA-256 of the peer's leaf
certificate or of its public key (SPKI), checked during the handshake before anything is sent;
with a pin, the certificate need not chain to any CA (a self-signed one is fine), but it must be
the pinned one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import ssl
from functools import lru_cache

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from accord.core.errors import InvalidInput

_HEX = re.compile(r"^[0-9a-f]{64}$")
PIN_MISMATCH = "certificate does not match the pinned SHA-256"


def normalise_pin(text: str) -> str:
    """A pin as 64 hex digits (colons and case ignored), or `sha256/<base64>` as HPKP writes it."""
    value = text.strip()
    if value.lower().startswith("sha256/"):
        try:
            raw = base64.b64decode(value[7:], validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        value = raw.hex() if len(raw) == 32 else value
    value = value.lower().replace(":", "").removeprefix("sha256:")
    if not _HEX.match(value):
        raise InvalidInput(
            f"{text!r} is not a SHA-256 pin: give 64 hex digits (e.g. from `openssl x509 -noout "
            "-fingerprint -sha256 -in peer.pem`) or sha256/<base64> of the public key"
        )
    return value


def check_ca_bundle(pem: str, where: str) -> str:
    """PEM text holding at least one certificate, returned as given; else a clear error."""
    try:
        certificates = x509.load_pem_x509_certificates(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise InvalidInput(f"{where} holds no PEM certificate ({exc})") from None
    if not certificates:
        raise InvalidInput(f"{where} holds no PEM certificate")
    return pem


def pins_of(der: bytes) -> set[str]:
    """The SHA-256 of a DER certificate and of its public key: either may be pinned."""
    certificate = x509.load_der_x509_certificate(der)
    spki = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return {hashlib.sha256(der).hexdigest(), hashlib.sha256(spki).hexdigest()}


class _PinnedSocket(ssl.SSLSocket):
    """Checks the pin right after the handshake, before a byte of the request is written."""

    def do_handshake(self, block: bool = False) -> None:
        super().do_handshake(block)
        pin: str = getattr(self.context, "accord_pin", "")
        der = self.getpeercert(binary_form=True)
        if not der or pin not in pins_of(der):
            self.close()
            raise ssl.SSLCertVerificationError(
                f"{PIN_MISMATCH} {pin} (the certificate presented has "
                f"{hashlib.sha256(der or b'').hexdigest()})"
            )


@lru_cache(maxsize=64)
def trust_context(ca_pem: str | None, pin: str | None) -> ssl.SSLContext:
    """The TLS context for one peer: the system bundle plus its CA, or its pin."""
    context = ssl.create_default_context()
    if ca_pem:
        context.load_verify_locations(cadata=ca_pem)
    if pin:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the pin, checked in the handshake, replaces it
        context.sslsocket_class = _PinnedSocket
        context.accord_pin = pin  # type: ignore[attr-defined]
    return context


def verify_for(ca_pem: str | None, pin: str | None) -> ssl.SSLContext | bool:
    """What httpx's `verify` takes for this peer: True (the system bundle) if nothing is set."""
    return trust_context(ca_pem, pin) if (ca_pem or pin) else True


@lru_cache(maxsize=64)
def client_for(ca_pem: str | None, pin: str | None, timeout: float) -> httpx.Client:
    """One client (and its connection pool) per peer trust, kept for the process."""
    return httpx.Client(verify=trust_context(ca_pem, pin), timeout=timeout)


def explain(error: str, peer: str) -> str:
    """A TLS failure, with how to trust the peer if that is what failed."""
    if "CERTIFICATE_VERIFY_FAILED" in error or "certificate verify failed" in error:
        return (
            f"{error}; if {peer} uses a certificate from its own CA, trust that CA for this peer "
            f"only: `accord peer trust {peer} --ca-file CA.pem`, or pin its certificate: "
            f"`accord peer trust {peer} --pin SHA256` (the system bundle stays as it is)"
        )
    if PIN_MISMATCH in error:
        return (
            f"{error}; if {peer} changed its certificate, confirm the new one with its operator "
            f"and pin it: `accord peer trust {peer} --pin SHA256`"
        )
    return error
