"""What every JSON route shares: the runtime, token authentication, error mapping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from accord.accounts.service import Principal, check_token
from accord.audit import service as audit
from accord.core.errors import AccordError, Unauthenticated
from accord.core.permissions import Permission
from accord.core.runtime import Runtime


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


def error_response(exc: AccordError) -> JSONResponse:
    return JSONResponse(
        status_code=exc.http_status,
        content={"error": exc.code, "message": exc.message, "detail": exc.detail},
    )
