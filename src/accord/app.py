"""create_app(settings) -> FastAPI: mounts the REST API and the federation endpoints."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from accord import __version__
from accord.accounts.routes import router as accounts_router
from accord.accounts.service import verified_caller
from accord.api import ERRORS, error_response
from accord.attachments.routes import router as attachments_router
from accord.attachments.service import MAX_ATTACHMENT_BYTES
from accord.audit.routes import router as audit_router
from accord.cases.routes import router as cases_router
from accord.composition import assemble
from accord.config import Settings
from accord.core.db import failure_line
from accord.core.errors import AccordError, validation_problems
from accord.core.limits import BodySizeLimit
from accord.core.ratelimit import RateLimit
from accord.cyber.misp.routes import router as misp_router
from accord.cyber.taxii.routes import error_message as taxii_error_message
from accord.cyber.taxii.routes import router as taxii_router
from accord.dialogue.routes import router as dialogue_router
from accord.federation import routes as federation_routes
from accord.federation.workers import Workers
from accord.identity import routes as identity_routes
from accord.ops import logs, metrics
from accord.ops import routes as ops_routes
from accord.runtime import Registry, Runtime
from accord.web import STATIC
from accord.web import router as web_router
from accord.web.pages import is_web_path, status_page
from accord.web.security import SECURITY_HEADERS, SESSION_COOKIE, SecurityHeaders

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, registry: Registry | None = None) -> FastAPI:
    settings = settings or Settings()
    registry = registry or assemble()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.open(settings, registry)
        node = runtime.node  # fail at start, not at the first request, if not initialised
        app.state.runtime = runtime
        logs.set_node(node.name)
        metrics.process_started()
        workers = Workers(runtime.factory, node, settings)
        if settings.run_workers:
            workers.start()
        log.info("node %s serving at %s", node.name, node.endpoint)
        try:
            yield
        finally:
            workers.shutdown()
            runtime.close()
            metrics.process_stopped()

    # The OpenAPI pages with Swagger UI's and ReDoc's files served by the node itself (from
    # fastapi-offline), not from a CDN: they work on an isolated network.
    app = FastAPIOffline(
        title="Accord node API",
        version=__version__,
        description="Cases, peers and federation of one Accord node. Token-authenticated.",
        lifespan=lifespan,
    )

    @app.exception_handler(AccordError)
    async def accord_error(_request: Request, exc: AccordError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = validation_problems(exc.errors()).text
        return JSONResponse(
            status_code=422,
            content={"error": "invalid_input", "message": f"invalid request: {problems}"},
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        # Unknown paths, wrong methods, unparsable bodies: the same shape as every refusal;
        # a page of the web UI's layout when a browser asked for a page.
        if is_web_path(request):
            return status_page(request, exc.status_code)
        return JSONResponse(
            status_code=exc.status_code,
            content={
                "error": HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_"),
                "message": str(exc.detail),
            },
            headers=exc.headers,
        )

    @app.exception_handler(OperationalError)
    async def database_down(_request: Request, exc: OperationalError) -> JSONResponse:
        # The database did not answer (down, restarting, locked): one line in the log, not a
        # traceback per request, and an answer that says to retry.
        log.warning(
            "request failed: the database did not answer (%s)",
            failure_line(exc, settings.resolved_database_url),
        )
        return JSONResponse(
            status_code=503,
            content={
                "error": "database_unreachable",
                "message": "the node cannot reach its database just now; try again shortly",
            },
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        # Answered outside the middleware stack, so the security headers are added here.
        log.error("request failed", exc_info=exc)
        if is_web_path(request):
            page = status_page(request, 500)
            page.headers.update(SECURITY_HEADERS)
            return page
        return JSONResponse(
            status_code=500,
            content={
                "error": "internal_error",
                "message": "the node failed on this request (it is logged); try again, and tell "
                "the administrator if it happens again",
            },
            headers=SECURITY_HEADERS,
        )

    app.add_middleware(
        BodySizeLimit,
        limit=settings.max_request_bytes,
        exempt_prefixes=("/federation/", "/taxii2/"),  # each refuses in its own protocol
        larger={
            suffix: MAX_ATTACHMENT_BYTES + 1024 * 1024 for suffix in ("/attachments", "/attach")
        },
    )

    def caller_of(kind: str, credential: str) -> str | None:
        """The rate limit's verifier: whom a token or session cookie names, if it verifies."""
        runtime: Runtime | None = getattr(app.state, "runtime", None)
        if runtime is None:
            return None
        try:
            with runtime.reading() as session:
                return verified_caller(session, kind=kind, credential=credential)
        except OperationalError:
            return None  # database down: limited by address; the route then answers 503

    app.add_middleware(
        RateLimit,
        rate=settings.rate_limit_per_second,
        burst=settings.rate_limit_burst,
        session_cookie=SESSION_COOKIE,
        verify=caller_of,
        exempt_paths=("/healthz", "/livez", "/readyz", "/metrics"),
        responders=(("/taxii2/", taxii_error_message),),  # a TAXII client reads TAXII errors
    )
    app.add_middleware(SecurityHeaders)  # also on the refusals of the two above
    # Outermost: every request is logged and timed, refusals of the limits too.
    app.add_middleware(logs.RequestLog, observe=metrics.observe_request)
    app.include_router(cases_router, responses=ERRORS)
    app.include_router(attachments_router, responses=ERRORS)
    app.include_router(audit_router, responses=ERRORS)
    app.include_router(accounts_router, responses=ERRORS)
    app.include_router(dialogue_router, responses=ERRORS)
    app.include_router(identity_routes.router, responses=ERRORS)
    app.include_router(federation_routes.api, responses=ERRORS)
    app.include_router(federation_routes.wire)
    app.include_router(taxii_router)
    app.include_router(misp_router)
    app.include_router(ops_routes.router)
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
