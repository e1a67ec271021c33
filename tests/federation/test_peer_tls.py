"""Peers behind a private CA, or with a pinned certificate: the peer is a real `accord` app
served over TLS on loopback with a certificate from a CA made in the test. Delivery fails
with a message that says how to trust the peer; trusting its CA (for that peer only) or
pinning its certificate makes it work, and `accord federation retry` sends the outbox now."""

from __future__ import annotations

import hashlib
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme
import uvicorn
from sqlalchemy import select

from accord.app import create_app
from accord.audit.models import AuditEntry
from accord.cases import service
from accord.cli.scenarios import REVIEW
from accord.core.errors import InvalidInput
from accord.federation import outbox
from accord.federation.client import asker
from accord.federation.delivery import deliver_once
from accord.federation.models import OutboxItem, Peer
from accord.federation.peers import set_trust
from accord.federation.tls import check_ca_bundle, normalise_pin
from tests.helpers import Node, open_mla


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_tls(node: Node, cert: trustme.LeafCert, folder: Path) -> Iterator[str]:
    """The node's app over HTTPS on loopback (uvicorn in a thread), until the test ends."""
    folder.mkdir(parents=True, exist_ok=True)
    chain, key = folder / "chain.pem", folder / "key.pem"
    cert.private_key_pem.write_to_path(str(key))
    cert.cert_chain_pems[0].write_to_path(str(chain))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(chain), append=True)
    port = free_port()
    config = uvicorn.Config(
        create_app(node.runtime.settings),
        host="127.0.0.1",
        port=port,
        ssl_certfile=str(chain),
        ssl_keyfile=str(key),
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the TLS server did not start"
        time.sleep(0.05)
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def cn_over_tls(pair: tuple[Node, Node], tmp_path: Path) -> Iterator[tuple[trustme.CA, str]]:
    """CN-MOJ served over TLS with a certificate of its agency's own CA; US-DOJ's pinned
    endpoint for it is that address."""
    us, cn = pair
    ca = trustme.CA(organization_name="CN-MOJ private CA")
    for endpoint in serve_tls(cn, ca.issue_cert("127.0.0.1"), tmp_path / "cn-tls"):
        with us.runtime.transaction() as session:
            peer = session.scalar(select(Peer).where(Peer.name == cn.name))
            assert peer is not None
            peer.endpoint = endpoint
        yield ca, endpoint


def deliver(node: Node) -> int:
    with httpx.Client() as client:  # the system bundle, as the workers' own client
        return deliver_once(node.runtime.factory, node.identity, node.runtime.settings, client)


def pending(node: Node) -> list[OutboxItem]:
    with node.runtime.reading() as session:
        return outbox.pending_items(session)


def test_a_peer_behind_a_private_ca_is_trusted_for_itself_only(
    pair: tuple[Node, Node], cn_over_tls: tuple[trustme.CA, str], tmp_path: Path
) -> None:
    us, cn = pair
    ca, _ = cn_over_tls
    reference = open_mla(us, cn.name)
    with us.runtime.transaction() as session:
        for action in ("send_to_review", "approve_and_submit"):
            payload = {"note": "ok"} if action == "send_to_review" else REVIEW
            service.act(
                session,
                node=us.identity,
                reference=reference,
                action=action,
                payload=payload,
                officer="tester",
            )
    assert deliver(us) == 0
    error = pending(us)[0].last_error or ""
    assert "CERTIFICATE_VERIFY_FAILED" in error or "certificate verify failed" in error
    assert f"accord peer trust {cn.name} --ca-file CA.pem" in error
    assert "--pin" in error

    ca_file = tmp_path / "cn-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    settings = us.runtime.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}

    def accord(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "accord",
                "--data",
                str(settings.data_dir),
                "--database-url",
                settings.resolved_database_url,
                *args,
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=120,
        )

    trusted = accord("peer", "trust", cn.name, "--ca-file", str(ca_file))
    assert trusted.returncode == 0, trusted.stderr
    listed = accord("peer", "list")
    assert cn.identity.card().fingerprint in listed.stdout  # all 64 characters
    retried = accord("federation", "retry", cn.name)
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert "still pending" in retried.stdout and pending(us) == []
    # the peer stored and processed them: the case verifies over TLS, through the peer's trust
    deadline = time.monotonic() + 30
    while True:
        with us.runtime.transaction() as session:
            out = service.verify(
                session,
                node=us.identity,
                reference=reference,
                ask=asker(session, us.identity),
            )
        if out.identical or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert out.identical, out.explanation
    # the system bundle is left as it was: a client without the peer's trust still refuses it
    with pytest.raises(httpx.ConnectError, match=r"CERTIFICATE_VERIFY_FAILED|verify failed"):
        with us.runtime.reading() as session:
            endpoint = session.scalar(select(Peer.endpoint).where(Peer.name == cn.name))
        httpx.get(f"{endpoint}/healthz")
    with us.runtime.reading() as session:
        assert session.scalar(
            select(AuditEntry.id).where(AuditEntry.action == "federation.peer_tls_trust")
        )


def test_a_pinned_certificate_is_accepted_without_any_ca_and_another_is_refused(
    pair: tuple[Node, Node], cn_over_tls: tuple[trustme.CA, str]
) -> None:
    us, cn = pair
    _, endpoint = cn_over_tls
    der = ssl.PEM_cert_to_DER_cert(
        ssl.get_server_certificate(("127.0.0.1", int(endpoint.rsplit(":", 1)[1])))
    )
    submitted = open_mla(us, cn.name)
    with us.runtime.transaction() as session:
        set_trust(session, name=cn.name, pin="00" * 32)
        service.act(
            session,
            node=us.identity,
            reference=submitted,
            action="send_to_review",
            payload={"note": "ok"},
            officer="tester",
        )
    with us.runtime.transaction() as session:
        service.act(
            session,
            node=us.identity,
            reference=submitted,
            action="approve_and_submit",
            payload=REVIEW,
            officer="tester",
        )
    assert deliver(us) == 0
    error = pending(us)[0].last_error or ""
    assert "does not match the pinned SHA-256" in error and "accord peer trust" in error
    leaf = hashlib.sha256(der).hexdigest()
    with us.runtime.transaction() as session:
        set_trust(session, name=cn.name, pin=":".join(leaf[i : i + 2] for i in range(0, 64, 2)))
        outbox.retry_now(session, peer=cn.name)
    assert deliver(us) > 0 and pending(us) == []


def test_a_bad_pin_or_ca_file_is_refused_naming_what_is_wrong() -> None:
    with pytest.raises(InvalidInput, match="is not a SHA-256 pin"):
        normalise_pin("abc")
    assert normalise_pin("AB" * 32) == "ab" * 32
    with pytest.raises(InvalidInput, match="holds no PEM certificate"):
        check_ca_bundle("not a certificate", "the CA file")
