"""`accord case …`: open, act on, show, list and verify cases."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.progress import (
    TaskID,
)
from rich.table import Table

from accord.cases import notices, service
from accord.cases.diagram import render_svg
from accord.cases.enums import Area, HandlingCode, Priority
from accord.cases.schemas import EventOut
from accord.cli.common import console, counting_bar, node_runtime, print_json, read_json
from accord.composition import assemble
from accord.core.clock import parse_duration, utcnow
from accord.core.errors import InvalidInput
from accord.federation.client import asker
from accord.idempotency import service as idempotency

app = typer.Typer(help="Cases.", no_args_is_help=True)


KEY_HELP = (
    "a key of your choosing (a UUID), new for each new command: run again with the same key "
    "and the same arguments, the command is answered as the first time and nothing is done twice"
)


def _replayed(key: str | None) -> None:
    console.print(f"[dim](answered before with idempotency key {key}: nothing done again)[/dim]")


@app.command("new")
def new(
    ctx: typer.Context,
    case_type: str = typer.Argument(..., help="mla"),
    peer: str = typer.Option(..., help="the requested node"),
    title: str = typer.Option(...),
    details: str = typer.Option(..., help="JSON file (or - or inline JSON) of the opening details"),
    area: Area = typer.Option(Area.JUDICIAL_ASSISTANCE),
    priority: Priority = typer.Option(Priority.ROUTINE),
    handling_code: HandlingCode = typer.Option(HandlingCode.H0),
    officer: str = typer.Option("cli", help="who opens it"),
    idempotency_key: str | None = typer.Option(None, help=KEY_HELP),
) -> None:
    """Open a case requesting assistance from a peer; it starts as a local draft."""
    opening = read_json(details)
    keyed = idempotency.keyed_request(
        idempotency_key,
        scope=idempotency.operator_scope(officer),
        method="CLI",
        target="accord case new",
        body={
            "case_type": case_type,
            "peer": peer,
            "title": title,
            "details": opening,
            "area": area.value,
            "priority": priority.value,
            "handling_code": handling_code.value,
        },
    )
    with node_runtime(ctx) as runtime, runtime.transaction() as session:

        def perform() -> idempotency.Answer:
            case = service.open_case(
                session,
                node=runtime.node,
                case_type=case_type,
                peer=peer,
                area=area,
                priority=priority,
                handling_code=handling_code,
                title=title,
                details=opening,
                officer=officer,
            )
            return idempotency.Answer(0, {"reference": case.reference, "state": case.state})

        answered = idempotency.once(
            session, request=keyed, lifetime=runtime.settings.idempotency_lifetime, perform=perform
        )
    opened = answered.answer.body
    console.print(f"[green]{opened['reference']}[/green] opened ({opened['state']})")
    if answered.replayed:
        _replayed(idempotency_key)


def _notice_file(source: str) -> bytes:
    """The notice file's bytes as received (a path, or - for standard input)."""
    if source == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(source).read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"no such file: {source}") from None
    except IsADirectoryError:
        raise InvalidInput(f"{source} is a folder, not a notice file") from None


_OUTCOME_STYLE = {
    notices.OPENED: "green",
    notices.LINKED: "cyan",
    notices.UPDATED: "yellow",
    notices.REFUSED: "red",
}


