"""`accord peer …`, `accord federation …` and `accord audit …`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Column, Table
from rich.text import Text

from accord.audit import anchors
from accord.audit import service as audit
from accord.cli.common import console, node_runtime, print_json, read_json
from accord.core.errors import AccordError, InvalidInput
from accord.federation import inbox, outbox
from accord.federation.client import asker
from accord.federation.models import Peer
from accord.federation.peers import add_peer, get_peer, list_peers, set_trust
from accord.federation.reconcile import waiting_for as reconcile_waiting
from accord.federation.schemas import NodeCard
from accord.runtime import Runtime

peer_app = typer.Typer(help="Pinned peers.", no_args_is_help=True)
federation_app = typer.Typer(help="Outbox, inbox and quarantine.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)


_CA_FILE = typer.Option(
    None,
    "--ca-file",
    help="PEM file of the CA (or certificates) that signed the peer's TLS certificate: trusted "
    "for this peer only, beside the system bundle",
)
_PIN = typer.Option(
    None,
    "--pin",
    help="SHA-256 of the peer's TLS certificate or of its public key (64 hex digits, or "
    "sha256/<base64>): only that certificate is accepted, self-signed or not",
)


def _read_ca(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read the CA file {path}: {exc}") from None


@peer_app.command("add")
def peer_add(
    ctx: typer.Context,
    card: str = typer.Argument(..., help="the peer's CARD.json"),
    ca_file: Path | None = _CA_FILE,
    pin: str | None = _PIN,
) -> None:
    """Pin a peer from its card (endpoint and public keys, checked against its fingerprint)."""
    parsed = NodeCard.model_validate(read_json(card))
    ca_pem = _read_ca(ca_file)
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        peer = add_peer(
            session,
            card=parsed,
            own_name=runtime.node.name,
            own_namespace=runtime.node.reference_namespace,
        )
        if ca_pem or pin:
            set_trust(session, name=peer.name, ca_pem=ca_pem, pin=pin)
        console.print(f"[green]pinned {peer.name}[/green] at {peer.endpoint}")
        console.print(f"fingerprint {peer.fingerprint}: confirm it with the peer's operator")


@peer_app.command("trust")
def peer_trust(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="the peer"),
    ca_file: Path | None = _CA_FILE,
    pin: str | None = _PIN,
    system: bool = typer.Option(
        False, "--system", help="trust the system bundle alone again (drop the CA and the pin)"
    ),
) -> None:
    """Set how this node checks the peer's TLS certificate (used for this peer only)."""
    ca_pem = _read_ca(ca_file)
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        peer = set_trust(session, name=name, ca_pem=ca_pem, pin=pin, system=system)
        console.print(f"[green]{peer.name}[/green]: TLS {_trust_of(peer)}")


def _trust_of(peer: Peer) -> str:
    if peer.tls_pin:
        return f"pinned {peer.tls_pin}" + (" and its CA" if peer.tls_ca else "")
    return "system bundle and its CA" if peer.tls_ca else "system bundle"


@peer_app.command("list")
def peer_list(ctx: typer.Context) -> None:
    """The peers this node exchanges with."""
    with node_runtime(ctx) as runtime, runtime.reading() as session:
        table = Table(
            "name",
            "country",
            Column("endpoint", overflow="fold"),
            Column("fingerprint (SHA-256)", min_width=64, no_wrap=True),
            Column("TLS", overflow="fold"),
            "active",
        )
        for p in list_peers(session):
            table.add_row(
                p.name,
                p.country,
                p.endpoint,
                p.fingerprint,
                _trust_of(p),
                str(p.active),
            )
        console.print(table)


@federation_app.command("quarantine")
def show_quarantine(ctx: typer.Context, limit: int = typer.Option(50)) -> None:
    """Everything refused at the inbox or in processing, newest first, with the reason and how
    many refusals each row stands for (repeats, and refusals past the caps, are counted)."""
    with node_runtime(ctx) as runtime, runtime.reading() as session:
        items = inbox.quarantined(session, limit=limit)
        counts = inbox.quarantine_counts(session)
        table = Table("id", "received", "last seen", "count", "stage", "from", "kind", "reason")
        for q in items:
            table.add_row(
                str(q.id),
                q.received_at.strftime("%Y-%m-%d %H:%M:%S"),
                (q.last_seen_at or q.received_at).strftime("%Y-%m-%d %H:%M:%S"),
                str(q.count) + (f" ({q.capped} cap)" if q.capped else ""),
                q.stage,
                # Text, not markup: what a sender wrote must not be read as rich markup
                Text(q.sender or q.remote_addr or "?"),
                Text(q.kind or "?"),
                Text(q.reason),
            )
        console.print(table if items else "quarantine is empty")
        console.print(
            f"{counts.rows} rows for {counts.refusals} refusals; before authentication: "
            f"{counts.unauthenticated_rows} rows for {counts.unauthenticated_refusals} refusals, "
            f"{counts.counted_past_caps} of them counted past the caps, "
            f"{counts.unauthenticated_bytes} bytes kept",
            markup=False,
            highlight=False,
        )


