"""Backup and restore of one node: a single .tar.gz holding the database, the blob folder, the
key files and a manifest with the SHA-256 of every member, signed with the node's signing key,
sealed with a passphrase (`accord.ops.sealed`). An archive written without one
(`--unencrypted`) leaves out the keys and the administrator's secrets: they never leave the
node in clear.

The database is copied consistently while the node runs: SQLite with the online backup API,
PostgreSQL with `pg_dump` (custom format, restored with `pg_restore`). The database goes in
first, then the blobs: blobs are written before the rows that name them, so every blob the
copied database refers to is in the archive. Restore reads the whole archive into a staging
folder and checks every member against the manifest before it changes anything.
"""

from __future__ import annotations

import binascii
import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey
from sqlalchemy import Engine, make_url, select, text
from sqlalchemy.engine import URL

from accord import __version__
from accord.accounts.vault import KEY_FILE as ACCOUNTS_KEY_FILE
from accord.config import Settings
from accord.core.canonical import canonical_bytes
from accord.core.clock import iso, utcnow
from accord.core.db import make_engine, redact_url, session_factory, unit_of_work
from accord.core.errors import Conflict, InvalidInput, NotFound, NotInitialised
from accord.core.migrate import alembic_config, upgrade
from accord.federation.keys import ENCRYPTION_FILE, SIGNING_FILE, b64, unb64
from accord.federation.models import NodeRecord
from accord.federation.node import ADMIN_PASSWORD_FILE, TOKEN_FILE
from accord.ops.sealed import OpeningReader, SealingWriter, is_sealed

FORMAT = "accord-backup"
VERSION = 2
"""2: the manifest is signed with the node's signing key (1: unsigned, before 0017)."""
UNSIGNED_VERSION = 1
MANIFEST_PURPOSE = "accord.backup.manifest/2"
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database/accord.sqlite", "postgresql": "database/accord.pgdump"}
SECRET_FILES = (TOKEN_FILE, ADMIN_PASSWORD_FILE)
BLOBS = "blobs"
"""The attachments' folder in the data folder (`attachments.service.store_of`)."""
SKIPPED_BLOB_FOLDERS = ("incoming", "partial")
"""Uploads and chunked transfers in progress: neither is named by the database yet."""
BLOCK = 1024 * 1024

Progress = Callable[[int, int | None, str], None]
"""Called with (bytes done, bytes in all or None while unknown, what is being done)."""


def _quiet(_done: int, _total: int | None, _what: str) -> None:
    return None


# -- what the node is made of --------------------------------------------------------------


def _dialect(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in DATABASE_MEMBERS:
        raise InvalidInput(f"backups cover SQLite and PostgreSQL, not {name}")
    return name


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise InvalidInput(f"{url} is not a SQLite file")
    return Path(database)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL for pg_dump/pg_restore, and an environment holding the password (never on
    the command line, where other users of the machine could read it)."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise InvalidInput(
            f"{name} is not on PATH: install the PostgreSQL client tools (the same major "
            "version as the server, or newer) to back up or restore a PostgreSQL node"
        )
    return found


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise InvalidInput(f"{what} failed (exit {result.returncode}): {result.stderr.strip()}")


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _node_record(engine: Engine) -> NodeRecord | None:
    database = engine.url.database
    if engine.dialect.name == "sqlite" and not (database and Path(database).is_file()):
        return None  # connecting would create the file
    try:
        with unit_of_work(session_factory(engine, read_only=True)) as session:
            return session.scalar(select(NodeRecord))
    except Exception:  # no tables yet, or no database at all: not initialised
        return None


def _is_secret(name: str) -> bool:
    return name.startswith("keys/") or name in SECRET_FILES


