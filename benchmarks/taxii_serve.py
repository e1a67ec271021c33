"""TAXII server benchmark: a collection of 100,000 indicators pulled page by page (1,000 a page)
with the OASIS client `taxii2-client`, and 10,000 indicators added through it; the same against
`medallion`, the OASIS reference TAXII server (memory backend), on loopback in the same run.

Accord runs as a real `accord serve` process (SQLite). Its collection is written straight into
the database (rows as Add Objects stores them, each with its own date_added; validating 100,000
objects would measure nothing about serving). medallion loads the same objects, with the same
date_added, from its data file. The adds go through Add Objects on both, validation included.

medallion's memory backend sorts a page against the manifest with a nested loop (and checks
spec versions pairwise), so its first page costs O(n²): at 100,000 objects it does not answer in
any useful time. It is therefore measured on the first N objects of the same collection for a
few N, and given `--medallion-timeout` seconds for the full collection.

    .venv/bin/python benchmarks/taxii_serve.py [--objects 100000] [--page 1000] [--adds 10000]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import requests
from sqlalchemy import insert
from taxii2client.v21 import Collection, as_pages

from accord.accounts.service import create_user, issue_token
from accord.cli.demo import free_port, pin, prepare_node, start_node
from accord.core.db import make_engine, session_factory, unit_of_work
from accord.core.permissions import Role
from accord.cyber.taxii.models import TaxiiObject
from accord.cyber.taxii.service import collection_id

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # as a script, or imported
from benchmarks.exchange import machine

TARGET_PULL_PER_S = 10_000
TARGET_VS_MEDALLION = 100
TAXII = "application/taxii+json;version=2.1"
BASE = datetime(2026, 1, 1, tzinfo=UTC)


class Bearer(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def indicator(n: int) -> dict[str, Any]:
    stamp = (BASE + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-{n:012d}",
        "created": stamp,
        "modified": stamp,
        "name": f"C2 server {n}",
        "pattern": f"[ipv4-addr:value = '{10 + n // 65536 % 200}.{n // 256 % 256}.{n % 256}.7']",
        "pattern_type": "stix",
        "valid_from": stamp,
        "labels": ["malicious-activity"],
    }


def added(n: int) -> datetime:
    return BASE + timedelta(days=30, milliseconds=n)


def seed_accord(url: str, collection: str, count: int) -> None:
    engine = make_engine(url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            for start in range(0, count, 10_000):
                rows = []
                for n in range(start + 1, min(start + 10_000, count) + 1):
                    obj = indicator(n)
                    rows.append(
                        {
                            "collection": collection,
                            "object_id": obj["id"],
                            "object_type": "indicator",
                            "version": datetime.fromisoformat(obj["modified"]),
                            "spec_version": "2.1",
                            "date_added": added(n),
                            "latest": True,
                            "earliest": True,
                            "body": json.dumps(obj, separators=(",", ":")),
                        }
                    )
                session.execute(insert(TaxiiObject), rows)
    finally:
        engine.dispose()


def analyst_token(url: str) -> str:
    engine = make_engine(url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            user = create_user(
                session,
                username="bench",
                display_name="Benchmark analyst",
                role=Role.ANALYST,
                unit="central-authority",
                password="serving indicators at speed",
            )
            return issue_token(session, name="bench", user=user)
    finally:
        engine.dispose()


def pull(collection: Collection, page: int, stop_after: int | None = None) -> dict[str, Any]:
    """Every page of the collection (or up to `stop_after` objects), timing each: request,
    transfer and the client's parsing."""
    times: list[float] = []
    objects = 0
    started = time.perf_counter()
    last = started
    pages: Iterator[dict[str, Any]] = as_pages(collection.get_objects, per_request=page)
    for envelope in pages:
        now = time.perf_counter()
        times.append(now - last)
        last = now
        objects += len(envelope.get("objects", []))
        if stop_after is not None and objects >= stop_after:
            break
    total = time.perf_counter() - started
    ends = max(1, min(5, len(times) // 4))
    first, final = statistics.mean(times[:ends]), statistics.mean(times[-ends:])
    return {
        "objects": objects,
        "pages": len(times),
        "seconds": round(total, 3),
        "objects_per_s": round(objects / total),
        "page_ms": {
            f"first_{ends}_mean": round(first * 1000, 2),
            f"last_{ends}_mean": round(final * 1000, 2),
            "median": round(statistics.median(times) * 1000, 2),
            "max": round(max(times) * 1000, 2),
            "last_over_first": round(final / first, 2),
        },
    }


def add(collection: Collection, first: int, count: int, per_envelope: int) -> dict[str, Any]:
    envelopes = [
        {"objects": [indicator(n) for n in range(s, min(s + per_envelope, first + count))]}
        for s in range(first, first + count, per_envelope)
    ]
    started = time.perf_counter()
    succeeded = 0
    for envelope in envelopes:
        status = collection.add_objects(envelope, poll_interval=0.1)
        succeeded += status.success_count
    total = time.perf_counter() - started
    return {
        "objects": count,
        "succeeded": succeeded,
        "envelopes": len(envelopes),
        "seconds": round(total, 3),
        "objects_per_s": round(count / total),
    }


# -- medallion ---------------------------------------------------------------------------------


def medallion_data(sizes: list[int], adds_root: str) -> dict[str, Any]:
    """One API root per collection size (`pull<N>`) and one for the adds, sorted before them:
    the memory backend finds an API root by walking its data in key order."""
    information = {
        "title": "bench",
        "versions": [TAXII],
        "max_content_length": 64 * 1024 * 1024,
    }

    def collection(cid: str, count: int) -> dict[str, Any]:
        objects = [indicator(n) for n in range(1, count + 1)]
        manifest = [
            {
                "id": obj["id"],
                "date_added": added(n).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "version": obj["modified"],
                "media_type": "application/stix+json;version=2.1",
            }
            for n, obj in enumerate(objects, start=1)
        ]
        return {
            "id": cid,
            "title": cid,
            "can_read": True,
            "can_write": True,
            "media_types": ["application/stix+json;version=2.1"],
            "objects": objects,
            "manifest": manifest,
        }

    data: dict[str, Any] = {
        "/discovery": {"title": "bench", "api_roots": [], "default": ""},
        adds_root: {
            "information": information,
            "status": [],
            "collections": [collection("adds", 0)],
        },
    }
    for size in sizes:
        data[f"pull{size:07d}"] = {
            "information": information,
            "status": [],
            "collections": [collection("pull", size)],
        }
    return data


def start_medallion(
    root: Path, data: dict[str, Any], page: int
) -> tuple[subprocess.Popen[bytes], str]:
    (root / "medallion-data.json").write_text(json.dumps(data))
    config = {
        "users": {"bench": "bench"},
        "taxii": {"max_page_size": page},
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(root / "medallion-data.json"),
            "session_timeout": 24 * 3600,
        },
    }
    config_path = root / "medallion.json"
    config_path.write_text(json.dumps(config))
    port = free_port()
    log = (root / "medallion.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "medallion.scripts.run", "--port", str(port), str(config_path)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/taxii2/", auth=("bench", "bench"), headers={"Accept": TAXII})
            return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("medallion did not start within 120 s; see medallion.log")


def medallion_full_attempt(url: str, size: int, page: int, timeout: float) -> dict[str, Any]:
    """The first page of the full collection, given `timeout` seconds."""
    started = time.perf_counter()
    try:
        answer = httpx.get(
            f"{url}/pull{size:07d}/collections/pull/objects/",
            params={"limit": page},
            auth=("bench", "bench"),
            headers={"Accept": TAXII},
            timeout=timeout,
        )
        return {
            "objects": size,
            "first_page_s": round(time.perf_counter() - started, 3),
            "status": answer.status_code,
        }
    except httpx.TimeoutException:
        return {"objects": size, "first_page_s": None, "gave_up_after_s": timeout}


def timed(label: str, step: Callable[[], Any]) -> Any:
    print(f"... {label}", file=sys.stderr, flush=True)
    return step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=1000)
    parser.add_argument("--adds", type=int, default=10_000)
    parser.add_argument("--per-envelope", type=int, default=1000)
    parser.add_argument(
        "--medallion-sizes", default="500,1000,2000", help="collection sizes medallion pulls"
    )
    parser.add_argument("--medallion-timeout", type=float, default=60.0)
    args = parser.parse_args()
    sizes = [int(s) for s in args.medallion_sizes.split(",") if s]

    with tempfile.TemporaryDirectory(prefix="accord-taxii-bench-") as scratch:
        root = Path(scratch)
        db = f"sqlite:///{root / 'us.db'}"
        settings, card, staff = prepare_node(root, "US-DOJ", "US", db)
        _, peer_card, _ = prepare_node(root, "CN-MOJ", "CN", f"sqlite:///{root / 'cn.db'}")
        pin(settings, peer_card, card.name)
        token = analyst_token(db)
        started = time.perf_counter()
        inbound_id = collection_id("from-CN-MOJ")
        timed("seeding Accord", lambda: seed_accord(db, inbound_id, args.objects))
        seed_s = time.perf_counter() - started
        node = start_node(settings, card, staff, root)
        try:
            base = f"{node.url}/taxii2/cyber/collections"
            inbound = Collection(f"{base}/{inbound_id}/", auth=Bearer(token))
            outbound = Collection(f"{base}/{collection_id('to-CN-MOJ')}/", auth=Bearer(token))
            accord_pull = timed("Accord pull", lambda: pull(inbound, args.page))
            accord_add = timed(
                "Accord add",
                lambda: add(outbound, args.objects + 1, args.adds, args.per_envelope),
            )
            # The first N objects of the same collection, for the comparison at medallion's sizes.
            accord_small = {
                size: timed(
                    f"Accord pull of {size}", lambda n=size: pull(inbound, min(args.page, n), n)
                )
                for size in sizes
            }
        finally:
            node.stop()

        data = timed(
            "writing medallion data", lambda: medallion_data([*sizes, args.objects], "adds")
        )
        process, url = timed("starting medallion", lambda: start_medallion(root, data, args.page))
        try:
            medallion_pulls = {}
            for size in sizes:
                collection = Collection(
                    f"{url}/pull{size:07d}/collections/pull/", user="bench", password="bench"
                )
                medallion_pulls[size] = timed(
                    f"medallion pull of {size}", lambda c=collection: pull(c, args.page)
                )
            adds_collection = Collection(
                f"{url}/adds/collections/adds/", user="bench", password="bench"
            )
            medallion_add = timed(
                "medallion add",
                lambda: add(adds_collection, args.objects + 1, args.adds, args.per_envelope),
            )
            full = timed(
                "medallion full collection",
                lambda: medallion_full_attempt(
                    url, args.objects, args.page, args.medallion_timeout
                ),
            )
        finally:
            process.kill()
            process.wait()

    largest = max(sizes)
    ratio_pull = accord_pull["objects_per_s"] / medallion_pulls[largest]["objects_per_s"]
    print(
        json.dumps(
            {
                "benchmark": "taxii_serve",
                "objects": args.objects,
                "page": args.page,
                "accord": {
                    "store": "sqlite",
                    "seed_s": round(seed_s, 2),
                    "pull": accord_pull,
                    "add": accord_add,
                    "pull_of_first_n": accord_small,
                },
                "medallion": {
                    "backend": "memory",
                    "pull_of_first_n": medallion_pulls,
                    "add": medallion_add,
                    "full_collection": full,
                },
                "pull_speedup_vs_medallion": {
                    f"accord_{args.objects}_vs_medallion_{largest}": round(ratio_pull),
                    **{
                        f"same_size_{size}": round(
                            accord_small[size]["objects_per_s"]
                            / medallion_pulls[size]["objects_per_s"]
                        )
                        for size in sizes
                    },
                },
                "add_speedup_vs_medallion": round(
                    accord_add["objects_per_s"] / medallion_add["objects_per_s"], 1
                ),
                "meets_target": {
                    "adds_at_least_medallion": accord_add["objects_per_s"]
                    >= medallion_add["objects_per_s"],
                    "pull_objects_per_s": accord_pull["objects_per_s"] >= TARGET_PULL_PER_S,
                    "vs_medallion": ratio_pull >= TARGET_VS_MEDALLION,
                    "flat_page_time": accord_pull["page_ms"]["last_over_first"] <= 1.5,
                },
                "machine": machine(),
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
