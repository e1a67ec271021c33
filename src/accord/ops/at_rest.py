"""The node's data at rest: the data folder only its owner may enter, every file Accord writes
there readable by its owner only, and a node that will not start while a secret is exposed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import make_url

from accord.config import Settings
from accord.core.errors import NotInitialised
from accord.federation.keys import ENCRYPTION_FILE, SIGNING_FILE
from accord.federation.node import ADMIN_PASSWORD_FILE, TOKEN_FILE

FOLDER_MODE = 0o700
FILE_MODE = 0o600
PRIVATE_UMASK = 0o077
"""Files and folders a process creates are its owner's only (0600 and 0700)."""
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_umask() -> None:
    """Make everything this process creates from now on private to its owner."""
    os.umask(PRIVATE_UMASK)


def sqlite_file(settings: Settings) -> Path | None:
    """The SQLite database file of the node, if its store is SQLite."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def secret_files(settings: Settings) -> list[tuple[Path, str]]:
    """The files whose content must stay with the node's owner, with what each holds."""
    files = [
        (settings.keys_dir / SIGNING_FILE, "the node's private signing key"),
        (settings.keys_dir / ENCRYPTION_FILE, "the node's private encryption key"),
        (settings.data_dir / ADMIN_PASSWORD_FILE, "the administrator's password"),
        (settings.data_dir / TOKEN_FILE, "the administrator's API token"),
    ]
    database = sqlite_file(settings)
    if database is not None:
        files.append((database, "the database (cases, personal data, password hashes)"))
    return files


def exposed_secrets(settings: Settings) -> list[tuple[Path, str, int]]:
    """Secret files that group or others may read or write: (path, what, mode)."""
    found: list[tuple[Path, str, int]] = []
    for path, what in secret_files(settings):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            found.append((path, what, mode))
    return found


def _tighten(path: Path, mode: int) -> None:
    try:
        if stat.S_IMODE(path.lstat().st_mode) & ~mode and not path.is_symlink():
            os.chmod(path, mode)
    except FileNotFoundError:
        pass


def tighten(settings: Settings) -> None:
    """Close what an older node left open: the data and keys folders to 0700; the SQLite
    journal files and every blob to 0600. Secret files are left as they are: one that others
    could read is for the operator to see (`refuse_exposed_secrets`)."""
    if settings.data_dir.is_dir():
        _tighten(settings.data_dir, FOLDER_MODE)
    if settings.keys_dir.is_dir():
        _tighten(settings.keys_dir, FOLDER_MODE)
    database = sqlite_file(settings)
    if database is not None:
        for suffix in SQLITE_COMPANIONS:
            _tighten(Path(str(database) + suffix), FILE_MODE)
    blobs = settings.data_dir / "blobs"
    if blobs.is_dir():
        for folder, _, names in os.walk(blobs):
            _tighten(Path(folder), FOLDER_MODE)
            for name in names:
                _tighten(Path(folder) / name, FILE_MODE)


def refuse_exposed_secrets(settings: Settings) -> None:
    """Refuse to run while a secret file is readable by group or others, naming each file and
    the command that closes it."""
    found = exposed_secrets(settings)
    if not found:
        return
    lines = [f"{path} (mode {mode:04o}) holds {what}" for path, what, mode in found]
    command = "chmod 600 " + " ".join(str(path) for path, _, _ in found)
    raise NotInitialised(
        "refusing to start: secret files are readable by other users of this machine: "
        + "; ".join(lines)
        + f". Run `{command}` and start again; a key others could read may have been copied: "
        "rotate it (docs/deploy.md, key rotation)"
    )


def at_start(settings: Settings) -> None:
    """What `serve`, `worker` and `init` do first: a private umask, older files tightened,
    and no start while a secret is exposed."""
    private_umask()
    tighten(settings)
    refuse_exposed_secrets(settings)
