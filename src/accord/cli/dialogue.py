"""`accord dialogue …`: mechanisms, rounds, the briefing pack, the scorecard and the stuck cases.

Steps on a round (agenda items, outcomes, holding, concluding) are case actions:
`accord case act RND-… record_outcome --data outcome.json`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import typer
from rich.table import Table

from accord.cli.common import console, node_runtime, print_json
from accord.core.clock import utcnow
from accord.core.errors import InvalidInput
from accord.dialogue import brief as briefing
from accord.dialogue import service
from accord.dialogue.schemas import MechanismIn, RoundIn
from accord.federation.peers import list_peers

app = typer.Typer(
    help="The dialogue: mechanisms, rounds, briefing pack, scorecard, stuck cases.",
    no_args_is_help=True,
)
mechanism_app = typer.Typer(help="The dialogue mechanisms.", no_args_is_help=True)
round_app = typer.Typer(
    help="Rounds and their agreed outcomes (steps: `accord case act RND-… ACTION`).",
    no_args_is_help=True,
)
app.add_typer(mechanism_app, name="mechanism")
app.add_typer(round_app, name="round")


@mechanism_app.command("list")
def mechanism_list(ctx: typer.Context) -> None:
    """The mechanisms (the four of the dialogue by default)."""
    with node_runtime(ctx) as runtime, runtime.reading() as session:
        table = Table("code", "English", "中文", "active")
        for m in service.list_mechanisms(session):
            table.add_row(m.code, m.en, m.zh, "yes" if m.active else "no")
    console.print(table)


@mechanism_app.command("add")
def mechanism_add(
    ctx: typer.Context,
    code: str,
    en: str = typer.Option(..., help="English name"),
    zh: str = typer.Option(..., help="Chinese name"),
) -> None:
    """Add a mechanism (or rename and reactivate one with the same code)."""
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        row = service.add_mechanism(session, mechanism=MechanismIn(code=code, en=en, zh=zh))
        console.print(f"mechanism [green]{row.code}[/green]: {row.en} / {row.zh}")


@mechanism_app.command("retire")
def mechanism_retire(ctx: typer.Context, code: str) -> None:
    """No new rounds of this mechanism; its rounds keep their record."""
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        service.retire_mechanism(session, code=code)
    console.print(f"mechanism {code} retired")


@round_app.command("open")
def round_open(
    ctx: typer.Context,
    peer: str = typer.Option(..., help="the guest side's node"),
    mechanism: str = typer.Option("law_enforcement_cyber"),
    number: int = typer.Option(..., help="the round's number within its mechanism"),
    starts_on: str = typer.Option(..., "--starts-on", help="YYYY-MM-DD"),
    ends_on: str = typer.Option(None, "--ends-on", help="YYYY-MM-DD"),
    venue: str = typer.Option(...),
    host_cochair: str = typer.Option(..., "--host-cochair"),
    guest_cochair: str = typer.Option(..., "--guest-cochair"),
    officer: str = typer.Option("cli"),
) -> None:
    """Open a round hosted by this node; this node sequences its joint record."""
    round_in = RoundIn(
        peer=peer,
        mechanism=mechanism,
        number=number,
        starts_on=_day(starts_on),
        ends_on=_day(ends_on) if ends_on else None,
        venue=venue,
        host_cochair=host_cochair,
        guest_cochair=guest_cochair,
    )
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        case = service.open_round(session, node=runtime.node, round_in=round_in, officer=officer)
        console.print(f"[green]{case.reference}[/green] {case.title}")


@round_app.command("list")
def round_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """Every round, newest first, with its outcome count."""
    with node_runtime(ctx) as runtime, runtime.reading() as session:
        rounds = service.list_rounds(session)
    if as_json:
        print_json([r.model_dump(mode="json") for r in rounds])
        return
    table = Table("reference", "mechanism", "round", "starts", "host", "guest", "state", "outcomes")
    for r in rounds:
        table.add_row(
            r.reference, r.mechanism, str(r.number), str(r.starts_on), r.host, r.guest,
            r.state, str(len(r.outcomes)),
        )  # fmt: skip
    console.print(table)


@round_app.command("show")
def round_show(
    ctx: typer.Context, reference: str, as_json: bool = typer.Option(False, "--json")
) -> None:
    """The round: details, agenda and agreed outcomes with their status."""
    with node_runtime(ctx) as runtime, runtime.reading() as session:
        r = service.get_round(session, reference)
    if as_json:
        print_json(r.model_dump(mode="json"))
        return
    console.print(f"[bold]{r.mechanism_en}, round {r.number}[/bold] ({r.reference}, {r.state})")
    console.print(
        f"{r.starts_on} {r.venue}; host {r.host} ({r.host_cochair}), "
        f"guest {r.guest} ({r.guest_cochair})"
    )
    table = Table("#", "outcome", "owner", "due", "status", "cases")
    for o in r.outcomes:
        status = f"[red]{o.status} (overdue)[/red]" if o.overdue else o.status
        table.add_row(str(o.number), o.text_en, o.owner, str(o.due), status, ", ".join(o.cases))
    console.print(table)


@app.command("brief")
def brief(
    ctx: typer.Context,
    round_reference: str = typer.Option(..., "--round", help="the round's reference, RND-…"),
    lang: str = typer.Option("en", "--lang", help="en or zh"),
    out: Path = typer.Option(..., "--out", help="FILE.pdf or FILE.html"),
    start: str = typer.Option(
        None, "--from", help="YYYY-MM-DD (default: since the previous round)"
    ),
    end: str = typer.Option(None, "--to", help="YYYY-MM-DD, exclusive (default: the round's day)"),
) -> None:
    """Write the round's briefing pack: outcomes, the scorecard with charts, stuck cases."""
    if out.suffix.lower() not in (".pdf", ".html"):
        raise InvalidInput(f"{out}: the briefing pack is written as .pdf or .html")
    if lang not in ("en", "zh"):
        raise InvalidInput(f"--lang {lang!r}: en or zh")
    with (
        console.status("computing the scorecard and drawing the charts"),
        node_runtime(ctx) as runtime,
        runtime.reading() as session,
    ):
        pack = briefing.build(
            session,
            reference=round_reference,
            lang="zh" if lang == "zh" else "en",
            start=_date(start) if start else None,
            end=_date(end) if end else None,
        )
    with console.status(f"writing {out.name}"):
        if out.suffix.lower() == ".pdf":
            out.write_bytes(briefing.to_pdf(pack))
        else:
            out.write_text(briefing.to_html(pack), encoding="utf-8")
    console.print(f"briefing pack of {round_reference} ({lang}) written to {out}")


