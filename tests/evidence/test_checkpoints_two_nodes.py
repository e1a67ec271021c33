"""Two real `accord serve` processes on loopback with a real TSA (OpenSSL's `ts -reply`): after a
full MLA case both nodes hold the same checkpoints with both signatures, stamped by the worker
inside `accord serve`; `accord evidence` lists them and proves an event; `accord audit verify
--against-peer` verifies an untouched audit log and names one shortened from the end."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from accord.audit.models import AuditAnchor, AuditEntry
from accord.cli.demo import play, wait_for
from accord.cli.scenarios import MLA
from accord.config import Settings
from accord.core.canonical import canonical_bytes
from accord.core.db import make_engine, session_factory, unit_of_work
from accord.evidence import merkle
from accord.federation.keys import unb64
from tests.e2e.conftest import Started, nodes
from tests.e2e.test_two_nodes import cli
from tests.evidence.conftest import OpenSSLTSA

pytestmark = pytest.mark.e2e

__all__ = ["nodes"]


@pytest.fixture(autouse=True)
def tsa_configured(tsa: OpenSSLTSA, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test TSA in the environment the node processes inherit (autouse: set before the
    `nodes` fixture starts them)."""
    monkeypatch.setenv("ACCORD_TSA_URL", tsa.url)
    monkeypatch.setenv("ACCORD_TSA_CERTIFICATE_FILE", str(tsa.certificate_file))
    monkeypatch.setenv("ACCORD_TSA_CA_FILE", str(tsa.ca_file))
    monkeypatch.setenv("ACCORD_TSA_STAMP_POLL_SECONDS", "0.3")


def checkpoints_on(side: Started, reference: str) -> list[dict[str, Any]]:
    done = cli(side.settings, "evidence", "checkpoints", reference, "--json")
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def settled(us: Started, cn: Started, reference: str) -> list[dict[str, Any]] | None:
    """Both nodes' checkpoints once they are the same, countersigned and stamped."""
    ours, theirs = checkpoints_on(us, reference), checkpoints_on(cn, reference)
    signed = ("tree_size", "root_hash", "head_hash", "signature", "peer_signature", "made_at")
    if not ours or [[r[k] for k in signed] for r in ours] != [
        [r[k] for k in signed] for r in theirs
    ]:
        return None
    if any(r["peer_signature"] is None or r["status"] != "stamped" for r in ours + theirs):
        return None
    return ours


def highest_anchor(settings: Settings, of: str) -> int:
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_factory(engine)() as session:
            found = session.scalar(
                select(func.max(AuditAnchor.entry_id)).where(AuditAnchor.node == of)
            )
    finally:
        engine.dispose()
    assert found is not None
    return found


def test_a_full_case_leaves_the_same_stamped_checkpoints_on_both_nodes(
    nodes: tuple[Started, Started],
) -> None:
    us, cn = nodes
    reference = play(MLA, us.node, cn.node)
    rows = wait_for(lambda: settled(us, cn, reference), "both nodes' checkpoints", timeout=90)
    reasons = [r["reason"] for r in rows]
    for action in ("approve_and_submit", "accept", "begin_execution", "close"):
        assert action in reasons
    assert {r["made_by"] for r in rows} == {us.card.name}

    done = cli(cn.settings, "evidence", "prove", reference, "2")
    assert done.returncode == 0, done.stderr
    proof = json.loads(done.stdout)
    document = proof["checkpoint"]
    assert document["tree_size"] == rows[-1]["tree_size"]
    assert merkle.verify_inclusion(
        proof["leaf_index"],
        document["tree_size"],
        bytes.fromhex(proof["event_hash"]),
        [bytes.fromhex(p) for p in proof["audit_path"]],
        bytes.fromhex(document["root_hash"]),
    )
    from nacl.signing import VerifyKey

    for key, signature in (
        (us.card.signing_key, proof["signature"]),
        (cn.card.signing_key, proof["peer_signature"]),
    ):
        VerifyKey(unb64(key)).verify(canonical_bytes(document), unb64(signature))

    mine = cli(us.settings, "evidence", "checkpoint", reference)
    assert mine.returncode == 0 and f"size {rows[-1]['tree_size']}" in mine.stdout
    theirs = cli(cn.settings, "evidence", "checkpoint", reference)
    assert theirs.returncode != 0 and "sequenced by US-DOJ" in theirs.stderr + theirs.stdout
    assert cli(us.settings, "evidence", "stamp").returncode == 0  # nothing left pending


def test_the_audit_log_verifies_against_the_peer_and_a_truncation_is_named(
    nodes: tuple[Started, Started],
) -> None:
    us, cn = nodes
    play(MLA, us.node, cn.node)
    wait_for(lambda: highest_anchor(cn.settings, us.card.name), "CN to hold US's anchors")
    verified = cli(us.settings, "audit", "verify", "--against-peer", cn.card.name)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"verified against {cn.card.name}" in verified.stdout

    us.node.stop()  # nothing writes to its audit log while we cut it
    highest = highest_anchor(cn.settings, us.card.name)
    engine = make_engine(us.settings.resolved_database_url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            session.execute(delete(AuditEntry).where(AuditEntry.id >= highest - 1))
            session.execute(delete(AuditAnchor).where(AuditAnchor.node == us.card.name))
    finally:
        engine.dispose()
    alone = cli(us.settings, "audit", "verify")
    assert alone.returncode == 0  # the chain that is left is intact: alone, nothing shows
    against = cli(us.settings, "audit", "verify", "--against-peer", cn.card.name)
    assert against.returncode == 1
    assert f"against {cn.card.name}: entry {highest}" in against.stdout
    assert "the audit log was truncated" in against.stdout
