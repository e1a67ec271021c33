"""Load benchmark: many officers on the web UI and the API of two real nodes at once.

Two `accord serve` processes (US-DOJ and CN-MOJ, SQLite) are peered on loopback and seeded with
shared legal assistance cases. Simulated officers, half on each node, each with an account of its
own, sign in on the web (password, then a TOTP second factor enrolled on first use) and hold an
API token. During the load phase every officer, after a random think time, loads a page
(dashboard, case list, a case, the dialogue scorecard), reads over the API, adds a note (over
the API or through the case page's form) or opens a case, while on each node a liaison officer
and a legal reviewer open and submit a case to the peer every few seconds: the exchange carries
the submissions, the notes taken on the other side's cases and their replication.

The baseline is measured in the same run on the same nodes: one officer sending the same mix of
requests one after another, without think time and without the exchange driver, for half of
`--baseline-seconds` just before the load phase and half just after. `/healthz` is probed on
both nodes throughout. Reading the load figures as ratios to the baseline cancels some of the
noise of a shared machine.

    .venv/bin/python benchmarks/load.py [--officers 50] [--seconds 60] [--baseline-seconds 10]
        [--history]   # first the demo's year of history (about 230 cases), as `accord demo`

Prints one JSON object; exits non-zero when a request failed or the two nodes disagree at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyotp

from accord.accounts.service import create_user, issue_token
from accord.cli.demo import DEMO_STAFF, DemoFailure, RunningNode, pin, prepare_node, start_node
from accord.cli.history import play_year
from accord.cli.scenarios import MLA_OPENING, REVIEW
from accord.config import Settings
from accord.core.db import make_engine, session_factory, unit_of_work
from accord.core.permissions import Role

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # as a script, or imported
from benchmarks.exchange import cpu_seconds, cpu_used, log_tails, machine, sigterm

TARGET_PAGE_P95_MS = 300.0
PASSWORD_BYTES = 12
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SECRET = re.compile(r'data-secret="([A-Z2-7]+)"')

# What an officer does next, with its weight: pages 55 %, API reads 25 %, writes 20 %.
MIX: tuple[tuple[str, str, int], ...] = (
    ("page", "dashboard", 15),
    ("page", "case_list", 15),
    ("page", "case_page", 20),
    ("page", "dialogue", 5),
    ("api_read", "api_case_list", 10),
    ("api_read", "api_case", 10),
    ("api_read", "api_case_log", 5),
    ("api_write", "api_note", 8),
    ("api_write", "api_open_case", 4),
    ("web_write", "web_note", 8),
)
KINDS = ("page", "api_read", "api_write", "web_write")


class BenchFailure(Exception):
    pass


# -- what was measured ------------------------------------------------------------------------


@dataclass
class Sample:
    phase: str
    kind: str
    name: str
    node: str
    ms: float
    status: int | None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None or self.status is None or not 200 <= self.status < 400


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    phase: str = "setup"

    async def timed(
        self,
        kind: str,
        name: str,
        node: str,
        send: Callable[[], Awaitable[httpx.Response]],
        *,
        expect: Callable[[httpx.Response], bool] | None = None,
    ) -> httpx.Response | None:
        """Send one request and record its latency and outcome (non-2xx/3xx, an exception,
        or a response `expect` refuses, counts as an error)."""
        started = time.perf_counter()
        try:
            response = await send()
        except (httpx.HTTPError, OSError) as exc:
            ms = (time.perf_counter() - started) * 1000
            self.samples.append(Sample(self.phase, kind, name, node, ms, None, repr(exc)[:300]))
            return None
        ms = (time.perf_counter() - started) * 1000
        error = None
        if not 200 <= response.status_code < 400:
            error = f"HTTP {response.status_code}: {response.text[:300]}"
        elif expect is not None and not expect(response):
            error = f"unexpected answer: {response.text[:300]}"
        self.samples.append(Sample(self.phase, kind, name, node, ms, response.status_code, error))
        return response


def percentile(ordered: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return None
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def summary(samples: list[Sample], seconds: float) -> dict[str, Any]:
    ordered = sorted(s.ms for s in samples)
    errors = [s for s in samples if s.failed]

    def ms(value: float | None) -> float | None:
        return round(value, 1) if value is not None else None

    return {
        "count": len(samples),
        "errors": len(errors),
        "per_s": round(len(samples) / seconds, 2) if seconds > 0 else None,
        "p50_ms": ms(percentile(ordered, 50)),
        "p95_ms": ms(percentile(ordered, 95)),
        "p99_ms": ms(percentile(ordered, 99)),
        "max_ms": ms(ordered[-1] if ordered else None),
    }


# -- the officers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    token: str


@dataclass
class Desk:
    """One node as the load script sees it: its officers and the cases they work on."""

    node: RunningNode
    accounts: list[Account]
    shared: list[str] = field(default_factory=list)
    """cases shared with the peer (notes on them travel)"""
    drafts: list[str] = field(default_factory=list)
    """cases opened during the run and not submitted"""

    @property
    def name(self) -> str:
        return self.node.name

    def any_case(self, rng: random.Random) -> str:
        if self.drafts and rng.random() < 0.2:
            return rng.choice(self.drafts)
        return rng.choice(self.shared)


def add_officers(settings: Settings, country: str, count: int, first: int) -> list[Account]:
    """`count` liaison officers of the node's central authority, with a password and a token."""
    engine = make_engine(settings.resolved_database_url)
    accounts: list[Account] = []
    try:
        with unit_of_work(session_factory(engine)) as session:
            for number in range(first, first + count):
                username = f"officer{number:03d}"
                password = os.urandom(PASSWORD_BYTES).hex()
                user = create_user(
                    session,
                    username=username,
                    display_name=f"Load officer {number}",
                    role=Role.LIAISON_OFFICER,
                    unit=settings.intake_unit,
                    password=password,
                    language="zh" if country == "CN" else "en",
                )
                token = issue_token(session, name="load", user=user)
                accounts.append(Account(username, password, token))
    finally:
        engine.dispose()
    return accounts


