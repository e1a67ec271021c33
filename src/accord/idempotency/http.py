"""The `Idempotency-Key` header of the JSON API: its declaration, and how a route that acts on a
case answers a keyed request once (the action, its audit entry and the kept answer in one
transaction)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from accord.accounts.service import Principal
from accord.api import audited
from accord.idempotency.service import (
    MAX_KEY_LENGTH,
    Answer,
    keyed_request,
    officer_scope,
    once,
)
from accord.runtime import Runtime

REPLAYED = "Idempotent-Replayed"
"""Sent (`true`) with an answer replayed from its key: nothing was done this time."""

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=MAX_KEY_LENGTH,
        pattern=r"^[ -~]+$",
        description=(
            "A key of your choosing, new for each new request (a UUID), per the IETF httpapi "
            'draft "The Idempotency-Key HTTP Header Field": printable ASCII, at most '
            f"{MAX_KEY_LENGTH} characters, bare or as a structured-field string "
            '(`"8e03978e-40d5-43e8-bc93-6894a57f9324"`). The first request with the key is '
            "acted on and its answer kept with the key, in the same transaction; sent again "
            "with the same method, path and body, it is answered the same (status and body, "
            f"with `{REPLAYED}: true`) and nothing is done twice. The same key with another "
            "request answers 422; while the first is still being processed, 409. Keys are "
            "your officer's own (two officers' keys never meet) and are kept for "
            "ACCORD_IDEMPOTENCY_KEY_HOURS (24 h by default). A refused request keeps nothing: "
            "its key stays free."
        ),
        examples=["8e03978e-40d5-43e8-bc93-6894a57f9324"],
    ),
]


def answer_once(
    runtime: Runtime,
    request: Request,
    *,
    officer: Principal,
    key: str | None,
    body: object,
    perform: Callable[[Session], Answer],
) -> JSONResponse:
    """Run `perform` in one transaction and answer what it returns, or, for a key this officer
    already sent with the same request, the answer kept with it (the replay is audited, as
    `idempotency.replay`). `body` is the request's content as JSON, fingerprinted."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    keyed = keyed_request(
        key, scope=officer_scope(officer), method=request.method, target=target, body=body
    )
    with runtime.transaction() as session:
        answered = once(
            session,
            request=keyed,
            lifetime=runtime.settings.idempotency_lifetime,
            perform=lambda: perform(session),
        )
        if answered.replayed:
            assert keyed is not None
            audited(
                session,
                officer,
                "idempotency.replay",
                request,
                subject=target[:200],
                detail={"idempotency_key": keyed.key, "status": answered.answer.status},
            )
    headers = {REPLAYED: "true"} if answered.replayed else None
    return JSONResponse(answered.answer.body, status_code=answered.answer.status, headers=headers)
