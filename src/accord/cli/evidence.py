"""`accord evidence …`: checkpoints of case logs, their timestamps, and evidence packs that a
third party can verify offline."""

from __future__ import annotations

import typer

app = typer.Typer(help="Checkpoints, trusted timestamps and evidence packs of case logs.")
