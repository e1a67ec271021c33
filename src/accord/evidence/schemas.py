"""What two nodes send each other about checkpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from accord.audit.schemas import AuditAnchorMessage
from accord.federation.schemas import NAME_PATTERN

HEX64 = r"^[0-9a-f]{64}$"


class CheckpointMessage(BaseModel):
    """`evidence.checkpoint`: the sequencer offers its signed checkpoint of a case log
    (`offer`), and the other node answers with its own signature of the same document
    (`countersign`) once its copy of the log has the same head."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["offer", "countersign"]
    reference: str = Field(max_length=64)
    tree_size: int = Field(ge=1)
    root_hash: str = Field(pattern=HEX64)
    head_hash: str = Field(pattern=HEX64)
    made_by: str = Field(pattern=NAME_PATTERN)
    made_at: str = Field(max_length=40)
    reason: str = Field(max_length=64)
    signature: str = Field(min_length=88, max_length=88)
    """`made_by`'s signature in an offer; the sender's own in a countersignature."""
    audit_anchor: AuditAnchorMessage | None = None
    """The sender's audit log head, signed by the sender for the receiver (`audit/anchors.py`):
    outside the checkpoint's document, which both nodes sign alike."""
