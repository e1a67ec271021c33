"""Evidence pack benchmark: how long do exporting and verifying the pack of a big case take?

Two in-process nodes (A = US-DOJ sequences, B = CN-MOJ, SQLite) are peered. A opens an MLA case
to B and submits it, then N `note` events are written on A; every envelope A's outbox holds is
sealed and taken in by B through the real inbox (authenticate, decrypt, store, process), as the
tests' pump does minus HTTP, and the checkpoints B countersigns go back the same way. Then B
(which holds the envelopes as received) exports the case's pack, and the standalone verifier
(`evidence/verify_pack.py`) checks it. Checkpoints are signed by both nodes but not stamped
(no TSA in this run): token checks are not in the verify time.

Baseline, same run: the same log written as canonical JSON into a zip with its SHA-256 and read
back and hashed again, the least an export and a verification of these bytes can cost; the
ratios to it are less sensitive to how busy the (shared) machine is than the times alone.

    .venv/bin/python benchmarks/evidence_pack.py [--events 10000]

Prints one JSON object; exits non-zero if the pack does not verify.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import tempfile
import time
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from accord.cases import service
from accord.cases.enums import Area, HandlingCode, Priority
from accord.cli.scenarios import MLA_OPENING, MLA_STEPS
from accord.composition import assemble
from accord.config import Settings
from accord.core.canonical import canonical_bytes
from accord.core.clock import iso, utcnow
from accord.evidence.pack import export_pack
from accord.evidence.verify_pack import verify_pack
from accord.federation import inbox
from accord.federation.delivery import seal_item
from accord.federation.models import OutboxItem
from accord.federation.node import init_node
from accord.federation.peers import add_peer, find_peer, peer_keys
from accord.runtime import Runtime

WINDOW_SECONDS = 300.0


def node(root: Path, name: str, country: str) -> Runtime:
    settings = Settings(data_dir=root / name)
    init_node(settings, name=name, country=country, endpoint=f"http://{name}.invalid")
    return Runtime.open(settings, assemble())


def peer(a: Runtime, b: Runtime) -> None:
    for one, other in ((a, b), (b, a)):
        with one.transaction() as session:
            add_peer(
                session,
                card=other.node.card(),
                own_name=one.node.name,
                own_namespace=one.node.reference_namespace,
            )


def move(source: Runtime, target: Runtime, batch: int = 200) -> int:
    """Seal what `source`'s outbox holds for `target`, hand it to `target`'s inbox in batches
    and process it; returns how many envelopes moved."""
    moved = 0
    while True:
        with source.transaction() as session:
            items = list(
                session.scalars(
                    select(OutboxItem)
                    .where(OutboxItem.status == "pending", OutboxItem.peer == target.node.name)
                    .order_by(OutboxItem.id)
                    .limit(batch)
                )
            )
            keys = peer_keys(find_peer(session, target.node.name))  # type: ignore[arg-type]
            envelopes = [seal_item(source.node, keys, i, sent_at=iso(utcnow())) for i in items]
            for item in items:
                item.status = "delivered"
        if not envelopes:
            return moved
        with target.transaction() as session:
            outcome = inbox.receive(
                session,
                node=target.node,
                envelopes=envelopes,
                remote_addr="bench",
                window=timedelta(seconds=WINDOW_SECONDS),
            )
        if outcome.error is not None:
            raise SystemExit(f"the inbox refused a batch: {outcome.error}")
        while inbox.process(target.factory, target.node):
            pass
        moved += len(envelopes)


def build_case(a: Runtime, b: Runtime, events: int) -> str:
    with a.transaction() as session:
        case = service.open_case(
            session,
            node=a.node,
            case_type="mla",
            peer=b.node.name,
            area=Area.JUDICIAL_ASSISTANCE,
            priority=Priority.ROUTINE,
            handling_code=HandlingCode.H1,
            title=MLA_OPENING["title"],
            details=MLA_OPENING["details"],
            officer="bench",
        )
        reference = case.reference
        for step in MLA_STEPS[:2]:
            service.act(
                session,
                node=a.node,
                reference=reference,
                action=step.action,
                payload=step.payload,
                officer="bench",
            )
    written = 0
    while written < events - 3:  # the opening and the two steps count
        with a.transaction() as session:
            for _ in range(min(1000, events - 3 - written)):
                written += 1
                service.act(
                    session,
                    node=a.node,
                    reference=reference,
                    action="note",
                    payload={"text": f"benchmark note {written}"},
                    officer="bench",
                )
        move(a, b)
        move(b, a)  # countersignatures of the checkpoints made meanwhile
    return reference


def baseline(events: list[dict[str, Any]], folder: Path) -> tuple[float, float]:
    """Seconds to write the log's canonical JSON into a zip with its SHA-256, and to read it
    back and hash it again."""
    path = folder / "baseline.zip"
    start = time.perf_counter()
    content = canonical_bytes(events)
    digest = hashlib.sha256(content).hexdigest()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("events.json", content)
        archive.writestr("manifest.json", json.dumps({"sha256": digest}))
    written = time.perf_counter() - start
    start = time.perf_counter()
    with zipfile.ZipFile(path) as archive:
        again = archive.read("events.json")
        assert (
            hashlib.sha256(again).hexdigest() == json.loads(archive.read("manifest.json"))["sha256"]
        )
        json.loads(again)
    return written, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000, help="events in the case")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="accord-bench-pack-") as scratch:
        root = Path(scratch)
        a, b = node(root, "US-DOJ", "US"), node(root, "CN-MOJ", "CN")
        try:
            peer(a, b)
            start = time.perf_counter()
            reference = build_case(a, b, args.events)
            built = time.perf_counter() - start
            out = root / "pack.zip"
            phases: dict[str, float] = {}

            def progress(step: str, done: int, total: int) -> None:
                phases.setdefault(f"{step}_started", time.perf_counter())
                if done == total:
                    phases[f"{step}_done"] = time.perf_counter()

            start = time.perf_counter()
            with b.reading() as session:  # as the CLI does; it audits in a second one
                written = export_pack(
                    session,
                    node=b.node,
                    settings=b.settings,
                    reference=reference,
                    out=out,
                    progress=progress,
                )
            exported = time.perf_counter() - start
            report = phases.get("report_done", 0.0) - phases.get("report_started", 0.0)
            start = time.perf_counter()
            result = verify_pack(out)
            verified = time.perf_counter() - start
            with zipfile.ZipFile(out) as archive:
                events = json.loads(archive.read("case/events.json"))
            base_write, base_read = baseline(events, root)
        finally:
            a.close()
            b.close()
    figures = {
        "benchmark": "evidence_pack",
        "events": written.events,
        "envelopes": written.envelopes,
        "receipts": written.receipts,
        "checkpoints": written.checkpoints,
        "pack_bytes": written.size,
        "build_case_s": round(built, 2),
        "export_s": round(exported, 2),
        "export_report_pdf_s": round(report, 2),
        "verify_s": round(verified, 2),
        "verified": result.ok,
        "problems": [f"[{p.kind}] {p.where}: {p.what}" for p in result.problems[:5]],
        "baseline_zip_write_s": round(base_write, 3),
        "baseline_zip_read_s": round(base_read, 3),
        "export_vs_baseline": round(exported / base_write, 1) if base_write else None,
        "verify_vs_baseline": round(verified / base_read, 1) if base_read else None,
        "machine": {
            "python": platform.python_version(),
            "system": platform.platform(),
            "processor": platform.processor() or platform.machine(),
        },
    }
    print(json.dumps(figures, indent=2))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
