"""A size limit on every request body (the federation inbox enforces its own, with audit)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


class BodySizeLimit:
    """Refuse with 413 any request whose body exceeds `limit` bytes, declared or streamed."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        exempt_prefixes: tuple[str, ...] = (),
        larger: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.exempt = exempt_prefixes
        self.larger = larger or {}
        """path suffix -> its own limit (file uploads)"""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = next((v for k, v in self.larger.items() if path.endswith(k)), self.limit)
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await self._refuse(send, limit)
                return
        # Read the body up to the limit before the app sees it, then replay it: the app's own
        # parsing would turn an error raised mid-stream into a misleading 400.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await self._refuse(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)

    async def _refuse(self, send: Send, limit: int) -> None:
        await refuse(send, 413, "payload_too_large", f"request body larger than {limit} bytes")


async def refuse(
    send: Send, status: int, error: str, message: str, headers: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    """Answer from a middleware, before the app, in the API's one error shape."""
    body = json.dumps({"error": error, "message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
