"""`accord cyber …`: match a case's STIX indicators against local logs and write sightings."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from accord.cli.common import console, node_runtime
from accord.core.errors import InvalidInput

if TYPE_CHECKING:
    from accord.cyber.matching.index import FieldKind

app = typer.Typer(help="Cyber: STIX indicators, log matching, sightings.", no_args_is_help=True)


def _field_kinds(specs: list[str], *, defaults: bool = True) -> dict[str, FieldKind]:
    """The default field names and kinds (unless `defaults` is false), with the operator's
    --field additions."""
    from accord.cyber.matching.index import FieldKind
    from accord.cyber.matching.readers import DEFAULT_FIELDS

    if not defaults and not specs:
        raise InvalidInput("--no-default-fields needs at least one --field NAME=KIND")
    kinds = dict(DEFAULT_FIELDS) if defaults else {}
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
    ctx: typer.Context,
    indicators: Path = typer.Option(None, "--indicators", "-i", help="STIX 2.1 bundle (JSON)"),
    case: str = typer.Option(
        None, "--case", help="match a cyber case's indicators and report the sightings on it"
    ),
    officer: str = typer.Option("cli", help="who reports the sightings (with --case)"),
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
    no_default_fields: bool = typer.Option(
        False,
        help="check only the --field names, not the default list of common field names "
        "(JSON lines are read about 1.5 times as fast with the few fields a log has)",
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
    from accord.cyber.stix import CyberBundle, parse_bundle, sightings_bundle

    if (indicators is None) == (case is None):
        raise InvalidInput("give either --indicators BUNDLE or --case REFERENCE")
    try:
        fmt = LogFormat(log_format)
    except ValueError:
        raise InvalidInput(f"--format {log_format!r}: use jsonl, csv or zeek") from None
    for path in logs:
        if not path.is_file():
            raise InvalidInput(f"no such log file: {path}")
    if case is not None:
        found = _case_indicators(ctx, case)
        bundle = CyberBundle(id=case, indicators=found.indicators, objects=[])
    else:
        try:
            bundle_bytes = indicators.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"cannot read the bundle {indicators}: {exc.strerror}") from None
        bundle = parse_bundle(bundle_bytes, validate=not quick)
    suppression = SuppressionList() if no_default_suppression else SuppressionList.defaults()
    for path in suppress:
        suppression.add_file(path)
    index = IndicatorIndex.build(bundle.indicators, suppression.key_entry)
    matcher = Matcher(
        index,
        suppression=suppression,
        field_kinds=_field_kinds(field, defaults=not no_default_fields),
    )
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
    if case is not None:
        _report_on_case(ctx, case, report, bundle.indicators, logs, officer)


def _case_indicators(ctx: typer.Context, reference: str) -> Any:
    from accord.cyber import sightings

    with node_runtime(ctx) as runtime, runtime.reading() as session:
        found = sightings.case_indicators(session, node=runtime.node, reference=reference)
    for name in found.waiting:
        console.print(f"[yellow]bundle {name} has not arrived yet: its indicators are left out")
    console.print(f"{reference}: {len(found.indicators)} indicators on the case")
    return found


def _report_on_case(
    ctx: typer.Context,
    reference: str,
    report: Any,
    indicators: Any,
    logs: list[Path],
    officer: str,
) -> None:
    from accord.cyber import sightings

    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        acted = sightings.report_sightings(
            session,
            node=runtime.node,
            reference=reference,
            report=report,
            indicators=indicators,
            sources=logs,
            officer=officer,
        )
    where = "recorded" if acted.event is not None else f"sent to {acted.case.sequencer}"
    console.print(f"{reference}: sightings of {len(report.hits)} indicators {where}")


@app.command("attach")
def attach(
    ctx: typer.Context,
    reference: str,
    bundle: Path = typer.Argument(..., help="STIX 2.1 bundle (JSON): indicators, or context only"),
    officer: str = typer.Option("cli"),
) -> None:
    """Attach a STIX bundle to a cyber case (indicators to match, or context: threat actors,
    campaigns, attack patterns…); it travels to the peer with it."""
    from accord.cyber import sightings

    try:
        content = bundle.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read the bundle {bundle}: {exc.strerror}") from None
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        sightings.attach_bundle(
            session,
            node=runtime.node,
            reference=reference,
            bundle=content,
            officer=officer,
            filename=bundle.name,
        )
    console.print(f"{reference}: bundle {bundle.name} attached")


@app.command("misp-import")
def misp_import(
    ctx: typer.Context,
    reference: str,
    event: Path = typer.Argument(..., help='a MISP event as MISP\'s JSON ({"Event": …})'),
    officer: str = typer.Option("cli"),
) -> None:
    """Put a MISP event on a cyber case: its attributes as STIX, and the event as received."""
    from accord.cyber.misp import service

    try:
        content = event.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read the MISP event {event}: {exc.strerror}") from None
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        imported = service.import_event(
            session,
            node=runtime.node,
            reference=reference,
            content=content,
            officer=officer,
            filename=event.name,
        )
    if imported.already is not None:
        console.print(
            f"{reference}: MISP event {imported.event_uuid} as in {event.name} is already on the "
            f"case (log event {imported.already}); nothing attached"
        )
        return
    for problem in imported.problems:
        console.print(f"[yellow]{problem}[/yellow]")
    if imported.updates:
        earlier = ", ".join(str(seq) for seq in imported.updates)
        console.print(f"a new version of the event attached at log event(s) {earlier}")
    console.print(
        f"{reference}: MISP event {imported.event_uuid} attached: {imported.indicators} "
        f"indicators, {imported.observables} observables, {imported.notes} notes, "
        f"{len(imported.problems)} problems"
    )


@app.command("misp-export")
def misp_export(
    ctx: typer.Context,
    reference: str,
    out: Path = typer.Option(None, "--out", "-o", help="where to write it (default: stdout)"),
    officer: str = typer.Option("cli", help="who exports (for the audit log)"),
) -> None:
    """Write a cyber case's indicators as one MISP event (refused for H2 and H3 cases)."""
    from accord.core.errors import Forbidden
    from accord.cyber.misp import service

    with node_runtime(ctx) as runtime:
        try:
            with runtime.reading() as session:
                written = service.case_event(session, node=runtime.node, reference=reference)
        except Forbidden as exc:
            with runtime.transaction() as session:
                service.record_refusal(
                    session,
                    actor=officer,
                    action="misp.export",
                    reference=reference,
                    reason=exc.message,
                    remote=None,
                )
            raise
        content = written.event.to_feed()
        with runtime.transaction() as session:
            service.record_export(session, actor=officer, reference=reference, written=written)
    text = json.dumps(content, ensure_ascii=False, indent=2) + "\n"
    notes = Console(stderr=True, soft_wrap=True) if out is None else console
    for problem in written.problems:
        notes.print(f"[yellow]{problem}[/yellow]")
    if out is None:
        sys.stdout.write(text)
        return
    out.write_text(text, encoding="utf-8")
    console.print(f"{reference}: {written.attributes} attributes written to {out}")
