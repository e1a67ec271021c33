"""The message kind that carries STIX objects from a `to-<peer>` collection to the peer."""

from __future__ import annotations

from typing import Any

from accord.cyber.taxii import service
from accord.federation.kinds import Kind


def _stream(_message: Any) -> str:
    return "taxii"


KINDS = (
    Kind(service.OBJECTS_KIND, service.ObjectsMessage, _stream, handler=service.receive_objects),
)
