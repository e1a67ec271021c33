"""`make faults`: the fault-injection run at full size, printing its JSON summary.

    .venv/bin/python -m tests.faults.run [--events 10000] [--kills 20] [--rate 0.1]
        [--database-url-us URL --database-url-cn URL] [--keep DIR]

Exits 1 if any invariant was broken (the summary's `violations` say which).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import accord.attachments.replication
import accord.cases.replication  # noqa: F401  (registers the message kinds)
from tests.faults.harness import FaultPlan, run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--rate", type=float, default=0.10, help="drop, duplicate, reorder, delay")
    parser.add_argument("--threads", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-full-disk", action="store_true")
    parser.add_argument("--database-url-us", default=None, help="default: SQLite in its folder")
    parser.add_argument("--database-url-cn", default=None)
    parser.add_argument("--keep", type=Path, default=None, help="keep the nodes' folders here")
    args = parser.parse_args()
    plan = FaultPlan(
        events=args.events,
        kills=args.kills,
        drop=args.rate,
        duplicate=args.rate,
        reorder=args.rate,
        delay=args.rate,
        threads=args.threads,
        seed=args.seed,
        full_disk=not args.no_full_disk,
        heal_timeout=600,
    )
    root = args.keep or Path(tempfile.mkdtemp(prefix="accord-faults-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        summary = run(plan, root, (args.database_url_us, args.database_url_cn))
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 1 if summary["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
