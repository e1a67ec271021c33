"""Message kinds: the schema each body must match, and the handler that processes it.

Each capability declares its kinds; the composition root collects them into `Kinds` and hands
them to the runtime, so federation depends on none of the capabilities.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from accord.core.db import provided
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
    immediate: bool = False
    """Processed as it is stored, before the receipt (a peer's new keys: the envelopes after
    it in the same request, and all later ones, are signed with them)."""


class Kinds:
    """The message kinds this node speaks, by name."""

    def __init__(self, kinds: Iterable[Kind]) -> None:
        self._by_name: dict[str, Kind] = {}
        for kind in kinds:
            if kind.name in self._by_name:
                raise ValueError(f"message kind {kind.name!r} declared twice")
            self._by_name[kind.name] = kind

    def get(self, name: str) -> Kind | None:
        return self._by_name.get(name)

    @property
    def names(self) -> list[str]:
        return sorted(self._by_name)


def kinds_of(session: Session) -> Kinds:
    """The message kinds of the runtime that opened `session`."""
    return provided(session, Kinds)
