"""The message kind that carries attachment chunks, and the hook that sends draft attachments."""

from __future__ import annotations

from typing import Any

from accord.attachments import service
from accord.cases import service as cases
from accord.federation.kinds import Kind, register


def _stream(message: Any) -> str:
    return f"blob:{message.sha256}"


register(Kind(service.CHUNK_KIND, service.ChunkMessage, _stream, handler=service.receive_chunk))
cases.SHARED_HOOKS.append(service.send_backlog)
