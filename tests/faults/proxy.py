"""A loopback HTTP/1.1 proxy between two nodes that drops, delays, duplicates and reorders.

Each node's pinned endpoint for its peer points at one of these; the proxy forwards to the
peer's real port. Faults are drawn per request at the configured rates while `active` is set:

- drop: the request is lost before it reaches the peer, or (half of the drops) its answer is
  lost after the peer has stored it; either way the sender sees the connection close;
- delay: the request waits up to `max_delay` seconds before it is forwarded;
- duplicate: the request is forwarded twice (the sender sees the second answer);
- reorder: the envelopes of the batch are shuffled before they are forwarded, and a copy of
  the request as sent is replayed to the peer later, after newer requests (its answer ignored).
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx

HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding", "keep-alive"}


@dataclass
class FaultRates:
    drop: float = 0.0
    delay: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    max_delay: float = 0.3


@dataclass
class Request:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Answer:
    status: int
    reason: str
    content_type: str
    body: bytes

    def wire(self) -> bytes:
        head = (
            f"HTTP/1.1 {self.status} {self.reason}\r\n"
            f"content-type: {self.content_type}\r\n"
            f"content-length: {len(self.body)}\r\n\r\n"
        )
        return head.encode("latin-1") + self.body


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """One request of a keep-alive connection (Content-Length bodies only), or None at EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    length = next((int(v) for n, v in headers if n.lower() == "content-length"), 0)
    try:
        body = await reader.readexactly(length) if length else b""
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    return Request(method, target, headers, body)


def shuffled(body: bytes, rng: random.Random) -> bytes | None:
    """The batch with its envelopes in another order, or None if there is nothing to shuffle."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    envelopes = document.get("envelopes") if isinstance(document, dict) else None
    if not isinstance(envelopes, list) or len({json.dumps(e) for e in envelopes}) < 2:
        return None
    original = list(envelopes)
    while envelopes == original:
        rng.shuffle(envelopes)
    return json.dumps(document).encode()


class FaultyProxy:
    """One direction: listens on a loopback port and forwards to `upstream`."""

    def __init__(self, name: str, upstream: str, rates: FaultRates, rng: random.Random) -> None:
        self.name = name
        self.upstream = upstream.rstrip("/")
        self.rates = rates
        self.rng = rng
        self.active = True
        self.counts: Counter[str] = Counter()
        self.port = 0
        self._late: list[Request] = []
        self._server: asyncio.Server | None = None
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=60)
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._client is not None:
            await self._client.aclose()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await read_request(reader)
                if request is None:
                    break
                answer = await self._with_faults(request)
                if answer is None:
                    break  # the sender sees the connection close without an answer
                writer.write(answer.wire())
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _with_faults(self, request: Request) -> Answer | None:
        self.counts["requests"] += 1
        rates, rng = self.rates, self.rng
        if not self.active or request.method != "POST":
            return await self._forward(request)
        if rng.random() < rates.delay:
            self.counts["delays"] += 1
            await asyncio.sleep(rng.uniform(0, rates.max_delay))
        if rng.random() < rates.reorder:
            self.counts["reorders"] += 1
            self._late.append(request)
            other = shuffled(request.body, rng)
            if other is not None:
                request = Request(request.method, request.target, request.headers, other)
        elif self._late and rng.random() < 0.5:
            self._replay(self._late.pop(0))
        if rng.random() < rates.drop:
            self.counts["drops"] += 1
            if rng.random() < 0.5:
                self.counts["dropped_requests"] += 1
                return None
            self.counts["dropped_answers"] += 1
            await self._forward(request)
            return None
        if rng.random() < rates.duplicate:
            self.counts["duplicates"] += 1
            await self._forward(request)
        return await self._forward(request)

    def _replay(self, request: Request) -> None:
        """Send an older request again, now, after newer ones; nobody waits for its answer."""
        self.counts["late_replays"] += 1
        task = asyncio.ensure_future(self._forward(request))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _forward(self, request: Request) -> Answer | None:
        assert self._client is not None
        headers = [(n, v) for n, v in request.headers if n.lower() not in HOP_HEADERS]
        try:
            response = await self._client.request(
                request.method,
                self.upstream + request.target,
                headers=headers,
                content=request.body,
            )
        except httpx.HTTPError:
            self.counts["upstream_errors"] += 1
            return None  # the peer is down: the sender sees the connection close
        return Answer(
            response.status_code,
            response.reason_phrase or "-",
            response.headers.get("content-type", "application/octet-stream"),
            response.content,
        )

    def flush_late(self) -> None:
        """Forget the copies not yet replayed (before healing)."""
        self._late.clear()


class ProxyPair:
    """Both directions, served by one event loop in a background thread."""

    def __init__(self, rates: FaultRates, seed: int) -> None:
        self.rates = rates
        self.rng = random.Random(seed)
        self.proxies: dict[str, FaultyProxy] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self, upstreams: dict[str, str]) -> None:
        """`upstreams`: node name -> its real endpoint; the proxy for a name leads to it."""
        self._thread.start()
        for name, upstream in upstreams.items():
            proxy = FaultyProxy(name, upstream, self.rates, self.rng)
            asyncio.run_coroutine_threadsafe(proxy.start(), self._loop).result(10)
            self.proxies[name] = proxy

    def set_active(self, active: bool) -> None:
        def apply() -> None:
            for proxy in self.proxies.values():
                proxy.active = active
                if not active:
                    proxy.flush_late()

        self._loop.call_soon_threadsafe(apply)

    def counts(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for proxy in self.proxies.values():
            total.update(proxy.counts)
        return total

    def stop(self) -> None:
        for proxy in self.proxies.values():
            asyncio.run_coroutine_threadsafe(proxy.close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