class Officer:
    """One simulated officer: a browser (cookies, CSRF token) and an API client."""

    def __init__(self, desk: Desk, account: Account, recorder: Recorder, seed: int) -> None:
        self.desk = desk
        self.account = account
        self.recorder = recorder
        self.rng = random.Random(seed)
        # Idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them,
        # as browsers do: reusing one the server is closing fails with a ReadError.
        limits = httpx.Limits(max_connections=2, max_keepalive_connections=2, keepalive_expiry=4)
        self.browser = httpx.AsyncClient(
            base_url=desk.node.url, timeout=60, limits=limits, follow_redirects=False
        )
        self.api = httpx.AsyncClient(
            base_url=desk.node.url,
            timeout=60,
            limits=limits,
            headers={"Authorization": f"Bearer {account.token}"},
        )
        self.csrf = ""

    async def close(self) -> None:
        await self.browser.aclose()
        await self.api.aclose()

    async def sign_in(self) -> None:
        """Password, then the second factor, enrolled from the key the page shows."""
        node = self.desk.name
        started = time.perf_counter()
        page = await self.browser.get("/login")
        answer = await self.browser.post(
            "/login",
            data={
                "username": self.account.username,
                "password": self.account.password,
                "csrf_token": _csrf(page.text),
                "next": "/",
            },
        )
        if answer.status_code != 303:
            raise BenchFailure(f"{self.account.username}: sign-in answered {answer.status_code}")
        enrol = await self.browser.get(answer.headers["location"])
        found = SECRET.search(enrol.text)
        if found is None:
            raise BenchFailure(f"{self.account.username}: no authenticator key on {enrol.url}")
        done = await self.browser.post(
            "/login/enrol",
            data={
                "code": pyotp.TOTP(found.group(1)).now(),
                "csrf_token": _csrf(enrol.text),
                "next": "/",
            },
        )
        if done.status_code != 303 or done.headers["location"] != "/":
            raise BenchFailure(f"{self.account.username}: second factor answered {done.text}")
        home = await self.browser.get("/")
        self.csrf = _csrf(home.text)
        ms = (time.perf_counter() - started) * 1000
        self.recorder.samples.append(Sample("sign_in", "sign_in", "sign_in", node, ms, 200))

    async def one(self) -> None:
        """One request of the mix."""
        kind, name = _pick(self.rng)
        desk, rng, timed = self.desk, self.rng, self.recorder.timed
        node = desk.name
        if name == "dashboard":
            await timed(kind, name, node, lambda: self.browser.get("/"), expect=_html)
        elif name == "case_list":
            await timed(kind, name, node, lambda: self.browser.get("/cases"), expect=_html)
        elif name == "case_page":
            ref = desk.any_case(rng)
            await timed(kind, name, node, lambda: self.browser.get(f"/cases/{ref}"), expect=_html)
        elif name == "dialogue":
            await timed(kind, name, node, lambda: self.browser.get("/dialogue"), expect=_html)
        elif name == "api_case_list":
            await timed(kind, name, node, lambda: self.api.get("/api/v1/cases?limit=50"))
        elif name == "api_case":
            ref = desk.any_case(rng)
            await timed(kind, name, node, lambda: self.api.get(f"/api/v1/cases/{ref}"))
        elif name == "api_case_log":
            ref = desk.any_case(rng)
            await timed(kind, name, node, lambda: self.api.get(f"/api/v1/cases/{ref}/log"))
        elif name == "api_note":
            ref = desk.any_case(rng)
            body = {"action": "note", "payload": {"text": f"{self.account.username}: checked"}}
            await timed(
                kind, name, node, lambda: self.api.post(f"/api/v1/cases/{ref}/actions", json=body)
            )
        elif name == "api_open_case":
            body = {**MLA_OPENING, "peer": _peer_of(desk), "title": f"Load draft by {node}"}
            response = await timed(
                kind, name, node, lambda: self.api.post("/api/v1/cases", json=body)
            )
            if response is not None and response.status_code == 201:
                desk.drafts.append(response.json()["reference"])
        elif name == "web_note":
            ref = desk.any_case(rng)
            form = {
                "csrf_token": self.csrf,
                "action": "note",
                "note.text": f"{self.account.username}: seen on the case page",
            }
            await timed(
                kind,
                name,
                node,
                lambda: self.browser.post(f"/cases/{ref}/act", data=form),
                expect=lambda r: r.status_code == 303,
            )

    async def work(self, until: float, think_s: float) -> None:
        """Requests with a think time of 0.5–1.5 × `think_s` between them (the first one after
        a random part of it, so that the officers do not start in step)."""
        await asyncio.sleep(self.rng.uniform(0, think_s))
        while time.monotonic() < until:
            await self.one()
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * think_s)


