"""`accord evidence …`: checkpoints of case logs, their timestamps, and evidence packs that a
third party can verify offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.progress import (
    TaskID,
)
from rich.table import Table
from rich.text import Text

from accord.cli.common import console, counting_bar, node_runtime
from accord.core.clock import iso
from accord.evidence import checkpoints, verify_pack
from accord.evidence.models import Checkpoint
from accord.evidence.pack import AttachmentMode, export_pack, record_export
from accord.evidence.timestamps import TimestampAuthority

app = typer.Typer(help="Checkpoints, trusted timestamps and evidence packs of case logs.")


# -- checkpoints and their timestamps (issue 22, items 1 to 3) ---------------------------------


def _stamp_state(checkpoint: Checkpoint) -> str:
    if checkpoint.status == checkpoints.STAMPED:
        return f"stamped {iso(checkpoint.stamped_at) if checkpoint.stamped_at else ''}".strip()
    if not checkpoint.attempts:
        return "pending"
    due = iso(checkpoint.next_attempt_at) if checkpoint.next_attempt_at else "?"
    return f"pending: {checkpoint.attempts} attempts, next {due}: {checkpoint.last_error}"


def _row(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "tree_size": checkpoint.tree_size,
        "reason": checkpoint.reason,
        "made_by": checkpoint.made_by,
        "made_at": checkpoint.made_at,
        "root_hash": checkpoint.root_hash,
        "head_hash": checkpoint.head_hash,
        "signature": checkpoint.signature,
        "peer": checkpoint.peer,
        "peer_signature": checkpoint.peer_signature,
        "status": checkpoint.status,
        "stamped_at": iso(checkpoint.stamped_at) if checkpoint.stamped_at else None,
        "attempts": checkpoint.attempts,
        "next_attempt_at": iso(checkpoint.next_attempt_at) if checkpoint.next_attempt_at else None,
        "last_error": checkpoint.last_error,
    }


@app.command("checkpoints")
def list_checkpoints(
    ctx: typer.Context,
    reference: str = typer.Argument(..., help="the case, e.g. MLA-US-2026-000123"),
    as_json: bool = typer.Option(False, "--json", help="JSON lines instead of a table"),
) -> None:
    """The case's checkpoints held here: size, why, signatures (the maker's, the peer's) and
    the timestamp's state (stamped, or pending with its attempts and the last error)."""
    with node_runtime(ctx) as runtime, runtime.reading() as session:
        held = checkpoints.checkpoints_of(session, reference=reference)
        rows, stamps = [_row(c) for c in held], [_stamp_state(c) for c in held]
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    if not rows:
        console.print(f"no checkpoints of {reference} here yet")
        return
    table = Table("size", "reason", "made by", "made at", "root", "signed by", "timestamp")
    for row, stamp in zip(rows, stamps, strict=True):
        signed = row["made_by"] + (f" + {row['peer']}" if row["peer_signature"] else "")
        table.add_row(
            str(row["tree_size"]),
            Text(row["reason"]),
            row["made_by"],
            row["made_at"],
            row["root_hash"][:16] + "…",
            signed,
            Text(stamp),
        )
    console.print(table)


@app.command("checkpoint")
def make_checkpoint(
    ctx: typer.Context,
    reference: str = typer.Argument(..., help="a case this node sequences"),
) -> None:
    """Checkpoint the case's log head now (on its sequencer): signed, offered to the peer to
    countersign, queued for the TSA. A head already checkpointed is shown as it is."""
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        made = checkpoints.make_checkpoint(
            session, node=runtime.node, reference=reference, reason="by hand"
        )
        row = _row(made)
    console.print(
        f"checkpoint of {reference} at size {row['tree_size']}: root {row['root_hash']}, "
        f"{row['status']} ({row['reason']})"
    )


