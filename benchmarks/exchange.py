"""Exchange benchmark: how fast do case events travel from one real node to another?

Two `accord serve` processes (A = US-DOJ, B = CN-MOJ, SQLite) are peered on loopback. A opens an
MLA case to B and submits it, then N `note` events are written into A's database in one
transaction. The clock starts when that transaction commits and stops when B's API reports all
events: it covers A's delivery worker (select, seal, POST in batches, settle) and B's inbox
(authenticate, decrypt, store, receipt, then process and append to B's copy of the log).

The same run measures a baseline on the same machine: a bare uvicorn ASGI echo server answering
sequential keep-alive POSTs of one sealed envelope each. The ratio of the two is less sensitive
to how busy the (shared) machine is than either figure alone.

    .venv/bin/python benchmarks/exchange.py [--events 2000] [--echo-seconds 5]
    .venv/bin/python benchmarks/exchange.py --checkpoints-side-by-side 2 [--events 2000]

The second form measures what checkpoints cost (issue 22: at most 10 % of the rate): runs with
ACCORD_CHECKPOINTS off and on, alternating in the same invocation, each on a fresh pair of
nodes, and prints the rates and their ratio (no echo baseline: the two modes are each other's).

Prints one JSON object; exits non-zero if the two logs are not identical at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from sqlalchemy import select

import accord.cases.replication  # noqa: F401  (registers the case message kinds)
from accord.cases import service
from accord.cli.demo import (
    DemoFailure,
    RunningNode,
    free_port,
    pin,
    prepare_node,
)
from accord.cli.demo import start_node as start_accord_node
from accord.cli.scenarios import MLA_OPENING, REVIEW
from accord.composition import assemble
from accord.config import Settings
from accord.core.clock import iso, utcnow
from accord.federation.delivery import seal_item
from accord.federation.models import OutboxItem
from accord.federation.peers import find_peer, peer_keys
from accord.runtime import Runtime

POLL_MS = 20.0
TARGET_ENVELOPES_PER_S = 500.0
TARGET_RATIO = 0.3

Message = dict[str, Any]


class BenchFailure(Exception):
    pass


# -- the echo baseline --------------------------------------------------------------------------


async def echo_app(
    scope: dict[str, Any],
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    """A bare ASGI app: answer every HTTP request with its own body."""
    if scope["type"] != "http":
        return
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = bool(message.get("more_body", False))
    body = b"".join(chunks)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def run_echo_server(port: int) -> None:
    import uvicorn

    uvicorn.run(
        echo_app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )


def start_echo_server(log_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (log_dir / "echo.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--echo-server", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    with httpx.Client(timeout=5) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BenchFailure(f"the echo server exited; see {log_dir / 'echo.log'}")
            try:
                if client.post(url, content=b"{}").status_code == 200:
                    return process, url
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    raise BenchFailure("the echo server did not start within 30 s")


def echo_rate(url: str, body: bytes, seconds: float) -> tuple[float, int]:
    """Sequential keep-alive POSTs of `body` for `seconds`; returns (requests/s, requests)."""
    headers = {"content-type": "application/json"}
    with httpx.Client(timeout=30) as client:
        for _ in range(50):  # warm up: connection, code paths
            client.post(url, content=body, headers=headers)
        count = 0
        start = time.perf_counter()
        deadline = start + seconds
        now = start
        while now < deadline:
            response = client.post(url, content=body, headers=headers)
            if response.status_code != 200 or len(response.content) != len(body):
                raise BenchFailure(f"echo server answered {response.status_code}")
            count += 1
            now = time.perf_counter()
        return count / (now - start), count


# -- the exchange between two nodes -------------------------------------------------------------


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), or None where unavailable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def cpu_used(before: float | None, after: float | None) -> float | None:
    return round(after - before, 2) if before is not None and after is not None else None


def case_count(node: RunningNode, reference: str) -> int:
    response = node.client.get(f"{node.url}/api/v1/cases/{reference}")
    if response.status_code == 404:
        return 0
    response.raise_for_status()
    count: int = response.json()["event_count"]
    return count


def wait_count(
    node: RunningNode, reference: str, expected: int, timeout: float, poll: float
) -> None:
    deadline = time.monotonic() + timeout
    while case_count(node, reference) != expected:
        if time.monotonic() > deadline:
            raise BenchFailure(f"{node.name} did not reach {expected} events within {timeout} s")
        time.sleep(poll)


def act_over_api(node: RunningNode, reference: str, action: str, payload: dict[str, Any]) -> None:
    node.act(reference, action, payload)


def pending_outbox(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()
    return int(row[0])


def write_notes(runtime: Runtime, reference: str, events: int) -> None:
    node = runtime.node
    with runtime.transaction() as session:
        for i in range(events):
            service.act(
                session,
                node=node,
                reference=reference,
                action="note",
                payload={"text": f"benchmark note {i + 1} of {events}"},
                officer="bench",
            )


def sample_envelope(runtime: Runtime) -> dict[str, Any]:
    """One of the sealed `case.event` envelopes A sent, as its delivery worker seals it."""
    with runtime.transaction() as session:
        item = session.scalars(
            select(OutboxItem)
            .where(OutboxItem.kind == service.EVENT_KIND)
            .order_by(OutboxItem.id.desc())
            .limit(1)
        ).one()
        peer = find_peer(session, item.peer)
        if peer is None:
            raise BenchFailure(f"peer {item.peer} is not pinned on {runtime.node.name}")
        return seal_item(runtime.node, peer_keys(peer), item, sent_at=iso(utcnow()))


def exchange(
    root: Path, events: int, poll: float, nodes: list[RunningNode], runtimes: list[Runtime]
) -> dict[str, Any]:
    a_settings, a_card, a_staff = prepare_node(root, "US-DOJ", "US")
    b_settings, b_card, b_staff = prepare_node(root, "CN-MOJ", "CN")
    if not a_settings.resolved_database_url.startswith("sqlite"):
        raise BenchFailure("this benchmark measures the SQLite store; unset ACCORD_DATABASE_URL")
    pin(a_settings, b_card, a_card.name)
    pin(b_settings, a_card, b_card.name)
    a = start_accord_node(a_settings, a_card, a_staff, root)
    nodes.append(a)
    b = start_accord_node(b_settings, b_card, b_staff, root)
    nodes.append(b)

    opened = a.post("/api/v1/cases", {**MLA_OPENING, "peer": b.name})
    reference: str = opened["reference"]
    act_over_api(a, reference, "send_to_review", {"note": "Draft complete"})
    act_over_api(a, reference, "approve_and_submit", REVIEW)
    shared = case_count(a, reference)
    wait_count(b, reference, shared, timeout=30, poll=poll)
    expected = shared + events

    runtime = Runtime.open(a_settings, assemble())
    runtimes.append(runtime)
    a_db = sqlite3.connect(
        f"file:{(a_settings.data_dir / 'accord.db').resolve()}?mode=ro", uri=True
    )
    try:
        write_notes(runtime, reference, events)
        start = time.perf_counter()  # the notes are committed: A's outbox holds them all
        cpu_before = [cpu_seconds(n.process.pid) for n in (a, b)]
        own_before = time.process_time()
        delivered_s: float | None = None
        timeout = max(120.0, events / 20)
        polls = 0
        poll_time = 0.0
        while True:
            now = time.perf_counter()
            if delivered_s is None and pending_outbox(a_db) == 0:
                delivered_s = now - start
            asked = time.perf_counter()
            count = case_count(b, reference)
            polls += 1
            poll_time += time.perf_counter() - asked
            if count == expected:
                elapsed = time.perf_counter() - start
                break
            if count > expected:
                raise BenchFailure(f"{b.name} holds {count} events, more than {expected}")
            if now - start > timeout:
                raise BenchFailure(f"{b.name} holds {count} of {expected} events after {timeout} s")
            time.sleep(poll)
        cpu_after = [cpu_seconds(n.process.pid) for n in (a, b)]
        own_cpu = time.process_time() - own_before
        settle_by = time.perf_counter() + 5.0  # A settles its last batch just after B answers
        while delivered_s is None and time.perf_counter() < settle_by:
            if pending_outbox(a_db) == 0:
                delivered_s = time.perf_counter() - start
            else:
                time.sleep(0.005)
    finally:
        a_db.close()

    checks = [n.get(f"/api/v1/cases/{reference}/verify") for n in (a, b)]
    for node, check in zip((a, b), checks, strict=True):
        if not check["identical"]:
            raise BenchFailure(f"{node.name} verify: {check['explanation']}")
        if check["local_count"] != expected:
            raise BenchFailure(f"{node.name} holds {check['local_count']} of {expected} events")
    if checks[0]["local_head"] != checks[1]["local_head"]:
        raise BenchFailure("the two nodes report different heads")

    envelope = sample_envelope(runtime)
    return {
        "reference": reference,
        "events": events,
        "elapsed_s": elapsed,
        "delivered_s": delivered_s,
        "polls": polls,
        "poll_ms": round(poll_time / polls * 1000, 2),
        "cpu_s": {
            a.name: cpu_used(cpu_before[0], cpu_after[0]),
            b.name: cpu_used(cpu_before[1], cpu_after[1]),
            "bench": round(own_cpu, 2),
        },
        "identical": True,
        "head": checks[0]["local_head"],
        "envelope": envelope,
    }


# -- the run ------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    processor = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                processor = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpu_count": os.cpu_count(),
        "processor": processor or platform.machine(),
        "loadavg_at_end": list(load) if load else None,
    }


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def log_tails(root: Path, last: int = 20) -> str:
    """The last lines of every node log under `root`, to print when a run fails."""
    tails: list[str] = []
    for log in sorted(root.glob("*.log")):
        lines = log.read_text(errors="replace").splitlines()[-last:]
        if lines:
            tails.append(f"--- {log.name} (last {len(lines)} lines)\n" + "\n".join(lines))
    return "\n".join(tails)


def sigterm(_signum: int, _frame: FrameType | None) -> None:
    """SIGTERM as SystemExit, so that `finally` blocks stop the nodes."""
    raise SystemExit(143)


def run(events: int, echo_seconds: float, poll_ms: float) -> dict[str, Any]:
    settings = Settings()
    root = Path(tempfile.mkdtemp(prefix="accord-bench-"))
    nodes: list[RunningNode] = []
    runtimes: list[Runtime] = []
    echo: subprocess.Popen[bytes] | None = None
    try:
        try:
            result = exchange(root, events, poll_ms / 1000, nodes, runtimes)
        finally:
            for runtime in runtimes:
                runtime.close()
            for node in nodes:
                node.stop()
        # The nodes are stopped: the baseline runs on an otherwise idle benchmark.
        body = json.dumps({"envelopes": [result.pop("envelope")]}).encode("utf-8")
        echo, url = start_echo_server(root)
        echo_per_s, echo_requests = echo_rate(url, body, echo_seconds)
    except BaseException:
        print(log_tails(root), file=sys.stderr)
        raise
    finally:
        if echo is not None:
            _terminate(echo)
        for node in nodes:
            node.stop()
        shutil.rmtree(root, ignore_errors=True)

    elapsed: float = result["elapsed_s"]
    envelopes_per_s = events / elapsed
    ratio = envelopes_per_s / echo_per_s
    delivered_s: float | None = result["delivered_s"]
    batch = settings.delivery_batch
    return {
        "envelopes_per_s": round(envelopes_per_s, 1),
        "http_echo_per_s": round(echo_per_s, 1),
        "ratio": round(ratio, 3),
        "meets_target": {
            "envelopes_per_s>=500": envelopes_per_s >= TARGET_ENVELOPES_PER_S,
            "ratio>=0.3": ratio >= TARGET_RATIO,
        },
        "events": events,
        "elapsed_s": round(elapsed, 3),
        "delivered_s": round(delivered_s, 3) if delivered_s is not None else None,
        "batch_size": batch,
        "min_requests": -(-events // batch),
        "store": "sqlite",
        "identical": result["identical"],
        "cpu_s": result["cpu_s"],
        "b_polls": result["polls"],
        "b_poll_rtt_ms": result["poll_ms"],
        "head": result["head"],
        "echo_requests": echo_requests,
        "echo_seconds": echo_seconds,
        "echo_body_bytes": len(body),
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d"),
        "notes": (
            f"Envelopes travel in batches of up to delivery_batch={batch} per POST "
            f"(at least {-(-events // batch)} requests for {events} events), while the echo "
            f"baseline sends one {len(body)}-byte body (one sealed envelope) per request, so "
            "the ratio compares envelopes/s with requests/s, not like with like. elapsed_s runs "
            "from the commit of the notes on A (A's delivery worker polls every "
            f"{settings.delivery_poll_seconds} s, as another process wrote them) until B's API "
            f"reports every event, polled every {poll_ms:g} ms (each poll is a transaction and "
            "a full case description on B, so it costs B some CPU); delivered_s is when A's "
            "outbox had nothing pending left, i.e. B had stored and receipted every envelope "
            "(processing may still lag). cpu_s is the CPU time each process used during "
            "elapsed_s (bench = this script: the poller)."
        ),
    }


def checkpoints_held(settings: Settings) -> dict[str, int]:
    """How many checkpoints a node holds, and how many with the peer's signature."""
    path = (settings.data_dir / "accord.db").resolve()
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        total, countersigned = db.execute(
            "SELECT count(*), count(peer_signature) FROM checkpoints"
        ).fetchone()
    finally:
        db.close()
    return {"checkpoints": int(total), "countersigned": int(countersigned)}


