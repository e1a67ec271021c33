"""The case log's hash chain: each event carries the hash of the one before it."""

from __future__ import annotations

from typing import Any

from accord.core.canonical import canonical_bytes, sha256_hex

GENESIS = "0" * 64

HASHED_FIELDS = (
    "reference",
    "seq",
    "action",
    "side",
    "actor_node",
    "actor_officer",
    "payload",
    "occurred_at",
    "submission_id",
    "prev_hash",
)


def event_hash(fields: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of the event's fields (the hash itself excluded)."""
    missing = [name for name in HASHED_FIELDS if name not in fields]
    if missing:
        raise ValueError(f"event lacks hashed fields {missing}")
    return sha256_hex(canonical_bytes({name: fields[name] for name in HASHED_FIELDS}))