def _files(settings: Settings, *, secrets: bool) -> list[tuple[str, Path]]:
    """Every file of the data folder that goes in the archive besides the database; the keys
    and the administrator's secrets only if `secrets` (a sealed archive)."""
    files: list[tuple[str, Path]] = []
    for name in (SIGNING_FILE, ENCRYPTION_FILE):
        path = settings.keys_dir / name
        if not path.is_file():
            raise NotInitialised(f"no {path}: is {settings.data_dir} this node's data folder?")
        if secrets:
            files.append((f"keys/{name}", path))
    sealing = settings.keys_dir / ACCOUNTS_KEY_FILE  # opens the officers' TOTP keys
    if secrets and sealing.is_file():
        files.append((f"keys/{ACCOUNTS_KEY_FILE}", sealing))
    for name in SECRET_FILES:
        if secrets and (settings.data_dir / name).is_file():
            files.append((name, settings.data_dir / name))
    blobs = settings.data_dir / BLOBS
    if blobs.is_dir():
        for path in sorted(blobs.rglob("*")):
            relative = path.relative_to(blobs)
            if path.is_file() and relative.parts[0] not in SKIPPED_BLOB_FOLDERS:
                files.append((f"{BLOBS}/{relative.as_posix()}", path))
    return files


# -- the signed manifest --------------------------------------------------------------------


def _node_signing_key(keys_dir: Path) -> SigningKey:
    try:
        return SigningKey((keys_dir / SIGNING_FILE).read_bytes())
    except FileNotFoundError:
        raise NotInitialised(
            f"no {keys_dir / SIGNING_FILE}: nothing to sign the backup with"
        ) from None


def _signed_part(manifest: dict[str, Any]) -> bytes:
    unsigned = {k: v for k, v in manifest.items() if k != "signature"}
    return canonical_bytes({"purpose": MANIFEST_PURPOSE, "manifest": unsigned})


def _manifest_signature(manifest: dict[str, Any], signing: SigningKey) -> str:
    """The node's Ed25519 signature over the whole manifest (every member's SHA-256 and size):
    an archive altered with its manifest's digests updated to match no longer verifies."""
    return b64(signing.sign(_signed_part(manifest)).signature)


def _check_signature(
    source: Path, staging: Path, settings: Settings, manifest: dict[str, Any]
) -> None:
    """The manifest verifies with the node's signing key: the one in the archive (sealed: its
    passphrase authenticates it) or, for an archive in clear, the one already in the data
    folder, and it is the key the manifest names."""
    archived = staging / "keys" / SIGNING_FILE
    where = "in the archive" if archived.is_file() else f"in {settings.keys_dir}"
    key_file = archived if archived.is_file() else settings.keys_dir / SIGNING_FILE
    try:
        public = SigningKey(key_file.read_bytes()).verify_key
    except (FileNotFoundError, ValueError, TypeError) as exc:
        raise InvalidInput(
            f"{source}: no signing key {where} to check {MANIFEST}'s signature with ({exc}); "
            "the node was not changed"
        ) from None
    named = manifest.get("signing_key")
    if named != b64(bytes(public)):
        raise InvalidInput(
            f"{source}: {MANIFEST} names the signing key {named!r}, not the node's key {where} "
            f"({b64(bytes(public))}): a backup of another node, or altered; the node was not "
            "changed"
        )
    signature = manifest.get("signature")
    try:
        if not isinstance(signature, str):
            raise ValueError("no signature")
        public.verify(_signed_part(manifest), unb64(signature))
    except (BadSignatureError, ValueError, binascii.Error):
        raise InvalidInput(
            f"{source}: the signature of {MANIFEST} does not verify with the node's signing key "
            f"{where}: the archive was altered after it was written (its members or their "
            "SHA-256 in the manifest); the node was not changed, use another copy of the backup"
        ) from None


# -- backup --------------------------------------------------------------------------------


class _Hashing:
    """A file read through: hashes and counts what tarfile copies into the archive."""

    def __init__(self, handle: IO[bytes], tick: Callable[[int], None]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()
        self.tick = tick

    def read(self, size: int = -1) -> bytes:
        block = self.handle.read(size)
        self.digest.update(block)
        self.tick(len(block))
        return block


def _copy_database(url: str, target: Path) -> None:
    if _dialect(url) == "sqlite":
        source = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True, timeout=60)
        copy = sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy)  # the online backup API: a consistent copy, writers go on
        finally:
            copy.close()
            source.close()
        return
    database, env = _libpq(url)
    _run(
        [
            _pg_tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            "--file",
            str(target),
            database,
        ],
        env,
        "pg_dump",
    )