def _pick(rng: random.Random) -> tuple[str, str]:
    kind, name, _ = rng.choices(MIX, weights=[w for _, _, w in MIX])[0]
    return kind, name


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    if found is None:
        raise BenchFailure("the page has no CSRF field")
    return found.group(1)


def _html(response: httpx.Response) -> bool:
    return response.status_code == 200 and "<html" in response.text[:500]


def _peer_of(desk: Desk) -> str:
    return "CN-MOJ" if desk.name == "US-DOJ" else "US-DOJ"


# -- the exchange -----------------------------------------------------------------------------


async def open_shared(
    client: httpx.AsyncClient,
    reviewer: httpx.AsyncClient,
    peer: str,
    title: str,
    recorder: Recorder,
    node: str,
) -> str | None:
    """Open an MLA case to the peer, send it to review and have it approved and submitted:
    from then on it is shared and every event on it travels."""
    body = {**MLA_OPENING, "peer": peer, "title": title}
    opened = await recorder.timed(
        "api_write", "exchange_open", node, lambda: client.post("/api/v1/cases", json=body)
    )
    if opened is None or opened.status_code != 201:
        return None
    ref: str = opened.json()["reference"]
    for who, action, payload in (
        (client, "send_to_review", {"note": "Draft complete"}),
        (reviewer, "approve_and_submit", REVIEW),
    ):
        step = {"action": action, "payload": payload}
        answer = await recorder.timed(
            "api_write",
            f"exchange_{action}",
            node,
            lambda who=who, step=step: who.post(f"/api/v1/cases/{ref}/actions", json=step),
        )
        if answer is None or answer.status_code >= 400:
            return None
    return ref


