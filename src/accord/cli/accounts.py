"""`accord user …`: officers of this node."""

from __future__ import annotations

import getpass

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
    import os

    if password_env:
        password = os.environ.get(password_env, "")
        if not password:
            raise InvalidInput(f"environment variable {password_env} is empty")
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


@app.command("disable")
def disable(ctx: typer.Context, username: str) -> None:
    """Disable an officer: sessions end and tokens are revoked at once."""
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        service.set_active(session, username=username, active=False, by="cli")
    console.print(f"{username} disabled")