@federation_app.command("outbox")
def show_outbox(
    ctx: typer.Context,
    limit: int = typer.Option(50, min=1, help="pending items listed"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object instead of tables"),
) -> None:
    """Counts of outbox items by status, and the pending ones with their last error."""
    with node_runtime(ctx) as runtime, runtime.reading() as session:
        counts = outbox.counts(session)
        pending = outbox.pending_items(session)[:limit]
        rows = [
            {
                "id": item.id,
                "peer": item.peer,
                "stream": item.stream,
                "kind": item.kind,
                "attempts": item.attempts,
                "created_at": item.created_at.isoformat(),
                "next_attempt_at": item.next_attempt_at.isoformat(),
                "last_error": item.last_error,
            }
            for item in pending
        ]
    if as_json:
        print_json({"counts": counts, "pending": rows})
        return
    if not counts:
        console.print("outbox is empty")
        return
    totals = Table("status", "items")
    for status, count in sorted(counts.items()):
        totals.add_row(status, str(count))
    console.print(totals)
    table = Table("id", "peer", "stream", "kind", "attempts", "waiting since", "last error")
    for row in rows:
        table.add_row(
            str(row["id"]),
            Text(str(row["peer"])),
            Text(str(row["stream"])),
            Text(str(row["kind"])),
            str(row["attempts"]),
            str(row["created_at"])[:19],
            Text(str(row["last_error"] or "")),
        )
    console.print(table if rows else "nothing pending")


@audit_app.command("list")
def audit_list(
    ctx: typer.Context,
    actor: str = typer.Option(None, help="only this officer's (or peer's, or `cli`) entries"),
    action: str = typer.Option(None, help="only actions starting with this, e.g. case. or user."),
    limit: int = typer.Option(50, min=1, max=1000, help="how many, newest first"),
    as_json: bool = typer.Option(False, "--json", help="JSON lines instead of a table"),
) -> None:
    """Read the audit log, newest first (who, what, on what, when, from where). The read is
    itself audited, as the operator `cli`."""
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        entries = audit.read_log(
            session, reader="cli", remote_addr=None, actor=actor, action=action, limit=limit
        )
        rows = [
            {
                "id": e.id,
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "outcome": e.outcome,
                "subject": e.subject,
                "remote_addr": e.remote_addr,
                "detail": e.detail,
            }
            for e in entries
        ]
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False, default=str))
        return
    table = Table("id", "at", "actor", "action", "outcome", "subject", "from")
    for row in rows:
        table.add_row(
            *(Text(str(row[k] or "")) for k in ("id", "at", "actor", "action", "outcome")),
            Text(str(row["subject"] or "")),
            Text(str(row["remote_addr"] or "")),
        )
    console.print(table if rows else "no audit entries match")


@audit_app.command("verify")
def audit_verify(
    ctx: typer.Context,
    against_peer: list[str] = typer.Option(
        [],
        "--against-peer",
        help="also check the log against the anchors of it that this peer holds (asked over "
        "the federation API, a signed answer): shows entries removed from the end or a log "
        "rewritten and chained anew; repeat for several peers",
    ),
) -> None:
    """Check the audit log's hash chain and the anchors of its head given to peers; exit 1 and
    name each broken, missing or rewritten entry."""
    with node_runtime(ctx) as runtime:
        node = runtime.node
        with runtime.reading() as session:
            problems = audit.verify(session)
            given = anchors.given_anchors(session, node=node.name)
            problems += anchors.check_against_anchors(session, given, own_key=node.act_keys)
        checks = []
        for peer in against_peer:
            with runtime.reading() as session:
                get_peer(session, peer)
                checks.append(
                    anchors.check_against_peer(
                        session, node=node, peer=peer, ask=asker(session, node)
                    )
                )
    for check in checks:
        problems += [f"against {check.peer}: {line}" for line in check.problems]
    if problems:
        for line in problems:
            console.print(f"[red]{line}[/red]")
        raise typer.Exit(1)
    console.print("[green]audit log intact[/green]")
    for check in checks:
        console.print(
            f"[green]verified against {check.peer}[/green]: {check.held} anchors held there, "
            f"the highest at entry {check.highest}; entries up to it are as they were"
        )


