"""Backups sealed with a passphrase: argon2id stretches it into a key, and the archive is
encrypted and authenticated block by block with XSalsa20-Poly1305 (PyNaCl's SecretBox).

Layout: MAGIC, then a header (salt, argon2id time cost, memory in KiB, parallelism, nonce
prefix), then blocks, each a 4-byte big-endian length and a SecretBox ciphertext. The nonce of
block i is the 15-byte prefix, one byte saying whether it is the last block, and i in 8 bytes:
blocks cannot be reordered, dropped, or cut off after any but the last. The header need not be
authenticated: changing the salt or the costs changes the key, changing the prefix the nonces,
and either way no block opens.
"""

from __future__ import annotations

import os
import struct
from typing import IO

import nacl.exceptions
import nacl.secret
from argon2.low_level import Type, hash_secret_raw

from accord.core.errors import InvalidInput

MAGIC = b"ACCORD-SEALED-BACKUP-1\n"
SALT_BYTES = 16
PREFIX_BYTES = 15
TIME_COST = 3
MEMORY_KIB = 64 * 1024
PARALLELISM = 1
MAX_TIME_COST = 10
MAX_MEMORY_KIB = 1024 * 1024
"""Costs read from a header are bounded: a forged file must not make restore spend hours."""
BLOCK = 1024 * 1024
_HEADER = struct.Struct(">16sIIB15s")
_LENGTH = struct.Struct(">I")
_OVERHEAD = nacl.secret.SecretBox.MACBYTES

WRONG = (
    "cannot open the backup: wrong passphrase, or the file was altered; give the passphrase "
    "used for `accord backup` (the node was not changed)"
)


def is_sealed(path: os.PathLike[str] | str) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


def _key(passphrase: str, salt: bytes, time_cost: int, memory_kib: int, parallelism: int) -> bytes:
    return hash_secret_raw(
        passphrase.encode("utf-8"),
        salt,
        time_cost=time_cost,
        memory_cost=memory_kib,
        parallelism=parallelism,
        hash_len=nacl.secret.SecretBox.KEY_SIZE,
        type=Type.ID,
    )


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + (b"\x01" if last else b"\x00") + index.to_bytes(8, "big")


def check_passphrase(passphrase: str) -> None:
    if len(passphrase) < 12:
        raise InvalidInput(
            "the backup passphrase must have at least 12 characters (it is all that protects "
            "the node's private keys in the archive)"
        )


class SealingWriter:
    """A write-only binary file that encrypts what is written to it into `target`."""

    def __init__(self, target: IO[bytes], passphrase: str) -> None:
        check_passphrase(passphrase)
        salt, prefix = os.urandom(SALT_BYTES), os.urandom(PREFIX_BYTES)
        self._box = nacl.secret.SecretBox(
            _key(passphrase, salt, TIME_COST, MEMORY_KIB, PARALLELISM)
        )
        self._target = target
        self._prefix = prefix
        self._index = 0
        self._pending = bytearray()
        self._closed = False
        target.write(MAGIC + _HEADER.pack(salt, TIME_COST, MEMORY_KIB, PARALLELISM, prefix))

    def _seal(self, block: bytes, *, last: bool) -> None:
        sealed = self._box.encrypt(block, _nonce(self._prefix, self._index, last)).ciphertext
        self._target.write(_LENGTH.pack(len(sealed)) + sealed)
        self._index += 1

    def write(self, data: bytes) -> int:
        self._pending += data
        while len(self._pending) > BLOCK:
            self._seal(bytes(self._pending[:BLOCK]), last=False)
            del self._pending[:BLOCK]
        return len(data)

    def flush(self) -> None:
        self._target.flush()

    def close(self) -> None:
        """Seal the last block (possibly empty). The target stays open."""
        if not self._closed:
            self._seal(bytes(self._pending), last=True)
            self._pending.clear()
            self._closed = True
            self._target.flush()


class OpeningReader:
    """A read-only binary file of the plain archive inside a sealed one; refuses a wrong
    passphrase before anything is read, and a block altered, moved or cut off when read."""

    def __init__(self, source: IO[bytes], passphrase: str) -> None:
        if source.read(len(MAGIC)) != MAGIC:
            raise InvalidInput("not a sealed Accord backup")
        header = source.read(_HEADER.size)
        if len(header) != _HEADER.size:
            raise InvalidInput("the sealed backup is cut off in its header")
        salt, time_cost, memory_kib, parallelism, prefix = _HEADER.unpack(header)
        if not (
            1 <= time_cost <= MAX_TIME_COST
            and 8 <= memory_kib <= MAX_MEMORY_KIB
            and 1 <= parallelism <= 16
        ):
            raise InvalidInput("the sealed backup's header is damaged (key costs out of range)")
        self._box = nacl.secret.SecretBox(
            _key(passphrase, salt, time_cost, memory_kib, parallelism)
        )
        self._source = source
        self._prefix = prefix
        self._index = 0
        self._buffer = bytearray()
        self._ended = False
        self._fill()  # a wrong passphrase is refused here, at once

    def _fill(self) -> None:
        if self._ended:
            return
        length = self._source.read(_LENGTH.size)
        if len(length) != _LENGTH.size:
            raise InvalidInput("the sealed backup is cut off: its last block is missing")
        (size,) = _LENGTH.unpack(length)
        if size > BLOCK + _OVERHEAD:
            raise InvalidInput(WRONG)
        sealed = self._source.read(size)
        if len(sealed) != size:
            raise InvalidInput("the sealed backup is cut off in the middle of a block")
        for last in (False, True):
            try:
                plain = self._box.decrypt(sealed, _nonce(self._prefix, self._index, last))
            except nacl.exceptions.CryptoError:
                continue
            self._index += 1
            self._buffer += plain
            if last:
                self._ended = True
                if self._source.read(1):
                    raise InvalidInput("the sealed backup has data after its last block")
            return
        raise InvalidInput(WRONG)

    def read(self, size: int = -1) -> bytes:
        while not self._ended and (size < 0 or len(self._buffer) < size):
            self._fill()
        if size < 0:
            size = len(self._buffer)
        block = bytes(self._buffer[:size])
        del self._buffer[:size]
        return block

    def tell(self) -> int:
        """How far into the sealed file (for progress)."""
        return self._source.tell()
