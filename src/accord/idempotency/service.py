"""Idempotency keys (IETF httpapi, "The Idempotency-Key HTTP Header Field"): the first request
sent with a key is acted on and its answer kept in the action's own transaction, so that a
commit leaves both or neither; the same request sent again is answered from what was kept."""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from accord.accounts.service import Principal
from accord.config import Settings
from accord.core.canonical import canonical_bytes, sha256_hex
from accord.core.clock import utcnow
from accord.core.db import unit_of_work
from accord.core.dialects import try_exclusive
from accord.core.errors import Conflict, InvalidInput
from accord.idempotency.models import IdempotencyKey

log = logging.getLogger(__name__)

MAX_KEY_LENGTH = 255
"""Longest key accepted, quotes of a structured-field string included (a UUID takes 36)."""

MAX_SCOPE_LENGTH = 200


@dataclass(frozen=True)
class KeyedRequest:
    """A request sent with a key: whose key it is, the key, and what the request asked."""

    scope: str
    key: str
    method: str
    target: str
    body_digest: str


@dataclass(frozen=True)
class Answer:
    """What a request was answered: an HTTP status (0 for a CLI command) and a JSON object."""

    status: int
    body: dict[str, object]


@dataclass(frozen=True)
class Answered:
    answer: Answer
    replayed: bool
    """True when the answer is the one kept with the key, and nothing was done this time."""


def officer_scope(principal: Principal) -> str:
    """An officer's keys, through any token or web session of theirs: two officers' keys never
    meet, and one officer's retry from another device still finds the key."""
    return f"user:{principal.user_id or principal.username}"


def operator_scope(officer: str) -> str:
    """The keys of the operator acting on the database (the CLI), under the name they act as."""
    return f"operator:{officer}"


def parse_key(value: str) -> str:
    """The key of an `Idempotency-Key` value: printable ASCII, 1 to 255 characters. The draft
    sends it as a structured-field string (`"8e03978e-…"`), whose quotes and escapes are removed;
    a bare value is taken as it is."""
    if not 0 < len(value) <= MAX_KEY_LENGTH or not value.isascii() or not value.isprintable():
        raise InvalidInput(
            f"Idempotency-Key: send 1 to {MAX_KEY_LENGTH} printable ASCII characters, a UUID "
            f"for example (this one has {len(value)} characters"
            + ("" if value.isascii() and value.isprintable() else ", not all printable ASCII")
            + ")",
            detail={"header": "Idempotency-Key"},
        )
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = _unquoted(value[1:-1])
    if not value.strip():
        raise InvalidInput(
            "Idempotency-Key: the key is blank; send a new UUID with each new request",
            detail={"header": "Idempotency-Key"},
        )
    return value


def _unquoted(text: str) -> str:
    """The content of a structured-field string (RFC 8941 §3.3.3): `\\"` and `\\\\` escaped."""
    chars: list[str] = []
    escaped = False
    for char in text:
        if escaped and char in '"\\':
            chars.append(char)
            escaped = False
        elif escaped or char == '"':
            raise _badly_quoted()
        elif char == "\\":
            escaped = True
        else:
            chars.append(char)
    if escaped:
        raise _badly_quoted()
    return "".join(chars)


def _badly_quoted() -> InvalidInput:
    return InvalidInput(
        'Idempotency-Key: inside the quotes of a key, write " as \\" and \\ as \\\\ (or '
        "send the key bare)",
        detail={"header": "Idempotency-Key"},
    )


def keyed_request(
    value: str | None, *, scope: str, method: str, target: str, body: object
) -> KeyedRequest | None:
    """The keyed request for a key as sent (None: no key, act as usual). `target` is the path
    (with its query) and `body` the request's content as JSON, fingerprinted: the same key sent
    with another method, path or body is another request."""
    if value is None:
        return None
    if len(scope) > MAX_SCOPE_LENGTH:
        raise InvalidInput(
            f"an idempotency key is kept per caller, and a caller's name may have at most "
            f"{MAX_SCOPE_LENGTH - len('operator:')} characters"
        )
    return KeyedRequest(
        scope=scope,
        key=parse_key(value),
        method=method.upper(),
        target=target,
        body_digest=sha256_hex(canonical_bytes(body)),
    )


