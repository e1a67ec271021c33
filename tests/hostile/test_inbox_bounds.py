"""Two attacks on the federation inbox, each written as the requests that made it and what stops
them now, on SQLite and PostgreSQL (issue "A peer cannot speak for us", findings 4 and 5).

Crash it without a trace: a lone surrogate (`"from": "\\ud800"`) in a body nobody signed, or a
signed `sent_at` of 0001-01-01T00:30:00+01:00, answered 500 and kept nothing. Now every request
is answered 4xx with a reason, or a receipt, and every refusal is counted in the quarantine.

Fill its disk: 200 junk requests of 100 KB wrote 12 MB. Now a refusal before authentication keeps
a digest and the first KiB, repeats and refusals past the caps only count on a row, the audit
log gets an entry per row written (not per request), and the worker deletes old ones.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from typer.testing import CliRunner

from accord.app import create_app
from accord.audit import service as audit
from accord.audit.models import AuditEntry
from accord.cli.root import app as cli_app
from accord.core.clock import iso, new_id, utcnow
from accord.core.db import make_engine, session_factory
from accord.core.permissions import Role
from accord.federation import inbox
from accord.federation.envelope import box_for, seal
from accord.federation.keys import NodeIdentity, PeerKeys, b64
from accord.federation.models import QuarantineItem
from accord.federation.workers import Workers
from tests.helpers import Node, make_node, peer_up, role_tokens
from tests.hostile.conftest import LiveNode, examples

ENVELOPES = "/federation/v1/envelopes"
QUERY = "/federation/v1/query"
PATHS = (ENVELOPES, QUERY)
FIELDS = ("v", "id", "from", "to", "sent_at", "kind", "body", "sig")
CAPS = {
    "quarantine_rows_per_source": 5,
    "quarantine_max_rows": 40,
    "quarantine_max_bytes": 64 * 1024,
}


# -- a node in process, on the test's database ---------------------------------------------------


@dataclass
class Inbox:
    """US-DOJ's app (the real routes, in process) with CN-MOJ pinned; CN-MOJ's keys held here."""

    us: Node
    peer: NodeIdentity
    client: TestClient
    admin: str

    def post(self, content: bytes, path: str = ENVELOPES, source: str = "203.0.113.9") -> Any:
        client = TestClient(self.client.app, client=(source, 40000))  # app already started
        return client.post(path, content=content, headers={"content-type": "application/json"})

    def rows(self) -> list[QuarantineItem]:
        with self.us.runtime.reading() as session:
            return list(session.scalars(select(QuarantineItem).order_by(QuarantineItem.id)))

    def refusals(self) -> int:
        """Refusals counted in the quarantine (a row stands for `count` of them)."""
        with self.us.runtime.reading() as session:
            return session.scalar(select(func.coalesce(func.sum(QuarantineItem.count), 0))) or 0

    def audit_entries(self, prefix: str = "federation.") -> list[AuditEntry]:
        with self.us.runtime.reading() as session:
            return list(
                session.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.action.startswith(prefix))
                    .order_by(AuditEntry.id)
                )
            )

    def keys(self) -> PeerKeys:
        identity = self.us.identity
        return PeerKeys.from_b64(identity.name, identity.signing_public, identity.encryption_public)

    @property
    def target(self) -> Target:
        return Target(self.peer, self.keys())


def open_inbox(root: Path, urls: tuple[str, str], **changes: Any) -> Iterator[Inbox]:
    us = make_node(root, urls[0], "US-DOJ", "US")
    cn = make_node(root, urls[1], "CN-MOJ", "CN")
    peer_up(us, cn)
    cn.runtime.close()
    with us.runtime.transaction() as session:
        admin = role_tokens(
            session, [Role.ADMINISTRATOR], prefix="bounds", unit="central-authority"
        )
    node_settings = us.runtime.settings.model_copy(
        update={"run_workers": False, "rate_limit_per_second": 0, **changes}
    )
    app = create_app(node_settings)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Inbox(us, cn.identity, client, admin[Role.ADMINISTRATOR])
    finally:
        us.runtime.close()


@pytest.fixture
def node(database_url: Any, tmp_path: Path) -> Iterator[Inbox]:
    """Caps small enough to reach in a test: 5 rows per address, 40 rows or 64 KiB in all."""
    yield from open_inbox(tmp_path, (database_url("us"), database_url("cn")), **CAPS)


@pytest.fixture
def roomy(database_url: Any, tmp_path: Path) -> Iterator[Inbox]:
    """The default caps, for the fuzzing: every refusal there is counted, most of them kept."""
    yield from open_inbox(tmp_path, (database_url("us"), database_url("cn")))


# -- envelopes with hostile values, signed with the pinned peer's real keys ----------------------


@dataclass
class Target:
    """Who signs (the pinned peer, its real keys) and who receives (its public keys)."""

    peer: NodeIdentity
    receiver: PeerKeys


def signed(peer: NodeIdentity, unsigned: dict[str, Any]) -> dict[str, Any]:
    """`unsigned` signed by the peer's real key over the JSON a hostile peer would make of it:
    canonical, but with a lone surrogate written as the bytes it decodes from (no honest
    encoder writes them) and NaN allowed."""
    text = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    signature = peer.signing.sign(text.encode("utf-8", "surrogatepass")).signature
    return {**unsigned, "sig": b64(signature)}


def hostile_envelope(
    to: Inbox | Target, /, *, plaintext: Any = None, **fields: Any
) -> dict[str, Any]:
    """An envelope from CN-MOJ to US-DOJ, `fields` replaced before signing; `plaintext` (any JSON
    value, written with \\u escapes) encrypted to US-DOJ as the body, in place of {}."""
    target = to.target if isinstance(to, Inbox) else to
    written = json.dumps({} if plaintext is None else plaintext).encode("ascii")
    ciphertext = bytes(box_for(target.peer, target.receiver).encrypt(written))
    unsigned: dict[str, Any] = {
        "v": 1,
        "id": str(new_id()),
        "from": target.peer.name,
        "to": target.receiver.name,
        "sent_at": iso(utcnow()),
        "kind": "case.submit",
        "body": b64(ciphertext),
        **fields,
    }
    return signed(target.peer, unsigned)


def as_request(envelope: Any, path: str) -> bytes:
    """JSON with \\u escapes, so that a lone surrogate travels as `\\ud800`."""
    return json.dumps(envelope if path == QUERY else {"envelopes": [envelope]}).encode("ascii")


def answered_without_a_crash(response: Any) -> dict[str, Any]:
    assert response.status_code < 500, response.text
    assert len(response.content) < 64 * 1024  # a bounded answer, whatever was sent
    document: dict[str, Any] = response.json()
    if response.status_code >= 400:
        reason = document.get("message") or document.get("error")
        assert isinstance(reason, str) and reason
    return document


def refused_and_counted(node: Inbox, content: bytes, path: str) -> None:
    """The request is answered without a crash and, if refused, counted in the quarantine."""
    before = node.refusals()
    response = node.post(content, path)
    document = answered_without_a_crash(response)
    if response.status_code >= 400 and response.status_code != 409:  # 409: a replayed query
        assert node.refusals() > before, (response.status_code, document)
    for receipt in document.get("receipts", []):
        assert receipt["status"] != "quarantined" or receipt["reason"]


# -- finding 4: the inbox crashed without a trace ------------------------------------------------

SURROGATE = "\ud800"


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("field", [*FIELDS, "\ud800-as-a-key"])
def test_a_lone_surrogate_in_any_field_of_an_unsigned_envelope_is_refused_and_kept(
    node: Inbox, path: str, field: str
) -> None:
    envelope = seal(
        node.peer,
        node.keys(),
        envelope_id=new_id(),
        kind="case.submit",
        body={},
        sent_at=iso(utcnow()),
    )
    if field in FIELDS:
        envelope[field] = SURROGATE
    else:
        envelope[SURROGATE] = 1
    before = len(node.rows())
    response = node.post(as_request(envelope, path), path)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()
    (kept,) = node.rows()[before:]
    assert kept.stage == "inbox" and kept.reason and kept.count == 1
    assert kept.digest is not None and kept.size
    if field == "from":
        assert kept.sender == "\\ud800"  # escaped, storable, readable


@pytest.mark.parametrize("path", PATHS)
def test_a_lone_surrogate_as_raw_utf8_bytes_is_refused_and_kept_as_base64(
    node: Inbox, path: str
) -> None:
    """JSON read from bytes decodes ED A0 80 to U+D800 (surrogatepass): no UTF-8 text holds it."""
    inner = b'{"v": 1, "from": "\xed\xa0\x80", "id": "\xed\xa0\x80"}'
    content = inner if path == QUERY else b'{"envelopes": [' + inner + b"]}"
    response = node.post(content, path)
    assert response.status_code == 400, response.text
    kept = node.rows()[-1]
    assert kept.sender == "\\ud800" and kept.envelope_id == "\\ud800"
    assert kept.raw.startswith("base64:")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "sent_at",
    [
        "0001-01-01T00:30:00+01:00",  # before year 1 once in UTC: OverflowError
        "9999-12-31T23:59:59-01:00",  # after 9999
        "0001-01-01T00:00:00+23:59",
        "-0001-01-01T00:00:00Z",
        "+10000-01-01T00:00:00Z",
        "99999999999999999999",
        "2026-02-30T00:00:00Z",
        "2026-01-01T00:00:00+24:00",
        "2026-01-01T00:00:00",  # no time zone
        "2026-01-01T00:00:00\x00Z",
        "NOW\x00",  # a time a moment ago, and a NUL, which PostgreSQL cannot store
        "NOW\u3000",
        "",
    ],
)
def test_a_signed_sent_at_out_of_range_is_refused_with_a_reason(
    node: Inbox, path: str, sent_at: str
) -> None:
    envelope = hostile_envelope(node, sent_at=sent_at.replace("NOW", iso(utcnow())))
    response = node.post(as_request(envelope, path), path)
    assert response.status_code == 400, response.text
    reason = response.json().get("message") or response.json()["error"]
    assert "sent_at" in reason and "not a time" in reason
    kept = node.rows()[-1]
    assert kept.stage == "inbox" and kept.envelope_id == envelope["id"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("field", ["from", "to", "sent_at", "kind", "id", "body"])
def test_a_lone_surrogate_in_a_signed_field_is_refused_not_a_crash(
    node: Inbox, path: str, field: str
) -> None:
    """Signed by the pinned peer's real key over the surrogate's bytes: no canonical encoding of
    it exists here, so the signature cannot verify — refused, and kept."""
    envelope = hostile_envelope(node, **{field: f"x{SURROGATE}"})
    before = node.refusals()
    response = node.post(as_request(envelope, path), path)
    assert response.status_code in (400, 401), response.text
    assert node.refusals() == before + 1


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"text": SURROGATE}, "lone surrogate"),
        ({SURROGATE: "key"}, "lone surrogate"),
        ({"deep": [[[[[[["\udfff"]]]]]]]}, "lone surrogate"),
        ({"text": "\x00"}, "NUL"),
        ([1, 2, 3], "not a JSON object"),
        ("just text", "not a JSON object"),
        ({"nested": [[[]]] * 1}, "schema"),
    ],
)
def test_a_signed_body_that_cannot_be_stored_is_quarantined_whole_as_evidence(
    node: Inbox, path: str, body: Any, why: str
) -> None:
    envelope = hostile_envelope(
        node, plaintext=body, kind="case.submit" if path == ENVELOPES else "case.head"
    )
    document = answered_without_a_crash(node.post(as_request(envelope, path), path))
    reason = document["receipts"][0]["reason"] if path == ENVELOPES else document["error"]
    assert why in reason
    kept = node.rows()[-1]
    assert kept.stage == "body" and kept.sender == "CN-MOJ" and kept.capped is None
    assert json.loads(kept.raw) == envelope  # whole: the peer's signature can be checked again


def test_a_signed_body_nested_as_deep_as_json_allows_is_quarantined(node: Inbox) -> None:
    depth = 900
    plaintext = ("[" * depth + "]" * depth).encode()
    envelope = hostile_envelope(node)
    ciphertext = bytes(box_for(node.peer, node.keys()).encrypt(plaintext))
    unsigned = {k: v for k, v in envelope.items() if k != "sig"}
    envelope = signed(node.peer, {**unsigned, "body": b64(ciphertext)})
    document = answered_without_a_crash(node.post(as_request(envelope, ENVELOPES)))
    assert document["receipts"][0]["status"] == "quarantined"


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "content",
    [
        b"[]",
        b"1",
        b'"x"',
        b"null",
        b"true",
        b"{}",
        b'{"envelopes": 5}',
        b'{"envelopes": {}}',
        b'{"envelopes": [1, "x", null, [], {}]}',
        b'{"envelopes": [[]]}',
        b"-0",
        b"1e999",
    ],
)
def test_json_that_is_not_an_envelope_is_refused_and_kept(
    node: Inbox, path: str, content: bytes
) -> None:
    refused_and_counted(node, content, path)
    assert node.post(content, path).status_code in (400, 413)


def deepest_json() -> int:
    from accord.core import jsontext

    depth = 1
    while True:
        try:
            jsontext.loads("[" * (depth + 1) + "]" * (depth + 1))
        except json.JSONDecodeError:
            return depth
        depth += 1


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("where", ["batch", "envelope", "from", "id"])
def test_json_nested_as_deep_as_the_reader_allows_is_refused_not_a_crash(
    node: Inbox, path: str, where: str
) -> None:
    """At the reader's limit, writing the value out again from deeper in the stack overflowed
    it (RecursionError, a 500)."""
    for depth in range(deepest_json() - 12, deepest_json() + 2):
        deep = "[" * depth + "]" * depth
        inner = {"batch": deep, "envelope": deep}.get(where) or f'{{"{where}": {deep}}}'
        content = inner if path == QUERY or where == "batch" else f'{{"envelopes": [{inner}]}}'
        refused_and_counted(node, content.encode(), path)


@pytest.mark.parametrize("path", PATHS)
def test_a_field_longer_than_its_column_is_cut_not_a_crash(node: Inbox, path: str) -> None:
    """PostgreSQL refuses a value longer than its column: a 10,000-character sender was one."""
    envelope = {
        "v": 1,
        "from": "X" * 10_000,
        "id": "Y" * 10_000,
        **{f"k{i}": i for i in range(3000)},
    }
    response = node.post(as_request(envelope, path), path)
    assert response.status_code == 400
    assert len(response.json().get("message") or response.json()["error"]) <= inbox.REASON_LIMIT
    kept = node.rows()[-1]
    assert kept.sender is not None and len(kept.sender) <= 200
    assert kept.envelope_id is not None and len(kept.envelope_id) <= 64
    assert len(kept.reason) <= inbox.REASON_LIMIT


# -- the fuzzing: arbitrary bytes, Unicode and JSON, signed or not, to both endpoints -------------

any_text = st.text(
    alphabet=st.one_of(
        st.characters(), st.characters(categories=["Cs"]), st.sampled_from('\x00"\\[{')
    ),
    max_size=30,
)
times = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-01:00", "-1", "1e308"]),
    any_text,
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def requests(draw: st.DrawFn, node: Inbox | Target) -> tuple[bytes, str]:
    path = draw(st.sampled_from(PATHS))
    how = draw(st.sampled_from(["bytes", "text", "json", "unsigned", "signed", "body"]))
    if how == "bytes":
        return draw(st.binary(max_size=400)), path
    if how == "text":
        return draw(any_text).encode("utf-8", "surrogatepass"), path
    if how == "json":
        return json.dumps(draw(json_values)).encode(), path
    fields = draw(
        st.dictionaries(
            st.sampled_from([*FIELDS, "extra"]),
            st.one_of(json_values, times) if how != "body" else st.sampled_from([None]),
            max_size=3,
        )
    )
    fields = {k: v for k, v in fields.items() if v is not None and k != "sig"}
    if how == "unsigned":
        envelope: Any = {**hostile_envelope(node), **fields}
    elif how == "signed":
        envelope = hostile_envelope(node, **fields)
    else:
        kind = "case.submit" if path == ENVELOPES else "case.head"
        envelope = hostile_envelope(node, plaintext=draw(json_values), kind=kind)
    ensure_ascii = draw(st.booleans())
    text = json.dumps(
        envelope if path == QUERY else {"envelopes": [envelope]}, ensure_ascii=ensure_ascii
    )
    return text.encode("utf-8", "surrogatepass"), path


FUZZ = settings(
    max_examples=examples(60),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@FUZZ
@given(data=st.data())
@example(data=None)
def test_any_request_to_the_inbox_is_answered_and_every_refusal_counted(
    roomy: Inbox, data: st.DataObject | None
) -> None:
    if data is None:  # the requests of the report
        for content, path in (
            (b'{"envelopes": [{"from": "\\ud800"}]}', ENVELOPES),
            (b'{"from": "\\ud800"}', QUERY),
            (
                as_request(hostile_envelope(roomy, sent_at="0001-01-01T00:30:00+01:00"), ENVELOPES),
                ENVELOPES,
            ),
        ):
            refused_and_counted(roomy, content, path)
        return
    content, path = data.draw(requests(roomy))
    refused_and_counted(roomy, content, path)


def live_target(live: LiveNode) -> Target:
    card = httpx.get(f"{live.url}/federation/v1/card", timeout=10).json()
    keys = PeerKeys.from_b64(card["name"], card["signing_key"], card["encryption_key"])
    return Target(live.peer, keys)


def live_refusals(live: LiveNode) -> int:
    engine = make_engine(live.settings.resolved_database_url)
    try:
        with session_factory(engine)() as session:
            return session.scalar(select(func.coalesce(func.sum(QuarantineItem.count), 0))) or 0
    finally:
        engine.dispose()


@FUZZ
@given(data=st.data())
def test_a_running_node_answers_any_request_and_counts_every_refusal(
    live_node: LiveNode, data: st.DataObject
) -> None:
    """The same requests over HTTP to `accord serve` (tests/hostile/conftest: CN-MOJ pinned)."""
    content, path = data.draw(requests(live_target(live_node)))
    before = live_refusals(live_node)
    response = httpx.post(
        live_node.url + path,
        content=content,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    document = answered_without_a_crash(response)
    if response.status_code >= 400 and response.status_code not in (409, 429):
        assert live_refusals(live_node) > before, (response.status_code, document)


# -- finding 5: junk filled the quarantine and the audit log -------------------------------------


def junk(i: int, size: int = 100_000) -> bytes:
    """`size` bytes that are not JSON, different for each `i`."""
    return hashlib.sha256(str(i).encode()).digest() * (size // 32) + b"\xff"


def test_a_junk_request_keeps_its_digest_size_and_first_kib(node: Inbox) -> None:
    sent = b"not json " * 11_112
    assert node.post(sent).status_code == 400
    (kept,) = node.rows()
    assert kept.digest == hashlib.sha256(sent).hexdigest()
    assert kept.size == len(sent) and kept.count == 1
    assert kept.raw == sent[: inbox.HEAD_BYTES].decode()
    binary = junk(1)
    node.post(binary)
    assert node.rows()[-1].raw == "base64:" + b64(binary[: inbox.HEAD_BYTES])


def test_the_same_junk_repeated_counts_on_one_row_and_one_audit_entry(node: Inbox) -> None:
    for _ in range(50):
        assert node.post(junk(7)).status_code == 400
    (kept,) = node.rows()
    assert kept.count == 50 and kept.size == 50 * len(junk(7))
    assert kept.last_seen_at is not None and kept.last_seen_at >= kept.received_at
    assert [e.action for e in node.audit_entries()] == ["federation.request_refused"]


def test_junk_from_one_address_past_its_cap_is_only_counted_and_alerted_once(
    node: Inbox, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="accord.federation.inbox"):
        for i in range(30):
            assert node.post(junk(i)).status_code == 400
    rows = node.rows()
    kept = [r for r in rows if r.capped is None]
    (counter,) = [r for r in rows if r.capped is not None]
    assert len(kept) == CAPS["quarantine_rows_per_source"]
    assert counter.capped == "source" and counter.count == 30 - len(kept)
    assert counter.remote_addr == "203.0.113.9" and "past the cap" in counter.reason
    assert counter.size == (30 - len(kept)) * len(junk(0))
    alerts = [r for r in caplog.records if r.getMessage().startswith("ALERT:")]
    assert len(alerts) == 1 and "203.0.113.9" in alerts[0].getMessage()
    actions = [e.action for e in node.audit_entries()]
    assert actions == ["federation.request_refused"] * len(kept) + ["federation.refusals_capped"]
    # another address still has its own allowance
    assert node.post(junk(99), source="198.51.100.1").status_code == 400
    assert node.rows()[-1].capped is None and node.rows()[-1].remote_addr == "198.51.100.1"


def test_junk_from_many_addresses_past_the_total_cap_is_only_counted(node: Inbox) -> None:
    """An attacker with a /64 of IPv6 addresses: past the total cap, one row counts them all."""
    for i in range(60):
        assert node.post(junk(i, 1000), source=f"2001:db8::{i:x}").status_code == 400
    rows = node.rows()
    assert len(rows) == CAPS["quarantine_max_rows"] + 1
    (total,) = [r for r in rows if r.capped == "total"]
    assert total.count == 60 - CAPS["quarantine_max_rows"] and total.remote_addr is None
    assert len(node.audit_entries()) == len(rows)


def test_the_byte_cap_stops_new_rows_before_the_row_cap(
    database_url: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    caps = {**CAPS, "quarantine_max_rows": 1000}
    with contextmanager(open_inbox)(
        tmp_path, (database_url("us"), database_url("cn")), **caps
    ) as node:
        for i in range(100):
            node.post(junk(i, 100_000), source=f"192.0.2.{i}")
        with node.us.runtime.reading() as session:
            kept = session.scalar(
                select(
                    func.sum(func.length(QuarantineItem.raw) + func.length(QuarantineItem.reason))
                )
            )
        # summed every BYTES_CHECK_EVERY rows, each at most 4/3 KiB of base64 and a reason
        largest_row = 4 * inbox.HEAD_BYTES // 3 + 4 + inbox.REASON_LIMIT
        assert kept is not None
        assert kept < caps["quarantine_max_bytes"] + inbox.BYTES_CHECK_EVERY * largest_row
        (total,) = [r for r in node.rows() if r.capped == "total"]
        assert len(node.rows()) <= inbox.BYTES_CHECK_EVERY + 1
        assert total.count == 100 - len(node.rows()) + 1
        # the next window is still past the cap: its junk too is only counted
        later = utcnow() + timedelta(seconds=node.us.runtime.settings.quarantine_window_seconds)
        monkeypatch.setattr(inbox, "utcnow", lambda: later)
        for i in range(100, 110):
            node.post(junk(i, 100_000), source=f"192.0.2.{i}")
        (after,) = node.rows()[-1:]
        assert after.capped == "total" and after.count == 10


def test_oversized_requests_are_bounded_like_any_junk(node: Inbox) -> None:
    limit = node.us.runtime.settings.max_request_bytes
    for _ in range(12):
        assert node.post(b" " * (limit + 1)).status_code == 413
    rows = node.rows()
    assert len(rows) <= CAPS["quarantine_rows_per_source"] + 1
    assert sum(r.count for r in rows) == 12
    assert all(r.raw == "" and (r.size or 0) > limit for r in rows)


def test_a_new_window_gives_an_address_a_new_allowance(
    node: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(10):
        node.post(junk(i, 500))
    later = utcnow() + timedelta(seconds=node.us.runtime.settings.quarantine_window_seconds)
    monkeypatch.setattr(inbox, "utcnow", lambda: later)
    node.post(junk(1000, 500))
    assert node.rows()[-1].capped is None and node.rows()[-1].received_at == later


def test_authentic_refusals_are_kept_whole_past_every_cap(node: Inbox) -> None:
    for i in range(60):
        node.post(junk(i, 1000), source=f"2001:db8::{i:x}")
    before = len(node.rows())
    for _ in range(3):
        envelope = hostile_envelope(node, plaintext={"not": "a submission"})
        document = answered_without_a_crash(node.post(as_request(envelope, ENVELOPES)))
        assert document["receipts"][0]["status"] == "quarantined"
    evidence = node.rows()[before:]
    assert [r.stage for r in evidence] == ["body"] * 3
    assert all(r.capped is None and r.count == 1 and json.loads(r.raw)["sig"] for r in evidence)


def test_the_audit_chain_stays_intact_under_junk(node: Inbox) -> None:
    for i in range(40):
        node.post(junk(i % 8, 2000), source=f"198.51.100.{i % 3}")
    with node.us.runtime.reading() as session:
        assert audit.verify(session) == []
    assert len(node.audit_entries()) == len(node.rows())


def test_the_worker_deletes_old_unauthenticated_refusals_and_keeps_evidence(
    node: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    retention = timedelta(days=node.us.runtime.settings.quarantine_retention_days)
    long_ago = utcnow() - retention - timedelta(days=1)
    monkeypatch.setattr(inbox, "utcnow", lambda: long_ago)
    node.post(junk(1, 500))  # old: deleted
    node.post(junk(2, 500))  # old: deleted
    evidence = hostile_envelope(node, plaintext={"not": "a submission"}, sent_at=iso(long_ago))
    node.post(as_request(evidence, ENVELOPES))  # old, but authentic: kept
    monkeypatch.undo()
    node.post(junk(2, 500))  # the same junk again, in this window: kept
    node.post(junk(3, 500))  # recent: kept
    assert [r.stage for r in node.rows()] == ["inbox", "inbox", "body", "inbox", "inbox"]
    workers = Workers(node.us.runtime.factory, node.us.identity, node.us.runtime.settings)
    workers.start(delivery=False, inbox=True)  # the retention runs at once, then hourly
    try:
        deadline = utcnow() + timedelta(seconds=20)
        while workers.pruned == 0 and utcnow() < deadline:
            workers.stop.wait(0.05)
    finally:
        workers.shutdown()
    assert workers.pruned == 2
    left = node.rows()
    assert [r.digest for r in left] == [
        hashlib.sha256(json.dumps(evidence).encode()).hexdigest(),
        hashlib.sha256(junk(2, 500)).hexdigest(),
        hashlib.sha256(junk(3, 500)).hexdigest(),
    ]
    assert left[0].stage == "body"
    (pruned,) = node.audit_entries("federation.quarantine_pruned")
    assert pruned.detail["rows"] == 2


def test_the_listing_shows_what_each_row_stands_for(node: Inbox, database_url: Any) -> None:
    for i in range(12):  # 8 different: 5 kept, 3 past the cap; then 4 repeats of kept ones
        node.post(junk(i % 8, 300))
    listed = node.client.get(
        "/api/v1/federation/quarantine", headers={"Authorization": f"Bearer {node.admin}"}
    )
    assert listed.status_code == 200, listed.text
    rows = listed.json()
    assert sum(r["count"] for r in rows) == 12
    assert any(r["capped"] == "source" for r in rows)
    assert listed.headers["Accord-Quarantine-Refusals"] == "12"
    assert listed.headers["Accord-Quarantine-Unauthenticated-Rows"] == str(len(rows))
    assert len(rows) == 6 and listed.headers["Accord-Quarantine-Counted-Past-Caps"] == "3"
    settings_ = node.us.runtime.settings
    env = {
        "ACCORD_DATA_DIR": str(settings_.data_dir),
        "ACCORD_DATABASE_URL": settings_.resolved_database_url,
        "COLUMNS": "200",
    }
    shown = CliRunner().invoke(cli_app, ["federation", "quarantine"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "source cap" in shown.output
    assert f"{len(rows)} rows for 12 refusals" in shown.output
    assert "3 of them counted past the caps" in shown.output


def test_markup_in_a_refusal_does_not_break_the_listing(node: Inbox) -> None:
    node.post(b'{"envelopes": [{"[/red]": 1, "from": "[bold]x[/]"}]}')
    settings_ = node.us.runtime.settings
    env = {
        "ACCORD_DATA_DIR": str(settings_.data_dir),
        "ACCORD_DATABASE_URL": settings_.resolved_database_url,
        "COLUMNS": "300",
    }
    shown = CliRunner().invoke(cli_app, ["federation", "quarantine"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "[/red]" in shown.output