@app.command("import-notice")
def import_notice(
    ctx: typer.Context,
    notice: str = typer.Argument(
        ...,
        help="a file of INTERPOL's public notices API: a red or yellow notice, or a search page",
    ),
    peer: str = typer.Option(..., help="the node asked to locate the person"),
    priority: Priority = typer.Option(Priority.URGENT),
    handling_code: HandlingCode = typer.Option(HandlingCode.H2),
    officer: str = typer.Option("cli"),
) -> None:
    """Open a fugitive case per notice of the file (red: wanted; yellow: missing), or link to
    the case that already holds the notice, or update it from a newer one. The file is kept on
    the case byte for byte, with its SHA-256."""
    raw = _notice_file(notice)
    with (
        node_runtime(ctx) as runtime,
        runtime.transaction() as session,
        counting_bar() as bar,
    ):
        task: list[TaskID] = []

        def progress(done: int, total: int) -> None:
            if not task:
                task.append(bar.add_task("Importing notices", total=total))
            bar.update(task[0], completed=done, total=total)

        imported = notices.import_notices(
            session,
            node=runtime.node,
            peer=peer,
            raw=raw,
            priority=priority,
            handling_code=handling_code,
            officer=officer,
            progress=progress,
        )
        lines = [
            (o.outcome, o.case.reference if o.case else "", o.case.state if o.case else "", o)
            for o in imported.outcomes
        ]
    console.print(f"{imported.file.shape.value}, SHA-256 {imported.file.sha256}")
    for outcome, reference, state, item in lines:
        style = _OUTCOME_STYLE[outcome]
        where = f"{item.position}: " if item.position else ""
        if reference:
            what = f"[{style}]{reference}[/{style}] {outcome} ({state})"
        else:
            what = f"[{style}]{outcome}[/{style}]"
        console.print(f"{where}{what}: {item.explanation}")
    refused = sum(1 for o in imported.outcomes if o.outcome == notices.REFUSED)
    if refused:
        console.print(f"[red]{refused} of {len(imported.outcomes)} notices refused[/red]")
        raise typer.Exit(2)


@app.command("act")
def act(
    ctx: typer.Context,
    reference: str,
    action: str,
    data: str = typer.Option("{}", "--data", help="JSON file (or - or inline JSON) of the payload"),
    officer: str = typer.Option("cli"),
    idempotency_key: str | None = typer.Option(None, help=KEY_HELP),
) -> None:
    """Take an action; applied here if this node sequences the case, else sent as pending."""
    payload = read_json(data)
    keyed = idempotency.keyed_request(
        idempotency_key,
        scope=idempotency.operator_scope(officer),
        method="CLI",
        target=f"accord case act {reference}",
        body={"action": action, "payload": payload},
    )
    with node_runtime(ctx) as runtime, runtime.transaction() as session:

        def perform() -> idempotency.Answer:
            acted = service.act(
                session,
                node=runtime.node,
                reference=reference,
                action=action,
                payload=payload,
                officer=officer,
            )
            return idempotency.Answer(
                0,
                {
                    "applied": acted.event is not None,
                    "seq": acted.event.seq if acted.event is not None else None,
                    "state": acted.case.state,
                    "sequencer": acted.case.sequencer,
                },
            )

        answered = idempotency.once(
            session, request=keyed, lifetime=runtime.settings.idempotency_lifetime, perform=perform
        )
    done = answered.answer.body
    if done["applied"]:
        console.print(
            f"{reference}: [green]{action}[/green] applied as event {done['seq']}; "
            f"state {done['state']}"
        )
    else:
        console.print(
            f"{reference}: [yellow]{action}[/yellow] sent to {done['sequencer']}, "
            "pending until it is applied"
        )
    if answered.replayed:
        _replayed(idempotency_key)


