"""The accounts' secrets at rest (TOTP keys): sealed with XSalsa20-Poly1305 (NaCl SecretBox) under a
key kept outside the database, in the node's keys folder (`keys/accounts.key`, mode 0600)."""

from __future__ import annotations

import base64
import os
from functools import lru_cache
from pathlib import Path

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox
from nacl.utils import random

from accord.core.errors import AccordError

KEY_FILE = "accounts.key"
SEALED = "sealed:v1:"
"""The prefix of a sealed value; a stored value without it is a secret from before sealing."""


class UnreadableSecret(AccordError):
    """A sealed secret that this node's key does not open (another node's key, or tampered)."""

    http_status = 500
    code = "unreadable_secret"


class Vault:
    """Seals and opens the secrets of the accounts with one key."""

    def __init__(self, key: bytes) -> None:
        self._box = SecretBox(key)

    def seal(self, secret: str) -> str:
        return SEALED + base64.b64encode(bytes(self._box.encrypt(secret.encode()))).decode()

    def open(self, stored: str) -> str:
        """The secret of a stored value; a value from before sealing is returned as it is."""
        if not is_sealed(stored):
            return stored
        try:
            return self._box.decrypt(base64.b64decode(stored[len(SEALED) :])).decode()
        except (CryptoError, ValueError) as exc:
            raise UnreadableSecret(
                "a stored second-factor key does not open with this node's "
                f"{KEY_FILE}: restore the key file that belongs to this database, or re-enrol "
                "the officer"
            ) from exc


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED)


@lru_cache(maxsize=16)
def vault_for(keys_dir: Path) -> Vault:
    """The vault of the node whose keys are in `keys_dir`; its key is created at first use."""
    path = keys_dir / KEY_FILE
    try:
        return Vault(path.read_bytes())
    except FileNotFoundError:
        pass
    keys_dir.mkdir(parents=True, exist_ok=True)
    key = random(SecretBox.KEY_SIZE)
    draft = keys_dir / f".{KEY_FILE}.{os.getpid()}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(draft, path)  # whole or not at all, and never over a key already there
    except FileExistsError:  # another process made it first: use theirs
        key = path.read_bytes()
    finally:
        draft.unlink()
    return Vault(key)
