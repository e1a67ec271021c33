"""`accord screen`: screen a file of persons against a watchlist file."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from accord.cli.common import console
from accord.identity.linkage.score import Parameters
from accord.identity.screening import Thresholds, screen_files

_STAGES = {"watchlist": "indexing the watchlist", "input": "screening"}


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

    Both files have the columns id, name, name_native, birth_date (YYYY, YYYY-MM or
    YYYY-MM-DD), sex, nationality, id_number, passport_number; all but id and name may be empty.
    Writes query_id, candidate_id, score, decision (match or possible), explanation. Bad rows
    are reported in <out>.problems.csv and do not stop the batch.
    """
    thresholds = Thresholds(match=match, possible=possible, per_query=per_query)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as bar:
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
