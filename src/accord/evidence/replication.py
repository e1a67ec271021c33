"""The message kind through which both nodes come to hold both signatures of a checkpoint."""

from __future__ import annotations

from typing import Any

from accord.evidence import checkpoints
from accord.evidence.schemas import CheckpointMessage
from accord.federation.kinds import Kind


def _reference(message: Any) -> str:
    return str(message.reference)


KINDS = (
    Kind(
        checkpoints.CHECKPOINT_KIND,
        CheckpointMessage,
        _reference,
        handler=checkpoints.apply_checkpoint_message,
    ),
)
