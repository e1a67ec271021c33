"""`accord dialogue …`: the scorecard and the stuck cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import typer
from rich.table import Table

from accord.cli.common import console, node_runtime, print_json
from accord.core.clock import utcnow
from accord.core.errors import InvalidInput
from accord.dialogue import service
from accord.federation.peers import list_peers

app = typer.Typer(help="The dialogue: scorecard and stuck cases.", no_args_is_help=True)


def _date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a date (YYYY-MM-DD)") from None


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
                str(now["first_response_median_days"]["value"] or "—"),
                str(now["completion_rate"]["value"] or "—"),
                str(now["refusal_rate"]["value"] or "—"),
                str(now["overdue"]["value"]),
            )
    console.print(f"scorecard {since:%Y-%m-%d} – {until:%Y-%m-%d}")
    console.print(table)
    for node, cases in waiting.items():
        console.print(f"stuck on {node}: " + (", ".join(c["reference"] for c in cases) or "none"))
