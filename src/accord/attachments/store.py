"""A content-addressed blob store: files named by their SHA-256 under the node's data folder."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from uuid import UUID

from accord.core.errors import InvalidInput, PayloadTooLarge

CHUNK = 64 * 1024


class BlobStore:
    def __init__(self, root: Path, *, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise InvalidInput(f"{sha256!r} is not a SHA-256 in hex")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put(self, source: BinaryIO) -> tuple[str, int]:
        """Store a stream, hashing as it goes; refuse it past the size limit."""
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / "incoming"
        staging.mkdir(exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        temporary = staging / f"upload-{os.getpid()}-{id(source)}"
        with _private(temporary) as out:
            while block := source.read(CHUNK):
                size += len(block)
                if size > self.max_bytes:
                    out.close()
                    temporary.unlink(missing_ok=True)
                    raise PayloadTooLarge(
                        f"attachment larger than {self.max_bytes} bytes; split it or compress it"
                    )
                digest.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        sha = digest.hexdigest()
        self._place(temporary, sha)
        return sha, size

    def _place(self, temporary: Path, sha256: str) -> None:
        final = self.path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            temporary.unlink(missing_ok=True)
        else:
            os.replace(temporary, final)

    def chunks(self, sha256: str) -> Iterator[bytes]:
        with self.path(sha256).open("rb") as handle:
            while block := handle.read(CHUNK):
                yield block

    # -- receiving in chunks ----------------------------------------------------------------
    # One folder per transfer (a file sent for one case), so that a transfer never mixes its
    # chunks with another's and each can expire or be discarded alone.

    def partial_dir(self, transfer: str) -> Path:
        if not _TRANSFER.fullmatch(transfer):
            raise InvalidInput(f"{transfer!r} is not a transfer key (case id, hyphen, SHA-256)")
        return self.root / "partial" / transfer

    def put_chunk(self, transfer: str, index: int, data: bytes) -> None:
        folder = self.partial_dir(transfer)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{index:08d}"
        temporary = folder / f".{index:08d}.tmp"
        with _private(temporary) as out:
            out.write(data)
        os.replace(temporary, target)

    def received(self, transfer: str) -> int:
        folder = self.partial_dir(transfer)
        return len(list(folder.glob("[0-9]*"))) if folder.exists() else 0

    def assemble(self, transfer: str, sha256: str, size: int) -> bool:
        """Join the chunks; keep the file only if its hash and size are the announced ones."""
        folder = self.partial_dir(transfer)
        temporary = folder / ".assembled"
        digest = hashlib.sha256()
        total = 0
        with _private(temporary) as out:
            for part in sorted(folder.glob("[0-9]*")):
                block = part.read_bytes()
                total += len(block)
                digest.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256 or total != size:
            shutil.rmtree(folder, ignore_errors=True)
            return False
        self._place(temporary, sha256)
        shutil.rmtree(folder, ignore_errors=True)
        return True

    def discard(self, transfer: str) -> None:
        """Delete a transfer's chunks (or a folder of chunks kept by hash alone before 0010)."""
        if not _FOLDER.fullmatch(transfer):
            raise InvalidInput(f"{transfer!r} is not a folder of chunks")
        shutil.rmtree(self.root / "partial" / transfer, ignore_errors=True)

    def transfers(self) -> Iterator[tuple[str, float]]:
        """Each folder of chunks, by name, with the time it last changed."""
        root = self.root / "partial"
        if not root.is_dir():
            return
        for entry in root.iterdir():
            if entry.is_dir() and _FOLDER.fullmatch(entry.name):
                yield entry.name, entry.stat().st_mtime


def transfer_key(case_id: UUID, sha256: str) -> str:
    """The name of the folder that holds the chunks of `sha256` received for one case."""
    return f"{case_id.hex}-{sha256}"


_TRANSFER = re.compile(r"[0-9a-f]{32}-[0-9a-f]{64}")
_FOLDER = re.compile(r"(?:[0-9a-f]{32}-)?[0-9a-f]{64}")
"""A transfer's folder, or one named by the hash alone (how chunks were kept before 0010)."""


def _private(path: Path) -> BinaryIO:
    """A file opened for writing that only the node's owner can read: attachments hold case
    evidence."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "wb")
