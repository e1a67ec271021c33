"""Junk benchmark: what unauthenticated junk sent to the federation inbox of a real node writes.

One `accord serve` (US-DOJ, on SQLite or on a fresh PostgreSQL database) receives, over HTTP on
loopback, `--requests` requests of `--size` bytes that are not JSON, in three scenarios:

- `distinct`: each request different, all from one address (127.0.0.1);
- `repeated`: the same request again and again, from one address (127.0.0.2);
- `many_sources`: each request different and from its own address (127.1.x.y, one per request
  while they last) — an attacker with many addresses.

For each it reports the answers, the rows added to the quarantine and to the audit log, the
refusals those rows count, and the bytes the database grew by: on SQLite the pages in use after
a WAL checkpoint, on PostgreSQL `pg_total_relation_size` of both tables (indexes and TOAST
included). Only HTTP and those tables are used, so the same script measures a node from before
the quarantine was bounded (run it from a checkout of that commit): the two runs are the figures
in docs/federation.md.

    .venv/bin/python benchmarks/inbox_junk.py [--requests 200] [--size 100000]
        [--store sqlite|postgresql] [--pg-admin postgresql://postgres@127.0.0.1:5432/postgres]
        [--scenarios distinct,repeated,many_sources]

The node runs with its default ACCORD_QUARANTINE_* settings unless they are set in the
environment; the rate limit is turned off (ACCORD_RATE_LIMIT_PER_SECOND=0), so that every
request reaches the inbox. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, inspect, text

from accord.cli.demo import prepare_node, start_node
from accord.config import Settings
from accord.core.db import make_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # as a script, or imported
from benchmarks.exchange import machine

TABLES = ("quarantine", "audit_log")


def junk(i: int, size: int) -> bytes:
    """`size` random bytes that are not JSON (not even UTF-8), the same for the same `i`;
    random, so that PostgreSQL cannot compress what it keeps of them."""
    return b"\xff" + random.Random(i).randbytes(size - 1)


def stored(engine: Engine) -> dict[str, int]:
    """Rows of both tables, the refusals the quarantine counts, and the bytes they occupy."""
    figures: dict[str, int] = {}
    with engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("quarantine")}
        counted = "coalesce(sum(count), 0)" if "count" in columns else "count(*)"
        figures["quarantine_rows"] = conn.execute(
            text("SELECT count(*) FROM quarantine")
        ).scalar_one()
        figures["refusals"] = conn.execute(text(f"SELECT {counted} FROM quarantine")).scalar_one()
        figures["audit_rows"] = conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
        if engine.dialect.name == "postgresql":
            figures["bytes"] = sum(
                conn.execute(text(f"SELECT pg_total_relation_size('{t}')")).scalar_one()
                for t in TABLES
            )
    if engine.dialect.name == "sqlite":
        figures["bytes"] = sqlite_bytes_in_use(str(engine.url.database))
    return figures


def sqlite_bytes_in_use(path: str) -> int:
    """Pages in use once the WAL is checkpointed into the database file (retried while the
    node holds a transaction open)."""
    with sqlite3.connect(path, isolation_level=None, timeout=30) as conn:
        for _ in range(100):
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                break
            time.sleep(0.05)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    return int((pages - free) * size)


def send(url: str, bodies: list[tuple[bytes, str]]) -> tuple[Counter[int], list[float]]:
    """POST each body from its source address; the answers' statuses and each one's seconds."""
    clients: dict[str, httpx.Client] = {}
    statuses: Counter[int] = Counter()
    seconds: list[float] = []
    try:
        for body, source in bodies:
            if source not in clients:
                transport = httpx.HTTPTransport(local_address=source)
                clients[source] = httpx.Client(transport=transport, timeout=60)
            started = time.perf_counter()
            response = clients[source].post(
                f"{url}/federation/v1/envelopes",
                content=body,
                headers={"content-type": "application/json"},
            )
            seconds.append(time.perf_counter() - started)
            statuses[response.status_code] += 1
    finally:
        for client in clients.values():
            client.close()
    return statuses, seconds


def scenario(
    name: str, url: str, engine: Engine, bodies: list[tuple[bytes, str]]
) -> dict[str, Any]:
    before = stored(engine)
    statuses, seconds = send(url, bodies)
    after = stored(engine)
    tenth = max(1, len(seconds) // 10)
    added = {key: after[key] - before[key] for key in after}
    sent = sum(len(body) for body, _ in bodies)
    return {
        "scenario": name,
        "requests": len(bodies),
        "sources": len({source for _, source in bodies}),
        "bytes_sent": sent,
        "statuses": {str(status): n for status, n in sorted(statuses.items())},
        "seconds": round(sum(seconds), 2),
        "ms_per_request_first_tenth": round(1000 * sum(seconds[:tenth]) / tenth, 2),
        "ms_per_request_last_tenth": round(1000 * sum(seconds[-tenth:]) / tenth, 2),
        "quarantine_rows_added": added["quarantine_rows"],
        "refusals_counted": added["refusals"],
        "audit_entries_added": added["audit_rows"],
        "bytes_written": added["bytes"],
        "bytes_written_per_request": round(added["bytes"] / len(bodies)),
        "bytes_written_per_kib_sent": round(added["bytes"] / (sent / 1024), 1),
    }


def fresh_postgresql(admin_url: str) -> tuple[str, str]:
    import psycopg

    name = f"accord_junk_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    host = admin_url.split("://", 1)[1].rsplit("/", 1)[0]
    return name, f"postgresql+psycopg://{host}/{name}"


def drop_postgresql(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--scenarios", default="distinct,repeated,many_sources", help="which, comma-separated"
    )
    parser.add_argument("--pg-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    os.environ["ACCORD_RATE_LIMIT_PER_SECOND"] = "0"
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        pg_name = None
        if args.store == "postgresql":
            pg_name, url = fresh_postgresql(args.pg_admin)
        else:
            url = f"sqlite:///{root / 'us.db'}"
        node = None
        engine = make_engine(url)
        try:
            settings, card, staff = prepare_node(root, "US-DOJ", "US", url)
            node = start_node(settings, card, staff, root)
            n, size = args.requests, args.size
            plans: dict[str, Callable[[], list[tuple[bytes, str]]]] = {
                "distinct": lambda: [(junk(i, size), "127.0.0.1") for i in range(n)],
                "repeated": lambda: [(junk(-1, size), "127.0.0.2")] * n,
                "many_sources": lambda: [
                    (junk(n + i, size), f"127.1.{i // 250 % 256}.{1 + i % 250}") for i in range(n)
                ],
            }
            results = [
                scenario(name, node.url, engine, plans[name]())
                for name in args.scenarios.split(",")
            ]
        finally:
            if node is not None:
                node.stop()
            engine.dispose()
            if pg_name is not None:
                drop_postgresql(args.pg_admin, pg_name)
    quarantine_settings = {
        name: value
        for name, value in Settings().model_dump().items()
        if name.startswith("quarantine_")
    }
    print(
        json.dumps(
            {
                "benchmark": "inbox_junk",
                "store": args.store,
                "request_bytes": args.size,
                "settings": quarantine_settings,
                "results": results,
                "machine": machine(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
