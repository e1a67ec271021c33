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


def contains_nul(value: Any) -> bool:
    """True if any string in a JSON value holds U+0000, which PostgreSQL text and JSONB refuse."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(v) for v in value)
    return False
