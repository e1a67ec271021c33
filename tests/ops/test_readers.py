"""What the operator reads on the command line: `accord federation outbox` as tables or JSON
(not a Python dict), `accord audit list` as a table or JSON lines (the read audited), and
`init` making the blob folder."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from typer.testing import CliRunner

from accord.cli.root import app
from accord.cli.scenarios import MLA_STEPS
from tests.helpers import Node, act, open_mla


def run(node: Node, *args: str) -> str:
    settings = node.runtime.settings
    result = CliRunner().invoke(
        app,
        ["--data", str(settings.data_dir), "--database-url", settings.resolved_database_url, *args],
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_outbox_is_a_table_or_json(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    assert "outbox is empty" in run(us, "federation", "outbox")
    reference = open_mla(us, cn.name)
    for step in MLA_STEPS[:2]:  # through legal review to the peer: now it waits in the outbox
        act(us, reference, step.action, step.payload)
    shown = run(us, "federation", "outbox")
    assert "{" not in shown and "pending" in shown and cn.name in shown
    data = json.loads(run(us, "federation", "outbox", "--json"))
    assert data["counts"]["pending"] >= 1
    assert {item["peer"] for item in data["pending"]} == {cn.name}
    assert any(item["stream"] == reference for item in data["pending"])


def test_audit_list_reads_the_log_newest_first_and_is_audited(pair: tuple[Node, Node]) -> None:
    us, _cn = pair

    def listed(*args: str) -> list[dict[str, object]]:
        return [json.loads(line) for line in run(us, "audit", "list", "--json", *args).splitlines()]

    before = listed()
    for _ in range(3):
        listed()
    entries = listed("--limit", "3")
    assert len(entries) == 3  # each read above was recorded
    assert all(e["action"] == "audit.read" and e["actor"] == "cli" for e in entries)
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 3
    assert len(listed()) == len(before) + 5
    assert listed("--actor", "nobody-here") == []
    audits = listed("--action", "audit.")
    assert audits and all(str(e["action"]).startswith("audit.") for e in audits)
    table = run(us, "audit", "list", "--limit", "2")
    assert "audit.read" in table and "{" not in table


def test_init_makes_the_blob_folder_private(tmp_path: Path) -> None:
    data = tmp_path / "node"
    result = CliRunner().invoke(
        app, ["--data", str(data), "init", "--name", "US-DOJ", "--country", "US"]
    )
    assert result.exit_code == 0, result.output
    blobs = data / "blobs"
    assert blobs.is_dir() and stat.S_IMODE(blobs.stat().st_mode) == 0o700