@app.command("show")
def show(ctx: typer.Context, reference: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """The case, its open deadlines, what this side may do next, and its log."""
    with node_runtime(ctx) as runtime, runtime.reading() as session:
        case = service.get_case(session, reference=reference)
        view = service.describe(session, case=case, node_name=runtime.node.name)
        events = [
            EventOut.model_validate(e) for e in service.case_log(session, reference=reference)
        ]
    if as_json:
        print_json({**view.model_dump(mode="json"), "log": [e.model_dump() for e in events]})
        return
    console.print(f"[bold]{view.reference}[/bold] {view.title}")
    console.print(
        f"{view.case_type} · {view.area} · {view.priority} · {view.handling_code} · "
        f"{view.requesting_node} → {view.requested_node} · we are the {view.side.value} side"
    )
    console.print(
        f"state [bold]{view.state}[/bold] ({view.state_zh}) · {view.event_count} events "
        f"· head {view.head_hash[:16]}…"
    )
    for d in view.deadlines:
        flag = "[red]OVERDUE[/red] " if d.overdue else ""
        console.print(
            f"  deadline {flag}{d.name}: {d.owner.value} side by {d.due_at:%Y-%m-%d %H:%M}"
        )
    for p in view.pending:
        console.print(f"  pending {p.action}: {p.status} {p.reason or ''}")
    console.print("  may now: " + (", ".join(a.name for a in view.available_actions) or "nothing"))
    table = Table("#", "when", "side", "by", "action", "state", "hash")
    for e in events:
        table.add_row(
            str(e.seq),
            e.occurred_at[:19],
            e.side,
            f"{e.actor_node}/{e.actor_officer}",
            e.action,
            e.state_after,
            e.hash[:12],
        )
    console.print(table)


@app.command("list")
def list_(
    ctx: typer.Context,
    state: str = typer.Option(None),
    case_type: str = typer.Option(None, "--type"),
    due: bool = typer.Option(False, "--due", help="only overdue cases and those due soon"),
    within: str = typer.Option("7d", help="with --due: how soon, e.g. 48h, 7d"),
    limit: int = typer.Option(50),
) -> None:
    """Cases on this node: most recently changed first, or with --due the deadlines, soonest
    first, with the side that must act."""
    try:
        due_within = parse_duration(within) if due else None
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    now = utcnow()
    with node_runtime(ctx) as runtime, runtime.reading() as session:
        rows, total = service.list_cases(
            session, state=state, case_type=case_type, due_within=due_within, limit=limit
        )
        table = Table("reference", "type", "peer", "state", "events", "next deadline", "title")
        for c in rows:
            deadlines = service.open_deadlines(c)
            upcoming = ""
            if deadlines:
                first = deadlines[0]
                flag = "[red]OVERDUE[/red] " if first.due_at < now else ""
                waiting = (
                    c.requesting_node if first.owner.value == "requesting" else c.requested_node
                )
                upcoming = f"{flag}{first.name} {first.due_at:%Y-%m-%d %H:%M} ({waiting})"
            table.add_row(
                c.reference, c.case_type, c.peer, c.state, str(c.event_count), upcoming, c.title
            )
    console.print(table)
    console.print(f"{len(rows)} of {total}")


@app.command("verify")
def verify(ctx: typer.Context, reference: str) -> None:
    """Ask the peer for its log head and say whether both logs are identical (exit 1 if not)."""
    with node_runtime(ctx) as runtime:
        node = runtime.node
        with runtime.reading() as session:
            result = service.verify(
                session,
                node=node,
                reference=reference,
                ask=asker(session, node),
            )
    colour = "green" if result.identical else "red"
    console.print(f"[{colour}]{reference}: {result.explanation}[/{colour}]")
    console.print(f"  here ({node.name}): {result.local_count} events, head {result.local_head}")
    if result.peer_head:
        console.print(f"  {result.peer}: {result.peer_count} events, head {result.peer_head}")
    if not result.identical:
        raise typer.Exit(1)


@app.command("diagram")
def diagram(
    case_type: str = typer.Argument(..., help="mla, fugitive, asset, removal, intel or cyber"),
    out: Path = typer.Option(..., help="the SVG file to write"),
    state: str = typer.Option(None, help="highlight this state"),
    lang: str = typer.Option("en", help="en or zh"),
) -> None:
    """Draw a case type's workflow as SVG (generated from its declaration)."""
    if lang not in ("en", "zh"):
        raise InvalidInput("--lang must be en or zh")
    workflow = assemble().case_types.workflow(case_type)
    if state:
        workflow.state(state)  # a clear error for an unknown state
    out.write_text(render_svg(workflow, current=state, lang="en" if lang == "en" else "zh"))
    console.print(f"{case_type} workflow written to {out}")
