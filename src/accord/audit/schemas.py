"""What two nodes send each other about their audit logs: signed heads (anchors) and the
question of which anchors of ours a peer holds."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from accord.federation.schemas import NAME_PATTERN

HEX64 = r"^[0-9a-f]{64}$"


class AuditAnchorMessage(BaseModel):
    """The head of `node`'s audit log (entry `entry_id`, its `entry_hash`) signed by `node` for
    `peer`: it travels inside each checkpoint message (`evidence.checkpoint`)."""

    model_config = ConfigDict(extra="forbid")

    node: str = Field(pattern=NAME_PATTERN)
    peer: str = Field(pattern=NAME_PATTERN)
    entry_id: int = Field(ge=1)
    entry_hash: str = Field(pattern=HEX64)
    made_at: str = Field(max_length=40)
    signature: str = Field(min_length=88, max_length=88)


class AnchorsQuery(BaseModel):
    """`audit.anchors`: which anchors of the asker's audit log does the peer hold?"""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=100, ge=1, le=1000)
