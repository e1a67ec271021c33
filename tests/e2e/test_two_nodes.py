"""Two real node processes on loopback: the MLA case end to end, pending while the sequencer is
down, and the inbox's answers to hostile requests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from accord.audit.models import AuditEntry
from accord.cli.demo import case_on, scenario, wait_for
from accord.cli.scenarios import MLA_OPENING, MLA_STEPS
from accord.config import Settings
from accord.core.clock import iso, new_id, utcnow
from accord.core.db import make_engine, session_factory
from accord.federation.envelope import seal
from accord.federation.keys import PeerKeys
from accord.federation.node import init_node
from tests.e2e.conftest import Started

pytestmark = pytest.mark.e2e


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ACCORD_DATA_DIR": str(settings.data_dir), "COLUMNS": "200"}
    if settings.database_url:
        env["ACCORD_DATABASE_URL"] = settings.database_url
    return subprocess.run(
        [sys.executable, "-m", "accord", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def audit_actions(settings: Settings) -> list[str]:
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_factory(engine)() as session:
            return [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    finally:
        engine.dispose()


def admin_get(side: Started, path: str) -> Any:
    answer = httpx.get(
        side.node.url + path, headers={"Authorization": f"Bearer {side.staff.admin_token}"}
    )
    answer.raise_for_status()
    return answer.json()


def submitted_case(us: Started, cn: Started) -> str:
    """Open an MLA case on US, pass its legal review, and wait until CN holds it."""
    opened = us.node.post("/api/v1/cases", {**MLA_OPENING, "peer": cn.card.name})
    reference: str = opened["reference"]
    for step in MLA_STEPS[:2]:
        us.node.act(reference, step.action, step.payload)
    wait_for(lambda: case_on(cn.node, reference), "the case to reach CN")
    return reference


def test_mla_case_from_draft_to_closed_leaves_identical_logs(
    nodes: tuple[Started, Started],
) -> None:
    us, cn = nodes
    reference = scenario(us.node, cn.node)
    us_log = us.node.get(f"/api/v1/cases/{reference}/log")
    cn_log = cn.node.get(f"/api/v1/cases/{reference}/log")
    assert us_log == cn_log and len(us_log) == len(MLA_STEPS) + 1
    assert [e["action"] for e in us_log][-3:] == ["note", "complete_execution", "close"]
    for side in (us, cn):
        result = side.node.get(f"/api/v1/cases/{reference}/verify")
        assert result["identical"] and result["peer_head"] == us_log[-1]["hash"]
    done = cli(us.settings, "case", "verify", reference)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "both sides hold the same 13 events" in done.stdout


def test_an_action_taken_while_the_sequencer_is_down_is_applied_when_it_returns(
    nodes: tuple[Started, Started],
) -> None:
    us, cn = nodes
    reference = submitted_case(us, cn)
    us.node.stop()
    answer = cn.node.client.post(
        f"{cn.node.url}/api/v1/cases/{reference}/actions",
        json={"action": "acknowledge", "payload": {"note": "已收到"}},
    )
    assert answer.status_code == 202 and answer.json()["status"] == "pending"
    wait_for(
        lambda: admin_get(cn, "/api/v1/federation/outbox").get("pending") == 1,
        "CN to keep the submission queued",
    )
    us.restart()

    def applied() -> Any:
        case = case_on(cn.node, reference)
        return case and case["state"] == "received" and case["pending"][0]["status"] == "applied"

    wait_for(applied, "the pending action to be applied after the restart", timeout=60)
    assert case_on(us.node, reference)["state"] == "received"  # type: ignore[index]


def test_requested_side_cannot_withdraw_request_over_the_api(
    nodes: tuple[Started, Started],
) -> None:
    us, cn = nodes
    reference = submitted_case(us, cn)
    answer = cn.node.client.post(
        f"{cn.node.url}/api/v1/cases/{reference}/actions",
        json={"action": "withdraw", "payload": {"reason": "no"}},
    )
    assert answer.status_code == 409
    assert "belongs to the requesting side" in answer.json()["message"]


def test_api_refuses_requests_without_a_valid_token(nodes: tuple[Started, Started]) -> None:
    us, _ = nodes
    assert httpx.get(f"{us.node.url}/api/v1/cases").status_code == 401
    wrong = httpx.get(f"{us.node.url}/api/v1/cases", headers={"Authorization": "Bearer acc_x"})
    assert wrong.status_code == 401 and "accord token new" in wrong.json()["message"]


def test_admin_pins_a_peer_over_the_api_and_officers_cannot(
    nodes: tuple[Started, Started], tmp_path: Path
) -> None:
    us, _ = nodes
    third = Settings(data_dir=tmp_path / "third")
    identity, _ = init_node(third, name="FR-MJ", country="FR", endpoint="http://127.0.0.1:9")
    card = identity.card().model_dump()
    refused = us.node.client.post(f"{us.node.url}/api/v1/peers", json=card)
    assert refused.status_code == 403 and "may not peer:admin" in refused.json()["message"]
    admin = {"Authorization": f"Bearer {us.staff.admin_token}"}
    pinned = httpx.post(f"{us.node.url}/api/v1/peers", json=card, headers=admin)
    assert pinned.status_code == 201, pinned.text
    names = [p["name"] for p in httpx.get(f"{us.node.url}/api/v1/peers", headers=admin).json()]
    assert "FR-MJ" in names


def test_hostile_federation_requests_get_clear_errors_quarantine_and_audit(
    nodes: tuple[Started, Started], tmp_path: Path
) -> None:
    _, cn = nodes
    inbox_url = f"{cn.node.url}/federation/v1/envelopes"

    garbage = httpx.post(inbox_url, content=b"\x00not json")
    assert garbage.status_code == 400 and "not JSON" in garbage.json()["message"]

    huge = httpx.post(inbox_url, content=b"x" * (cn.settings.max_request_bytes + 1))
    assert huge.status_code == 413

    rogue_settings = Settings(data_dir=tmp_path / "rogue", database_url=None)
    rogue, _ = init_node(rogue_settings, name="XX-ROGUE", country="XX", endpoint="http://x.test")
    keys = PeerKeys.from_b64(cn.card.name, cn.card.signing_key, cn.card.encryption_key)
    envelope = seal(
        rogue, keys, envelope_id=new_id(), kind="case.submit", body={}, sent_at=iso(utcnow())
    )
    stranger = httpx.post(inbox_url, json={"envelopes": [envelope]})
    assert stranger.status_code == 403 and "unknown sender 'XX-ROGUE'" in stranger.json()["message"]

    forged = {**envelope, "from": "US-DOJ"}
    bad_signature = httpx.post(inbox_url, json={"envelopes": [forged]})
    assert bad_signature.status_code == 401

    kept = admin_get(cn, "/api/v1/federation/quarantine")
    reasons = " | ".join(q["reason"] for q in kept)
    for expected in ("not JSON", "unknown sender", "signature does not verify"):
        assert expected in reasons
    actions = audit_actions(cn.settings)
    assert actions.count("federation.request_refused") == 2  # garbage, oversize
    assert actions.count("federation.envelope_refused") == 2  # stranger, forgery
    shown = cli(cn.settings, "federation", "quarantine")
    assert shown.returncode == 0 and "unknown sender" in shown.stdout


def test_cli_creates_a_node_with_private_keys_and_pins_a_peer(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path / "a")
    second = Settings(data_dir=tmp_path / "b")
    made = cli(first, "init", "--name", "US-FBI", "--country", "us")
    assert made.returncode == 0, made.stderr
    assert cli(second, "init", "--name", "CN-MPS", "--country", "CN").returncode == 0
    for key in ("signing.key", "encryption.key"):
        assert (first.keys_dir / key).stat().st_mode & 0o777 == 0o600
    assert (first.data_dir / "api-token").stat().st_mode & 0o777 == 0o600
    again = cli(first, "init", "--name", "US-FBI", "--country", "US")
    assert again.returncode != 0 and "already holds a node" in again.stderr

    card = json.loads(cli(second, "node", "card").stdout)
    assert card["name"] == "CN-MPS" and len(card["fingerprint"]) == 64
    card_file = tmp_path / "card.json"
    card_file.write_text(json.dumps(card))
    pinned = cli(first, "peer", "add", str(card_file))
    assert pinned.returncode == 0 and card["fingerprint"] in pinned.stdout
    assert "CN-MPS" in cli(first, "peer", "list").stdout

    card_file.write_text(json.dumps({**card, "fingerprint": "0" * 64}))
    tampered = cli(first, "peer", "add", str(card_file))
    assert tampered.returncode != 0 and "does not match its keys" in tampered.stderr

    opened = cli(
        first,
        "case",
        "new",
        "mla",
        "--peer",
        "CN-MPS",
        "--title",
        "Records",
        "--details",
        json.dumps(MLA_OPENING["details"]),
    )
    assert opened.returncode == 0, opened.stderr
    reference = opened.stdout.split()[0]
    acted = cli(first, "case", "act", reference, "send_to_review", "--data", "{}")
    assert acted.returncode == 0 and "legal_review" in acted.stdout
    refused = cli(first, "case", "act", reference, "close", "--data", "{}")
    assert refused.returncode == 4 and "not allowed in state 'legal_review'" in refused.stderr
    shown = cli(first, "case", "show", reference, "--json")
    assert json.loads(shown.stdout)["state"] == "legal_review"


def test_api_refuses_an_oversized_body_before_reading_it_all(
    nodes: tuple[Started, Started],
) -> None:
    us, _ = nodes
    huge = b'{"title": "' + b"x" * us.settings.max_request_bytes + b'"}'
    answer = us.node.client.post(f"{us.node.url}/api/v1/cases", content=huge)
    assert answer.status_code == 413
    assert "larger than" in answer.json()["message"]

    def chunks() -> Any:  # no Content-Length: the limit must hold while streaming too
        yield b'{"title": "'
        for _ in range(us.settings.max_request_bytes // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    streamed = us.node.client.post(f"{us.node.url}/api/v1/cases", content=chunks())
    assert streamed.status_code == 413


def test_audit_verify_names_an_entry_edited_in_the_database(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "node")
    assert cli(settings, "init", "--name", "US-DOJ", "--country", "US").returncode == 0
    assert cli(settings, "user", "disable", "admin").returncode == 0  # audited
    assert cli(settings, "user", "list").returncode == 0
    intact = cli(settings, "audit", "verify")
    assert intact.returncode == 0 and "intact" in intact.stdout
    engine = make_engine(settings.resolved_database_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE audit_log SET actor = 'someone else' WHERE id = 1")
    finally:
        engine.dispose()
    broken = cli(settings, "audit", "verify")
    assert broken.returncode == 1 and "entry 1: content does not match its hash" in broken.stdout
