"""The case log's hash chain: each event carries the hash of the one before it, and commits to
the signature of the act it records (`cases/acts.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.cases.erasable import committed
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


SIGNED_FIELDS = ("acted_at", "signature")
"""Hashed too when the event carries a signed act. Events written before acts were signed
(version 0.1 logs) carry none, and their hashes stay what they were."""


def event_hash(fields: dict[str, Any], commitments: Mapping[str, str] | None = None) -> str:
    """SHA-256 over the canonical JSON of the event's fields (the hash itself excluded), its
    payload in committed form: each erasable part (pointer -> commitment) replaced by its
    commitment (format 0.3; none in the formats before)."""
    names: tuple[str, ...] = HASHED_FIELDS
    if fields.get("signature") is not None:
        names = (*HASHED_FIELDS, *SIGNED_FIELDS)
    missing = [name for name in names if name not in fields]
    if missing:
        raise ValueError(f"event lacks hashed fields {missing}")
    hashed = {name: fields[name] for name in names}
    if commitments:
        hashed["payload"] = committed(hashed["payload"], commitments)
    return sha256_hex(canonical_bytes(hashed))
