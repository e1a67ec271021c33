"""What the CLI modules share: settings from the global options, JSON input, printing, the
progress bar of long work."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from accord.composition import assemble
from accord.config import Settings
from accord.core import jsontext
from accord.core.errors import InvalidInput
from accord.runtime import Runtime

console = Console(soft_wrap=True)


def counting_bar(
    description: str = "{task.description}",
    *,
    unit: str | None = None,
    remaining: bool = False,
    transient: bool = True,
) -> Progress:
    """The bar of work counted in items (cases, records, checkpoints): done of total, the time
    taken and, with `remaining`, the time left."""
    columns: list[ProgressColumn] = [TextColumn(description), BarColumn(), MofNCompleteColumn()]
    if unit is not None:
        columns.append(TextColumn(unit))
    columns.append(TimeElapsedColumn())
    if remaining:
        columns.append(TimeRemainingColumn())
    return Progress(*columns, console=console, transient=transient)


def settings_from(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


def runtime_from(ctx: typer.Context) -> Runtime:
    return Runtime.open(settings_from(ctx), assemble())


@contextmanager
def node_runtime(ctx: typer.Context) -> Iterator[Runtime]:
    """The node of the global --data/--database-url options, closed when the command ends."""
    runtime = runtime_from(ctx)
    try:
        yield runtime
    finally:
        runtime.close()


def read_json(source: str) -> dict[str, Any]:
    """A JSON object from a file path, `-` for standard input, or inline JSON text."""
    try:
        if source == "-":
            text = sys.stdin.read()
        elif source.lstrip().startswith("{"):
            text = source
        else:
            text = Path(source).read_text(encoding="utf-8")
        value = jsontext.loads(text)
    except FileNotFoundError:
        raise InvalidInput(f"no such file: {source}") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{source}: not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{source}: expected a JSON object")
    return value


def print_json(value: Any) -> None:
    console.print_json(json.dumps(value, ensure_ascii=False, default=str))
