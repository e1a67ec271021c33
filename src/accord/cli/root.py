"""The root command and its global options; the domain command groups are attached here."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import typer

from accord.cli import (
    accounts,
    cases,
    cyber,
    demo,
    dialogue,
    evidence,
    federation,
    identity,
    lifecycle,
    ops,
)
from accord.cli.common import console, node_runtime, runtime_from, settings_from
from accord.config import Settings
from accord.core.errors import InvalidInput

app = typer.Typer(
    help="Accord: federated cooperation between law-enforcement and cybersecurity authorities.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    data: Path = typer.Option(
        None, "--data", "-d", envvar="ACCORD_DATA_DIR", help="the node's data folder"
    ),
    database_url: str = typer.Option(
        None,
        "--database-url",
        envvar="ACCORD_DATABASE_URL",
        help="SQLAlchemy URL (default: SQLite in the data folder)",
    ),
) -> None:
    overrides: dict[str, object] = {}
    if data is not None:
        overrides["data_dir"] = data
    if database_url:
        overrides["database_url"] = database_url
    ctx.obj = Settings(**overrides)  # type: ignore[arg-type]


@app.command()
def init(
    ctx: typer.Context,
    name: str = typer.Option(..., help="node name, e.g. US-DOJ"),
    country: str = typer.Option(..., help="ISO 3166 alpha-2 country code"),
    endpoint: str = typer.Option(
        "http://127.0.0.1:8700", help="the URL where peers reach this node"
    ),
    namespace: str = typer.Option(
        None,
        help="the middle part of the case references this node opens (MLA-<namespace>-2026-…), "
        "2 to 12 capital letters or digits; the country code if not given. Two nodes of one "
        "country that peer with the same partner need different namespaces",
    ),
) -> None:
    """Create the node: its database, its signing and encryption keys, a first API token."""
    from accord.federation.node import init_node
    from accord.ops.at_rest import at_start

    settings = settings_from(ctx)
    at_start(settings)  # a private umask; an existing folder's secrets checked before reuse
    identity, token_path = init_node(
        settings,
        name=name,
        country=country.upper(),
        endpoint=endpoint,
        namespace=namespace.upper() if namespace else None,
    )
    card = identity.card()
    console.print(
        f"[green]node {card.name} ({card.country}) created in {settings.data_dir}[/green]"
    )
    console.print(f"fingerprint {card.fingerprint}")
    console.print(f"API token written to {token_path} (mode 0600)")
    console.print("next: `accord node card > card.json`, give it to your peer, `accord serve`")


@app.command()
def serve(
    ctx: typer.Context,
    host: str = typer.Option(None, help="listen address (default: from the endpoint)"),
    port: int = typer.Option(None, help="listen port (default: from the endpoint)"),
    log_level: str = typer.Option(None, help="debug, info, warning or error (ACCORD_LOG_LEVEL)"),
    workers: bool = typer.Option(
        None,
        "--workers/--no-workers",
        help="run the delivery and inbox workers in this process (default: ACCORD_RUN_WORKERS)",
    ),
) -> None:
    """Run the node: REST API, federation endpoints, delivery and inbox workers."""
    import uvicorn

    from accord.app import create_app
    from accord.core.migrate import upgrade
    from accord.ops import logs
    from accord.ops.at_rest import at_start

    settings = settings_from(ctx)
    if workers is not None:
        settings = settings.model_copy(update={"run_workers": workers})
    logs.configure(settings, level=log_level)
    at_start(settings)
    runtime = runtime_from(ctx)
    endpoint = urlparse(runtime.node.endpoint)
    runtime.close()
    upgrade(settings.resolved_database_url)
    if endpoint.port is None and port is None:
        raise InvalidInput(f"endpoint {endpoint.geturl()} names no port; pass --port")
    uvicorn.run(
        create_app(settings),
        host=host or endpoint.hostname or "127.0.0.1",
        port=port or endpoint.port or 8700,
        log_config=None,  # ours (logs.configure): JSON or text, with the request id
        access_log=False,  # the request log (accord.request) replaces uvicorn's
        forwarded_allow_ips=settings.forwarded_allow_ips,  # None: FORWARDED_ALLOW_IPS
    )


node_app = typer.Typer(help="This node's identity.", no_args_is_help=True)
app.add_typer(node_app, name="node")


@node_app.command("card")
def node_card(ctx: typer.Context) -> None:
    """Print this node's public card (JSON) to give to a peer out of band."""
    with node_runtime(ctx) as runtime:
        typer.echo(runtime.node.card().model_dump_json(indent=2))


