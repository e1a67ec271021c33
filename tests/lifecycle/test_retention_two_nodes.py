"""Two real node processes on loopback: a closed removal case reaches its retention date, both
nodes erase its personal data, the logs still verify as identical, the text is gone from both
databases, the peer's signed receipt is in the log; a legal hold stops the run until lifted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from accord.cli.demo import play, wait_for
from accord.cli.scenarios import REMOVAL
from accord.config import Settings
from accord.core.db import make_engine
from tests.e2e.conftest import Started
from tests.e2e.test_two_nodes import cli

pytestmark = pytest.mark.e2e

PERSONAL = ("LIN Hui", "HUANG Jun", "E12345678", "T0012345", "林慧", "黄军")
"""Names and numbers of the removal batch and of the requested side's answers."""


def database_text(settings: Settings) -> str:
    """Everything the node's database holds: the SQLite file and its write-ahead log as bytes,
    or every row of every PostgreSQL table as text."""
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        chunks = [p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists()]
        return b"".join(chunks).decode("utf-8", errors="replace")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            rows = [
                str(row[0])
                for table in tables
                for row in connection.execute(text(f'SELECT t::text FROM "{table}" t'))
            ]
    finally:
        engine.dispose()
    return "\n".join(rows)


def log_of(side: Started, reference: str) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = side.node.get(f"/api/v1/cases/{reference}/log")
    return log


def same_head(us: Started, cn: Started, reference: str) -> bool:
    mine, theirs = log_of(us, reference), log_of(cn, reference)
    return len(mine) == len(theirs) and mine[-1]["hash"] == theirs[-1]["hash"]


def agree(side: Started, peer: str) -> None:
    done = cli(
        side.settings,
        "retention", "agree", "--peer", peer, "--case-type", "removal", "--state", "closed",
        "--days", "0",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_closed_case_past_retention_is_erased_on_both_nodes_and_still_verifies(
    nodes: tuple[Started, Started],
) -> None:
    us, cn = nodes
    reference = play(REMOVAL, us.node, cn.node)
    for side in (us, cn):
        assert any(secret in database_text(side.settings) for secret in PERSONAL)
    agree(us, cn.card.name)
    agree(cn, us.card.name)

    held = cli(us.settings, "retention", "hold", reference, "--reason", "court order 2026/17")
    assert held.returncode == 0, held.stderr
    wait_for(lambda: same_head(us, cn, reference), "CN to replicate the hold")
    planned = cli(us.settings, "retention", "plan")
    assert planned.returncode == 0, planned.stderr
    assert reference in planned.stdout and "court order 2026/17" in planned.stdout
    stopped = cli(us.settings, "retention", "apply")
    assert stopped.returncode == 0, stopped.stderr
    assert "held" in stopped.stdout and "court order 2026/17" in stopped.stdout
    assert [e["action"] for e in log_of(us, reference)][-1] == "legal_hold"
    assert any(secret in database_text(us.settings) for secret in PERSONAL)

    lifted = cli(us.settings, "retention", "lift", reference, "--reason", "order discharged")
    assert lifted.returncode == 0, lifted.stderr
    applied = cli(us.settings, "retention", "apply")
    assert applied.returncode == 0, applied.stderr
    assert reference in applied.stdout

    def receipted() -> bool:
        log = log_of(us, reference)
        return log[-1]["action"] == "erasure_receipt" and same_head(us, cn, reference)

    wait_for(receipted, "CN's erasure receipt back in the log")
    log = log_of(us, reference)
    erase = next(e for e in log if e["action"] == "erase")
    receipt = log[-1]
    assert receipt["actor_node"] == cn.card.name and receipt["signature"]
    assert receipt["payload"]["erasure_seq"] == erase["seq"]
    assert receipt["payload"]["parts_erased"] > 0
    assert erase["payload"]["rule"] == "retention:removal/closed:0d"

    for side in (us, cn):
        verified = cli(side.settings, "case", "verify", reference)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "same" in verified.stdout
        found = [s for s in PERSONAL if s in database_text(side.settings)]
        assert found == [], f"{side.card.name} still holds {found}"
    again = cli(us.settings, "retention", "plan")
    assert reference not in again.stdout
