"""create_app(settings) -> FastAPI: mounts the REST API and the federation endpoints."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

import accord.attachments.replication  # registers the chunk message kind
import accord.cases.replication  # registers the case message kinds
import accord.cyber.taxii.replication  # noqa: F401  (STIX objects shared through TAXII)
from accord import __version__
from accord.api import error_response
from accord.attachments.routes import router as attachments_router
from accord.attachments.service import MAX_ATTACHMENT_BYTES
from accord.audit.routes import router as audit_router
from accord.cases.routes import router as cases_router
from accord.config import Settings
from accord.core.errors import AccordError
from accord.core.limits import BodySizeLimit
from accord.core.runtime import Runtime
from accord.cyber.taxii.routes import router as taxii_router
from accord.dialogue.routes import router as dialogue_router
from accord.federation import routes as federation_routes
from accord.federation.workers import Workers
from accord.identity import routes as identity_routes
from accord.web import STATIC
from accord.web import router as web_router

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.open(settings)
        node = runtime.node  # fail at start, not at the first request, if not initialised
        app.state.runtime = runtime
        workers = Workers(runtime.factory, node, settings)
        if settings.run_workers:
            workers.start()
        log.info("node %s serving at %s", node.name, node.endpoint)
        try:
            yield
        finally:
            workers.shutdown()
            runtime.close()

    app = FastAPI(
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
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        return JSONResponse(
            status_code=422,
            content={"error": "invalid_input", "message": f"invalid request: {problems}"},
        )

    @app.get("/healthz", tags=["node"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    app.add_middleware(
        BodySizeLimit,
        limit=settings.max_request_bytes,
        exempt_prefixes=("/federation/",),
        larger={"/attachments": MAX_ATTACHMENT_BYTES + 1024 * 1024},
    )
    app.include_router(cases_router)
    app.include_router(attachments_router)
    app.include_router(audit_router)
    app.include_router(dialogue_router)
    app.include_router(identity_routes.router)
    app.include_router(federation_routes.api)
    app.include_router(federation_routes.wire)
    app.include_router(taxii_router)
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
