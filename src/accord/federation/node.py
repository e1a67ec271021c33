"""Creating this node (database, keys, first API token) and loading its identity."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import make_url, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from accord.accounts.passwords import generate_password
from accord.accounts.service import create_user, issue_token
from accord.config import Settings
from accord.core.clock import utcnow
from accord.core.db import make_engine, redact_url, session_factory, unit_of_work, unreachable
from accord.core.errors import Conflict, NotInitialised
from accord.core.migrate import upgrade
from accord.core.permissions import Role
from accord.federation.keys import NodeIdentity, generate_keys, load_keys
from accord.federation.models import NodeRecord
from accord.federation.schemas import NodeCard

TOKEN_FILE = "api-token"
ADMIN_PASSWORD_FILE = "admin-password"


def init_node(
    settings: Settings, *, name: str, country: str, endpoint: str, namespace: str | None = None
) -> tuple[NodeIdentity, Path]:
    """Create the store and the node's keys; write the first API token to a 0600 file."""
    NodeCard.model_validate(
        {
            "name": name,
            "country": country,
            "endpoint": endpoint,
            "signing_key": "A" * 43 + "=",
            "encryption_key": "A" * 43 + "=",
            "fingerprint": "0" * 64,
            "namespace": namespace,
        }
    )  # the same rules a peer will apply to our card
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.data_dir, 0o700)  # cases, personal data and keys: the owner's only
    if (settings.keys_dir / "signing.key").exists():
        raise Conflict(f"{settings.data_dir} already holds a node; use another --data folder")
    (settings.data_dir / "blobs").mkdir(mode=0o700, exist_ok=True)  # attachments, by SHA-256
    url = settings.resolved_database_url
    upgrade(url)
    _private_sqlite_files(url)
    engine = make_engine(url)
    try:
        with unit_of_work(session_factory(engine)) as session:
            if session.scalar(select(NodeRecord.id)) is not None:
                raise Conflict("this database already holds a node; give another database URL")
            signing, encryption = generate_keys(settings.keys_dir)
            identity = NodeIdentity(
                name,
                country,
                endpoint,
                signing,
                encryption,
                settings.intake_unit,
                settings.data_dir,
                namespace or "",
            )
            session.add(
                NodeRecord(
                    id=1,
                    name=name,
                    country=country,
                    namespace=namespace,
                    endpoint=endpoint,
                    signing_key=identity.signing_public,
                    encryption_key=identity.encryption_public,
                    created_at=utcnow(),
                )
            )
            admin_password = generate_password(username="admin", length=18)
            admin = create_user(
                session,
                username="admin",
                display_name="Node administrator",
                role=Role.ADMINISTRATOR,
                unit="administration",
                password=admin_password,
            )
            token = issue_token(session, name="node administrator (from init)", user=admin)
    finally:
        engine.dispose()
    _private_sqlite_files(url)
    token_path = settings.data_dir / TOKEN_FILE
    write_secret(token_path, token)
    write_secret(settings.data_dir / ADMIN_PASSWORD_FILE, admin_password)
    return identity, token_path


def write_secret(path: Path, value: str) -> None:
    """A secret for the operator, in a file only its owner can read."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # O_CREAT's mode does not change a file that was already there
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")


def _private_sqlite_files(url: str) -> None:
    """The SQLite database and its journal files, readable by their owner only: they hold case
    content, personal data and password hashes."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(f"{parsed.database}{suffix}")
        if path.is_file():
            os.chmod(path, 0o600)


def load_identity(session: Session, settings: Settings) -> NodeIdentity:
    url = settings.resolved_database_url
    try:
        session.connection()  # a server that does not answer is not an empty database
    except OperationalError as exc:
        raise unreachable(url, exc) from None
    try:
        record = session.scalar(select(NodeRecord))
    except (OperationalError, ProgrammingError):
        record = None
    if record is None:
        raise NotInitialised(f"no node in {redact_url(url)}: run `accord init` first")
    signing, encryption = load_keys(settings.keys_dir)
    identity = NodeIdentity(
        record.name,
        record.country,
        record.endpoint,
        signing,
        encryption,
        settings.intake_unit,
        settings.data_dir,
        record.namespace or "",
    )
    if identity.signing_public != record.signing_key:
        raise NotInitialised(f"the keys in {settings.keys_dir} are not this node's keys")
    return identity