def create_backup(
    settings: Settings, out: Path, *, passphrase: str | None, progress: Progress = _quiet
) -> dict[str, Any]:
    """Write the archive to `out` (mode 0600), sealed with `passphrase`; return its manifest.
    With no passphrase the archive is in clear and holds neither the keys nor the secrets."""
    url = settings.resolved_database_url
    dialect = _dialect(url)
    engine = make_engine(url)
    try:
        record = _node_record(engine)
        if record is None:
            raise NotInitialised(f"no node in {redact_url(url)}: nothing to back up")
        node, country, revision = record.name, record.country, _revision(engine)
    finally:
        engine.dispose()
    signing = _node_signing_key(settings.keys_dir)
    if b64(bytes(signing.verify_key)) != record.signing_key:
        raise NotInitialised(f"the keys in {settings.keys_dir} are not the keys of node {node}")
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".accord-backup-", dir=out.parent) as staging:
        progress(0, None, "copying the database")
        database = Path(staging) / "database"
        _copy_database(url, database)
        sealed = passphrase is not None
        members = [(DATABASE_MEMBERS[dialect], database), *_files(settings, secrets=sealed)]
        total = sum(path.stat().st_size for _, path in members)
        done = 0

        def tick(count: int) -> None:
            nonlocal done
            done += count
            progress(done, total, "archiving")

        partial = out.with_name(out.name + ".partial")
        entries: list[dict[str, Any]] = []
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as raw:
            sealer = SealingWriter(raw, passphrase) if passphrase is not None else None
            sink = cast(IO[bytes], sealer) if sealer is not None else raw
            with tarfile.open(fileobj=sink, mode="w:gz") as tar:
                _archive(tar, members, tick, entries)
                manifest = {
                    "format": FORMAT,
                    "version": VERSION,
                    "node": node,
                    "country": country,
                    "schema_revision": revision,
                    "created_at": iso(utcnow()),
                    "accord_version": __version__,
                    "database": {"dialect": dialect, "member": DATABASE_MEMBERS[dialect]},
                    "sealed": sealed,
                    "keys_included": sealed,
                    "members": entries,
                    "signing_key": b64(bytes(signing.verify_key)),
                }
                manifest["signature"] = _manifest_signature(manifest, signing)
                data = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(data)
                info.mode = 0o600
                info.mtime = int(datetime.now().timestamp())
                tar.addfile(info, io.BytesIO(data))
            if sealer is not None:
                sealer.close()
            raw.flush()
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, out)
    return manifest


def _archive(
    tar: tarfile.TarFile,
    members: list[tuple[str, Path]],
    tick: Callable[[int], None],
    entries: list[dict[str, Any]],
) -> None:
    """Add each member, hashing it as it is copied; its manifest entry goes to `entries`."""
    for name, path in members:
        mode = 0o600  # restored as it is written: the owner's only, blobs included
        info = tarfile.TarInfo(name)
        info.size = path.stat().st_size
        info.mode = mode
        info.mtime = int(path.stat().st_mtime)
        with path.open("rb") as handle:
            reader = _Hashing(handle, tick)
            tar.addfile(info, reader)
        entries.append(
            {
                "name": name,
                "sha256": reader.digest.hexdigest(),
                "size": info.size,
                "mode": f"{mode:04o}",
            }
        )


# -- restore -------------------------------------------------------------------------------