async def exchange_driver(
    desk: Desk, peer: Desk, until: float, every_s: float, recorder: Recorder
) -> int:
    """The node's demo liaison officer and legal reviewer open and submit one case to the peer
    every `every_s`; returns how many were submitted."""
    staff = desk.node.staff
    headers = {"Authorization": f"Bearer {staff.officer.token}"}
    review = {"Authorization": f"Bearer {staff.reviewer.token}"}
    submitted = 0
    async with (
        httpx.AsyncClient(base_url=desk.node.url, headers=headers, timeout=60) as client,
        httpx.AsyncClient(base_url=desk.node.url, headers=review, timeout=60) as reviewer,
    ):
        while time.monotonic() < until:
            started = time.monotonic()
            ref = await open_shared(
                client, reviewer, peer.name, f"Load exchange {submitted + 1}", recorder, desk.name
            )
            if ref is not None:
                submitted += 1
                desk.shared.append(ref)
            await asyncio.sleep(max(0.0, every_s - (time.monotonic() - started)))
    return submitted


async def probe_health(desks: list[Desk], until: float, recorder: Recorder) -> None:
    """`/healthz` on both nodes every 250 ms: how long the server takes to answer anything."""
    async with httpx.AsyncClient(timeout=60) as client:
        while time.monotonic() < until:
            for desk in desks:
                url = desk.node.url + "/healthz"
                await recorder.timed(
                    "healthz", "healthz", desk.name, lambda url=url: client.get(url)
                )
            await asyncio.sleep(0.25)


def runqueue_wait(pid: int) -> float | None:
    """Seconds the threads of a process have spent runnable but waiting for a CPU (Linux
    schedstat; threads that have exited no longer count), or None where unavailable."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return total / 1e9


def federation_counts(node: RunningNode) -> dict[str, dict[str, int]]:
    """The node's outbox and inbox rows by status, read from its database (read-only)."""
    path = (node.data / "accord.db").resolve()
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
    try:
        counts: dict[str, dict[str, int]] = {}
        for table in ("outbox", "inbox"):
            rows = db.execute(f"SELECT status, count(*) FROM {table} GROUP BY status").fetchall()
            counts[table] = {str(status): int(n) for status, n in rows}
        return counts
    finally:
        db.close()


# -- the run ----------------------------------------------------------------------------------


async def seed(desks: list[Desk], cases_per_node: int, recorder: Recorder) -> None:
    """Shared cases opened from both sides, and wait until each peer holds them all."""
    for desk, peer in ((desks[0], desks[1]), (desks[1], desks[0])):
        staff = desk.node.staff
        async with (
            httpx.AsyncClient(
                base_url=desk.node.url,
                headers={"Authorization": f"Bearer {staff.officer.token}"},
                timeout=60,
            ) as client,
            httpx.AsyncClient(
                base_url=desk.node.url,
                headers={"Authorization": f"Bearer {staff.reviewer.token}"},
                timeout=60,
            ) as reviewer,
        ):
            for number in range(cases_per_node):
                title = f"Load seed {number + 1} from {desk.name}"
                ref = await open_shared(client, reviewer, peer.name, title, recorder, desk.name)
                if ref is None:
                    raise BenchFailure(f"{desk.name} could not open a shared case")
                desk.shared.append(ref)
                peer.shared.append(ref)
    deadline = time.monotonic() + 60
    for desk in desks:
        async with httpx.AsyncClient(
            base_url=desk.node.url,
            headers={"Authorization": f"Bearer {desk.node.staff.officer.token}"},
            timeout=60,
        ) as client:
            for ref in desk.shared:
                while (await client.get(f"/api/v1/cases/{ref}")).status_code != 200:
                    if time.monotonic() > deadline:
                        raise BenchFailure(f"{desk.name} did not receive {ref} within 60 s")
                    await asyncio.sleep(0.1)


async def baseline(officer: Officer, seconds: float, recorder: Recorder, desks: list[Desk]) -> None:
    """One officer, the same mix, one request after another, no exchange driver."""
    until = time.monotonic() + seconds
    health = asyncio.create_task(probe_health(desks, until, recorder))
    while time.monotonic() < until:
        await officer.one()
    await health


