"""`accord screen`: screen a file of persons against a watchlist file; `accord identity …`: the
node's records (import, export) and the proposals made on removal batches and fugitive notices."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import (
    TaskID,
)

from accord.cli.common import console, counting_bar, node_runtime, print_json
from accord.identity.linkage.score import Parameters
from accord.identity.screening import Thresholds, screen_files

_STAGES = {"watchlist": "indexing the watchlist", "input": "screening"}
_FORMATS = "csv, jsonl, parquet or ftm (FollowTheMoney entities, JSON lines)"
_UNIT_HELP = (
    "the unit whose watchlist this is (default: the intake unit, ACCORD_INTAKE_UNIT); each "
    "unit's officers screen against their own"
)

app = typer.Typer(
    help="Identity: this node's records, and screening proposals on cases.", no_args_is_help=True
)


def screen(
    watchlist: Path = typer.Option(..., "--watchlist", help="watchlist: .csv, .jsonl or .parquet"),
    input_path: Path = typer.Option(
        ..., "--input", help="persons to screen: .csv, .jsonl or .parquet"
    ),
    out: Path = typer.Option(..., "--out", help="candidates CSV to write"),
    match: float = typer.Option(0.85, help="score from which a candidate is the match"),
    possible: float = typer.Option(0.05, help="score from which a candidate is listed"),
    per_query: int = typer.Option(10, help="candidates listed per person at most"),
    prevalence: float = typer.Option(
        0.5, min=0.000001, max=0.999999, help="share of screened persons expected on the list"
    ),
) -> None:
    """Screen persons against a watchlist across scripts and romanisations.

    Both files have the columns id, name (may carry "a.k.a." aliases), name_native, aliases
    and weak_aliases (; between names), birth_date (1970-05-12, 1970, 12 May 1970, circa 1970,
    1968 to 1970), sex, nationality (code or name), id_number (PRC, Hong Kong, Macau, Taiwan),
    passport_number (E12345678 (China)), birth_place, address; all but id and name may be empty.
    Rows sharing an id, and alias rows <id>-AKA1, are one person.
    Writes query_id, candidate_id, score, decision (match or possible), explanation. Bad rows
    are reported in <out>.problems.csv and do not stop the batch.
    """
    thresholds = Thresholds(match=match, possible=possible, per_query=per_query)
    with counting_bar(remaining=True, transient=False) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        summary = screen_files(
            watchlist,
            input_path,
            out,
            parameters=Parameters(prevalence=prevalence),
            thresholds=thresholds,
            progress=progress,
        )
    console.print(
        f"screened {summary.queries} persons against {summary.watchlist_records} records: "
        f"{summary.matches} matches, {summary.possibles} possible; written to {out}"
    )
    if summary.problems_path is not None:
        console.print(
            f"[yellow]{summary.problems} problems ({summary.rows_skipped} rows skipped), "
            f"each with its row and field, in {summary.problems_path}[/yellow]"
        )


@app.command("import")
def import_(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="the persons to add to this node's records"),
    fmt: str = typer.Option(None, "--format", help=f"{_FORMATS} (default: from the name)"),
    unit: str = typer.Option(None, help=_UNIT_HELP),
) -> None:
    """Add persons to one unit's records, or replace them by id. Bad lines are reported with
    their line and field, and the import goes on."""
    from accord.identity import service

    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        held_by = unit or runtime.settings.intake_unit
        added, updated, problems = service.import_records(
            session, path=path, kind=fmt, unit=held_by
        )
        size = service.watchlist_size(session, unit=held_by)
    for p in problems:
        console.print(f"[yellow]{p.action}[/yellow] {p.field or '-'}: {p.message}")
    console.print(f"{added} added, {updated} updated; {size} records held by {held_by}")


@app.command("export")
def export(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="file to write, or - for standard output"),
    fmt: str = typer.Option("ftm", "--format", help="csv, jsonl or ftm"),
    unit: str = typer.Option(None, help=_UNIT_HELP),
) -> None:
    """Write one unit's records as CSV, JSON lines or FollowTheMoney Person entities."""
    import sys

    from accord.identity import service

    with node_runtime(ctx) as runtime, runtime.reading() as session:
        held_by = unit or runtime.settings.intake_unit
        if str(out) == "-":
            service.export_records(session, out=sys.stdout, kind=fmt, unit=held_by)
            return
        with out.open("w", encoding="utf-8", newline="") as f:
            count = service.export_records(session, out=f, kind=fmt, unit=held_by)
    console.print(f"{count} records written to {out}")


@app.command("screen")
def screen_case(
    ctx: typer.Context,
    reference: str,
    officer: str = typer.Option("cli", help="who asks for the screening"),
) -> None:
    """Screen a removal batch or fugitive notice again against this node's records (done by
    itself when the case arrives); confirmed proposals are kept."""
    from accord.identity import integration

    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        job = integration.screen_case(session, node=runtime.node, reference=reference, by=officer)
        console.print(f"{reference}: {job.total} persons screened, {job.matches} verified")


@app.command("proposals")
def proposals(
    ctx: typer.Context, reference: str, as_json: bool = typer.Option(False, "--json")
) -> None:
    """What screening proposes for each person of a case, and what was confirmed."""
    from rich.table import Table

    from accord.identity import integration

    with node_runtime(ctx) as runtime, runtime.reading() as session:
        job, found = integration.proposals(session, reference=reference)
        status, error, by = job.status, job.error, job.created_by
    if as_json:
        print_json({"reference": reference, "status": status, "error": error, "proposals": found})
        return
    if error:
        console.print(f"[red]screening failed: {error}[/red]; run `accord identity screen`")
    table = Table("person", "name", "proposal", "candidate", "score", "case", "confirmed")
    for p in found:
        score = f"{p['score']:.2f}" if p["score"] is not None else ""
        confirmed = f"{p['action']} by {p['confirmed_by']}" if p["confirmed_at"] else ""
        table.add_row(
            p["person_id"],
            p["name"],
            p["outcome"],
            p["candidate_id"] or "",
            score,
            p["person_status"] or "",
            confirmed,
        )
    console.print(table)
    console.print(f"screened by {by}; `accord identity confirm {reference} PERSON` confirms one")


@app.command("confirm")
def confirm(
    ctx: typer.Context,
    reference: str,
    person_id: str,
    officer: str = typer.Option(..., help="the officer confirming, as named in the case log"),
    note: str = typer.Option("", help="added to the case action"),
) -> None:
    """Confirm a person's proposal: confirm_identity or deny_identity is taken on the case."""
    from accord.identity import integration

    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        done = integration.confirm(
            session,
            node=runtime.node,
            reference=reference,
            person_id=person_id,
            officer=officer,
            note=note,
        )
        pending = done.acted.event is None
    where = "sent to the sequencer, pending" if pending else "applied"
    console.print(f"{reference} {person_id}: {done.proposal['action']} {where}")
