"""The message kind that carries attachment chunks."""

from __future__ import annotations

from typing import Any

from accord.attachments import service
from accord.federation.kinds import Kind


def _stream(message: Any) -> str:
    # The case's stream: a chunk that waits for the event announcing its file is woken when
    # that event (the case's stream) is applied.
    return str(message.reference)


KINDS = (Kind(service.CHUNK_KIND, service.ChunkMessage, _stream, handler=service.receive_chunk),)
