"""Insiders and stolen credentials: another local user of the machine reading the node's files,
a stolen backup, and an officer of one unit reaching another unit's identity data. Each test is
the attack it stops."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from accord.app import create_app
from accord.attachments.store import BlobStore
from accord.audit.models import AuditEntry
from accord.config import Settings
from accord.core.errors import InvalidInput
from accord.core.permissions import Role
from accord.federation.node import init_node
from accord.ops.backup import create_backup, restore_backup
from accord.runtime import Runtime
from tests.helpers import role_tokens
from tests.hostile.conftest import LiveNode

PASSPHRASE = "a long passphrase for the backup"


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def readable_by_others(root: Path) -> list[str]:
    """Every file under `root` that group or others may read, and every folder they may enter."""
    found = []
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        if mode_of(path) & 0o077:
            found.append(f"{path} {mode_of(path):04o}")
    return found


def accord(settings: Settings, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env |= extra
    return subprocess.run(
        [
            *(sys.executable, "-m", "accord", "--data", str(settings.data_dir)),
            *("--database-url", settings.resolved_database_url, *args),
        ],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
        preexec_fn=lambda: os.umask(0o022),  # the usual umask: Accord must not rely on it
    )


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Settings]:
    old = os.umask(0o022)
    try:
        settings = Settings(data_dir=tmp_path / "node", database_url=None)
        init_node(settings, name="US-DOJ", country="US", endpoint="http://127.0.0.1:8700")
        yield settings
    finally:
        os.umask(old)


# -- files at rest ------------------------------------------------------------------------


def test_another_local_user_can_read_nothing_that_init_wrote(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "fresh")
    made = accord(settings, "init", "--name", "US-DOJ", "--country", "US")
    assert made.returncode == 0, made.stderr
    database = tmp_path / "fresh" / "accord.db"
    assert database.is_file() and (tmp_path / "fresh" / "api-token").is_file()
    assert mode_of(settings.data_dir) == 0o700
    assert readable_by_others(settings.data_dir) == []


def test_a_served_node_leaves_nothing_readable_by_other_users(live_node: LiveNode) -> None:
    """The live node was made with umask 022 and its journal opened before `serve`: serve
    closed what was left open."""
    settings = live_node.settings
    assert readable_by_others(settings.data_dir) == []
    database = Path(settings.resolved_database_url.removeprefix("sqlite:///"))
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        if path.exists():
            assert mode_of(path) == 0o600, path


def test_blobs_are_written_for_their_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        store = BlobStore(tmp_path / "blobs", max_bytes=1 << 20)
        sha, _ = store.put(io.BytesIO(b"evidence"))
        store.put_chunk("0" * 32 + "-" + "1" * 64, 0, b"chunk")
    finally:
        os.umask(old)
    assert mode_of(store.path(sha)) == 0o600
    assert mode_of(store.partial_dir("0" * 32 + "-" + "1" * 64) / "00000000") == 0o600


def test_start_up_refuses_a_world_readable_key(node: Settings) -> None:
    key = node.keys_dir / "signing.key"
    os.chmod(key, 0o644)
    for command in (("serve", "--port", "9"), ("worker",)):
        refused = accord(node, *command)
        assert refused.returncode == 7, refused.stderr
        assert str(key) in refused.stderr and "chmod 600" in refused.stderr
    assert mode_of(key) == 0o644  # left for the operator to see, not hidden


def test_start_up_refuses_a_world_readable_database(node: Settings) -> None:
    database = node.data_dir / "accord.db"
    os.chmod(database, 0o644)
    refused = accord(node, "worker")
    assert refused.returncode == 7 and f"chmod 600 {database}" in refused.stderr


# -- a stolen backup ----------------------------------------------------------------------


def secrets_of(settings: Settings) -> dict[str, bytes]:
    return {
        "signing key": (settings.keys_dir / "signing.key").read_bytes(),
        "encryption key": (settings.keys_dir / "encryption.key").read_bytes(),
        "admin password": (settings.data_dir / "admin-password").read_bytes().strip(),
        "API token": (settings.data_dir / "api-token").read_bytes().strip(),
    }


def clear_text_of(archive: Path) -> bytes:
    """What a thief reads from the archive: its bytes, and decompressed if it is gzip."""
    import gzip

    data = archive.read_bytes()
    try:
        return data + gzip.decompress(data)
    except (OSError, EOFError):
        return data


def test_a_stolen_backup_holds_no_key_or_secret_in_clear(node: Settings, tmp_path: Path) -> None:
    sealed, plain = tmp_path / "sealed.bak", tmp_path / "plain.tar.gz"
    create_backup(node, sealed, passphrase=PASSPHRASE)
    create_backup(node, plain, passphrase=None)
    for archive in (sealed, plain):
        content = clear_text_of(archive)
        for what, secret in secrets_of(node).items():
            assert secret not in content, f"{what} in clear in {archive.name}"
    assert b"SQLite format 3" not in clear_text_of(sealed)
    assert b"SQLite format 3" in clear_text_of(plain)  # the opt-out is in clear, keys aside


def test_a_backup_restores_only_with_its_passphrase(node: Settings, tmp_path: Path) -> None:
    archive = tmp_path / "node.bak"
    create_backup(node, archive, passphrase=PASSPHRASE)
    target = Settings(data_dir=tmp_path / "restored", database_url=None)
    for wrong in (None, "a guessed passphrase"):
        with pytest.raises(InvalidInput, match="passphrase"):
            restore_backup(target, archive, passphrase=wrong)
        assert not target.keys_dir.exists() and not (target.data_dir / "accord.db").exists()
    restore_backup(target, archive, passphrase=PASSPHRASE)
    assert secrets_of(target) == secrets_of(node)
    assert readable_by_others(target.data_dir / "keys") == []


def test_a_cut_or_altered_sealed_backup_is_refused(node: Settings, tmp_path: Path) -> None:
    archive = tmp_path / "node.bak"
    create_backup(node, archive, passphrase=PASSPHRASE)
    data = archive.read_bytes()
    target = Settings(data_dir=tmp_path / "restored", database_url=None)
    for damaged in (data[:-100], data[: len(data) // 2], _flip(data, len(data) // 2)):
        archive.write_bytes(damaged)
        with pytest.raises(InvalidInput, match=r"cut off|altered"):
            restore_backup(target, archive, passphrase=PASSPHRASE)
    assert not target.keys_dir.exists()


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


def test_backup_without_a_terminal_or_passphrase_is_refused(node: Settings, tmp_path: Path) -> None:
    archive = tmp_path / "node.bak"
    refused = accord(node, "backup", "--out", str(archive))
    assert refused.returncode == 2 and "--passphrase-env" in refused.stderr
    assert not archive.exists()
    made = accord(
        node, "backup", "--out", str(archive), "--passphrase-env", "PASS", PASS=PASSPHRASE
    )
    assert made.returncode == 0, made.stderr
    target = Settings(data_dir=tmp_path / "restored", database_url=None)
    wrong = accord(
        target, "restore", "--from", str(archive), "--passphrase-env", "PASS", PASS="not it at all"
    )
    assert wrong.returncode == 2 and "wrong passphrase" in wrong.stderr
    right = accord(
        target, "restore", "--from", str(archive), "--passphrase-env", "PASS", PASS=PASSPHRASE
    )
    assert right.returncode == 0, right.stderr


def test_a_clear_backup_restores_only_where_the_keys_are(node: Settings, tmp_path: Path) -> None:
    archive = tmp_path / "plain.tar.gz"
    create_backup(node, archive, passphrase=None)
    elsewhere = Settings(data_dir=tmp_path / "elsewhere", database_url=None)
    with pytest.raises(InvalidInput, match="holds no keys"):
        restore_backup(elsewhere, archive)
    restore_backup(node, archive, force=True)  # the same node, its keys in place


# -- identity data across units -----------------------------------------------------------

ZHANG = {"id": "W1", "name": "ZHANG Wei", "name_native": "张伟", "birth_date": "1980-05-01"}
DECOY = {"id": "W1", "name": "OUYANG Nana", "birth_date": "1990-03-12"}
QUERY = {"id": "Q1", "name": "Cheung Wai", "birth_date": "1980-05-01"}


@dataclass
class TwoUnits:
    client: TestClient
    runtime: Runtime
    ours: dict[str, str]
    """an analyst of counter-terrorism, the unit that holds the data"""
    theirs: dict[str, str]
    """an analyst of cybercrime, another unit of the same node"""

    def audit(self, action: str) -> list[tuple[str, str, str | None]]:
        with self.runtime.reading() as session:
            entries = session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
            return [(e.actor, e.outcome, e.subject) for e in entries]


@pytest.fixture
def two_units(tmp_path: Path, database_url: Callable[[str], str]) -> Iterator[TwoUnits]:
    settings = Settings(
        data_dir=tmp_path / "node", database_url=database_url("units"), run_workers=False
    )
    init_node(settings, name="CN-MPS", country="CN", endpoint="http://127.0.0.1:9")
    app = create_app(settings)
    with TestClient(app) as client:
        runtime: Runtime = app.state.runtime
        with runtime.transaction() as session:
            ours = role_tokens(session, [Role.ANALYST], prefix="ct", unit="counter-terrorism")
            theirs = role_tokens(session, [Role.ANALYST], prefix="cy", unit="cybercrime")
        units = TwoUnits(
            client,
            runtime,
            {"Authorization": f"Bearer {ours[Role.ANALYST]}"},
            {"Authorization": f"Bearer {theirs[Role.ANALYST]}"},
        )
        loaded = client.post(
            "/api/v1/identity/watchlist", json={"persons": [ZHANG]}, headers=units.ours
        )
        assert loaded.status_code == 200, loaded.text
        yield units


@pytest.mark.postgres
def test_another_units_analyst_cannot_read_a_screening_job(two_units: TwoUnits) -> None:
    client = two_units.client
    started = client.post(
        "/api/v1/identity/screenings", json={"persons": [QUERY]}, headers=two_units.ours
    )
    assert started.status_code == 202, started.text
    job = started.json()["id"]
    stolen = client.get(f"/api/v1/identity/screenings/{job}", headers=two_units.theirs)
    assert stolen.status_code == 404 and "results" not in stolen.text
    mine = client.get(f"/api/v1/identity/screenings/{job}", headers=two_units.ours)
    assert mine.status_code == 200 and mine.json()["status"] == "done"
    assert mine.json()["results"][0]["candidate_id"] == "W1"
    assert two_units.audit("identity.screening.read") == [
        ("cy-analyst", "not_found", job),
        ("ct-analyst", "ok", job),
    ]


@pytest.mark.postgres
def test_another_units_analyst_cannot_replace_or_delete_a_watchlist_entry(
    two_units: TwoUnits,
) -> None:
    """The attack of the adversarial run: a cybercrime analyst loads an entry with the same id,
    so that counter-terrorism's match of ZHANG Wei found nothing."""
    client, ours, theirs = two_units.client, two_units.ours, two_units.theirs
    replaced = client.post("/api/v1/identity/watchlist", json={"persons": [DECOY]}, headers=theirs)
    assert replaced.status_code == 200
    assert (replaced.json()["added"], replaced.json()["updated"]) == (1, 0)  # their own entry
    read = client.get("/api/v1/identity/watchlist/W1", headers=theirs)
    assert read.json()["name"] == "OUYANG Nana"  # theirs, never ours
    assert client.delete("/api/v1/identity/watchlist/W1", headers=theirs).status_code == 204
    assert client.delete("/api/v1/identity/watchlist/W1", headers=theirs).status_code == 404
    assert client.get("/api/v1/identity/watchlist/W1", headers=theirs).status_code == 404

    ours_now = client.get("/api/v1/identity/watchlist/W1", headers=ours)
    assert ours_now.status_code == 200 and ours_now.json()["name"] == "ZHANG Wei"
    matched = client.post("/api/v1/identity/match", json=QUERY, headers=ours).json()
    assert matched["candidates"][0]["candidate_id"] == "W1"
    assert matched["candidates"][0]["decision"] == "match"
    seen_by_them = client.post("/api/v1/identity/match", json=QUERY, headers=theirs).json()
    assert seen_by_them["candidates"] == [] and seen_by_them["watchlist_records"] == 0

    assert two_units.audit("identity.watchlist.delete") == [
        ("cy-analyst", "ok", "W1"),
        ("cy-analyst", "not_found", "W1"),
    ]
    assert ("cy-analyst", "not_found", "W1") in two_units.audit("identity.watchlist.read")
    assert [a for a, _, _ in two_units.audit("identity.watchlist")] == ["ct-analyst", "cy-analyst"]
