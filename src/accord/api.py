"""What every JSON route shares: the runtime, token authentication, error mapping."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import JSONResponse

from accord.accounts.service import check_token
from accord.core.errors import AccordError, Unauthenticated
from accord.core.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def require_token(request: Request, runtime: RuntimeDep) -> str:
    """The bearer token's name, which stands for the officer until accounts arrive."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("send `Authorization: Bearer <token>`; see DATA/api-token")
    with runtime.reading() as session:
        return check_token(session, token=token.strip()).name


TokenDep = Annotated[str, Depends(require_token)]


def error_response(exc: AccordError) -> JSONResponse:
    return JSONResponse(
        status_code=exc.http_status,
        content={"error": exc.code, "message": exc.message, "detail": exc.detail},
    )
