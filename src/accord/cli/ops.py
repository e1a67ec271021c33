"""`accord worker`, `accord backup` and `accord restore`: running and keeping a node."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from accord.cli.common import console, node_runtime, print_json, runtime_from, settings_from
from accord.config import Settings
from accord.core.errors import DatabaseUnreachable, InvalidInput
from accord.federation.keys import NodeIdentity
from accord.runtime import Runtime

log = logging.getLogger("accord.worker")


config_app = typer.Typer(help="This node's settings.", no_args_is_help=True)


@config_app.command("reference")
def config_reference(
    write: Path = typer.Option(
        None, "--write", help="rewrite the settings table of this Markdown file in place"
    ),
) -> None:
    """The table of every ACCORD_ setting (variable, default, meaning), from the code itself."""
    from accord.ops.reference import settings_table, write_into

    if write is None:
        typer.echo(settings_table(), nl=False)
        return
    changed = write_into(write)
    console.print(f"{write}: {'settings table rewritten' if changed else 'already current'}")


def worker(
    ctx: typer.Context,
    delivery: bool = typer.Option(True, "--delivery/--no-delivery", help="send the outbox"),
    inbox: bool = typer.Option(True, "--inbox/--no-inbox", help="process the inbox"),
    log_level: str = typer.Option(None, help="debug, info, warning or error (ACCORD_LOG_LEVEL)"),
) -> None:
    """Run the delivery and inbox workers without the web server, until SIGTERM or Ctrl-C.

    On PostgreSQL run as many as you like next to `accord serve --no-workers` processes."""
    from accord.federation.workers import Workers
    from accord.ops import logs, metrics
    from accord.ops.at_rest import at_start

    if not delivery and not inbox:
        raise InvalidInput("nothing to run: pass --delivery, --inbox or both")
    settings = settings_from(ctx)
    logs.configure(settings, level=log_level)
    at_start(settings)
    runtime = runtime_from(ctx)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        node = _node_once_reachable(runtime, settings, stop)
        if node is None:
            return  # stopped while the database was still down
        logs.set_node(node.name)
        metrics.process_started()
        workers = Workers(runtime.factory, node, settings)
        workers.start(delivery=delivery, inbox=inbox)
        roles = " and ".join(r for r, on in (("delivery", delivery), ("inbox", inbox)) if on)
        log.info("worker ready: %s for node %s", roles, node.name)
        while not stop.wait(1.0):
            pass
        workers.shutdown()
        log.info(
            "worker stopped: %d envelopes delivered, %d inbox items settled",
            workers.delivered,
            workers.processed,
        )
    finally:
        runtime.close()
        metrics.process_stopped()


def _node_once_reachable(
    runtime: Runtime, settings: Settings, stop: threading.Event
) -> NodeIdentity | None:
    """The node, once its database answers: a worker started (or restarted by its supervisor)
    during a database outage waits for it, one line per backoff step, as its rounds do, instead
    of exiting; None if it is stopped first. Any other start-up error (no node here) ends it."""
    from accord.federation.workers import backoff_seconds

    failures = 0
    while True:
        try:
            return runtime.node
        except DatabaseUnreachable as exc:
            failures += 1
            wait = backoff_seconds(
                failures,
                base=settings.worker_backoff_base_seconds,
                ceiling=settings.worker_backoff_max_seconds,
            )
            log.warning("%s; retrying in %.1f s", exc, wait)
            if stop.wait(wait):
                return None


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


_PASSPHRASE_ENV = typer.Option(
    None,
    "--passphrase-env",
    metavar="VAR",
    help="read the passphrase from this environment variable instead of asking for it",
)


def _passphrase(variable: str | None, *, confirm: bool) -> str:
    """The backup passphrase: from the named variable, else asked on the terminal; with
    neither, a refusal that says what to do."""
    if variable is not None:
        value = os.environ.get(variable)
        if not value:
            raise InvalidInput(f"--passphrase-env {variable}: that variable is not set or empty")
        return value
    if not sys.stdin.isatty():
        raise InvalidInput(
            "a backup passphrase is needed and there is no terminal to ask for it: pass "
            "--passphrase-env VAR naming a variable that holds it"
        )
    value = typer.prompt("backup passphrase", hide_input=True, confirmation_prompt=confirm)
    return str(value)


def backup(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", help="the archive to write (.tar.gz.sealed)"),
    passphrase_env: str = _PASSPHRASE_ENV,
    unencrypted: bool = typer.Option(
        False,
        "--unencrypted",
        help="write the archive in clear, WITHOUT the keys and the administrator's secrets "
        "(they never leave the node in clear); restore it only where the keys are",
    ),
) -> None:
    """Write one archive of the node, sealed with a passphrase (argon2id, XSalsa20-Poly1305):
    database, blobs, key files, and a manifest of checksums."""
    from accord.ops.backup import create_backup
    from accord.ops.sealed import check_passphrase

    settings = settings_from(ctx)
    if unencrypted and passphrase_env is not None:
        raise InvalidInput("--unencrypted and --passphrase-env contradict each other; pick one")
    passphrase = None if unencrypted else _passphrase(passphrase_env, confirm=True)
    if passphrase is not None:
        check_passphrase(passphrase)
    with _progress() as progress:
        task = progress.add_task("backup", total=None)

        def advance(done: int, total: int | None, what: str) -> None:
            progress.update(task, completed=done, total=total, description=what)

        manifest = create_backup(settings, out, passphrase=passphrase, progress=advance)
    how = "encrypted" if passphrase is not None else "IN CLEAR, without keys or secrets"
    console.print(
        f"[green]backup of {manifest['node']} written to {out}[/green] ({how}; "
        f"{len(manifest['members'])} members, schema {manifest['schema_revision']})"
    )


def restore(
    ctx: typer.Context,
    source: Path = typer.Option(..., "--from", help="an archive written by `accord backup`"),
    force: bool = typer.Option(False, "--force", help="replace the node already here"),
    accept_unsigned: bool = typer.Option(
        False,
        "--accept-unsigned",
        help="restore a backup written before backups were signed (nothing proves it unaltered)",
    ),
    passphrase_env: str = _PASSPHRASE_ENV,
) -> None:
    """Restore a node from an archive, after checking every member against the manifest; an
    encrypted archive asks for its passphrase."""
    from accord.lifecycle.journal import reapply_after_restore
    from accord.ops.backup import restore_backup
    from accord.ops.sealed import is_sealed

    settings = settings_from(ctx)
    passphrase = None
    if source.is_file() and is_sealed(source):
        passphrase = _passphrase(passphrase_env, confirm=False)
    with _progress() as progress:
        task = progress.add_task("restore", total=None)

        def advance(done: int, total: int | None, what: str) -> None:
            progress.update(task, completed=done, total=total, description=what)

        report = restore_backup(
            settings,
            source,
            passphrase=passphrase,
            force=force,
            accept_unsigned=accept_unsigned,
            progress=advance,
            reapply=reapply_after_restore,
        )
    console.print(
        f"[green]node {report['node']} restored into {settings.data_dir}[/green] "
        f"(backup of {report['created_at']}); audit log intact"
    )
    print_json(report)
    if report["reconcile_with"]:
        from accord.cli.federation import reconcile_peers

        console.print(
            "[yellow]the node may have sent its peers, after this backup, cases, events and "
            "reference numbers it no longer holds: it sequences and delivers nothing until it "
            "has reconciled with " + ", ".join(report["reconcile_with"]) + "[/yellow]"
        )
        with node_runtime(ctx) as runtime:
            if not reconcile_peers(runtime):
                console.print(
                    "run `accord federation reconcile` once the peers are reachable "
                    "(`accord federation reconcile --status` shows where it stands)"
                )