def _day(text: str) -> date:
    return _date(text).date()


def _date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _shown(value: object) -> str:
    """A figure as printed: a dash when there is none (a zero is a figure)."""
    return "—" if value is None else str(value)


@app.command("scorecard")
def scorecard(
    ctx: typer.Context,
    start: str = typer.Option(None, "--from", help="YYYY-MM-DD (default: 90 days ago)"),
    end: str = typer.Option(None, "--to", help="YYYY-MM-DD, exclusive (default: now)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Figures per area and side from the case logs, with the previous period for the trend."""
    until = _date(end) if end else utcnow()
    since = _date(start) if start else until - timedelta(days=90)
    with node_runtime(ctx) as runtime, runtime.reading() as session:
        nodes = [runtime.node.name, *(p.name for p in list_peers(session))]
        card = service.scorecard(session, nodes=nodes, start=since, end=until)
        waiting = service.stuck_cases(session, nodes=nodes, now=until)
    if as_json:
        print_json({**card, "stuck": waiting})
        return
    table = Table(
        "area",
        "side",
        "sent",
        "received",
        "1st response (median d)",
        "completion rate",
        "refusal rate",
        "overdue",
    )
    for area, sides in card["areas"].items():
        for node, figures in sides.items():
            now = figures["current"]
            table.add_row(
                area,
                node,
                str(now["sent"]["value"]),
                str(now["received"]["value"]),
                _shown(now["first_response_median_days"]["value"]),
                _shown(now["completion_rate"]["value"]),
                _shown(now["refusal_rate"]["value"]),
                str(now["overdue"]["value"]),
            )
    console.print(f"scorecard {since:%Y-%m-%d} – {until:%Y-%m-%d}")
    console.print(table)
    for node, cases in waiting.items():
        console.print(f"stuck on {node}: " + (", ".join(c["reference"] for c in cases) or "none"))
