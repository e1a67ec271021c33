"""`accord worker`, `accord backup` and `accord restore`: running and keeping a node."""

from __future__ import annotations

import logging
import signal
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

from accord.cli.common import console, print_json, runtime_from, settings_from
from accord.core.errors import InvalidInput

log = logging.getLogger("accord.worker")


def worker(
    ctx: typer.Context,
    delivery: bool = typer.Option(True, "--delivery/--no-delivery", help="send the outbox"),
    inbox: bool = typer.Option(True, "--inbox/--no-inbox", help="process the inbox"),
    log_level: str = typer.Option("info"),
) -> None:
    """Run the delivery and inbox workers without the web server, until SIGTERM or Ctrl-C.

    On PostgreSQL run as many as you like next to `accord serve --no-workers` processes."""
    from accord.federation.workers import Workers

    if not delivery and not inbox:
        raise InvalidInput("nothing to run: pass --delivery, --inbox or both")
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = settings_from(ctx)
    runtime = runtime_from(ctx)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        node = runtime.node
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


def backup(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", help="the archive to write (.tar.gz)"),
) -> None:
    """Write one archive of the node: database, blobs, key files, and a manifest of checksums."""
    from accord.ops.backup import create_backup

    settings = settings_from(ctx)
    with _progress() as progress:
        task = progress.add_task("backup", total=None)

        def advance(done: int, total: int | None, what: str) -> None:
            progress.update(task, completed=done, total=total, description=what)

        manifest = create_backup(settings, out, progress=advance)
    console.print(
        f"[green]backup of {manifest['node']} written to {out}[/green] "
        f"({len(manifest['members'])} members, schema {manifest['schema_revision']})"
    )


def restore(
    ctx: typer.Context,
    source: Path = typer.Option(..., "--from", help="an archive written by `accord backup`"),
    force: bool = typer.Option(False, "--force", help="replace the node already here"),
) -> None:
    """Restore a node from an archive, after checking every member against the manifest."""
    from accord.ops.backup import restore_backup

    settings = settings_from(ctx)
    with _progress() as progress:
        task = progress.add_task("restore", total=None)

        def advance(done: int, total: int | None, what: str) -> None:
            progress.update(task, completed=done, total=total, description=what)

        report = restore_backup(settings, source, force=force, progress=advance)
    console.print(
        f"[green]node {report['node']} restored into {settings.data_dir}[/green] "
        f"(backup of {report['created_at']}); audit log intact"
    )
    print_json(report)
