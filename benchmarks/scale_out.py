"""Scale-out benchmark: one node's outbox on PostgreSQL sent by 1 and by 3 delivery workers.

Two nodes on fresh PostgreSQL databases: the sender (US-DOJ) runs no web server, only
`accord worker --delivery --no-inbox` processes; the receiver (CN-MOJ) is a real node app
(`create_app`, inbox processing off so that it only authenticates, stores and receipts) behind
a tap that writes the id of every envelope it is sent to a file. The sender opens S cases with
the receiver; once the workers have sent those, N `note` events are written round-robin over the
S cases in one transaction, and the clock runs from that commit until the outbox holds nothing
pending. Duplicates are envelope ids the receiver was sent more than once; order is checked per
case on the receiver's inbox (arrival order against the sender's outbox order).

    .venv/bin/python benchmarks/scale_out.py [--items 3000] [--streams 30] [--workers 1 3]

Needs a PostgreSQL server where databases can be created (ACCORD_TEST_PG, default the local
`postgres` user). Prints one JSON object; exits non-zero on a duplicate or an order violation.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
from sqlalchemy import func, select

import accord.cases.replication  # noqa: F401  (registers the case message kinds)
from accord.cases import service
from accord.cases.enums import Area, HandlingCode, Priority
from accord.cli.demo import pin, prepare_node
from accord.cli.scenarios import MLA_OPENING, MLA_STEPS
from accord.composition import assemble
from accord.config import Settings
from accord.federation.models import InboxItem, OutboxItem
from accord.runtime import Runtime

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # as a script, or imported
from benchmarks.exchange import machine

PG_ADMIN_URL = os.environ.get("ACCORD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
ENVELOPES_PATH = "/federation/v1/envelopes"
Message = dict[str, Any]


class BenchFailure(Exception):
    pass


# -- databases ---------------------------------------------------------------------------------


@contextmanager
def pg_databases(count: int, admin_url: str = PG_ADMIN_URL) -> Iterator[list[str]]:
    """`count` fresh PostgreSQL databases (SQLAlchemy URLs), dropped afterwards."""
    import psycopg

    names = [f"accord_scale_{uuid.uuid4().hex[:12]}" for _ in range(count)]
    admin = urlparse(admin_url)
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    base = f"postgresql+psycopg://{admin.netloc}"
    try:
        yield [f"{base}/{name}" for name in names]
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- the receiver: a real node app behind a tap ------------------------------------------------


def tapped(app: Any, tap: Path) -> Any:
    """The app, with the id of every envelope POSTed to the inbox appended to `tap` first."""
    out = tap.open("a", buffering=1, encoding="utf-8")

    async def wrapper(
        scope: Message,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http" or scope["path"] != ENVELOPES_PATH:
            await app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        try:
            ids = [str(e.get("id")) for e in json.loads(body)["envelopes"]]
        except (ValueError, KeyError, TypeError, AttributeError):
            ids = []
        out.write("".join(f"{i}\n" for i in ids))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await app(scope, replay, send)

    return wrapper


def serve_receiver(data: str, url: str, tap: str, port: int) -> None:
    import uvicorn

    from accord.app import create_app

    settings = Settings(data_dir=Path(data), database_url=url, run_workers=False)
    uvicorn.run(
        tapped(create_app(settings), Path(tap)),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )


# -- the run -----------------------------------------------------------------------------------


@dataclass
class Rig:
    root: Path
    sender: Settings
    receiver: Settings
    receiver_url: str
    tap: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    worker_logs: list[Path] = field(default_factory=list)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def env_for(settings: Settings, poll_seconds: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env["ACCORD_DATA_DIR"] = str(settings.data_dir)
    env["ACCORD_DATABASE_URL"] = settings.resolved_database_url
    env["ACCORD_DELIVERY_POLL_SECONDS"] = str(poll_seconds)
    return env


def wait_until(predicate: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise BenchFailure(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def start_rig(root: Path, sender_url: str, receiver_url: str) -> Rig:
    sender, sender_card, _ = prepare_node(root, "US-DOJ", "US", sender_url)
    receiver, receiver_card, _ = prepare_node(root, "CN-MOJ", "CN", receiver_url)
    pin(sender, receiver_card, sender_card.name)
    pin(receiver, sender_card, receiver_card.name)
    tap = root / "tap.txt"
    tap.touch()
    rig = Rig(root, sender, receiver, receiver_card.endpoint, tap)
    port = urlparse(receiver_card.endpoint).port
    log = (root / "receiver.log").open("ab")
    rig.processes.append(
        subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--receiver",
                str(receiver.data_dir),
                receiver_url,
                str(tap),
                str(port),
            ],
            env=env_for(receiver, 0.25),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    )

    def healthy() -> bool:
        if rig.processes[0].poll() is not None:
            raise BenchFailure(f"the receiver exited; see {root / 'receiver.log'}")
        try:
            return httpx.get(f"{rig.receiver_url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(healthy, "the receiver to answer", 60)
    return rig


def start_workers(rig: Rig, count: int, poll_seconds: float) -> None:
    for n in range(count):
        path = rig.root / f"worker-{n + 1}.log"
        rig.worker_logs.append(path)
        rig.processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "accord", "worker", "--delivery", "--no-inbox"],
                env=env_for(rig.sender, poll_seconds),
                stdout=path.open("ab"),
                stderr=subprocess.STDOUT,
            )
        )
    for path in rig.worker_logs:
        wait_until(lambda path=path: "worker ready" in path.read_text(), f"{path.name}", 60)


def open_cases(runtime: Runtime, peer: str, streams: int) -> list[str]:
    references: list[str] = []
    node = runtime.node
    with runtime.transaction() as session:
        for _ in range(streams):
            case = service.open_case(
                session,
                node=node,
                case_type="mla",
                peer=peer,
                area=Area.JUDICIAL_ASSISTANCE,
                priority=Priority.ROUTINE,
                handling_code=HandlingCode.H1,
                title=MLA_OPENING["title"],
                details=MLA_OPENING["details"],
                officer="bench",
            )
            for step in MLA_STEPS[:2]:
                service.act(
                    session,
                    node=node,
                    reference=case.reference,
                    action=step.action,
                    payload=step.payload,
                    officer="bench",
                )
            references.append(case.reference)
    return references


def write_notes(runtime: Runtime, references: list[str], items: int) -> None:
    node = runtime.node
    with runtime.transaction() as session:
        for i in range(items):
            service.act(
                session,
                node=node,
                reference=references[i % len(references)],
                action="note",
                payload={"text": f"scale-out note {i + 1} of {items}"},
                officer="bench",
            )


def pending(runtime: Runtime) -> int:
    with runtime.reading() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "pending")
            )
            or 0
        )


def check(rig: Rig, sender: Runtime) -> dict[str, Any]:
    """Duplicates at the receiver's tap; delivery of every item; order per stream."""
    sent = rig.tap.read_text().split()
    receiver = Runtime.open(rig.receiver, assemble())
    try:
        with sender.reading() as session:
            outbox = {
                str(envelope_id): (item_id, status)
                for envelope_id, item_id, status in session.execute(
                    select(OutboxItem.envelope_id, OutboxItem.id, OutboxItem.status)
                )
            }
        with receiver.reading() as session:
            arrived = [
                (str(envelope_id), stream)
                for envelope_id, stream in session.execute(
                    select(InboxItem.envelope_id, InboxItem.stream).order_by(InboxItem.id)
                )
            ]
    finally:
        receiver.close()
    last: dict[str, int] = {}
    out_of_order: set[str] = set()
    for envelope_id, stream in arrived:
        item_id = outbox[envelope_id][0]
        if item_id < last.get(stream, 0):
            out_of_order.add(stream)
        last[stream] = item_id
    return {
        "sent_to_receiver": len(sent),
        "duplicates": len(sent) - len(set(sent)),
        "inbox_rows": len(arrived),
        "inbox_distinct": len({e for e, _ in arrived}),
        "outbox_items": len(outbox),
        "undelivered": sum(1 for _, status in outbox.values() if status != "delivered"),
        "streams_out_of_order": sorted(out_of_order),
    }


