"""`accord retention …`: the agreed retention periods, the dry run, the erasure run and its
scheduled worker, and legal holds on cases."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import typer

from accord.cli.common import console, counting_bar, node_runtime, print_json
from accord.core.clock import parse_iso, utcnow
from accord.core.errors import InvalidInput
from accord.lifecycle import retention

app = typer.Typer(help="Retention of personal data, erasure runs and legal holds.")


def _moment(at: str | None) -> datetime:
    if at is None:
        return utcnow()
    try:
        return parse_iso(at)
    except ValueError:
        raise InvalidInput(f"--at {at!r} is not a date and time (2031-01-01T00:00:00Z)") from None


@app.command("agree")
def agree(
    ctx: typer.Context,
    peer: str = typer.Option(..., help="the peer whose agreement this is"),
    case_type: str = typer.Option(..., help="mla, fugitive, removal…"),
    state: str = typer.Option(..., help="a final state: closed, refused, withdrawn…"),
    days: int = typer.Option(..., help="days after reaching that state the personal data is kept"),
) -> None:
    """Record a retention period in the agreement with a peer (both sides record the same)."""
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        agreement = retention.agree_retention(
            session, peer=peer, case_type=case_type, state=state, days=days
        )
    print_json(agreement.get("retention", {}))


@app.command("plan")
def plan(
    ctx: typer.Context,
    at: str | None = typer.Option(None, help="plan for this moment instead of now (ISO 8601)"),
) -> None:
    """Dry run: list the cases whose personal data a run would erase, and why. Erases nothing."""
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        due = retention.plan(session, node=runtime.node, now=_moment(at))
    print_json({"due": [d.as_json() for d in due], "count": len(due)})


@app.command("apply")
def apply(
    ctx: typer.Context,
    at: str | None = typer.Option(None, help="run as at this moment instead of now (ISO 8601)"),
) -> None:
    """Erase the personal data of every case the plan lists (not those under legal hold)."""
    with (
        node_runtime(ctx) as runtime,
        counting_bar(remaining=True, transient=False) as bar,
    ):
        task = bar.add_task("cases examined", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        erased, left = retention.apply(
            runtime.transaction, node=runtime.node, now=_moment(at), progress=progress
        )
    print_json(
        {
            "erased": [d.reference for d in erased],
            "held": [{"reference": d.reference, "hold": d.held} for d in left if d.held],
            "refused": [{"reference": d.reference, "reason": d.refused} for d in left if d.refused],
        }
    )


@app.command("worker")
def worker(
    ctx: typer.Context,
    every: float = typer.Option(3600.0, help="seconds between runs"),
    once: bool = typer.Option(False, help="run once and stop"),
) -> None:
    """Run `retention apply` on a schedule, until Ctrl-C."""
    stop = threading.Event()
    while True:
        with node_runtime(ctx) as runtime:
            erased, left = retention.apply(runtime.transaction, node=runtime.node, now=utcnow())
        console.print(retention.summary(erased, left))
        if once:
            return
        try:
            stop.wait(every)
        except KeyboardInterrupt:
            return


@app.command("hold")
def hold(
    ctx: typer.Context,
    reference: str,
    reason: str = typer.Option(..., help="why the case must be kept (the court order…)"),
    officer: str = typer.Option("cli"),
) -> None:
    """Place a legal hold on a case: retention leaves it alone until the hold is lifted."""
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        acted = retention.place_hold(
            session, node=runtime.node, reference=reference, reason=reason, officer=officer
        )
    console.print(f"{reference}: legal hold {'placed' if acted.event else 'sent to the sequencer'}")


@app.command("lift")
def lift(
    ctx: typer.Context,
    reference: str,
    reason: str = typer.Option(..., help="why the hold ends"),
    officer: str = typer.Option("cli"),
) -> None:
    """Lift the legal hold on a case."""
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        acted = retention.lift_hold(
            session, node=runtime.node, reference=reference, reason=reason, officer=officer
        )
    console.print(f"{reference}: legal hold {'lifted' if acted.event else 'lift sent'}")


@app.command("subject-access")
def subject_access(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="a name or number of the person, as held"),
    pdf: Path | None = typer.Option(
        None, help="also write the export as a bilingual (English/Chinese) PDF to this file"
    ),
) -> None:
    """Everything this node holds about one person (cases, events, attachments' metadata,
    identity records, screening jobs, audit entries), as JSON; erased parts listed, not shown."""
    from accord.lifecycle.subject import subject_access as export
    from accord.lifecycle.subject import to_pdf

    with node_runtime(ctx) as runtime, runtime.reading() as session:
        document = export(session, query=query, node_name=runtime.node.name)
    if pdf is not None:
        pdf.write_bytes(to_pdf(document))
        typer.echo(f"subject access PDF written to {pdf}", err=True)
    print_json(document)