@app.command("stamp")
def stamp(ctx: typer.Context) -> None:
    """Ask the TSA now to stamp every checkpoint whose attempt is due (as the worker does);
    exit 1 if any stays pending, with the reason."""
    with node_runtime(ctx) as runtime:
        tsa = TimestampAuthority.from_settings(runtime.settings)
        with runtime.reading() as session:
            due = checkpoints.due_count(session)
        stamped = 0
        waiting: dict[str, str] = {}
        with counting_bar("stamping checkpoints") as bar:
            task = bar.add_task("stamp", total=due)
            while True:
                done = checkpoints.stamp_pending(
                    runtime.reading, runtime.transaction, tsa=tsa, settings=runtime.settings
                )
                stamped += len(done.stamped)
                for c in done.waiting:
                    waiting[f"{c.reference} at size {c.tree_size}"] = c.last_error or ""
                bar.update(task, completed=stamped + len(waiting))
                if not done.stamped:
                    break  # those left are waiting for their next attempt
    console.print(f"{stamped} checkpoints stamped, {len(waiting)} still pending")
    for what, why in waiting.items():
        console.print(f"[yellow]{what}[/yellow]: {why}")
    if waiting:
        raise typer.Exit(1)


@app.command("prove")
def prove(
    ctx: typer.Context,
    reference: str = typer.Argument(..., help="the case"),
    seq: int = typer.Argument(..., min=1, help="the event's number in the case log"),
    tree_size: int | None = typer.Option(
        None, "--tree-size", help="the checkpoint to prove it in (default: the latest)"
    ),
) -> None:
    """Print the inclusion proof (JSON) that event SEQ is in a signed checkpoint of the case,
    without the other events: the checkpoint's document, both signatures, its timestamp token,
    the event's hash and its RFC 9162 audit path."""
    with node_runtime(ctx) as runtime, runtime.reading() as session:
        proof = checkpoints.prove_event(session, reference=reference, seq=seq, tree_size=tree_size)
    typer.echo(json.dumps(proof, ensure_ascii=False, indent=2))


# -- evidence packs (issue 22, items 4 to 6) -------------------------------------------------


@app.command("export")
def export(
    ctx: typer.Context,
    reference: str = typer.Argument(..., help="the case, e.g. MLA-US-2026-000123"),
    out: Path | None = typer.Option(None, "--out", help="the archive (default REFERENCE.zip)"),
    attachments: AttachmentMode = typer.Option(
        AttachmentMode.FULL,
        "--attachments",
        help="full: the files whose handling code lets them leave (the others by hash); "
        "hashes: every file by its SHA-256 only",
    ),
) -> None:
    """Write the case's evidence pack: log, envelopes, receipts, checkpoints and timestamps,
    attachments, both nodes' keys, a bilingual report, and the offline verifier."""
    target = out or Path(f"{reference}.zip")
    with node_runtime(ctx) as runtime:
        with (
            runtime.reading() as session,
            counting_bar() as bar,
        ):
            tasks: dict[str, TaskID] = {}

            def progress(step: str, done: int, total: int) -> None:
                if step not in tasks:
                    tasks[step] = bar.add_task(step, total=total)
                bar.update(tasks[step], completed=done, total=total)

            written = export_pack(
                session,
                node=runtime.node,
                settings=runtime.settings,
                reference=reference,
                out=target,
                attachments=attachments,
                progress=progress,
            )
        with runtime.transaction() as session:
            record_export(session, written=written)
    console.print(
        f"{written.path}: {written.events} events, {written.checkpoints} checkpoints, "
        f"{written.envelopes} envelopes, {written.receipts} receipts, {written.attachments} "
        f"attachments (+{written.attachments_by_hash} by hash), {written.erased_parts} erased "
        f"parts, {written.size} bytes"
    )


@app.command("verify")
def verify(
    pack: Path = typer.Argument(..., help="an evidence pack (accord evidence export)"),
    tsa_ca: Path | None = typer.Option(
        None, "--tsa-ca", help="PEM file of the CA certificates you trust for the TSA"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
) -> None:
    """Check a pack offline, as its own verify_pack.py does (the same code): exit 0 when
    everything verifies, 1 when something does not (each problem named)."""
    arguments = [str(pack), *(["--tsa-ca", str(tsa_ca)] if tsa_ca else [])]
    status = verify_pack.main([*arguments, *(["--json"] if as_json else [])])
    if status:
        raise typer.Exit(status)
