"""A restore that cannot fork: a node restored to before its last exchange holds sequencing and
delivery until it has taken back from its peer what it lost; then its next case reuses no
reference, the peer quarantines nothing, and both sides' `case verify` agree. And the backup's
signed manifest: an archive altered with its digests updated is refused."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from accord.audit.models import AuditEntry
from accord.cases import service
from accord.cases.models import Case
from accord.cases.recovery import reconcile_with
from accord.cli.scenarios import MLA_STEPS, REMOVAL
from accord.composition import assemble
from accord.core.errors import InvalidInput
from accord.federation import reconcile
from accord.federation.delivery import deliver_once
from accord.federation.models import OutboxItem, QuarantineItem
from accord.federation.peers import add_peer
from accord.ops.backup import MANIFEST, create_backup, restore_backup
from accord.ops.health import readiness
from accord.runtime import Runtime
from tests.helpers import (
    Node,
    act,
    asker,
    log_of,
    open_from,
    open_mla,
    process,
    pump,
    submitted_mla,
)
from tests.ops.test_backup import PASSPHRASE, fresh, pg_tools, sqlite_node  # noqa: F401


def quarantined(node: Node) -> int:
    with node.runtime.reading() as session:
        return session.scalar(select(func.count()).select_from(QuarantineItem)) or 0


def verified(a: Node, b: Node, reference: str) -> tuple[bool, int]:
    with a.runtime.transaction() as session:
        out = service.verify(session, node=a.identity, reference=reference, ask=asker(a, b))
    return out.identical, out.local_count


def restored_over(node: Node, archive: Path) -> Node:
    """Restore `archive` into the node's own data folder and database, as an operator would
    after losing the machine's disk: the node's processes are stopped first."""
    settings = node.runtime.settings
    node.runtime.close()
    restore_backup(settings, archive, passphrase=PASSPHRASE, force=True)
    runtime = Runtime.open(settings, assemble())
    return Node(runtime=runtime, identity=runtime.node)


@pytest.mark.usefixtures("pg_tools")
def test_a_restored_node_reconciles_before_it_sequences_and_reuses_no_reference(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    us, cn = pair
    first = submitted_mla(us, cn)
    archive = tmp_path / "us.bak"
    create_backup(us.runtime.settings, archive, passphrase=PASSPHRASE)

    # after the backup: a second case of ours, the peer's acts on the first, a case of the peer's
    second = submitted_mla(us, cn)
    for step in MLA_STEPS[2:4]:
        act(cn, first, step.action, step.payload)
        pump(us, cn)
    theirs = open_from(cn, us.name, REMOVAL.opening)
    pump(us, cn)
    lost = {ref: log_of(us, ref) for ref in (first, second, theirs)}

    us = restored_over(us, archive)
    with us.runtime.reading() as session:
        assert reconcile.waiting_for(session) == [cn.name]
        assert session.scalar(select(Case.id).where(Case.reference == second)) is None
    with pytest.raises(reconcile.Unreconciled, match=rf"not reconciled with {cn.name}.*reconcile"):
        open_mla(us, cn.name)
    ready = {c.name: c for c in readiness(us.runtime.factory, us.runtime.settings).checks}
    assert not ready["reconciled"].ok and cn.name in ready["reconciled"].detail
    with httpx.Client() as client:  # nothing goes out: not even the restored outbox
        assert deliver_once(us.runtime.factory, us.identity, us.runtime.settings, client) == 0
    # the peer keeps working meanwhile: its submission waits on our side, it is not refused
    act(cn, first, MLA_STEPS[4].action, MLA_STEPS[4].payload)
    pump(us, cn)

    with us.runtime.transaction() as session:
        report = reconcile_with(session, node=us.identity, peer=cn.name, ask=asker(us, cn))
    assert sorted(report["cases_recovered"]) == sorted([second, theirs])
    assert set(report["events_recovered"]) == {first, second, theirs}
    key = second.rsplit("-", 1)[0]
    assert report["counters_advanced"] == {key: [int(first[-6:]), int(second[-6:])]}
    for reference, events in lost.items():
        assert log_of(us, reference)[: len(events)] == events
    with us.runtime.reading() as session:
        assert reconcile.waiting_for(session) == []
        assert session.scalar(
            select(AuditEntry.id).where(AuditEntry.action == "federation.reconciled")
        )
    ready = {c.name: c for c in readiness(us.runtime.factory, us.runtime.settings).checks}
    assert ready["reconciled"].ok

    process(us)  # the inbox worker, woken by the settlement, applies the submission that waited
    third = open_mla(us, cn.name)
    assert third not in (first, second) and int(third[-6:]) == int(second[-6:]) + 1
    for step in MLA_STEPS[:2]:
        act(us, third, step.action, step.payload)
    pump(us, cn)
    with us.runtime.reading() as session:  # the held submission was applied, then replicated
        assert (
            session.scalar(
                select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "pending")
            )
            == 0
        )
    assert log_of(us, first)[-1]["action"] == MLA_STEPS[4].action
    assert quarantined(cn) == 0 and quarantined(us) == 0
    for reference in (first, second, theirs, third):
        assert verified(us, cn, reference)[0], reference
        assert verified(cn, us, reference)[0], reference
        assert log_of(us, reference) == log_of(cn, reference)


def test_a_fork_found_while_reconciling_is_reported_and_keeps_the_hold(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    with us.runtime.transaction() as session:
        reconcile.hold(session, backup_created_at=None)
    with cn.runtime.transaction() as session:  # the peer's copy of our head, forged
        case = session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None
        case.head_hash = "f" * 64
    with us.runtime.transaction() as session, pytest.raises(Exception, match="stays held"):
        reconcile_with(session, node=us.identity, peer=cn.name, ask=asker(us, cn))
    with us.runtime.reading() as session:
        assert reconcile.waiting_for(session) == [cn.name]


def rewrite(archive: Path, out: Path, member: str, change: bytes) -> None:
    """`archive` with `member` replaced by `change` and the manifest's SHA-256 and size of it
    updated to match, as someone who altered the archive would."""
    import hashlib

    with tarfile.open(archive) as source:
        manifest = json.loads(source.extractfile(MANIFEST).read())  # type: ignore[union-attr]
        for entry in manifest["members"]:
            if entry["name"] == member:
                entry["sha256"] = hashlib.sha256(change).hexdigest()
                entry["size"] = len(change)
        with tarfile.open(out, "w:gz") as target:
            for info in source.getmembers():
                data = source.extractfile(info).read()  # type: ignore[union-attr]
                if info.name == member:
                    data = change
                elif info.name == MANIFEST:
                    data = json.dumps(manifest).encode()
                info.size = len(data)
                target.addfile(info, io.BytesIO(data))


def test_an_archive_altered_with_its_manifest_updated_is_refused(tmp_path: Path) -> None:
    settings = sqlite_node(tmp_path)
    archive = tmp_path / "node.tar.gz"
    manifest = create_backup(settings, archive, passphrase=None)
    assert manifest["signature"] and manifest["signing_key"]
    altered = tmp_path / "altered.tar.gz"
    database = "database/accord.sqlite"
    rewrite(archive, altered, database, b"SQLite format 3\x00 but not the node's")
    # an archive in clear is checked with the node's key already in the data folder
    target = fresh(tmp_path / "restored", f"sqlite:///{tmp_path / 'restored.db'}")
    target.keys_dir.mkdir(parents=True)
    for name in ("signing.key", "encryption.key"):
        (target.keys_dir / name).write_bytes((settings.keys_dir / name).read_bytes())
    with pytest.raises(InvalidInput, match=r"signature of manifest.json does not verify .*altered"):
        restore_backup(target, altered, force=True)
    assert not (tmp_path / "restored.db").exists()
    restore_backup(target, archive, force=True)  # the archive as written restores


def test_an_unsigned_archive_is_restored_only_with_accept_unsigned(tmp_path: Path) -> None:
    settings = sqlite_node(tmp_path)
    archive = tmp_path / "node.tar.gz"
    create_backup(settings, archive, passphrase=None)
    unsigned = tmp_path / "unsigned.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(unsigned, "w:gz") as target:
        for info in source.getmembers():
            data = source.extractfile(info).read()  # type: ignore[union-attr]
            if info.name == MANIFEST:  # as written before backups were signed
                manifest = json.loads(data)
                del manifest["signature"], manifest["signing_key"]
                manifest["version"] = 1
                data = json.dumps(manifest).encode()
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))
    with pytest.raises(InvalidInput, match=r"unsigned backup .*--accept-unsigned"):
        restore_backup(settings, unsigned, force=True)
    restore_backup(settings, unsigned, force=True, accept_unsigned=True)


def test_reconcile_commands_with_a_peer_that_does_not_answer(tmp_path: Path) -> None:
    settings = sqlite_node(tmp_path)
    peer = sqlite_node(tmp_path, "peer")  # never started: its endpoint does not answer
    other, ours = Runtime.open(peer, assemble()), Runtime.open(settings, assemble())
    try:
        card = other.node.card().model_copy(
            update={"name": "CN-MOJ", "country": "CN", "namespace": "CN"}
        )
        card = card.model_copy(update={"endpoint": "http://127.0.0.1:9"})
        with ours.transaction() as session:
            add_peer(session, card=card, own_name=ours.node.name, own_namespace="US")
    finally:
        other.close()
        ours.close()
    archive = tmp_path / "node.bak"
    create_backup(settings, archive, passphrase=PASSPHRASE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env["BACKUP_PASSPHRASE"] = PASSPHRASE

    def accord(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "accord",
                "--data",
                str(settings.data_dir),
                "--database-url",
                settings.resolved_database_url,
                *args,
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=120,
        )

    restored = accord(
        "restore", "--from", str(archive), "--force", "--passphrase-env", "BACKUP_PASSPHRASE"
    )
    assert restored.returncode == 0, restored.stderr
    assert "sequences and delivers nothing until it has reconciled with CN-MOJ" in restored.stdout
    assert "cannot reach CN-MOJ" in restored.stdout
    status = accord("federation", "reconcile", "--status")
    assert "waiting to reconcile with CN-MOJ" in status.stdout
    assert accord("federation", "reconcile").returncode == 1
    skipped = accord("federation", "reconcile", "--skip", "CN-MOJ")
    assert skipped.returncode == 0 and "reconciled with every peer" in skipped.stdout
    ours = Runtime.open(settings, assemble())
    try:
        with ours.reading() as session:
            assert reconcile.waiting_for(session) == []
            assert session.scalar(
                select(AuditEntry.id).where(AuditEntry.action == "federation.reconcile_skipped")
            )
    finally:
        ours.close()
