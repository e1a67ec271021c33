"""`accord user …`: officers of this node."""

from __future__ import annotations

import getpass
import os
import sys

import typer
from rich.table import Table

from accord.accounts import service
from accord.cli.common import console, node_runtime
from accord.core.errors import InvalidInput
from accord.core.permissions import Role

app = typer.Typer(help="Officers: add, list, disable.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    username: str,
    role: Role = typer.Option(..., help="liaison_officer, legal_reviewer, analyst, …"),
    unit: str = typer.Option(..., help="the officer's unit (need-to-know)"),
    name: str = typer.Option("", help="display name, as it appears in case logs"),
    language: str = typer.Option("en", help="en or zh"),
    password_env: str = typer.Option(
        "", help="read the password from this environment variable instead of a prompt"
    ),
) -> None:
    """Add an officer. The password is asked for (or read from --password-env)."""
    if password_env:
        password = os.environ.get(password_env, "")
        if not password:
            raise InvalidInput(f"environment variable {password_env} is empty")
    elif not sys.stdin.isatty():
        raise InvalidInput(
            "no terminal to ask for the password: put it in an environment variable and name "
            "it with --password-env, e.g. `ACCORD_NEW_PASSWORD=… accord user add "
            f"{username} --password-env ACCORD_NEW_PASSWORD …`"
        )
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise InvalidInput("the two passwords differ")
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        user = service.create_user(
            session,
            username=username,
            display_name=name,
            role=role,
            unit=unit,
            password=password,
            language=language,
        )
        console.print(
            f"[green]{user.username}[/green] added ({role.value}, unit {unit}); "
            "the second factor is enrolled at the first sign-in"
        )


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """Officers of this node."""
    with node_runtime(ctx) as runtime, runtime.reading() as session:
        table = Table("username", "name", "role", "unit", "2FA", "active", "last sign-in")
        for u in service.list_users(session):
            table.add_row(
                u.username,
                u.display_name,
                u.role,
                u.unit,
                "yes" if u.totp_enabled else "no",
                "yes" if u.active else "no",
                u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "",
            )
    console.print(table)


@app.command("unlock")
def unlock(ctx: typer.Context, username: str) -> None:
    """Lift an officer's lock after failed sign-ins, before it runs out."""
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        service.unlock(session, username=username, by="cli")
    console.print(f"{username} unlocked")


@app.command("seal-secrets")
def seal_secrets(ctx: typer.Context) -> None:
    """Seal every second-factor key still stored in clear (from before sealing)."""
    from accord.accounts.vault import vault_for

    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        count = service.seal_stored_secrets(session, vault=vault_for(runtime.settings.keys_dir))
    console.print(f"{count} second-factor keys sealed")


@app.command("disable")
def disable(ctx: typer.Context, username: str) -> None:
    """Disable an officer: sessions end and tokens are revoked at once."""
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        service.set_active(session, username=username, active=False, by="cli")
    console.print(f"{username} disabled")