@peer_app.command("agreement")
def peer_agreement(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="the peer"),
    deadline: list[str] = typer.Option(
        [], "--deadline", help="TYPE.DEADLINE.PRIORITY=DURATION, e.g. mla.decide.routine=20d"
    ),
) -> None:
    """Show the terms agreed with a peer; --deadline sets a deadline for new cases with it."""
    from accord.cases.enums import Priority
    from accord.cases.service import agree_deadline
    from accord.core.clock import parse_duration

    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        for term in deadline:
            key, _, duration = term.partition("=")
            parts = key.split(".")
            if len(parts) != 3 or not duration:
                raise InvalidInput(f"{term!r}: expected TYPE.DEADLINE.PRIORITY=DURATION")
            try:
                seconds = int(parse_duration(duration).total_seconds())
                priority = Priority(parts[2])
            except ValueError as exc:
                raise InvalidInput(f"{term!r}: {exc}") from None
            agree_deadline(
                session,
                peer=name,
                case_type=parts[0],
                deadline=parts[1],
                priority=priority,
                seconds=seconds,
            )
        print_json(get_peer(session, name).agreement or {})


def reconcile_peers(runtime: Runtime, only: str | None = None) -> bool:
    """Reconcile with each peer the node waits for (or `only`); print what each gave back.
    Returns whether the node is no longer held."""
    from accord.cases.recovery import reconcile_with
    from accord.federation import reconcile
    from accord.federation.client import asker

    with runtime.reading() as session:
        waiting = reconcile.waiting_for(session)
    for peer in [p for p in waiting if only in (None, p)]:
        try:
            with runtime.transaction() as session:
                report = reconcile_with(
                    session, node=runtime.node, peer=peer, ask=asker(session, runtime.node)
                )
        except AccordError as exc:
            with runtime.transaction() as session:
                reconcile.attempted(session, peer, exc.message)
            console.print(f"[red]{peer}: not reconciled[/red]", Text(exc.message))
            continue
        console.print(f"[green]reconciled with {peer}[/green]: {describe_report(report)}")
    with runtime.reading() as session:
        state = reconcile.status(session)
    console.print(state.describe())
    return not state.held


def describe_report(report: dict[str, Any]) -> str:
    events = sum(last - first + 1 for first, last in report.get("events_recovered", {}).values())
    parts = [
        f"{len(report.get('cases_recovered', []))} cases and {events} events this node had lost "
        "taken back from the peer"
    ]
    for key, (before, after) in report.get("counters_advanced", {}).items():
        parts.append(f"references {key} resume after {after:06d} (was {before:06d})")
    for reference in report.get("cases_recovered", []):
        parts.append(f"recovered {reference}")
    return "; ".join(parts)


@federation_app.command("reconcile")
def federation_reconcile(
    ctx: typer.Context,
    peer: str | None = typer.Argument(None, help="only this peer (default: every one waiting)"),
    skip: str | None = typer.Option(
        None,
        "--skip",
        help="settle PEER without it (it is gone, or will never answer): what it held of ours "
        "stays lost, and references may repeat what it saw",
    ),
    status_only: bool = typer.Option(False, "--status", help="only show where it stands"),
) -> None:
    """After a restore: ask each peer what it holds from us, take back what this node lost,
    resume reference counters past the peer's, and lift the hold on sequencing and delivery."""
    from accord.federation import reconcile

    with node_runtime(ctx) as runtime:
        if skip is not None:
            with runtime.transaction() as session:
                reconcile.settle(
                    session, skip, {"skipped_by": "operator", "lost": "unknown"}, skipped=True
                )
            console.print(f"[yellow]{skip} skipped[/yellow]: nothing was taken back from it")
        if status_only or skip is not None:
            with runtime.reading() as session:
                state = reconcile.status(session)
            table = Table("peer", "status", "restored", "attempted", "last error", "report")
            for row in state.rows:
                table.add_row(
                    row.peer,
                    row.status,
                    row.restored_at.strftime("%Y-%m-%d %H:%M:%S"),
                    row.attempted_at.strftime("%Y-%m-%d %H:%M:%S") if row.attempted_at else "",
                    Text(row.last_error or ""),
                    describe_report(row.report) if row.report and row.status == "done" else "",
                )
            console.print(table if state.rows else "no restore to reconcile")
            console.print(state.describe())
            return
        if not reconcile_peers(runtime, peer):
            raise typer.Exit(1)


