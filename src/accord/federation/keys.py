"""Node keys (Ed25519 to sign, X25519 to encrypt) and this node's loaded identity."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from nacl.public import PrivateKey, PublicKey
from nacl.signing import SigningKey, VerifyKey

from accord.core.canonical import sha256_hex
from accord.core.errors import NotInitialised
from accord.federation.schemas import NodeCard

SIGNING_FILE = "signing.key"
ENCRYPTION_FILE = "encryption.key"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def fingerprint(signing_key_b64: str, encryption_key_b64: str) -> str:
    """SHA-256 over both public keys: what two operators read to each other to pin a peer."""
    return sha256_hex(unb64(signing_key_b64) + unb64(encryption_key_b64))


def _write_private(path: Path, raw: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(raw)
    os.chmod(path, 0o600)


def generate_keys(keys_dir: Path) -> tuple[SigningKey, PrivateKey]:
    """Create both private keys in files readable by the owner only; refuse to overwrite."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(keys_dir, 0o700)
    signing = SigningKey.generate()
    encryption = PrivateKey.generate()
    _write_private(keys_dir / SIGNING_FILE, bytes(signing))
    _write_private(keys_dir / ENCRYPTION_FILE, bytes(encryption))
    return signing, encryption


def load_keys(keys_dir: Path) -> tuple[SigningKey, PrivateKey]:
    try:
        signing = SigningKey((keys_dir / SIGNING_FILE).read_bytes())
        encryption = PrivateKey((keys_dir / ENCRYPTION_FILE).read_bytes())
    except FileNotFoundError as exc:
        raise NotInitialised(
            f"no node keys in {keys_dir}: run `accord init` for this data folder first"
        ) from exc
    return signing, encryption


@dataclass(frozen=True)
class NodeIdentity:
    """This node as the services see it: who we are and the keys we sign and open with."""

    name: str
    country: str
    endpoint: str
    signing: SigningKey
    encryption: PrivateKey
    intake_unit: str = "central-authority"
    """The unit that holds cases opened by peers until they are shared further."""
    data_dir: Path | None = None
    """Where the node keeps its files (attachments)."""
    namespace: str = ""
    """The middle part of the references this node sequences; its country code when empty."""

    @property
    def reference_namespace(self) -> str:
        return self.namespace or self.country

    @property
    def signing_public(self) -> str:
        return b64(bytes(self.signing.verify_key))

    @property
    def encryption_public(self) -> str:
        return b64(bytes(self.encryption.public_key))

    def card(self) -> NodeCard:
        return NodeCard(
            name=self.name,
            country=self.country,
            endpoint=self.endpoint,
            signing_key=self.signing_public,
            encryption_key=self.encryption_public,
            fingerprint=fingerprint(self.signing_public, self.encryption_public),
            namespace=self.reference_namespace,
        )


@dataclass(frozen=True)
class PeerKeys:
    name: str
    verify: VerifyKey
    encryption: PublicKey

    @classmethod
    def from_b64(cls, name: str, signing_key: str, encryption_key: str) -> PeerKeys:
        return cls(name, VerifyKey(unb64(signing_key)), PublicKey(unb64(encryption_key)))