def delivered_by(logs: list[Path]) -> list[int]:
    counts: list[int] = []
    for path in logs:
        found = [
            int(line.split("worker stopped: ")[1].split()[0])
            for line in path.read_text().splitlines()
            if "worker stopped: " in line
        ]
        counts.append(found[-1] if found else -1)
    return counts


def run_once(
    root: Path,
    urls: list[str],
    *,
    workers: int,
    items: int,
    streams: int,
    poll_seconds: float = 0.05,
) -> dict[str, Any]:
    """One measured run on the two (empty) databases in `urls`; raises BenchFailure on a
    timeout. The result holds the figures and the checks, the caller judges them."""
    rig = start_rig(root, urls[0], urls[1])
    sender = Runtime.open(rig.sender, assemble())
    try:
        references = open_cases(sender, "CN-MOJ", streams)
        start_workers(rig, workers, poll_seconds)
        wait_until(lambda: pending(sender) == 0, "the cases to be sent", 120)
        write_notes(sender, references, items)
        start = time.perf_counter()
        wait_until(lambda: pending(sender) == 0, f"{items} notes to be sent", 600)
        elapsed = time.perf_counter() - start
    except BaseException:
        rig.stop()
        sender.close()
        for path in sorted(root.glob("*.log")):
            print(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}", file=sys.stderr)
        raise
    rig.stop()
    try:
        result = check(rig, sender)
    finally:
        sender.close()
    return {
        "workers": workers,
        "items": items,
        "streams": streams,
        "elapsed_s": round(elapsed, 3),
        "items_per_s": round(items / elapsed, 1),
        "delivered_per_worker": delivered_by(rig.worker_logs),
        **result,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument("--streams", type=int, default=30)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--receiver", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        data, url, tap, port = args.receiver
        serve_receiver(data, url, tap, int(port))
        return
    runs: list[dict[str, Any]] = []
    for count in args.workers:
        root = Path(tempfile.mkdtemp(prefix="accord-scale-"))
        try:
            with pg_databases(2) as urls:
                runs.append(
                    run_once(root, urls, workers=count, items=args.items, streams=args.streams)
                )
        finally:
            shutil.rmtree(root, ignore_errors=True)
    rates = {str(r["workers"]): r["items_per_s"] for r in runs}
    result = {
        "benchmark": "scale_out",
        "store": "postgresql",
        "items_per_s": rates,
        "speedup": round(runs[-1]["items_per_s"] / runs[0]["items_per_s"], 2),
        "duplicates": sum(r["duplicates"] for r in runs),
        "streams_out_of_order": sum(len(r["streams_out_of_order"]) for r in runs),
        "runs": runs,
        "machine": machine(),
    }
    print(json.dumps(result, indent=2))
    if result["duplicates"] or result["streams_out_of_order"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