@federation_app.command("retry")
def federation_retry(
    ctx: typer.Context,
    peer: str | None = typer.Argument(None, help="only the outbox of this peer"),
) -> None:
    """Retry the outbox now: every pending item (of PEER) is due at once, and one delivery
    round is sent from here; the workers go on from there."""
    import httpx

    from accord.federation.delivery import deliver_once

    with node_runtime(ctx) as runtime:
        with runtime.transaction() as session:
            if peer is not None:
                get_peer(session, peer)
            due = outbox.retry_now(session, peer=peer)
        with httpx.Client(timeout=runtime.settings.delivery_timeout_seconds) as client:
            sent = deliver_once(runtime.factory, runtime.node, runtime.settings, client)
        with runtime.reading() as session:
            left = outbox.pending_items(session, peer=peer)
        console.print(f"{due} items due now; {sent} delivered; {len(left)} still pending")
        for item in left[:20]:
            console.print(f"  {item.peer} {item.stream} {item.kind}:", Text(item.last_error or ""))
        with runtime.reading() as session:
            waiting = reconcile_waiting(session)
        if waiting:
            console.print(
                "the node delivers nothing until it has reconciled with "
                + ", ".join(waiting)
                + ": `accord federation reconcile`"
            )
        if left:
            raise typer.Exit(1)


keys_app = typer.Typer(help="This node's keys.", no_args_is_help=True)


@keys_app.command("rotate")
def keys_rotate(
    ctx: typer.Context,
    overlap: str = typer.Option(
        "7d", "--overlap", help="how long peers still accept what the old keys signed (e.g. 2d)"
    ),
) -> None:
    """Make new signing and encryption keys and announce them to every peer, in a message
    signed with the old keys and the new; the old keys are kept as history."""
    from accord.core.clock import parse_duration
    from accord.federation.announce import rotate_keys

    try:
        window = parse_duration(overlap)
    except ValueError as exc:
        raise InvalidInput(f"--overlap {overlap!r}: {exc}") from None
    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        new, peers = rotate_keys(session, node=runtime.node, overlap=window)
    console.print(f"[green]new keys[/green], fingerprint {new}")
    console.print(
        "announced to "
        + (", ".join(peers) or "no peer")
        + f"; peers accept the old keys for {overlap}. Restart every `accord serve` and "
        "`accord worker` of this node now, so that they sign with the new keys; "
        "`accord node card` prints the new card"
    )


@peer_app.command("keys")
def peer_keys_list(ctx: typer.Context, name: str = typer.Argument(..., help="the peer")) -> None:
    """The peer's current key and those it held before, with their validity."""
    from accord.federation.peers import key_history

    with node_runtime(ctx) as runtime, runtime.reading() as session:
        peer = get_peer(session, name)
        table = Table(
            Column("fingerprint (SHA-256)", min_width=64, no_wrap=True),
            "valid from",
            "valid until",
            "revoked",
        )
        table.add_row(peer.fingerprint, peer.added_at.strftime("%Y-%m-%d"), "(current)", "")
        for row in key_history(session, name):
            table.add_row(
                row.fingerprint,
                row.valid_from.strftime("%Y-%m-%d %H:%M") if row.valid_from else "",
                row.valid_until.strftime("%Y-%m-%d %H:%M"),
                Text(
                    f"{row.revoked_at:%Y-%m-%d %H:%M} {row.revoked_reason or ''}"
                    if row.revoked_at
                    else ""
                ),
            )
        console.print(table)


@peer_app.command("revoke-key")
def peer_revoke_key(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="the peer"),
    fingerprint: str = typer.Argument(..., help="the full 64-character fingerprint to revoke"),
    reason: str = typer.Option(..., "--reason", help="why, as confirmed with the peer's operator"),
) -> None:
    """After a compromise confirmed with the peer's operator out of band: accept nothing signed
    with that key any more. Revoking its current key disables the peer until its new card is
    pinned with `accord peer add NEW-CARD.json`."""
    from accord.federation.announce import revoke_key

    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        what = revoke_key(session, peer=name, fingerprint_=fingerprint.lower(), reason=reason)
    console.print(f"[yellow]revoked {fingerprint} of {name}[/yellow]: {what}")


def node_endpoint(
    ctx: typer.Context, endpoint: str = typer.Argument(..., help="the new URL peers reach us at")
) -> None:
    """Change the URL where peers reach this node, and announce it to every peer."""
    from accord.federation.announce import change_endpoint

    with node_runtime(ctx) as runtime, runtime.transaction() as session:
        peers = change_endpoint(session, node=runtime.node, endpoint=endpoint)
    console.print(
        f"[green]endpoint {endpoint}[/green] announced to "
        + (", ".join(peers) or "no peer")
        + "; restart `accord serve` so that it listens there"
    )
