"""Wire and API shapes of federation: node cards, envelopes, receipts."""

from __future__ import annotations

import base64
import binascii
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
NAMESPACE_PATTERN = r"^[A-Z0-9]{2,12}$"
"""A node's reference namespace: the middle part of the references it sequences."""


def _key32(value: str) -> str:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
    if len(raw) != 32:
        raise ValueError(f"a public key is 32 bytes, this one is {len(raw)}")
    return value


class NodeCard(BaseModel):
    """What one node tells another out of band to be pinned as a peer."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    country: str = Field(pattern=r"^[A-Z]{2}$")
    endpoint: str = Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$", max_length=500)
    signing_key: str
    encryption_key: str
    fingerprint: str = Field(pattern=r"^[0-9a-f]{64}$")
    namespace: str | None = Field(
        default=None,
        pattern=NAMESPACE_PATTERN,
        description="the middle part of the case references this node sequences "
        "(MLA-<namespace>-2026-000001); its country code when the card names none",
    )

    @property
    def reference_namespace(self) -> str:
        return self.namespace or self.country

    _check_signing = field_validator("signing_key")(_key32)
    _check_encryption = field_validator("encryption_key")(_key32)


class Envelope(BaseModel):
    """`{v, id, from, to, sent_at, kind, body}` signed as a whole; `body` encrypted to `to`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    v: Literal[1]
    id: UUID
    sender: str = Field(alias="from", pattern=NAME_PATTERN)
    to: str = Field(pattern=NAME_PATTERN)
    sent_at: str = Field(max_length=40)
    kind: str = Field(pattern=r"^[a-z][a-z0-9_.]{0,63}$")
    body: str = Field(description="base64 of the crypto_box nonce and ciphertext")
    sig: str = Field(description="base64 Ed25519 signature over the canonical JSON without sig")


class EnvelopeBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    envelopes: list[Envelope]


class Receipt(BaseModel):
    """The receiver's signed word that an envelope is stored (or why it is not)."""

    model_config = ConfigDict(extra="forbid")

    envelope_id: UUID
    receiver: str
    status: Literal["stored", "duplicate", "quarantined"]
    reason: str | None = None
    received_at: str
    sig: str


class ReceiptBatch(BaseModel):
    receipts: list[Receipt]
