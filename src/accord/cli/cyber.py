"""`accord cyber …`: match a case's STIX indicators against local logs and write sightings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from accord.cli.common import console
from accord.core.errors import InvalidInput

if TYPE_CHECKING:
    from accord.cyber.matching.index import FieldKind

app = typer.Typer(help="Cyber: STIX indicators, log matching, sightings.", no_args_is_help=True)


def _field_kinds(specs: list[str]) -> dict[str, FieldKind]:
    """The default field names and kinds, with the operator's --field additions."""
    from accord.cyber.matching.index import FieldKind
    from accord.cyber.matching.readers import DEFAULT_FIELDS

    kinds = dict(DEFAULT_FIELDS)
    for spec in specs:
        name, _, kind = spec.partition("=")
        try:
            kinds[name.strip()] = FieldKind(kind.strip())
        except ValueError:
            choices = ", ".join(k.value for k in FieldKind)
            raise InvalidInput(
                f"--field {spec!r}: expected NAME=KIND, KIND one of {choices}"
            ) from None
    return kinds


@app.command("match")
def match(
    indicators: Path = typer.Option(..., "--indicators", "-i", help="STIX 2.1 bundle (JSON)"),
    logs: list[Path] = typer.Option(..., "--logs", "-l", help="a log file; repeat for more"),
    log_format: str = typer.Option(..., "--format", "-f", help="jsonl, csv or zeek"),
    out: Path = typer.Option(Path("sightings.json"), "--out", "-o", help="bundle of sightings"),
    suppress: list[Path] = typer.Option(
        [], "--suppress", help="file of known-benign values, one a line; repeatable"
    ),
    no_default_suppression: bool = typer.Option(
        False, help="do not suppress private ranges, public resolvers and empty-file hashes"
    ),
    field: list[str] = typer.Option(
        [], "--field", help="NAME=KIND: also check field NAME as ip|domain|url|hash|email"
    ),
    quick: bool = typer.Option(
        False, help="check only what matching needs in the bundle (for feeds of millions)"
    ),
    where_sighted: list[str] = typer.Option(
        [], "--where-sighted", help="identity id of where the logs come from; repeatable"
    ),
) -> None:
    """Stream logs through the bundle's indicators and write a STIX bundle of Sightings."""
    from accord.cyber.matching.engine import Matcher, build_sightings, marking_refs_of
    from accord.cyber.matching.index import IndicatorIndex
    from accord.cyber.matching.readers import LogFormat
    from accord.cyber.matching.suppression import SuppressionList
    from accord.cyber.stix import parse_bundle, sightings_bundle

    try:
        fmt = LogFormat(log_format)
    except ValueError:
        raise InvalidInput(f"--format {log_format!r}: use jsonl, csv or zeek") from None
    for path in logs:
        if not path.is_file():
            raise InvalidInput(f"no such log file: {path}")
    try:
        bundle_bytes = indicators.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read the bundle {indicators}: {exc.strerror}") from None
    bundle = parse_bundle(bundle_bytes, validate=not quick)
    suppression = SuppressionList() if no_default_suppression else SuppressionList.defaults()
    for path in suppress:
        suppression.add_file(path)
    index = IndicatorIndex.build(bundle.indicators, suppression.key_entry)
    matcher = Matcher(index, suppression=suppression, field_kinds=_field_kinds(field))
    console.print(
        f"{len(index)} indicators indexed ({len(index.complex)} complex), "
        f"{len(index.rejected)} rejected, {len(index.suppressed)} values suppressed, "
        f"{len(bundle.skipped)} skipped (not STIX patterns or revoked)"
    )
    for rejected in index.rejected[:10]:
        console.print(f"[yellow]rejected[/yellow] {rejected.indicator_id}: {rejected.reason}")
    if index.unanchored:
        console.print(
            f"[yellow]{len(index.unanchored)} complex pattern(s) have no value to pre-filter on: "
            "every line goes to stix2-matcher, which is slow[/yellow]"
        )

    total = sum(path.stat().st_size for path in logs)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("matching", total=total)
        report = matcher.run(logs, fmt, progress=lambda n: progress.advance(task, n))

    sightings = build_sightings(
        report, markings=marking_refs_of(bundle.indicators), where_sighted_refs=where_sighted
    )
    out.write_text(sightings_bundle(sightings).serialize(pretty=True) + "\n", encoding="utf-8")

    summary = Table(title="Matching", show_header=False)
    rate = report.lines / report.elapsed_s if report.elapsed_s else 0.0
    summary.add_row("lines", f"{report.lines:,}")
    summary.add_row("lines per second", f"{rate:,.0f}")
    summary.add_row("lines with a hit", f"{report.hit_lines:,}")
    summary.add_row("indicators sighted", f"{len(report.hits):,}")
    summary.add_row("hits suppressed as benign", f"{sum(report.suppressed.values()):,}")
    summary.add_row("bad lines", f"{report.bad_count:,}")
    console.print(summary)
    if report.hits:
        top = Table(title="Most sighted")
        for column in ("indicator", "count", "first seen", "last seen", "values"):
            top.add_column(column)
        ranked = sorted(report.hits.items(), key=lambda item: -item[1].count)
        for indicator_id, aggregate in ranked[:20]:
            top.add_row(
                indicator_id,
                str(aggregate.count),
                str(aggregate.first_seen or "-"),
                str(aggregate.last_seen or "-"),
                ", ".join(v for v, _ in aggregate.values.most_common(3)),
            )
        console.print(top)
    for bad in report.bad_lines[:10]:
        console.print(f"[yellow]bad line[/yellow] {bad}")
    if report.bad_count > 10:
        console.print(f"… and {report.bad_count - 10} more bad lines")
    console.print(f"[green]{len(sightings)} sightings written to {out}[/green]")