async def settle(desks: list[Desk], timeout: float) -> float | None:
    """Seconds until neither outbox holds anything pending and both inboxes are processed."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        busy = False
        for desk in desks:
            counts = federation_counts(desk.node)
            busy = busy or counts["outbox"].get("pending", 0) > 0
            busy = busy or counts["inbox"].get("stored", 0) > 0
        if not busy:
            return round(time.monotonic() - started, 2)
        await asyncio.sleep(0.25)
    return None


async def verify(desks: list[Desk]) -> dict[str, Any]:
    """Every shared case: identical on both sides (`/verify` asks the peer for its head)."""
    refs = sorted(set(desks[0].shared) | set(desks[1].shared))
    differing: list[str] = []
    events = 0
    async with httpx.AsyncClient(
        base_url=desks[0].node.url,
        headers={"Authorization": f"Bearer {desks[0].node.staff.officer.token}"},
        timeout=60,
    ) as client:
        for ref in refs:
            answer = await client.get(f"/api/v1/cases/{ref}/verify")
            body = answer.json() if answer.status_code == 200 else {}
            if not body.get("identical"):
                differing.append(f"{ref}: {body.get('explanation', answer.text[:200])}")
            events += int(body.get("local_count") or 0)
    return {"cases": len(refs), "events": events, "differing": differing}


async def drive(
    desks: list[Desk],
    *,
    seconds: float,
    baseline_seconds: float,
    think_s: float,
    exchange_every_s: float,
    seed_cases: int,
    rng_seed: int,
) -> dict[str, Any]:
    recorder = Recorder()
    await seed(desks, seed_cases, recorder)
    officers = [
        Officer(desk, account, recorder, rng_seed * 1000 + i)
        for i, (desk, account) in enumerate((d, a) for d in desks for a in d.accounts)
    ]
    try:
        gate = asyncio.Semaphore(4)  # argon2 hashing on the server: do not sign in all at once

        async def sign_in(officer: Officer) -> None:
            async with gate:
                await officer.sign_in()

        await asyncio.gather(*(sign_in(o) for o in officers))
        reference = officers[0]

        recorder.phase = "baseline"
        await baseline(reference, baseline_seconds / 2, recorder, desks)

        recorder.phase = "load"
        before = {d.name: federation_counts(d.node) for d in desks}
        cpu_before = {d.name: cpu_seconds(d.node.process.pid) for d in desks}
        wait_before = {d.name: runqueue_wait(d.node.process.pid) for d in desks}
        wait_before["load_script"] = runqueue_wait(os.getpid())
        own_before = time.process_time()
        started = time.monotonic()
        until = started + seconds
        tasks = [asyncio.create_task(o.work(until, think_s)) for o in officers]
        drivers = [
            asyncio.create_task(exchange_driver(d, p, until, exchange_every_s, recorder))
            for d, p in ((desks[0], desks[1]), (desks[1], desks[0]))
        ]
        await probe_health(desks, until, recorder)
        await asyncio.gather(*tasks)
        submitted = await asyncio.gather(*drivers)
        elapsed = time.monotonic() - started
        cpu_after = {d.name: cpu_seconds(d.node.process.pid) for d in desks}
        wait_after = {d.name: runqueue_wait(d.node.process.pid) for d in desks}
        wait_after["load_script"] = runqueue_wait(os.getpid())
        own_cpu = time.process_time() - own_before
        after = {d.name: federation_counts(d.node) for d in desks}

        recorder.phase = "baseline"
        await baseline(reference, baseline_seconds / 2, recorder, desks)
    finally:
        await asyncio.gather(*(o.close() for o in officers))

    drained_s = await settle(desks, 120)
    check = await verify(desks)
    exchange = {
        "cases_submitted_during_load": dict(zip((d.name for d in desks), submitted, strict=True)),
        "delivered_during_load": {
            name: after[name]["outbox"].get("delivered", 0)
            - before[name]["outbox"].get("delivered", 0)
            for name in after
        },
        "processed_during_load": {
            name: after[name]["inbox"].get("processed", 0)
            - before[name]["inbox"].get("processed", 0)
            for name in after
        },
        "pending_at_end_of_load": {name: after[name]["outbox"].get("pending", 0) for name in after},
        "drained_s_after_load": drained_s,
        "outbox_at_end": {d.name: federation_counts(d.node)["outbox"] for d in desks},
        "shared_cases_verified": check["cases"],
        "shared_case_events": check["events"],
        "differing": check["differing"],
    }
    return {
        "recorder": recorder,
        "elapsed": elapsed,
        "exchange": exchange,
        "cpu_s": {
            **{n: cpu_used(cpu_before[n], cpu_after[n]) for n in cpu_before},
            "load_script": round(own_cpu, 2),
        },
        "runqueue_wait_s": {n: cpu_used(wait_before[n], wait_after[n]) for n in wait_before},
    }


def report(
    outcome: dict[str, Any],
    *,
    officers: int,
    seconds: float,
    baseline_seconds: float,
    think_s: float,
    exchange_every_s: float,
    load_before: tuple[float, float, float] | None,
) -> dict[str, Any]:
    recorder: Recorder = outcome["recorder"]
    elapsed: float = outcome["elapsed"]
    load = [s for s in recorder.samples if s.phase == "load"]
    base = [s for s in recorder.samples if s.phase == "baseline"]
    by_kind = {k: summary([s for s in load if s.kind == k], elapsed) for k in (*KINDS, "healthz")}
    base_kind = {
        k: summary([s for s in base if s.kind == k], baseline_seconds) for k in (*KINDS, "healthz")
    }
    ratios = {
        k: round(by_kind[k]["p95_ms"] / base_kind[k]["p95_ms"], 2)
        if by_kind[k]["p95_ms"] and base_kind[k]["p95_ms"]
        else None
        for k in (*KINDS, "healthz")
    }
    names = sorted({(s.kind, s.name) for s in load if s.kind != "healthz"})
    by_request = {
        name: summary([s for s in load if s.name == name], elapsed) for _kind, name in names
    }
    officer_requests = [s for s in load if s.kind in KINDS]
    errors = [s for s in recorder.samples if s.failed]
    error_examples: dict[str, str] = {}
    for s in errors:
        error_examples.setdefault(f"{s.phase}/{s.name}@{s.node}", s.error or str(s.status))
    page_p95 = by_kind["page"]["p95_ms"]
    load_after = os.getloadavg() if hasattr(os, "getloadavg") else None
    sign_in = summary([s for s in recorder.samples if s.kind == "sign_in"], 1.0)
    sign_in.pop("per_s")
    return {
        "meets_target": {
            "page_p95<300ms": page_p95 is not None and page_p95 < TARGET_PAGE_P95_MS,
            "no_errors": not errors and not outcome["exchange"]["differing"],
        },
        "officers": officers,
        "seconds": round(elapsed, 1),
        "think_s": think_s,
        "requests_per_s": round(len(officer_requests) / elapsed, 2),
        "load": by_kind,
        "baseline": {**base_kind, "seconds": baseline_seconds, "officers": 1, "think_s": 0},
        "p95_ratio_load_to_baseline": ratios,
        "by_request": by_request,
        "sign_in": sign_in,
        "errors": len(errors),
        "error_examples": dict(list(error_examples.items())[:10]),
        "exchange": {**outcome["exchange"], "driver_every_s": exchange_every_s},
        "cpu_s": outcome["cpu_s"],
        "runqueue_wait_s": outcome["runqueue_wait_s"],
        "store": "sqlite",
        "loadavg_before": list(load_before) if load_before else None,
        "loadavg_after": list(load_after) if load_after else None,
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d"),
        "notes": (
            "Latencies are client-side (this script, an asyncio loop on the same machine), in ms, "
            "nearest-rank percentiles. page = dashboard, case list, a case, the dialogue "
            "scorecard (HTML); api_read = case list, case, case log; api_write = notes and "
            "opened cases over the API, with the exchange driver's open/review/submit; "
            "web_write = a note through the case page's form (303). Errors: any answer "
            "outside 2xx/3xx, an exception, or a page that is not HTML. baseline: one officer, "
            "same mix, no think time and no exchange driver, half before and half after the "
            "load phase on the same nodes. cpu_s: CPU time of each process during the load phase; "
            "runqueue_wait_s: time its threads were ready to run but waited for a CPU (the "
            "machine's other work and each other), summed over threads."
        ),
    }


def run(
    *,
    officers: int,
    seconds: float,
    baseline_seconds: float,
    think_s: float,
    exchange_every_s: float,
    seed_cases: int,
    rng_seed: int = 7,
    history: bool = False,
) -> dict[str, Any]:
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    root = Path(tempfile.mkdtemp(prefix="accord-load-"))
    nodes: list[RunningNode] = []
    try:
        us_settings, us_card, us_staff = prepare_node(root, "US-DOJ", "US")
        cn_settings, cn_card, cn_staff = prepare_node(root, "CN-MOJ", "CN")
        if not us_settings.resolved_database_url.startswith("sqlite"):
            raise BenchFailure(
                "this benchmark measures the SQLite store; unset ACCORD_DATABASE_URL"
            )
        pin(us_settings, cn_card, us_card.name)
        pin(cn_settings, us_card, cn_card.name)
        us_accounts = add_officers(us_settings, "US", (officers + 1) // 2, 1)
        cn_accounts = add_officers(cn_settings, "CN", officers // 2, (officers + 1) // 2 + 1)
        year = None
        if history:  # the demo's year of history (accord demo), played before the nodes start
            names = {c: (people[0][1], people[1][1]) for c, people in DEMO_STAFF.items()}
            year = play_year(us_settings, cn_settings, seed=2026, officers=names)
        nodes.append(start_node(us_settings, us_card, us_staff, root))
        nodes.append(start_node(cn_settings, cn_card, cn_staff, root))
        desks = [Desk(nodes[0], us_accounts), Desk(nodes[1], cn_accounts)]
        outcome = asyncio.run(
            drive(
                desks,
                seconds=seconds,
                baseline_seconds=baseline_seconds,
                think_s=think_s,
                exchange_every_s=exchange_every_s,
                seed_cases=seed_cases,
                rng_seed=rng_seed,
            )
        )
    except BaseException:
        print(log_tails(root, last=30), file=sys.stderr)
        raise
    finally:
        for node in nodes:
            node.stop()
        shutil.rmtree(root, ignore_errors=True)
    result = report(
        outcome,
        officers=officers,
        seconds=seconds,
        baseline_seconds=baseline_seconds,
        think_s=think_s,
        exchange_every_s=exchange_every_s,
        load_before=load_before,
    )
    result["history"] = {"cases": year.cases, "steps": year.events} if year else None
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--officers", type=int, default=50, help="simulated officers (split)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the load phase")
    parser.add_argument(
        "--baseline-seconds", type=float, default=10.0, help="one officer, before and after"
    )
    parser.add_argument(
        "--think-ms", type=float, default=2000.0, help="mean pause between an officer's requests"
    )
    parser.add_argument(
        "--exchange-every", type=float, default=2.0, help="seconds between shared cases per node"
    )
    parser.add_argument("--seed-cases", type=int, default=8, help="shared cases per node")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the officers' mix")
    parser.add_argument(
        "--history", action="store_true", help="first load the demo's year of history"
    )
    args = parser.parse_args(argv)
    if args.officers < 2 or args.seconds <= 0 or args.baseline_seconds <= 0:
        parser.error("--officers must be at least 2, --seconds and --baseline-seconds positive")
    if args.seed_cases < 1 or args.think_ms < 0 or args.exchange_every <= 0:
        parser.error("--seed-cases at least 1, --think-ms >= 0, --exchange-every positive")
    signal.signal(signal.SIGTERM, sigterm)
    try:
        result = run(
            officers=args.officers,
            seconds=args.seconds,
            baseline_seconds=args.baseline_seconds,
            think_s=args.think_ms / 1000,
            exchange_every_s=args.exchange_every,
            seed_cases=args.seed_cases,
            rng_seed=args.seed,
            history=args.history,
        )
    except (BenchFailure, DemoFailure) as exc:
        print(json.dumps({"error": str(exc)}), file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, ensure_ascii=False))
    ok = result["meets_target"]["no_errors"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
