"""Logs an operator can use: one JSON object (or one readable line) per record, carrying the
request id, the node, the peer and the case reference where known, with any password of a URL
and any bearer token masked before a record is written; and the request log of the web app."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from accord.config import Settings
from accord.core.errors import InvalidInput
from accord.core.limits import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

request_id: ContextVar[str | None] = ContextVar("accord_request_id", default=None)
peer: ContextVar[str | None] = ContextVar("accord_peer", default=None)
case_reference: ContextVar[str | None] = ContextVar("accord_case", default=None)
_node: list[str | None] = [None]

_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_SECRET_FIELD = re.compile(
    r"(?i)((?:password|passphrase|token|secret)[\"']?\s*[=:]\s*[\"']?)[^\s\"',;}]+"
)


def mask_secrets(text: str) -> str:
    """`text` with the password of every URL in it, every bearer token and every
    `password=`/`token=` value replaced by `***`: the last guard before a line is written."""
    text = _URL_PASSWORD.sub(r"\g<head>***@", text)
    text = _BEARER.sub(r"\1***", text)
    return _SECRET_FIELD.sub(r"\1***", text)


class _Context(logging.Filter):
    """Adds what the record belongs to (request, node, peer, case) and masks secrets in the
    message and the traceback, for every handler it is put on."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.node = _node[0]
        record.peer = getattr(record, "peer", None) or peer.get()
        record.case = getattr(record, "case", None) or case_reference.get()
        message = mask_secrets(record.getMessage())
        record.msg, record.args = message, None
        if record.exc_info:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = mask_secrets(text)
            record.exc_info = None
        return True


class _Text(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        where = " ".join(
            f"{name}={value}"
            for name in ("request_id", "node", "peer", "case")
            if (value := getattr(record, name, None))
        )
        return f"{line} [{where}]" if where else line


LEVELS = ("debug", "info", "warning", "error")
JSON_FIELDS = ("asctime", "levelname", "name", "message")
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger", "exc_info": "traceback"}


def formatter(kind: str) -> logging.Formatter:
    """The formatter of `ACCORD_LOG_FORMAT`: `json` or `text`."""
    if kind == "json":
        return JsonFormatter(
            list(JSON_FIELDS),
            rename_fields=RENAMED,
            datefmt="%Y-%m-%dT%H:%M:%S%z",
            json_ensure_ascii=False,
        )
    return _Text("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S%z")


def configure(settings: Settings, *, level: str | None = None) -> None:
    """Send every log record (Accord's, uvicorn's, SQLAlchemy's) to standard error in the
    configured format; the platform (journald) keeps and rotates it."""
    chosen = (level or settings.log_level).lower()
    if chosen not in LEVELS:
        raise InvalidInput(f"log level {chosen!r}: use one of {', '.join(LEVELS)}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(settings.log_format))
    handler.addFilter(_Context())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(chosen.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # One line per HTTP request of the delivery worker's client is noise; its failures are
    # logged by the worker.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.captureWarnings(True)  # warnings get a time and a level too


def set_node(name: str | None) -> None:
    """The node every record of this process names."""
    _node[0] = name


@contextmanager
def about(*, peer_name: str | None = None, reference: str | None = None) -> Iterator[None]:
    """Records written inside the block name this peer and case."""
    tokens = []
    if peer_name is not None:
        tokens.append((peer, peer.set(peer_name)))
    if reference is not None:
        tokens.append((case_reference, case_reference.set(reference)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def incoming_request_id(value: str | None) -> str:
    """The client's request id if it is a short, plain token; a new one otherwise."""
    if value and _SAFE_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The route a request matched (`/api/v1/cases/{reference}`), never the raw path, so that
    logs and metrics group by route; a mount by its prefix, no match as `unmatched`."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    root = str(scope.get("root_path", ""))
    if root and scope.get("endpoint") is not None:
        return root + "/…"  # inside a mount (static files): the mount, not the file
    return "unmatched"


RequestObserver = Callable[[str, str, int, float], None]
"""(method, route template, status, seconds): told of every request when it ends."""

_access = logging.getLogger("accord.request")
_CASE_PARAMS = ("reference", "ref", "case_ref")


class RequestLog:
    """One log line per request (method, route, status, duration, request id), the request id
    taken from `X-Request-ID` or made, echoed in the answer and set for every record written
    while the request runs."""

    def __init__(self, app: ASGIApp, observe: RequestObserver | None = None) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw = headers.get(REQUEST_ID_HEADER.lower().encode())
        rid = incoming_request_id(raw.decode("latin-1") if raw else None)
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", []),
                        (REQUEST_ID_HEADER.lower().encode(), rid.encode()),
                    ],
                }
            await send(message)

        failed = True
        try:
            await self.app(scope, receive, send_with_id)
            failed = False
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            method = str(scope.get("method", ""))
            params: dict[str, Any] = scope.get("path_params") or {}
            case = next((str(params[p]) for p in _CASE_PARAMS if p in params), None)
            client = scope.get("client")
            _access.info(
                "%s %s %d %.1f ms",
                method,
                route,
                status,
                seconds * 1000,
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "client": client[0] if client else None,
                    "case": case,
                },
            )
            if self.observe is not None:
                self.observe(method, route, status, seconds)
            if not failed:
                # Kept on a failure: the error handler outside logs the traceback under this
                # request's id (each request runs in a task, and a context, of its own).
                request_id.reset(token)
