"""The endpoints an operator's tools poll: /livez, /healthz, /readyz and /metrics."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from accord import __version__
from accord.config import Settings
from accord.ops import health, metrics
from accord.runtime import Runtime

router = APIRouter(tags=["operations"])

CHECK_TIMEOUT_SECONDS = 5.0
"""A check that has not answered by then fails: a database that hangs is not a healthy one."""


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _answer(
    request: Request, check: Callable[[sessionmaker[Session], Settings], health.Health]
) -> JSONResponse:
    runtime = _runtime(request)
    try:
        result = await asyncio.wait_for(
            run_in_threadpool(check, runtime.read_factory, runtime.settings),
            timeout=CHECK_TIMEOUT_SECONDS,
        )
    except TimeoutError:
        result = health.Health(
            [health.Check("database", False, f"no answer within {CHECK_TIMEOUT_SECONDS:.0f} s")]
        )
    body = {**result.as_json(), "version": __version__, "node": runtime.node.name}
    return JSONResponse(body, status_code=200 if result.ok else 503)


@router.get("/livez")
def livez() -> dict[str, str]:
    """The process answers (for a supervisor that restarts a hung process); nothing else is
    checked."""
    return {"status": "ok", "version": __version__}


@router.get("/healthz", responses={503: {"description": "this process cannot serve"}})
async def healthz(request: Request) -> JSONResponse:
    """This process can serve: the database answers a query and the blob folder takes a file.
    The reverse proxy's health check; 503 names what failed."""
    return await _answer(request, health.serving)


@router.get("/readyz", responses={503: {"description": "the node does not work"}})
async def readyz(request: Request) -> JSONResponse:
    """The node works: what /healthz checks, and a delivery and an inbox worker alive
    (heartbeats), and no envelope undelivered past `ACCORD_READY_OUTBOX_AGE_SECONDS`. For
    monitoring; 503 names each check that failed."""
    return await _answer(request, health.readiness)


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@router.get("/metrics", include_in_schema=False)
async def metrics_endpoint(request: Request) -> Response:
    """Prometheus text exposition. With `ACCORD_METRICS_TOKEN` set, only `Authorization:
    Bearer <token>`; without it, only clients on loopback (behind a proxy that forwards
    X-Forwarded-For, the client is the proxy's client: refused)."""
    token = _runtime(request).settings.metrics_token
    if token:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return JSONResponse(
                {"error": "unauthenticated", "message": "/metrics needs the metrics token"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
    elif not _loopback(request):
        return JSONResponse(
            {
                "error": "forbidden",
                "message": "/metrics answers loopback clients only; set ACCORD_METRICS_TOKEN "
                "to scrape it from elsewhere",
            },
            status_code=403,
        )
    body = await run_in_threadpool(metrics.exposition, _runtime(request).read_factory)
    return Response(body, media_type=metrics.CONTENT_TYPE)
