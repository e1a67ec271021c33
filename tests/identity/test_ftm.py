"""FollowTheMoney Person entities: into the node's records and out again, bad lines named by line
and property without stopping the file, and screening straight from an FtM file."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from accord.cli.root import app
from accord.config import Settings
from accord.federation.node import init_node
from accord.identity import ftm, service
from accord.identity.screening import screen_files
from tests.helpers import make_node

ENTITIES: list[dict[str, Any]] = [
    {
        "id": "os-zhang-wei",
        "schema": "Person",
        "properties": {
            "name": ["ZHANG Wei"],
            "alias": ["张伟"],
            "birthDate": ["1980-05-01"],
            "gender": ["male"],
            "nationality": ["cn"],
            "idNumber": ["110105198005010013"],
            "passportNumber": ["E12345678"],
        },
    },
    {
        "id": "os-ouyang-nana",
        "schema": "Person",
        "properties": {"name": ["OUYANG Nana"], "alias": ["欧阳娜娜"], "birthDate": ["1990-03"]},
    },
    {"id": "os-li-na", "schema": "Person", "properties": {"name": ["李娜"], "gender": ["female"]}},
]


UNIT = "central-authority"  # the intake unit, as `accord identity import` uses it


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def entities_file(path: Path, entities: list[dict[str, Any]]) -> Path:
    return write_lines(path, [json.dumps(e, ensure_ascii=False) for e in entities])


def test_the_identity_card_in_the_sample_is_valid() -> None:
    fields, problems = ftm.entity_fields(ENTITIES[0], 1)
    assert problems == [] and fields is not None
    assert fields == {
        "id": "os-zhang-wei",
        "name": "ZHANG Wei",
        "name_native": "张伟",
        "birth_date": "1980-05-01",
        "sex": "M",
        "aliases": [],
        "weak_aliases": [],
        "nationality": ["cn"],  # every value kept; person_from_row reads each
        "id_number": ["110105198005010013"],
        "passport_number": ["E12345678"],
    }


def test_entities_go_into_the_records_and_come_out_the_same(tmp_path: Path) -> None:
    node = make_node(tmp_path, f"sqlite:///{tmp_path / 'cn.db'}", "CN-MPS", "CN")
    try:
        with node.runtime.transaction() as session:
            added, updated, problems = service.import_records(
                session, path=entities_file(tmp_path / "in.ftm.json", ENTITIES), unit=UNIT
            )
        assert (added, updated, problems) == (3, 0, [])
        out = tmp_path / "out.ftm.json"
        with node.runtime.reading() as session, out.open("w", encoding="utf-8") as f:
            assert service.export_records(session, out=f, kind="ftm", unit=UNIT) == 3
    finally:
        node.runtime.close()
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(exported, key=lambda e: e["id"]) == sorted(ENTITIES, key=lambda e: e["id"])


def test_bad_lines_are_named_by_line_and_property_and_the_rest_imported(tmp_path: Path) -> None:
    good = ENTITIES[0]
    path = write_lines(
        tmp_path / "mixed.jsonl",
        [
            json.dumps(good),
            "{not json",
            "",
            json.dumps({"id": "c1", "schema": "Company", "properties": {"name": ["ACME"]}}),
            json.dumps({"schema": "Person", "properties": {"name": ["WANG Fang"]}}),
            json.dumps({"id": "p5", "schema": "Person", "properties": {"birthDate": ["1970"]}}),
            json.dumps(
                {
                    "id": "p6",
                    "schema": "Person",
                    "properties": {"name": ["LIU Yang"], "birthDate": "1975-02-03"},
                }
            ),
            json.dumps(
                {
                    "id": "p7",
                    "schema": "Person",
                    "properties": {
                        "name": ["CHEN Jing"],
                        "gender": ["robot"],
                        "idNumber": ["110105194912310021"],
                        "birthDate": ["1949-12-31", "1950-01-01"],
                    },
                }
            ),
            json.dumps({"id": "p8", "schema": "Person", "properties": []}),
        ],
    )
    node = make_node(tmp_path, f"sqlite:///{tmp_path / 'cn.db'}", "CN-MPS", "CN")
    try:
        with node.runtime.transaction() as session:
            added, _, problems = service.import_records(session, path=path, kind="ftm", unit=UNIT)
            size = service.watchlist_size(session, unit=UNIT)
    finally:
        node.runtime.close()
    assert (added, size) == (3, 3)  # lines 1, 7 and 8
    found = {(p.row, p.field, p.action) for p in problems}
    assert found == {
        (2, "", "row skipped"),
        (4, "schema", "row skipped"),
        (5, "id", "row skipped"),
        (6, "properties.name", "row skipped"),
        (7, "properties.birthDate", "value ignored"),
        (8, "properties.gender", "value ignored"),
        (8, "properties.idNumber", "value ignored"),
        (8, "properties.birthDate", "value kept"),
        (9, "properties", "row skipped"),
    }
    messages = {(p.row, p.field): p.message for p in problems}
    assert messages[(2, "")].startswith("line 2: not JSON")
    assert messages[(4, "schema")] == (
        "line 4: schema 'Company' is not Person; only Person entities are imported"
    )
    assert "must be a list of strings" in messages[(7, "properties.birthDate")]
    assert messages[(8, "properties.idNumber")].startswith("line 8: ")
    assert "should be X" in messages[(8, "properties.idNumber")]
    assert "the first (1949-12-31) is kept" in messages[(8, "properties.birthDate")]


def test_screening_reads_a_watchlist_of_entities(tmp_path: Path) -> None:
    watchlist = entities_file(
        tmp_path / "list.ftm.json", [*ENTITIES, {"id": "x", "schema": "Company"}]
    )
    queries = tmp_path / "q.csv"
    with queries.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "name", "birth_date"])
        writer.writerow(["Q1", "Cheung Wai", "1980-05-01"])
    out = tmp_path / "m.csv"
    summary = screen_files(watchlist, queries, out)
    assert summary.watchlist_records == 3 and summary.matches == 1
    with out.open(encoding="utf-8") as f:
        (row,) = list(csv.DictReader(f))
    assert row["candidate_id"] == "os-zhang-wei"
    with summary.problems_path.open(encoding="utf-8") as f:  # type: ignore[union-attr]
        (problem,) = list(csv.DictReader(f))
    assert problem["source"] == "watchlist" and problem["row"] == "4"


def test_the_import_and_export_commands(tmp_path: Path) -> None:
    data = tmp_path / "node"
    init_node(Settings(data_dir=data), name="CN-MPS", country="CN", endpoint="http://127.0.0.1:9")
    source = entities_file(tmp_path / "people.jsonl", [*ENTITIES, {"id": "bad"}])
    runner = CliRunner()
    imported = runner.invoke(
        app, ["--data", str(data), "identity", "import", str(source), "--format", "ftm"]
    )
    assert imported.exit_code == 0, imported.output
    assert "3 added, 0 updated; 3 records held" in imported.output
    assert "line 4" in imported.output
    out = tmp_path / "records.ftm.json"
    exported = runner.invoke(
        app, ["--data", str(data), "identity", "export", str(out), "--format", "ftm"]
    )
    assert exported.exit_code == 0, exported.output
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [
        "os-li-na",
        "os-ouyang-nana",
        "os-zhang-wei",
    ]
    as_csv = runner.invoke(app, ["--data", str(data), "identity", "export", "-", "--format", "csv"])
    assert as_csv.exit_code == 0 and as_csv.output.startswith("id,name,name_native")


def test_every_property_a_person_carries_survives_import_and_export(tmp_path: Path) -> None:
    # issue 18, item 5: non-native aliases, weakAlias, a second nationality and passport, a
    # second identity number, birthPlace and address were lost.
    entity = {
        "id": "os-li-xiaoming",
        "schema": "Person",
        "properties": {
            "name": ["LI Xiaoming", "LEE Siu Ming", "李小明"],
            "alias": ["LI Hsiao-ming"],
            "weakAlias": ["Ah Ming"],
            "previousName": ["LI Ming"],
            "birthDate": ["1980-05-01"],
            "gender": ["male"],
            "nationality": ["cn", "hk"],
            "passportNumber": ["K98765432", "H12345678"],
            "idNumber": ["110105198005010013", "A123456(3)"],
            "birthPlace": ["Guangzhou, Guangdong"],
            "address": ["12 Nathan Road, Kowloon, Hong Kong"],
        },
    }
    path = entities_file(tmp_path / "in.ftm.json", [entity])
    node = make_node(tmp_path, f"sqlite:///{tmp_path / 'cn.db'}", "CN-MPS", "CN")
    try:
        with node.runtime.transaction() as session:
            added, _, problems = service.import_records(session, path=path, kind="ftm", unit=UNIT)
        assert (added, problems) == (1, [])
        out = tmp_path / "out.ftm.json"
        with node.runtime.reading() as session, out.open("w", encoding="utf-8") as f:
            service.export_records(session, out=f, kind="ftm", unit=UNIT)
    finally:
        node.runtime.close()
    (exported,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    got = exported["properties"]
    assert got["name"] == ["LI Xiaoming"]
    assert set(got["alias"]) == {"李小明", "LEE Siu Ming", "LI Hsiao-ming", "LI Ming"}
    assert got["weakAlias"] == ["Ah Ming"]
    assert got["nationality"] == ["cn", "hk"]
    assert got["passportNumber"] == ["K98765432", "H12345678"]
    assert got["idNumber"] == ["110105198005010013", "A1234563"]
    assert got["birthPlace"] == ["Guangzhou, Guangdong"]
    assert got["address"] == ["12 Nathan Road, Kowloon, Hong Kong"]
    assert (got["birthDate"], got["gender"]) == (["1980-05-01"], ["male"])