def _safe_name(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or "\\" in name:
        raise InvalidInput(f"archive member {name!r} has an unsafe path; refusing the archive")
    return path.as_posix()


def _stage(
    source: Path, staging: Path, progress: Progress, passphrase: str | None
) -> dict[str, tuple[str, int]]:
    """Unpack every member under `staging`; return name -> (sha256, size) as read."""
    seen: dict[str, tuple[str, int]] = {}
    total = source.stat().st_size
    current = "the archive header"
    sealed = is_sealed(source)
    if sealed and passphrase is None:
        raise InvalidInput(
            f"{source} is encrypted: give its passphrase (`accord restore` asks for it, or "
            "--passphrase-env VAR names a variable that holds it)"
        )
    try:
        with (
            source.open("rb") as raw,
            gzip.GzipFile(
                fileobj=cast(IO[bytes], OpeningReader(raw, passphrase or "")) if sealed else raw,
                mode="rb",
            ) as unzipped,
            tarfile.open(fileobj=unzipped, mode="r|") as tar,
        ):
            for member in tar:
                current = member.name
                name = _safe_name(member.name)
                if not member.isfile():
                    raise InvalidInput(f"archive member {name!r} is not a regular file")
                if name in seen:
                    raise InvalidInput(f"archive member {name!r} appears twice")
                handle = tar.extractfile(member)
                assert handle is not None  # a regular file always has content
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                size = 0
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    while block := handle.read(BLOCK):
                        digest.update(block)
                        size += len(block)
                        out.write(block)
                        progress(raw.tell(), total, "checking the archive")
                seen[name] = (digest.hexdigest(), size)
            current = "the end of the archive"
            while unzipped.read(BLOCK):  # to the end, so that gzip checks its CRC and length
                pass
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise InvalidInput(
            f"{source} is damaged (while reading {current!r}): {exc}; "
            "the node was not changed, use another copy of the backup"
        ) from None
    return seen


def _verify(source: Path, staging: Path, seen: dict[str, tuple[str, int]]) -> dict[str, Any]:
    if MANIFEST not in seen:
        raise InvalidInput(f"{source} has no {MANIFEST}: not an Accord backup")
    try:
        manifest: dict[str, Any] = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"{source}: {MANIFEST} is not JSON ({exc})") from None
    if manifest.get("format") != FORMAT or manifest.get("version") not in (
        VERSION,
        UNSIGNED_VERSION,
    ):
        raise InvalidInput(
            f"{source} is not an Accord backup of format version {VERSION} "
            f"(format {manifest.get('format')!r}, version {manifest.get('version')!r})"
        )
    listed = {entry["name"]: entry for entry in manifest["members"]}
    for name, entry in listed.items():
        if name not in seen:
            raise InvalidInput(f"archive member {name!r} is listed in the manifest but missing")
        sha256, size = seen[name]
        if sha256 != entry["sha256"] or size != entry["size"]:
            raise InvalidInput(
                f"archive member {name!r} is corrupt: SHA-256 {sha256} ({size} bytes), the "
                f"manifest says {entry['sha256']} ({entry['size']} bytes); the node was not "
                "changed, use another copy of the backup"
            )
    extra = sorted(set(seen) - set(listed) - {MANIFEST})
    if extra:
        raise InvalidInput(f"archive members not in the manifest: {', '.join(extra[:5])}")
    return manifest


def _check_keys(settings: Settings, manifest: dict[str, Any]) -> None:
    """An archive in clear holds no keys: restore it only where the node's keys are."""
    names = {entry["name"] for entry in manifest["members"]}
    if any(name.startswith("keys/") for name in names):
        return
    missing = [n for n in (SIGNING_FILE, ENCRYPTION_FILE) if not (settings.keys_dir / n).is_file()]
    if missing:
        raise InvalidInput(
            f"this backup was written with --unencrypted and holds no keys; put the node's "
            f"{', '.join(missing)} in {settings.keys_dir} (mode 0600) from where you keep "
            "them, then restore again with --force; the node was not changed"
        )


def _check_revision(url: str, revision: str | None) -> None:
    if revision is None:
        return
    try:
        ScriptDirectory.from_config(alembic_config(url)).get_revision(revision)
    except CommandError:
        raise InvalidInput(
            f"the backup's schema revision {revision} is unknown to this Accord ({__version__}): "
            "restore it with the Accord version that wrote it, or a newer one"
        ) from None


def _initialised(settings: Settings, engine: Engine) -> str | None:
    """The name of the node already here, if any."""
    record = _node_record(engine)
    if record is not None:
        return record.name
    if (settings.keys_dir / SIGNING_FILE).exists():
        return f"the keys in {settings.keys_dir}"
    return None


def _restore_database(url: str, staged: Path, engine: Engine) -> None:
    if _dialect(url) == "sqlite":
        engine.dispose()
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        os.replace(staged, path)
        return
    from accord.models import Base

    with engine.begin() as connection:  # the tables of the node being replaced, if any
        Base.metadata.drop_all(connection, checkfirst=True)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    database, env = _libpq(url)
    _run(
        [
            _pg_tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            database,
            str(staged),
        ],
        env,
        "pg_restore",
    )


def _place_files(settings: Settings, staging: Path, manifest: dict[str, Any]) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.data_dir, 0o700)
    settings.keys_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.keys_dir, 0o700)
    for entry in manifest["members"]:
        name: str = entry["name"]
        if name.startswith("database/"):
            continue
        target = settings.data_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        # Blobs are merged into the folder (it may be a shared mount, and a blob's name is its
        # hash, so one already there is the same file); keys and secrets are replaced.
        os.replace(staging / name, target)
        os.chmod(target, int(entry["mode"], 8))


