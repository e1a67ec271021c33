"""Canonical JSON bytes: the one encoding that is hashed and signed, identical on every node."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_bytes(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8 (not \\u escapes), no NaN: stable across nodes."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