token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("new")
def token_new(
    ctx: typer.Context,
    user: str = typer.Option(..., help="the officer the token acts as"),
    name: str = typer.Option(..., help="what uses it, e.g. 'case management system'"),
    scope: list[str] = typer.Option([], help="narrow to these permissions, e.g. case:read"),
    days: int = typer.Option(0, help="expires after this many days (0: never)"),
) -> None:
    """Issue an API token for an officer; it is printed once and only its hash is kept."""
    from datetime import timedelta

    from accord.accounts.service import get_user, issue_token
    from accord.core.permissions import Permission

    try:
        scopes = [Permission(s) for s in scope]
    except ValueError as exc:
        known = ", ".join(p.value for p in Permission)
        raise InvalidInput(f"{exc}; scopes are: {known}") from None
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        token = issue_token(
            session,
            name=name,
            user=get_user(session, user),
            scopes=scopes or None,
            expires_in=timedelta(days=days) if days else None,
        )
        typer.echo(token)


@token_app.command("list")
def token_list(
    ctx: typer.Context,
    user: str = typer.Option(None, help="only this officer's tokens"),
) -> None:
    """API tokens of officers (never the tokens themselves: only their hashes are kept)."""
    from rich.table import Table

    from accord.accounts.service import Principal, list_tokens, token_owner
    from accord.core.permissions import Role

    operator = Principal(username="cli", role=Role.ADMINISTRATOR, unit="")
    table = Table("id", "officer", "name", "scopes", "created", "expires", "active")
    with node_runtime(ctx) as runtime, runtime.reading() as session:
        for token in list_tokens(session, by=operator, username=user):
            table.add_row(
                str(token.id),
                token_owner(session, token),
                token.name,
                ", ".join(str(s) for s in token.scopes) or "all of the role",
                token.created_at.strftime("%Y-%m-%d %H:%M"),
                token.expires_at.strftime("%Y-%m-%d %H:%M") if token.expires_at else "never",
                "yes" if token.active else "revoked",
            )
    console.print(table)


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, token_id: str) -> None:
    """Revoke one API token (its id from `accord token list`): refused from now on."""
    from uuid import UUID

    from accord.accounts.service import Principal, revoke_token
    from accord.core.permissions import Role

    try:
        wanted = UUID(token_id)
    except ValueError:
        raise InvalidInput(
            f"{token_id!r} is not a token id; `accord token list` shows them"
        ) from None
    operator = Principal(username="cli", role=Role.ADMINISTRATOR, unit="")
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        token = revoke_token(session, token_id=wanted, by=operator)
        console.print(f"token {token.id} ({token.name}) revoked")


app.add_typer(federation.peer_app, name="peer")
app.add_typer(federation.keys_app, name="keys")
node_app.command("endpoint")(federation.node_endpoint)
app.add_typer(federation.federation_app, name="federation")
app.add_typer(federation.audit_app, name="audit")
app.add_typer(cases.app, name="case")
app.add_typer(lifecycle.app, name="retention")
app.add_typer(evidence.app, name="evidence")
app.add_typer(accounts.app, name="user")
app.command(name="demo")(demo.demo)
app.add_typer(cyber.app, name="cyber")
app.add_typer(dialogue.app, name="dialogue")
app.command(name="screen")(identity.screen)
app.command(name="worker")(ops.worker)
app.add_typer(ops.config_app, name="config")
app.command(name="backup")(ops.backup)
app.command(name="restore")(ops.restore)
app.add_typer(identity.app, name="identity")