@contextmanager
def _staging_folder(settings: Settings) -> Iterator[Path]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".restore-", dir=settings.data_dir))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def restore_backup(
    settings: Settings,
    source: Path,
    *,
    passphrase: str | None = None,
    force: bool = False,
    accept_unsigned: bool = False,
    progress: Progress = _quiet,
    reapply: Callable[[Settings], dict[str, int]] | None = None,
) -> dict[str, Any]:
    """Restore the archive into this node's data folder and database, then migrate the schema
    to this version's head and check that the node loads and its audit chain is intact. A
    sealed archive needs its passphrase; one written in clear holds no keys, so the node's
    own keys must already be in the data folder."""
    if not source.is_file():
        raise NotFound(f"no backup archive at {source}")
    url = settings.resolved_database_url
    dialect = _dialect(url)
    engine = make_engine(url)
    try:
        present = _initialised(settings, engine)
        if present is not None and not force:
            raise Conflict(
                f"{settings.data_dir} already holds a node ({present}); restoring would "
                "replace it: pass --force if that is what you want"
            )
        with _staging_folder(settings) as staging:
            manifest = _verify(source, staging, _stage(source, staging, progress, passphrase))
            progress(source.stat().st_size, source.stat().st_size, "checked")
            _check_keys(settings, manifest)
            if manifest.get("version") == UNSIGNED_VERSION:
                if not accept_unsigned:
                    raise InvalidInput(
                        f"{source} is an unsigned backup (format version {UNSIGNED_VERSION}, "
                        "written before backups were signed): nothing proves it was not "
                        "altered; check where it came from, then restore it with "
                        "--accept-unsigned; the node was not changed"
                    )
            else:
                _check_signature(source, staging, settings, manifest)
            if manifest["database"]["dialect"] != dialect:
                raise InvalidInput(
                    f"the backup holds a {manifest['database']['dialect']} database but this "
                    f"node's store is {dialect}; set ACCORD_DATABASE_URL to a store of that kind"
                )
            _check_revision(url, manifest.get("schema_revision"))
            progress(0, None, "restoring the database")
            _restore_database(url, staging / manifest["database"]["member"], engine)
            _place_files(settings, staging, manifest)
    finally:
        engine.dispose()
    progress(1, 1, "migrating")
    upgrade(url)
    problems = _check_node(settings)
    if problems:
        raise Conflict("restored, but the audit log does not verify: " + "; ".join(problems[:5]))
    peers = _hold_until_reconciled(settings, manifest)
    # the erasures made since the backup, made again (`accord.lifecycle.journal`)
    erasures = reapply(settings) if reapply is not None else None
    return {
        "node": manifest["node"],
        "created_at": manifest["created_at"],
        "schema_revision": manifest["schema_revision"],
        "members": len(manifest["members"]),
        "database": dialect,
        "reconcile_with": peers,
        "erasures_reapplied": erasures,
    }


def _hold_until_reconciled(settings: Settings, manifest: dict[str, Any]) -> list[str]:
    """The restored node may lack what it sent its peers after the backup: until it has
    reconciled with each of them it sequences and delivers nothing (`federation.reconcile`)."""
    from accord.audit import service as audit
    from accord.federation import reconcile

    engine = make_engine(settings.resolved_database_url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            peers = reconcile.hold(session, backup_created_at=manifest.get("created_at"))
            audit.record(
                session,
                actor="system:restore",
                action="node.restored",
                outcome="ok",
                subject=manifest.get("node"),
                detail={"backup_created_at": manifest.get("created_at"), "reconcile_with": peers},
            )
            return peers
    finally:
        engine.dispose()


def _check_node(settings: Settings) -> list[str]:
    """The restored node loads (its keys are the database's) and its audit chain holds."""
    from accord.audit import service as audit
    from accord.federation.node import load_identity

    engine = make_engine(settings.resolved_database_url)
    try:
        with unit_of_work(session_factory(engine, read_only=True)) as session:
            load_identity(session, settings)
            return audit.verify(session)
    finally:
        engine.dispose()
