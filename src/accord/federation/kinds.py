"""Message kinds: the schema each body must match, and the handler that processes it.

Capabilities register their kinds here at import, so federation depends on none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from accord.federation.keys import NodeIdentity


class Deferred(Exception):
    """Cannot be processed yet (an earlier message of the same stream has not arrived).

    Handlers raise it, like Rejected, before writing anything."""


class Rejected(Exception):
    """Authentic but not acceptable: the item goes to quarantine with this reason.

    Handlers raise it before writing anything, so no savepoint is needed to undo them."""


Handler = Callable[[Session, NodeIdentity, str, Any], None]
Query = Callable[[Session, NodeIdentity, str, Any], dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    name: str
    schema: type[BaseModel]
    stream: Callable[[Any], str]
    handler: Handler | None = None
    query: Query | None = None


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> None:
    KINDS[kind.name] = kind
