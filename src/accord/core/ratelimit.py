"""A request rate limit: a token bucket per address that every request draws on, and one per
verified caller (a bearer token that verifies, a web session that exists), refused with 429 and
Retry-After. Credentials that do not verify count against the address only, so sending a new
random one with each request escapes nothing. Sign-in has its own, stricter lock per account."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from anyio import to_thread

from accord.core.limits import ASGIApp, Receive, Scope, Send, refuse

Responder = Callable[[int, str, dict[str, str]], ASGIApp]
"""(status, message, headers) -> the refusal as an ASGI app, for a path prefix whose protocol has
its own error shape (TAXII's error message); other paths get the API's one shape."""

Verifier = Callable[[str, str], str | None]
"""(kind, credential as sent) -> a key naming the verified caller (e.g. its officer), or None if
the credential does not verify. Supplied by the app: the kernel knows no accounts. It may block
(a database read): it runs in a worker thread, and only for requests the address may still send."""


@dataclass
class Bucket:
    tokens: float
    updated: float


def credential_of(scope: Scope, session_cookie: str) -> tuple[str, str] | None:
    """(what the credential is, as a refusal names it; the credential as sent, unverified): a
    bearer token, else a web session cookie, else None."""
    for name, value in scope.get("headers", []):
        if name == b"authorization" and value:
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return "token", token.strip()
            return None
    marker = f"{session_cookie}=".encode()
    for name, value in scope.get("headers", []):
        if name == b"cookie" and marker in value:
            session = value.split(marker, 1)[1].split(b";", 1)[0].strip()
            if session:
                return "web session", session.decode("latin-1")
    return None


def address_of(scope: Scope) -> str:
    client = scope.get("client")
    return "addr:" + (str(client[0]) if client else "unknown")


class RateLimit:
    """Allow each address, and each verified caller, `burst` requests at once and `rate` a
    second after that."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        rate: float,
        burst: int,
        session_cookie: str,
        verify: Verifier | None = None,
        exempt_paths: tuple[str, ...] = ("/healthz",),
        responders: tuple[tuple[str, Responder], ...] = (),
        max_callers: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.rate = rate
        self.burst = burst
        self.session_cookie = session_cookie
        self.verify = verify
        self.exempt = exempt_paths
        self.responders = responders
        self.max_callers = max_callers
        self.clock = clock
        self.buckets: dict[str, Bucket] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.rate <= 0 or scope.get("path") in self.exempt:
            await self.app(scope, receive, send)
            return
        wait, kind = self.take(address_of(scope)), "address"
        if wait <= 0 and self.verify is not None:
            credential = credential_of(scope, self.session_cookie)
            if credential is not None:
                caller = await to_thread.run_sync(self.verify, *credential)
                if caller is not None:
                    wait, kind = self.take("caller:" + caller), credential[0]
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        seconds = max(1, math.ceil(wait))
        message = (
            f"more than {self.burst} requests at once or {self.rate:g} a second "
            f"from this {kind}; wait {seconds} s (Retry-After) and send again"
        )
        path = str(scope.get("path", ""))
        for prefix, responder in self.responders:
            if path.startswith(prefix):
                await responder(429, message, {"Retry-After": str(seconds)})(scope, receive, send)
                return
        await refuse(
            send, 429, "too_many_requests", message, ((b"retry-after", str(seconds).encode()),)
        )

    def take(self, key: str) -> float:
        """Take one token from the caller's bucket: 0 if there was one, else the seconds until
        there will be."""
        now = self.clock()
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) >= self.max_callers:
                self._forget_rested(now)
            bucket = self.buckets[key] = Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _forget_rested(self, now: float) -> None:
        """Drop the buckets that have filled up again (a new bucket starts full anyway); if all
        are busy, the least recently used half."""
        full = self.burst / self.rate
        rested = [k for k, b in self.buckets.items() if now - b.updated >= full]
        if not rested:
            ordered = sorted(self.buckets, key=lambda k: self.buckets[k].updated)
            rested = ordered[: len(ordered) // 2 or 1]
        for key in rested:
            del self.buckets[key]