def once(
    session: Session,
    *,
    request: KeyedRequest | None,
    lifetime: timedelta,
    perform: Callable[[], Answer],
) -> Answered:
    """Answer `request` by `perform`ing it, or from the answer kept with its key.

    In the caller's transaction, which `perform` acts in too: the answer is kept with the action
    or, when the action is refused and rolled back, not at all (the key stays free). The key is
    held for the rest of the transaction, so a duplicate sent while the first is in flight is
    refused with Conflict (409) on PostgreSQL; SQLite has one writer at a time, so there the
    duplicate waits for the first and is answered with its answer. The same key sent with
    another request is refused with InvalidInput (422). A key older than `lifetime` is
    forgotten: sent again, its request is acted on anew."""
    if request is None:
        return Answered(perform(), replayed=False)
    if not try_exclusive(session, f"idempotency:{request.scope}:{request.key}"):
        raise Conflict(
            f"a request with Idempotency-Key {request.key!r} is still being processed: wait "
            "for its answer, or send the request again with the same key to read it",
            detail={"idempotency_key": request.key},
        )
    mine = (IdempotencyKey.scope == request.scope) & (IdempotencyKey.key == request.key)
    session.execute(
        delete(IdempotencyKey).where(mine, IdempotencyKey.created_at <= utcnow() - lifetime),
        execution_options={"synchronize_session": False},
    )
    kept = session.scalar(select(IdempotencyKey).where(mine))
    if kept is not None:
        if (kept.method, kept.target, kept.body_digest) != (
            request.method,
            request.target,
            request.body_digest,
        ):
            other = "with another body" if kept.target == request.target else "elsewhere"
            raise InvalidInput(
                f"Idempotency-Key {request.key!r} was used for another request ({kept.method} "
                f"{kept.target}, {other}): send a new key with each new request",
                detail={"idempotency_key": request.key},
            )
        return Answered(Answer(kept.status, dict(kept.answer)), replayed=True)
    answer = perform()
    session.add(
        IdempotencyKey(
            scope=request.scope,
            key=request.key,
            method=request.method,
            target=request.target,
            body_digest=request.body_digest,
            status=answer.status,
            answer=answer.body,
            created_at=utcnow(),
        )
    )
    session.flush()
    return Answered(answer, replayed=False)


def delete_expired(session: Session, *, before: datetime) -> int:
    """Forget the keys made before `before`; how many there were."""
    done = session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < before),
        execution_options={"synchronize_session": False},
    )
    assert isinstance(done, CursorResult)
    return done.rowcount


def prune(factory: sessionmaker[Session], *, lifetime: timedelta) -> int:
    """Forget the keys older than `lifetime`, in a transaction of their own; how many."""
    with unit_of_work(factory) as session:
        return delete_expired(session, before=utcnow() - lifetime)


PRUNE_ROUND_SECONDS = 300.0
"""How often the workers forget expired keys; they call `prune_expired` at every inbox round."""

_last_prune_round: weakref.WeakKeyDictionary[sessionmaker[Session], float] = (
    weakref.WeakKeyDictionary()
)
"""When each session factory (each node's database) was last pruned, on the monotonic clock
(held weakly, so that a new factory is never taken for a gone one)."""


def prune_expired(factory: sessionmaker[Session], settings: Settings) -> int:
    """The workers' periodic job: `prune` with the node's key lifetime, at most once every
    PRUNE_ROUND_SECONDS. A failure is logged and tried again later; it never stops the inbox."""
    now = time.monotonic()
    last = _last_prune_round.get(factory)
    if last is not None and now - last < PRUNE_ROUND_SECONDS:
        return 0
    _last_prune_round[factory] = now
    try:
        return prune(factory, lifetime=settings.idempotency_lifetime)
    except (OSError, SQLAlchemyError):
        log.warning("idempotency: forgetting expired keys failed; next round", exc_info=True)
        return 0
