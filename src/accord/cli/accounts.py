"""`accord user …`: officers of this node, and the changes to them that one administrator asks for
and another approves (`requests`, `approve`, `reject`)."""

from __future__ import annotations

import getpass
import os
import sys
from uuid import UUID

import typer
from rich.table import Table

from accord.accounts import approvals, service
from accord.accounts.models import AccountRequest
from accord.accounts.service import Principal
from accord.cli.common import console, node_runtime
from accord.core.errors import AccordError, Forbidden, InvalidInput, Unauthenticated
from accord.core.permissions import Role
from accord.runtime import Runtime

app = typer.Typer(
    help="Officers: add, list, move, change role, disable; approve changes.", no_args_is_help=True
)

OPERATOR = Principal(username="cli", role=Role.ADMINISTRATOR, unit="")
"""Who acts without --as: the node's operator, allowed alone only while the node has one
administrator."""

AS = typer.Option(
    "",
    "--as",
    help="the administrator making the request or decision (needed once the node has two); "
    "their password is asked for, or read from --as-password-env",
)
AS_PASSWORD_ENV = typer.Option(
    "", help="read the --as administrator's password from this environment variable"
)


def _read_password(env: str, *, what: str, hint: str) -> str:
    if env:
        password = os.environ.get(env, "")
        if not password:
            raise InvalidInput(f"environment variable {env} is empty")
        return password
    if not sys.stdin.isatty():
        raise InvalidInput(f"no terminal to ask for {what}: {hint}")
    return getpass.getpass(f"{what}: ")


def _acting(runtime: Runtime, name: str, password_env: str) -> Principal:
    """The administrator named by --as, checked by their password (a failure counts toward
    their lock and is audited); the operator without --as."""
    if not name:
        return OPERATOR
    password = _read_password(
        password_env,
        what=f"{name}'s password",
        hint="name an environment variable holding it with --as-password-env",
    )
    refusal: Unauthenticated | None = None
    with runtime.transaction() as session:  # a refusal is recorded before it is raised
        try:
            user = service.authenticate(session, username=name, password=password, remote_addr=None)
            principal = service.principal_of(user)
        except Unauthenticated as exc:
            refusal = exc
    if refusal is not None:
        raise refusal
    if principal.role is not Role.ADMINISTRATOR:
        raise Forbidden(f"{name} is not an administrator")
    return principal


def _told(asked: AccountRequest) -> None:
    if asked.status == approvals.Status.PENDING.value:
        console.print(
            f"requested ({asked.id}): it takes effect when another administrator approves it "
            f"(`accord user approve {asked.id} --as NAME`); it expires at "
            f"{asked.expires_at:%Y-%m-%d %H:%M} UTC"
        )
    else:
        console.print("done at once: this node has one administrator, nobody to approve it")


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
    as_: str = AS,
    as_password_env: str = AS_PASSWORD_ENV,
) -> None:
    """Ask for an officer's account (once the node has two administrators, another approves
    it). The first password is asked for (or read from --password-env)."""
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
    with node_runtime(ctx) as runtime:
        by = _acting(runtime, as_, as_password_env)
        with runtime.transaction() as session:
            asked = approvals.request_account(
                session,
                by=by,
                username=username,
                display_name=name,
                role=role,
                unit=unit,
                password=password,
                language=language,
                lifetime=runtime.settings.account_request_lifetime,
            )
            _told(asked)
    if asked.status != approvals.Status.PENDING.value:
        console.print(
            f"{username} added ({role.value}, unit {unit}); "
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
def disable(
    ctx: typer.Context, username: str, as_: str = AS, as_password_env: str = AS_PASSWORD_ENV
) -> None:
    """Disable an officer: sessions end and tokens are revoked at once. Disabling an auditor is
    a request another administrator approves."""
    with node_runtime(ctx) as runtime:
        by = _acting(runtime, as_, as_password_env)
        with runtime.transaction() as session:
            asked = approvals.set_active(
                session,
                by=by,
                username=username,
                active=False,
                lifetime=runtime.settings.account_request_lifetime,
            )
            if asked is not None:
                _told(asked)
                return
    console.print(f"{username} disabled")


@app.command("move")
def move(
    ctx: typer.Context,
    username: str,
    unit: str,
    as_: str = AS,
    as_password_env: str = AS_PASSWORD_ENV,
) -> None:
    """Ask to move an officer to another unit (another administrator approves)."""
    with node_runtime(ctx) as runtime:
        by = _acting(runtime, as_, as_password_env)
        with runtime.transaction() as session:
            _told(
                approvals.request_unit(
                    session,
                    by=by,
                    username=username,
                    unit=unit,
                    lifetime=runtime.settings.account_request_lifetime,
                )
            )


@app.command("role")
def role(
    ctx: typer.Context,
    username: str,
    new_role: Role = typer.Argument(..., metavar="ROLE", help="liaison_officer, analyst, …"),
    as_: str = AS,
    as_password_env: str = AS_PASSWORD_ENV,
) -> None:
    """Ask to give an officer another role (another administrator approves)."""
    with node_runtime(ctx) as runtime:
        by = _acting(runtime, as_, as_password_env)
        with runtime.transaction() as session:
            _told(
                approvals.request_role(
                    session,
                    by=by,
                    username=username,
                    role=new_role,
                    lifetime=runtime.settings.account_request_lifetime,
                )
            )


@app.command("requests")
def requests(
    ctx: typer.Context,
    all_: bool = typer.Option(False, "--all", help="decided ones too, not only pending"),
) -> None:
    """Changes to accounts awaiting a second administrator (with --all, decided ones too)."""
    status = None if all_ else approvals.Status.PENDING
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        found = approvals.list_requests(session, status=status)
        for r in found:
            what = ", ".join(f"{k}={v}" for k, v in r.detail.items())
            decided = f" by {r.decided_by}" if r.decided_by else ""
            console.print(
                f"{r.id}  {r.status}{decided}  {r.change} {r.username} ({what})  "
                f"asked by {r.requested_by} at {r.requested_at:%Y-%m-%d %H:%M} UTC",
                highlight=False,
                markup=False,
            )
    if not found:
        console.print("no change is awaiting approval" if status else "no account requests")


def _decide(ctx: typer.Context, request_id: str, as_: str, env: str, *, approve: bool) -> None:
    try:
        wanted = UUID(request_id)
    except ValueError:
        raise InvalidInput(
            f"{request_id!r} is not a request id; `accord user requests` lists them"
        ) from None
    decide = approvals.approve if approve else approvals.reject
    refusal: AccordError | None = None
    with node_runtime(ctx) as runtime:
        by = _acting(runtime, as_, env)
        with runtime.transaction() as session:  # a refusal's audit entry is kept
            try:
                decided = decide(session, request_id=wanted, by=by)
                console.print(f"{decided.change} of {decided.username}: {decided.status}")
            except AccordError as exc:
                refusal = exc
    if refusal is not None:
        raise refusal


@app.command("approve")
def approve(
    ctx: typer.Context, request_id: str, as_: str = AS, as_password_env: str = AS_PASSWORD_ENV
) -> None:
    """Approve another administrator's request: the change takes effect now."""
    _decide(ctx, request_id, as_, as_password_env, approve=True)


@app.command("reject")
def reject(
    ctx: typer.Context, request_id: str, as_: str = AS, as_password_env: str = AS_PASSWORD_ENV
) -> None:
    """Reject a request (or withdraw one's own): nothing changes."""
    _decide(ctx, request_id, as_, as_password_env, approve=False)