def one_mode(events: int, poll_ms: float, checkpoints: bool) -> dict[str, Any]:
    """One exchange on a fresh pair of nodes with ACCORD_CHECKPOINTS as given (the nodes and
    this script's own runtime read it from the environment)."""
    os.environ["ACCORD_CHECKPOINTS"] = "true" if checkpoints else "false"
    root = Path(tempfile.mkdtemp(prefix="accord-bench-"))
    nodes: list[RunningNode] = []
    runtimes: list[Runtime] = []
    try:
        try:
            result = exchange(root, events, poll_ms / 1000, nodes, runtimes)
        finally:
            for runtime in runtimes:
                runtime.close()
            for node in nodes:
                node.stop()
        held = {
            name: checkpoints_held(Settings(data_dir=root / name)) for name in ("US-DOJ", "CN-MOJ")
        }
    except BaseException:
        print(log_tails(root), file=sys.stderr)
        raise
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "checkpoints": checkpoints,
        "envelopes_per_s": round(events / result["elapsed_s"], 1),
        "elapsed_s": round(result["elapsed_s"], 3),
        "cpu_s": result["cpu_s"],
        "held": held,
    }


def compare_checkpoints(events: int, poll_ms: float, rounds: int) -> dict[str, Any]:
    """Checkpoints off and on, alternating, `rounds` times each."""
    runs = [
        one_mode(events, poll_ms, checkpoints)
        for _ in range(rounds)
        for checkpoints in (False, True)
    ]
    os.environ.pop("ACCORD_CHECKPOINTS", None)
    off = [r["envelopes_per_s"] for r in runs if not r["checkpoints"]]
    on = [r["envelopes_per_s"] for r in runs if r["checkpoints"]]
    ratio = (sum(on) / len(on)) / (sum(off) / len(off))
    every = Settings().checkpoint_every_events
    return {
        "events": events,
        "rounds": rounds,
        "checkpoint_every_events": every,
        "off_envelopes_per_s": off,
        "on_envelopes_per_s": on,
        "on_over_off": round(ratio, 3),
        "meets_target": {"on_over_off>=0.9": ratio >= 0.9},
        "runs": runs,
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d"),
        "notes": (
            "Each run is a fresh pair of accord serve processes; the notes are written in one "
            f"transaction on A, so with checkpoints on A makes one every {every} events (notes "
            "change no state) and offers it in the case's stream, B countersigns it (its own "
            "Merkle root over its copy) and sends it back with its audit anchor. The clock "
            "stops when B holds every event, so the countersignature of the last checkpoint "
            "may still be under way; `held` counts what each node holds after the nodes stop."
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=2000, help="note events to exchange")
    parser.add_argument(
        "--echo-seconds", type=float, default=5.0, help="duration of the echo baseline"
    )
    parser.add_argument(
        "--poll-ms", type=float, default=POLL_MS, help="how often to ask B for the case"
    )
    parser.add_argument(
        "--checkpoints-side-by-side",
        type=int,
        metavar="ROUNDS",
        help="instead: ROUNDS runs with checkpoints off and on, alternating; their ratio",
    )
    parser.add_argument("--echo-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.echo_server is not None:
        run_echo_server(args.echo_server)
        return 0
    if args.events < 1 or args.echo_seconds <= 0 or args.poll_ms <= 0:
        parser.error("--events must be at least 1, --echo-seconds and --poll-ms positive")
    signal.signal(signal.SIGTERM, sigterm)
    try:
        if args.checkpoints_side_by_side:
            report = compare_checkpoints(args.events, args.poll_ms, args.checkpoints_side_by_side)
        else:
            report = run(args.events, args.echo_seconds, args.poll_ms)
    except (BenchFailure, DemoFailure) as exc:
        print(json.dumps({"error": str(exc)}), file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
