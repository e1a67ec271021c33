"""Backup and restore: a node with cases, attachments and audit entries round-trips through one
archive, on SQLite and on PostgreSQL; a damaged archive and an initialised node are refused."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from accord.accounts.vault import vault_for
from accord.app import create_app
from accord.attachments.service import store_of
from accord.audit import service as audit
from accord.audit.models import AuditEntry
from accord.cases.enums import HandlingCode
from accord.composition import assemble
from accord.config import Settings
from accord.core.errors import Conflict, InvalidInput
from accord.ops.backup import MANIFEST, create_backup, restore_backup
from accord.runtime import Runtime
from tests.attachments.test_attachments import attach
from tests.conftest import IN_CI
from tests.helpers import Node, log_of, submitted_mla

CONTENT = b"%PDF-1.7 statement of account " * 5000
PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def pg_tools(store: str) -> None:
    """pg_dump and pg_restore must be on PATH for the PostgreSQL round trip (never skip in CI)."""
    if store == "postgresql" and not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        if IN_CI:
            pytest.fail("pg_dump and pg_restore must be installed in CI")
        pytest.skip("pg_dump/pg_restore not on PATH")


def settings_of(node: Node) -> Settings:
    return node.runtime.settings


def fresh(root: Path, url: str) -> Settings:
    return Settings(data_dir=root, database_url=url)


def audit_entries(runtime: Runtime) -> list[tuple[str, str]]:
    with runtime.reading() as session:
        return [
            (e.action, e.hash) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def test_a_node_round_trips_through_backup_and_restore(
    pair: tuple[Node, Node],
    tmp_path: Path,
    database_url: Callable[[str], str],
    pg_tools: None,
) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    sha = attach(us, reference, CONTENT, HandlingCode.H1)
    with us.runtime.transaction() as session:
        for action in ("case.read", "case.export", "attachment.read"):
            audit.record(session, actor="tester", action=action, outcome="ok", subject=reference)
    archive = tmp_path / "us.tar.gz"
    sealing = vault_for(settings_of(us).keys_dir)  # the key of the officers' TOTP secrets
    sealed_totp = sealing.seal("JBSWY3DPEHPK3PXP")
    manifest = create_backup(settings_of(us), archive, passphrase=PASSPHRASE)

    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    names = {m["name"] for m in manifest["members"]}
    assert {"keys/signing.key", "keys/encryption.key", "keys/accounts.key", "api-token"} <= names
    assert f"blobs/{sha[:2]}/{sha[2:4]}/{sha}" in names
    assert manifest["node"] == "US-DOJ" and manifest["schema_revision"]
    assert {m["mode"] for m in manifest["members"]} == {"0600"}

    target = fresh(tmp_path / "restored", database_url("restored"))
    report = restore_backup(target, archive, passphrase=PASSPHRASE)
    assert report["node"] == "US-DOJ"
    keys = target.keys_dir
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert stat.S_IMODE((keys / "signing.key").stat().st_mode) == 0o600
    assert (keys / "signing.key").read_bytes() == (
        settings_of(us).keys_dir / "signing.key"
    ).read_bytes()
    # the officers' second factors still open on the restored node
    assert vault_for(keys).open(sealed_totp) == "JBSWY3DPEHPK3PXP"

    restored = Runtime.open(target, assemble())
    try:
        node = Node(runtime=restored, identity=restored.node)
        assert node.identity.signing_public == us.identity.signing_public
        assert log_of(node, reference) == log_of(us, reference)
        assert b"".join(store_of(node.identity).chunks(sha)) == CONTENT
        *kept, restoring = audit_entries(restored)  # and the restore itself, audited
        assert kept == audit_entries(us.runtime) and restoring[0] == "node.restored"
        with restored.reading() as session:
            assert audit.verify(session) == []
            assert session.scalar(select(func.count()).select_from(AuditEntry)) >= 3
    finally:
        restored.close()
    with TestClient(create_app(target)) as client:  # the restored node serves
        assert client.get("/healthz").status_code == 200


def corrupt(archive: Path, member: str) -> Path:
    """The same archive with one byte of `member` changed and the manifest left as it was."""
    damaged = archive.with_name("damaged.tar.gz")
    with tarfile.open(archive) as source, tarfile.open(damaged, "w:gz") as out:
        for info in source.getmembers():
            handle = source.extractfile(info)
            assert handle is not None
            data = bytearray(handle.read())
            if info.name == member:
                data[len(data) // 2] ^= 0xFF
            out.addfile(info, io.BytesIO(bytes(data)))
    return damaged


def sqlite_node(tmp_path: Path, name: str = "node") -> Settings:
    from accord.federation.node import init_node

    settings = fresh(tmp_path / name, f"sqlite:///{tmp_path / (name + '.db')}")
    init_node(settings, name="US-DOJ", country="US", endpoint="http://127.0.0.1:8700")
    return settings


def test_a_corrupted_member_is_named_and_nothing_is_restored(tmp_path: Path) -> None:
    archive = tmp_path / "node.tar.gz"
    create_backup(sqlite_node(tmp_path), archive, passphrase=None)
    damaged = corrupt(archive, "database/accord.sqlite")
    target = fresh(tmp_path / "restored", f"sqlite:///{tmp_path / 'restored.db'}")
    with pytest.raises(InvalidInput, match=r"member 'database/accord.sqlite' is corrupt"):
        restore_backup(target, damaged)
    assert not target.keys_dir.exists()
    assert not (tmp_path / "restored.db").exists()


def test_a_damaged_compressed_stream_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    archive = tmp_path / "node.tar.gz"
    create_backup(sqlite_node(tmp_path), archive, passphrase=None)
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    archive.write_bytes(bytes(data))
    target = fresh(tmp_path / "restored", f"sqlite:///{tmp_path / 'restored.db'}")
    with pytest.raises(InvalidInput, match=r"is damaged|is corrupt"):
        restore_backup(target, archive)
    assert not target.keys_dir.exists()


def test_a_member_missing_from_the_manifest_list_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "node.tar.gz"
    create_backup(sqlite_node(tmp_path), archive, passphrase=None)
    with tarfile.open(archive) as source:
        manifest = json.loads(source.extractfile(MANIFEST).read())  # type: ignore[union-attr]
    database = "database/accord.sqlite"
    manifest["members"] = [m for m in manifest["members"] if m["name"] != database]
    rewritten = tmp_path / "rewritten.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(rewritten, "w:gz") as out:
        for info in source.getmembers():
            data = source.extractfile(info).read()  # type: ignore[union-attr]
            if info.name == MANIFEST:
                data = json.dumps(manifest).encode()
                info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    target = fresh(tmp_path / "restored", f"sqlite:///{tmp_path / 'restored.db'}")
    with pytest.raises(InvalidInput, match=f"not in the manifest: {database}"):
        restore_backup(target, rewritten)


def test_restore_refuses_an_initialised_node_without_force(tmp_path: Path) -> None:
    archive = tmp_path / "node.tar.gz"
    original = sqlite_node(tmp_path, "original")
    create_backup(original, archive, passphrase=PASSPHRASE)
    other = sqlite_node(tmp_path, "other")
    other_key = (other.keys_dir / "signing.key").read_bytes()
    with pytest.raises(Conflict, match=r"already holds a node .*--force"):
        restore_backup(other, archive, passphrase=PASSPHRASE)
    assert (other.keys_dir / "signing.key").read_bytes() == other_key
    restore_backup(other, archive, passphrase=PASSPHRASE, force=True)
    assert (other.keys_dir / "signing.key").read_bytes() == (
        original.keys_dir / "signing.key"
    ).read_bytes()
    with Runtime.open(other, assemble()).reading() as session:
        assert audit.verify(session) == []


def test_backup_and_restore_commands(tmp_path: Path) -> None:
    settings = sqlite_node(tmp_path)
    archive = tmp_path / "cli.tar.gz"

    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env["BACKUP_PASSPHRASE"] = PASSPHRASE

    def accord(data: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "accord", "--data", str(data), "--database-url", url, *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )

    url = settings.resolved_database_url
    secret = ("--passphrase-env", "BACKUP_PASSPHRASE")
    made = accord(settings.data_dir, url, "backup", "--out", str(archive), *secret)
    assert made.returncode == 0, made.stderr
    refused = accord(settings.data_dir, url, "restore", "--from", str(archive), *secret)
    assert refused.returncode == 4 and "--force" in refused.stderr
    copy = f"sqlite:///{tmp_path / 'copy.db'}"
    restored = accord(tmp_path / "copy", copy, "restore", "--from", str(archive), *secret)
    assert restored.returncode == 0, restored.stderr
    assert accord(tmp_path / "copy", copy, "audit", "verify").returncode == 0
    plain = tmp_path / "plain.tar.gz"
    made = accord(settings.data_dir, url, "backup", "--out", str(plain), "--unencrypted")
    assert made.returncode == 0, made.stderr
    with gzip.open(plain) as handle:
        assert handle.read(1)  # a gzip stream, without keys (tests/hostile/test_insider_data)
