"""A request rate limit per caller (bearer token, web session, or address): a token bucket each,
refused with 429 and Retry-After. Sign-in has its own, stricter throttle per account."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from accord.core.limits import ASGIApp, Receive, Scope, Send, refuse


@dataclass
class Bucket:
    tokens: float
    updated: float


def caller_of(scope: Scope, session_cookie: str) -> tuple[str, str]:
    """(what the caller is, to say so in a refusal; a key that names it without keeping any
    secret in memory): its bearer token, else its web session, else its address."""
    for name, value in scope.get("headers", []):
        if name == b"authorization" and value:
            return "token", "token:" + hashlib.sha256(value).hexdigest()
    marker = f"{session_cookie}=".encode()
    for name, value in scope.get("headers", []):
        if name == b"cookie" and marker in value:
            session = value.split(marker, 1)[1].split(b";", 1)[0]
            return "web session", "session:" + hashlib.sha256(session).hexdigest()
    client = scope.get("client")
    return "address", "addr:" + (str(client[0]) if client else "unknown")


class RateLimit:
    """Allow each caller `burst` requests at once and `rate` a second after that."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        rate: float,
        burst: int,
        session_cookie: str,
        exempt_paths: tuple[str, ...] = ("/healthz",),
        max_callers: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.rate = rate
        self.burst = burst
        self.session_cookie = session_cookie
        self.exempt = exempt_paths
        self.max_callers = max_callers
        self.clock = clock
        self.buckets: dict[str, Bucket] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.rate <= 0 or scope.get("path") in self.exempt:
            await self.app(scope, receive, send)
            return
        kind, key = caller_of(scope, self.session_cookie)
        wait = self.take(key)
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        seconds = max(1, math.ceil(wait))
        await refuse(
            send,
            429,
            "too_many_requests",
            f"more than {self.burst} requests at once or {self.rate:g} a second "
            f"from this {kind}; wait {seconds} s (Retry-After) and send again",
            ((b"retry-after", str(seconds).encode()),),
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
