"""The message kind that carries attachment chunks."""

from __future__ import annotations

from typing import Any

from accord.attachments import service
from accord.federation.kinds import Kind


def _stream(message: Any) -> str:
    return f"blob:{message.sha256}"


KINDS = (Kind(service.CHUNK_KIND, service.ChunkMessage, _stream, handler=service.receive_chunk),)
