"""What every JSON route shares: the runtime, token authentication, error mapping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from accord.accounts.service import Principal, check_token
from accord.audit import service as audit
from accord.core.errors import AccordError, Unauthenticated
from accord.core.permissions import Permission
from accord.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def authenticated(request: Request, runtime: RuntimeDep) -> Principal:
    """The officer behind the bearer token."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("send `Authorization: Bearer <token>`; `accord token new` issues one")
    with runtime.reading() as session:
        return check_token(session, token=token.strip())


def require(permission: Permission) -> Callable[..., Principal]:
    """A dependency, declared beside each route: the caller must hold `permission`."""

    def dependency(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        principal.require(permission)
        return principal

    dependency.permission = permission  # type: ignore[attr-defined]  # read by the matrix test
    return dependency


def remote(request: Request) -> str | None:
    return request.client.host if request.client else None


def audited(
    session: Session,
    principal: Principal,
    action: str,
    request: Request,
    *,
    subject: str | None = None,
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
) -> None:
    """The audit entry of one request by an officer."""
    audit.record(
        session,
        actor=principal.username,
        action=action,
        outcome=outcome,
        subject=subject,
        remote_addr=remote(request),
        detail=detail,
    )


class ErrorOut(BaseModel):
    """The body of every refusal: a code, and a message saying what was wrong and what to do."""

    error: str
    message: str
    detail: dict[str, Any] | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in (
        (400, "Bad request"),
        (401, "No valid bearer token"),
        (403, "The token's officer may not do this"),
        (404, "No such thing, or not visible to this officer"),
        (409, "Conflicts with the current state (e.g. the workflow)"),
        (413, "Request body too large"),
        (422, "Invalid input"),
        (429, "Too many requests; wait as the Retry-After header says"),
        (502, "The peer could not be reached or sent an unverifiable answer"),
    )
}
"""The refusals every JSON route may answer with, declared in the OpenAPI document."""


def error_response(exc: AccordError) -> JSONResponse:
    return JSONResponse(
        status_code=exc.http_status,
        content={"error": exc.code, "message": exc.message, "detail": exc.detail},
    )
