"""Node keys (Ed25519 to sign, X25519 to encrypt) and this node's loaded identity."""

from __future__ import annotations

import base64
import contextlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nacl.exceptions import BadSignatureError
from nacl.public import PrivateKey, PublicKey
from nacl.signing import SigningKey, VerifyKey

from accord.core.canonical import sha256_hex
from accord.core.errors import NotInitialised
from accord.federation.schemas import NodeCard

SIGNING_FILE = "signing.key"
ENCRYPTION_FILE = "encryption.key"
HISTORY_DIR = "history"
"""keys/history/<fingerprint>.signing.key and .encryption.key: our keys before a rotation,
kept to open what peers sealed to them during the overlap and to sign the announcement."""


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


class KeyRing:
    """Verifies like a VerifyKey, with any of several keys: the current one first, then older
    ones (a rotation's overlap window, or old signatures that must still verify). `more`, if
    given, is asked for further keys only when none of those known verifies."""

    def __init__(
        self, keys: Iterable[VerifyKey], more: Callable[[], list[VerifyKey]] | None = None
    ) -> None:
        self.keys = list(keys)
        self._more = more

    def verify(self, smessage: bytes, signature: bytes) -> bytes:
        for key in self.keys:
            try:
                return key.verify(smessage, signature)
            except BadSignatureError:
                continue
        if self._more is not None:
            for key in self._more():
                if key in self.keys:
                    continue
                try:
                    return key.verify(smessage, signature)
                except BadSignatureError:
                    continue
        raise BadSignatureError("Signature was forged or corrupt")


Verifier = VerifyKey | KeyRing
"""What checks a signature: one key, or a ring of the current and older keys."""


def history_keys(keys_dir: Path) -> list[tuple[SigningKey, PrivateKey]]:
    """Our keys from before each rotation (keys/history/), newest file first."""
    folder = keys_dir / HISTORY_DIR
    if not folder.is_dir():
        return []
    found: list[tuple[SigningKey, PrivateKey]] = []
    files = sorted(folder.glob("*." + SIGNING_FILE), key=lambda p: p.stat().st_mtime, reverse=True)
    for signing_file in files:
        stem = signing_file.name[: -len(SIGNING_FILE)]
        encryption_file = folder / (stem + ENCRYPTION_FILE)
        if encryption_file.is_file():
            found.append(
                (SigningKey(signing_file.read_bytes()), PrivateKey(encryption_file.read_bytes()))
            )
    return found


def keep_in_history(keys_dir: Path, signing: SigningKey, encryption: PrivateKey) -> str:
    """Copy a pair of our keys to keys/history/ under its fingerprint; return the fingerprint."""
    folder = keys_dir / HISTORY_DIR
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    print_ = fingerprint(b64(bytes(signing.verify_key)), b64(bytes(encryption.public_key)))
    for name, raw in ((SIGNING_FILE, bytes(signing)), (ENCRYPTION_FILE, bytes(encryption))):
        path = folder / f"{print_}.{name}"
        if not path.exists():
            _write_private(path, raw)
    return print_


def replace_keys(keys_dir: Path, signing: SigningKey, encryption: PrivateKey) -> None:
    """Put a new pair of keys in place of the current one, each file replaced atomically."""
    for name, raw in ((SIGNING_FILE, bytes(signing)), (ENCRYPTION_FILE, bytes(encryption))):
        staged = keys_dir / (name + ".new")
        staged.unlink(missing_ok=True)
        _write_private(staged, raw)
        os.replace(staged, keys_dir / name)


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
    def keys_dir(self) -> Path | None:
        return self.data_dir / "keys" if self.data_dir is not None else None

    def _keys_on_disk(self) -> list[tuple[SigningKey, PrivateKey]]:
        """Our current keys as the files hold them (newer than ours if another process rotated
        them since we loaded), then those from before each rotation."""
        folder = self.keys_dir
        if folder is None:
            return []
        found: list[tuple[SigningKey, PrivateKey]] = []
        with contextlib.suppress(NotInitialised):
            found.append(load_keys(folder))
        return found + history_keys(folder)

    @property
    def act_keys(self) -> KeyRing:
        """Our signing key, and the ones before it: acts we signed before a rotation verify."""
        return KeyRing(
            [self.signing.verify_key],
            more=lambda: [s.verify_key for s, _ in self._keys_on_disk()],
        )

    def decryption_keys(self) -> list[PrivateKey]:
        """Our encryption key, then the others on disk (a peer may still seal to the key before
        a rotation, or to the one after it if this process loaded the keys before it)."""
        keys = [self.encryption]
        for _, private in self._keys_on_disk():
            if bytes(private) != bytes(self.encryption):
                keys.append(private)
        return keys

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
    """A peer's pinned keys: `verify` checks what it sends now (its current key, and during a
    rotation's overlap the one before), `acts` the acts it signed at any time; `older` are the
    encryption keys it may still have sealed with (the overlap)."""

    name: str
    verify: Verifier
    encryption: PublicKey
    acts: Verifier | None = None
    older: tuple[PublicKey, ...] = field(default=())

    @property
    def act_verifier(self) -> Verifier:
        return self.acts if self.acts is not None else self.verify

    @classmethod
    def from_b64(cls, name: str, signing_key: str, encryption_key: str) -> PeerKeys:
        return cls(name, VerifyKey(unb64(signing_key)), PublicKey(unb64(encryption_key)))
