"""Retention benchmark: `accord retention apply` over many closed cases, on SQLite or PostgreSQL.

One node (US-DOJ) peered with a second one (CN-MOJ, never started) opens removal cases of
three persons each through the case service (each opening commits its personal parts) and
withdraws them; the retention period agreed for withdrawn removal cases is zero days. Past
`--through-service` cases (default 2000) the rest are copies of those, written with bulk
INSERTs: the same rows (events, parts, outbox messages) under a new id and reference, so that
100,000 cases are set up in a minute rather than hours. A copy's hashes are renamed to stay
unique and its signatures name the original reference: the run appends to a copy's chain and
erases its parts exactly as for an original, but `case verify` would refuse the copies.

The figure is the time of one retention run (plan, then one `erase` event per case: signed,
chained, replicated to the outbox, applied to the parts), side by side with the time per case
it took to open and withdraw cases through the service on the same machine, as a ratio less
sensitive to a busy machine. Run it against older code (PYTHONPATH=<worktree>/src) to compare:
a `retention.apply` that takes a session is given one transaction for the whole run.

    .venv/bin/python benchmarks/retention.py [--cases 2000] [--through-service 2000]
        [--database-url URL]

Prints one JSON object; exits non-zero if a case still holds a salt after the run.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from accord.cases import service
from accord.cases.enums import Area, HandlingCode, Priority
from accord.cases.models import Case, CaseEvent, CaseEventPart
from accord.cli.scenarios import REMOVAL
from accord.composition import assemble
from accord.config import Settings
from accord.core.clock import utcnow
from accord.federation.models import OutboxItem
from accord.federation.node import init_node
from accord.federation.peers import add_peer
from accord.lifecycle import retention
from accord.runtime import Runtime

COPY_ROUND = 500
"""Template cases copied per transaction while setting up."""


def _renamed(hash_hex: str, reference: str) -> str:
    return hashlib.sha256(f"{hash_hex}/{reference}".encode()).hexdigest()


def copy_cases(session: Session, templates: list[UUID], copy_number: int) -> int:
    """One copy of each template case (its row, events, parts and outbox messages) under a new
    id and reference, in bulk INSERTs; return how many cases were written."""
    cases = [
        dict(r._mapping)
        for r in session.execute(select(Case.__table__).where(Case.id.in_(templates)))
    ]
    events = [
        dict(r._mapping)
        for r in session.execute(
            select(CaseEvent.__table__).where(CaseEvent.case_id.in_(templates))
        )
    ]
    parts = [
        dict(r._mapping)
        for r in session.execute(
            select(CaseEventPart.__table__).where(CaseEventPart.case_id.in_(templates))
        )
    ]
    references = {c["id"]: c["reference"] for c in cases}
    outbox = [
        dict(r._mapping)
        for r in session.execute(
            select(OutboxItem.__table__).where(OutboxItem.stream.in_(list(references.values())))
        )
    ]
    new_ids = {old: uuid4() for old in references}
    new_refs = {old: f"{ref}-{copy_number:05d}" for old, ref in references.items()}
    by_ref = {ref: old for old, ref in references.items()}
    known = {e["hash"] for e in events}

    def rename(hash_hex: str, old: UUID) -> str:
        return _renamed(hash_hex, new_refs[old]) if hash_hex in known else hash_hex

    for c in cases:
        old = c["id"]
        c.update(id=new_ids[old], reference=new_refs[old], head_hash=rename(c["head_hash"], old))
    for e in events:
        old = e.pop("case_id")
        e.pop("id")
        e.update(
            case_id=new_ids[old], hash=rename(e["hash"], old), prev_hash=rename(e["prev_hash"], old)
        )
    for p in parts:
        old = p.pop("case_id")
        p.pop("id")
        p["case_id"] = new_ids[old]
    for o in outbox:
        o.pop("id")
        o.update(envelope_id=uuid4(), stream=new_refs[by_ref[o["stream"]]])
    for table, rows in (
        (Case, cases),
        (CaseEvent, events),
        (CaseEventPart, parts),
        (OutboxItem, outbox),
    ):
        if rows:
            session.execute(insert(table), rows)
    return len(cases)


def run_retention(runtime: Runtime, node: Any) -> tuple[list[Any], list[Any]]:
    """The run, through whichever `retention.apply` this checkout has."""
    if next(iter(inspect.signature(retention.apply).parameters)) == "session":
        with runtime.transaction() as session:  # the code before chunked runs
            result: tuple[list[Any], list[Any]] = retention.apply(session, node=node, now=utcnow())  # type: ignore[arg-type]
            return result
    return retention.apply(runtime.transaction, node=node, now=utcnow())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument(
        "--through-service", type=int, default=2000, help="cases opened through the service"
    )
    parser.add_argument("--database-url", default=None, help="default: a SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        us_url = args.database_url or f"sqlite:///{root / 'us.db'}"
        us_settings = Settings(data_dir=root / "us", database_url=us_url)
        cn_settings = Settings(data_dir=root / "cn", database_url=f"sqlite:///{root / 'cn.db'}")
        us, _ = init_node(us_settings, name="US-DOJ", country="US", endpoint="http://us.test")
        cn, _ = init_node(cn_settings, name="CN-MOJ", country="CN", endpoint="http://cn.test")
        runtime = Runtime.open(us_settings, assemble())
        try:
            with runtime.transaction() as session:
                add_peer(
                    session, card=cn.card(), own_name=us.name, own_namespace=us.reference_namespace
                )
                retention.agree_retention(
                    session, peer=cn.name, case_type="removal", state="withdrawn", days=0
                )
            opening = REMOVAL.opening
            started = time.perf_counter()
            batch = 200
            through_service = min(args.cases, args.through_service)
            templates: list[UUID] = []
            for first in range(0, through_service, batch):
                with runtime.transaction() as session:
                    for _ in range(min(batch, through_service - first)):
                        case = service.open_case(
                            session,
                            node=us,
                            case_type="removal",
                            peer=cn.name,
                            area=Area(opening["area"]),
                            priority=Priority(opening["priority"]),
                            handling_code=HandlingCode(opening["handling_code"]),
                            title=opening["title"],
                            details=opening["details"],
                            officer="bench",
                        )
                        service.act(
                            session,
                            node=us,
                            reference=case.reference,
                            action="withdraw",
                            payload={"reason": "benchmark"},
                            officer="bench",
                        )
                        templates.append(case.id)
            opened = time.perf_counter() - started
            started = time.perf_counter()
            copied, copy_number = 0, 0
            while through_service + copied < args.cases:
                copy_number += 1
                for first in range(0, len(templates), COPY_ROUND):
                    wanted = args.cases - through_service - copied
                    if wanted <= 0:
                        break
                    with runtime.transaction() as session:
                        copied += copy_cases(
                            session, templates[first : first + min(COPY_ROUND, wanted)], copy_number
                        )
            copying = time.perf_counter() - started
            started = time.perf_counter()
            if os.environ.get("BENCH_PROFILE"):
                import cProfile

                profile = cProfile.Profile()
                profile.enable()
            erased, held = run_retention(runtime, us)
            if os.environ.get("BENCH_PROFILE"):
                profile.disable()
                profile.dump_stats(os.environ["BENCH_PROFILE"])
            applied = time.perf_counter() - started
            with runtime.reading() as session:
                left = session.scalar(
                    select(func.count())
                    .select_from(CaseEventPart)
                    .where(CaseEventPart.salt.is_not(None))
                )
        finally:
            runtime.close()
    result = {
        "benchmark": "retention apply",
        "store": us_url.split(":", 1)[0].split("+", 1)[0],
        "cases": args.cases,
        "erased": len(erased),
        "held": len(held),
        "salts_left": left,
        "apply_seconds": round(applied, 2),
        "cases_per_second": round(len(erased) / applied, 1) if applied else None,
        "opened_through_service": through_service,
        "copied": copied,
        "open_and_withdraw_seconds": round(opened, 2),
        "copy_seconds": round(copying, 2),
        "apply_per_case_to_opening_per_case": (
            round((applied / args.cases) / (opened / through_service), 3) if opened else None
        ),
        "machine": {
            "python": platform.python_version(),
            "system": platform.platform(),
            "cpus": os.cpu_count(),
        },
    }
    print(json.dumps(result, indent=2))
    return 0 if left == 0 and len(erased) == args.cases else 1


if __name__ == "__main__":
    sys.exit(main())
