"""The `accord` command: one module per domain, each a thin adapter over the services."""

from __future__ import annotations

import sys

from rich.console import Console

from accord.cli.root import app
from accord.core.errors import AccordError

err = Console(stderr=True, soft_wrap=True)


def main() -> None:
    try:
        # Without standalone mode click returns the code of typer.Exit instead of exiting.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except AccordError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except Exception as exc:  # click's usage errors and aborts
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(130)
        raise
