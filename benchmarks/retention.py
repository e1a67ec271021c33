"""Retention benchmark: `accord retention apply` over many closed cases, on SQLite or PostgreSQL.

One node (US-DOJ) peered with a second one (CN-MOJ, never started) opens N removal cases of
three persons each through the case service (each opening commits its personal parts) and
withdraws them; the retention period agreed for withdrawn removal cases is zero days. The
figure is the time of one retention run (plan, then one `erase` event per case: signed, chained,
replicated to the outbox, applied to the parts), side by side with the time it took to open and
withdraw the same cases on the same machine, as a ratio less sensitive to a busy machine.

    .venv/bin/python benchmarks/retention.py [--cases 2000] [--database-url URL]

Prints one JSON object; exits non-zero if a case still holds a salt after the run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from accord.cases import service
from accord.cases.enums import Area, HandlingCode, Priority
from accord.cases.models import CaseEventPart
from accord.cli.scenarios import REMOVAL
from accord.composition import assemble
from accord.config import Settings
from accord.core.clock import utcnow
from accord.federation.node import init_node
from accord.federation.peers import add_peer
from accord.lifecycle import retention
from accord.runtime import Runtime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
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
            for first in range(0, args.cases, batch):
                with runtime.transaction() as session:
                    for _ in range(min(batch, args.cases - first)):
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
            opened = time.perf_counter() - started
            started = time.perf_counter()
            with runtime.transaction() as session:
                if os.environ.get("BENCH_PROFILE"):
                    import cProfile

                    profile = cProfile.Profile()
                    profile.enable()
                erased, held = retention.apply(session, node=us, now=utcnow())
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
        "open_and_withdraw_seconds": round(opened, 2),
        "apply_to_opening_ratio": round(applied / opened, 3) if opened else None,
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
