"""Hypothesis fuzzing of every parser that reads input from outside: the federation envelope
(through the inbox), identity records (CSV, JSON lines, Parquet, FtM), STIX bundles, INTERPOL
notice JSON and the cyber log readers. Property: the input is read, or refused with InvalidInput
(or a bad row or line reported with its reason) — never another exception, never a hang.

Bounded for CI (ACCORD_HOSTILE_EXAMPLES, default 150 per property, 2 s deadline per example).
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accord.cases.definitions.fugitive import notice_from_interpol
from accord.core.clock import iso, new_id, utcnow
from accord.core.errors import InvalidInput
from accord.cyber.matching.readers import LogFormat, LogReader
from accord.cyber.stix import parse_bundle
from accord.federation import inbox
from accord.federation.envelope import seal
from accord.federation.keys import PeerKeys
from accord.identity.records import RowProblem
from accord.identity.screening import count_rows, read_records
from tests.helpers import WINDOW, Node, make_node, peer_up
from tests.hostile.conftest import examples

BOUNDED = settings(
    max_examples=examples(150),
    deadline=2000,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,  # a scratch folder, overwritten by each example
    ],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)
# Texts that a JSON reader finds hardest: almost JSON, too deep, too long a number.
hostile_json_texts = st.one_of(
    st.builds(json.dumps, json_values),
    st.builds(lambda v, cut: json.dumps(v)[:cut], json_values, st.integers(0, 200)),
    st.builds(lambda n: "[" * n + "]" * n, st.integers(1, 100_000)),
    st.builds(lambda n: "1" * n, st.integers(1, 10_000)),
    st.text(max_size=200),
)
raw_bytes = st.one_of(st.binary(max_size=2000), hostile_json_texts.map(str.encode))


@pytest.fixture
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


# -- federation envelopes ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    root = tmp_path_factory.mktemp("fuzz-inbox")
    us = make_node(root, f"sqlite:///{root / 'us.db'}", "US-DOJ", "US")
    cn = make_node(root, f"sqlite:///{root / 'cn.db'}", "CN-MOJ", "CN")
    peer_up(us, cn)
    yield us, cn
    us.runtime.close()
    cn.runtime.close()


def sealed(sender: Node, receiver: Node, body: Any = None) -> dict[str, Any]:
    keys = PeerKeys.from_b64(
        receiver.name, receiver.identity.signing_public, receiver.identity.encryption_public
    )
    return seal(
        sender.identity,
        keys,
        envelope_id=new_id(),
        kind="case.submit",
        body=body if body is not None else {},
        sent_at=iso(utcnow()),
    )


def receive(node: Node, envelopes: list[Any]) -> inbox.BatchOutcome:
    with node.runtime.transaction() as session:
        return inbox.receive(
            session,
            node=node.identity,
            envelopes=envelopes,
            remote_addr="198.51.100.7",
            window=WINDOW,
        )


FIELDS = ("v", "id", "from", "to", "sent_at", "kind", "body", "sig")


@st.composite
def mutated(draw: st.DrawFn, envelope: dict[str, Any]) -> Any:
    """A sealed envelope with one field replaced, truncated, dropped or added."""
    changed = dict(envelope)
    field = draw(st.sampled_from(FIELDS))
    how = draw(st.sampled_from(("replace", "truncate", "drop", "add", "flip")))
    if how == "replace":
        changed[field] = draw(json_values)
    elif how == "truncate" and isinstance(changed[field], str):
        changed[field] = changed[field][: draw(st.integers(0, len(changed[field])))]
    elif how == "drop":
        del changed[field]
    elif how == "add":
        changed[draw(st.text(max_size=8))] = draw(json_values)
    elif how == "flip" and isinstance(changed[field], str) and changed[field]:
        at = draw(st.integers(0, len(changed[field]) - 1))
        changed[field] = changed[field][:at] + draw(st.characters()) + changed[field][at + 1 :]
    return changed


@BOUNDED
@given(data=st.data())
def test_inbox_answers_any_envelope_with_a_receipt_or_a_reason(
    receiver: tuple[Node, Node], data: st.DataObject
) -> None:
    us, cn = receiver
    envelope = sealed(
        us, cn, data.draw(st.none() | st.dictionaries(st.text(max_size=5), json_values))
    )
    batch = data.draw(st.lists(json_values | mutated(envelope), min_size=1, max_size=3))
    outcome = receive(cn, batch)
    assert (outcome.error is None) == (outcome.status == 200)
    if outcome.error is not None:
        assert 400 <= outcome.status < 500 and outcome.error
    for receipt in outcome.receipts:
        assert receipt["status"] in ("stored", "duplicate", "quarantined")
        assert receipt["status"] != "quarantined" or receipt["reason"]


# -- identity records ----------------------------------------------------------------------------


def read_all(path: Path, kind: str) -> list[tuple[str, RowProblem]]:
    problems: list[tuple[str, RowProblem]] = []
    try:
        list(read_records(path, "fuzz", problems, kind=kind))
        count_rows(path)
    except InvalidInput as exc:
        assert exc.message
    for _, problem in problems:
        assert problem.message
    return problems


csv_texts = st.lists(
    st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=12), max_size=6),
    max_size=6,
).map(lambda rows: "\n".join(",".join(r) for r in [["id", "name", "birth_date", "sex"], *rows]))


@BOUNDED
@given(data=st.one_of(raw_bytes, csv_texts.map(str.encode)))
@example(data=b"id,name\n\xff\xfe,x\n")
@example(data=b'id,name\n"' + b"x" * 200_000 + b'",y\n')
def test_identity_csv_is_read_or_refused(scratch: Path, data: bytes) -> None:
    read_all(write(scratch, "people.csv", data), "csv")


@BOUNDED
@given(
    data=st.one_of(
        raw_bytes, st.lists(json_values).map(lambda v: "\n".join(map(json.dumps, v)).encode())
    )
)
@example(data=b'{"id": "1", "name": "x"}\n\xff\n')
@example(data=b"1" * 5000 + b"\n")
def test_identity_json_lines_are_read_or_refused(scratch: Path, data: bytes) -> None:
    read_all(write(scratch, "people.jsonl", data), "jsonl")


ftm_entities = st.fixed_dictionaries(
    {
        "id": json_values | st.text(max_size=8),
        "schema": st.sampled_from(["Person", "Company"]) | json_values,
    },
    optional={
        "properties": st.dictionaries(
            st.sampled_from(
                [
                    "name",
                    "alias",
                    "firstName",
                    "lastName",
                    "birthDate",
                    "gender",
                    "nationality",
                    "idNumber",
                    "passportNumber",
                    "citizenship",
                ]
            ),
            json_values | st.lists(st.text(max_size=20), max_size=3),
        )
        | json_values
    },
)


@BOUNDED
@given(
    data=st.one_of(
        raw_bytes,
        st.lists(ftm_entities, max_size=4).map(lambda v: "\n".join(map(json.dumps, v)).encode()),
    )
)
@example(data=b'{"id": "1", "schema": "Person"}\n\xc3\n')
def test_ftm_entities_are_read_or_refused(scratch: Path, data: bytes) -> None:
    read_all(write(scratch, "people.ftm.json", data), "ftm")


parquet_cells = st.one_of(
    st.none(), st.text(max_size=12), st.integers(-(2**40), 2**40), st.floats()
)


def parquet_of(columns: dict[str, list[Any]]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({name: pa.array(values) for name, values in columns.items()}), buffer)
    return buffer.getvalue()


@st.composite
def parquet_files(draw: st.DrawFn) -> bytes:
    rows = draw(st.integers(0, 5))
    names = draw(
        st.lists(
            st.sampled_from(["id", "name", "birth_date", "sex", "nationality", "x"]),
            unique=True,
            max_size=5,
        )
    )
    columns = {}
    for name in names:
        kind = draw(
            st.sampled_from(
                [
                    st.text(max_size=12),
                    st.integers(-(2**40), 2**40),
                    st.floats(),
                    st.lists(st.text(max_size=3), max_size=2),
                ]
            )
        )
        columns[name] = draw(st.lists(st.none() | kind, min_size=rows, max_size=rows))
    data = parquet_of(columns)
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return data


@BOUNDED
@given(data=st.one_of(raw_bytes, parquet_files()))
@example(data=b"PAR1garbagePAR1")
def test_identity_parquet_is_read_or_refused(scratch: Path, data: bytes) -> None:
    read_all(write(scratch, "people.parquet", data), "parquet")


# -- STIX bundles and notices --------------------------------------------------------------------

stix_objects = st.fixed_dictionaries(
    {"type": st.sampled_from(["indicator", "malware", "bundle"]) | json_values},
    optional={
        "id": st.sampled_from(["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]) | json_values,
        "spec_version": st.just("2.1") | json_values,
        "created": st.just("2024-01-01T00:00:00.000Z") | json_values,
        "modified": st.just("2024-01-01T00:00:00.000Z") | json_values,
        "pattern": st.sampled_from(
            [
                "[ipv4-addr:value = '192.0.2.1']",
                "[file:hashes.MD5 = 'x'] AND [",
                "[domain-name:value = 'a'] FOLLOWEDBY [url:value = 'b']",
            ]
        )
        | st.text(max_size=40),
        "pattern_type": st.just("stix") | json_values,
        "valid_from": st.just("2024-01-01T00:00:00Z") | json_values,
        "revoked": json_values,
        "object_marking_refs": json_values,
        "name": json_values,
    },
)
bundles = st.fixed_dictionaries(
    {"type": st.just("bundle") | json_values},
    optional={"id": json_values, "objects": st.lists(stix_objects, max_size=3) | json_values},
)


@BOUNDED
@given(
    source=st.one_of(raw_bytes, bundles.map(lambda b: json.dumps(b).encode()), bundles),
    validate=st.booleans(),
)
def test_stix_bundle_is_read_or_refused(source: Any, validate: bool) -> None:
    try:
        parse_bundle(source, validate=validate)
    except InvalidInput as exc:
        assert exc.message


notices = st.fixed_dictionaries(
    {},
    optional={
        "name": json_values,
        "forename": json_values,
        "entity_id": json_values,
        "date_of_birth": st.sampled_from(["1980/05/17", "1980", ""]) | json_values,
        "sex_id": json_values,
        "nationalities": json_values,
        "languages_spoken_ids": json_values,
        "place_of_birth": json_values,
        "distinguishing_marks": json_values,
        "arrest_warrants": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "issuing_country_id": json_values,
                    "charge": json_values,
                    "charge_translation": json_values,
                },
            )
            | json_values,
            max_size=3,
        )
        | json_values,
    },
)


@BOUNDED
@given(notice=st.one_of(notices, json_values))
@example(notice={"name": "ZHANG", "arrest_warrants": [{"charge": "fraud"}], "nationalities": 5})
def test_interpol_notice_is_read_or_refused(notice: Any) -> None:
    try:
        notice_from_interpol(notice)
    except InvalidInput as exc:
        assert exc.message


# -- cyber logs ----------------------------------------------------------------------------------

zeek_lines = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "#separator \\x09",
                "#separator ",
                "#separator \\xZZ",
                "#separator é",
                "#fields\tts\tid.orig_h\thost\turi",
                "#close\t2024",
            ]
        ),
        st.lists(st.text(max_size=10), max_size=5).map("\t".join),
    ),
    max_size=8,
).map(lambda lines: "\n".join(lines).encode())


@BOUNDED
@given(
    data=st.one_of(raw_bytes, zeek_lines, csv_texts.map(str.encode)),
    log_format=st.sampled_from(LogFormat),
    block_size=st.sampled_from([64, 1 << 20]),
)
@example(data=b"#separator \\xZZ\n", log_format=LogFormat.ZEEK, block_size=1 << 20)
@example(data=b"#separator \n#fields a\n", log_format=LogFormat.ZEEK, block_size=1 << 20)
def test_cyber_logs_are_read_or_refused(
    scratch: Path, data: bytes, log_format: LogFormat, block_size: int
) -> None:
    reader = LogReader(write(scratch, "events.log", data), log_format, block_size=block_size)
    try:
        for batch in reader.batches():
            batch.lines  # noqa: B018  (cutting the lines out is part of reading)
    except InvalidInput as exc:
        assert exc.message
    for bad in reader.bad_lines:
        assert bad.reason
