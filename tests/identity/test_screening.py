"""Screening files: CSV, JSON lines and Parquet in; candidates CSV out; bad rows in a side file
naming row and field, never stopping the batch; `accord screen` with its progress bar."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from accord.cli.root import app
from accord.core.errors import InvalidInput
from accord.identity.records import person_from_row
from accord.identity.screening import OUTPUT_COLUMNS, read_rows, screen_files

WATCHLIST = [
    {"id": "W1", "name": "ZHANG Wei", "name_native": "张伟", "birth_date": "1980-05-01",
     "sex": "M", "nationality": "CN", "id_number": "", "passport_number": ""},
    {"id": "W2", "name": "ZHANG Wei", "name_native": "张伟", "birth_date": "1975-02-11",
     "sex": "M", "nationality": "CN", "id_number": "", "passport_number": ""},
    {"id": "W3", "name": "SHAN Xiongxin", "name_native": "單雄信", "birth_date": "1969",
     "sex": "M", "nationality": "", "id_number": "", "passport_number": ""},
    {"id": "W4", "name": "OUYANG Nana", "name_native": "欧阳娜娜", "birth_date": "1990-03-12",
     "sex": "F", "nationality": "CN", "id_number": "", "passport_number": "E 1234 5678"},
]  # fmt: skip
QUERIES = [
    {"id": "Q1", "name": "Cheung Wai", "birth_date": "1980-05-01", "sex": "M"},
    {"id": "Q2", "name": "Shan Hsiung-hsin", "birth_date": "1969-10-10"},
    {"id": "Q3", "name": "Au Yeung Na Na", "birth_date": "1990-03"},
    {"id": "Q4", "name": "Michael Smith", "birth_date": "1970-01-01"},
    {"id": "Q5", "name": "", "birth_date": "1970-01-01"},
    {"id": "Q6", "name": "Zhang Wei", "birth_date": "1980-13-01", "sex": "Q"},
]


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    columns = list(WATCHLIST[0])
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def matches(rows: list[dict[str, str]]) -> dict[str, str]:
    return {r["query_id"]: r["candidate_id"] for r in rows if r["decision"] == "match"}


def test_screen_csv_against_csv(tmp_path: Path) -> None:
    out = tmp_path / "m.csv"
    summary = screen_files(
        write_csv(tmp_path / "w.csv", WATCHLIST), write_csv(tmp_path / "q.csv", QUERIES), out
    )
    rows = read_csv(out)
    assert list(rows[0]) == list(OUTPUT_COLUMNS)
    assert matches(rows) == {"Q1": "W1", "Q2": "W3", "Q3": "W4"}
    assert all(0 <= float(r["score"]) <= 1 for r in rows)
    assert summary.queries == 5 and summary.rows_skipped == 1


def test_bad_rows_are_reported_by_row_and_field_and_the_batch_goes_on(tmp_path: Path) -> None:
    out = tmp_path / "m.csv"
    summary = screen_files(
        write_csv(tmp_path / "w.csv", WATCHLIST), write_csv(tmp_path / "q.csv", QUERIES), out
    )
    assert summary.problems_path == tmp_path / "m.problems.csv"
    problems = read_csv(summary.problems_path)
    by_field = {(p["row"], p["field"]): p for p in problems}
    assert by_field[("5", "name")]["action"] == "row skipped"
    assert by_field[("6", "birth_date")]["action"] == "value ignored"
    assert "1980-13-01" in by_field[("6", "birth_date")]["message"]
    assert by_field[("6", "sex")]["message"].startswith("row 6: sex 'Q'")
    assert {p["source"] for p in problems} == {"input"}
    # Row 6 was still screened, on its name.
    assert any(r["query_id"] == "Q6" for r in read_csv(out))


def test_json_lines_with_a_broken_line(tmp_path: Path) -> None:
    queries = tmp_path / "q.jsonl"
    lines = [json.dumps(q, ensure_ascii=False) for q in QUERIES[:2]]
    queries.write_text(lines[0] + "\n{not json\n" + lines[1] + "\n", encoding="utf-8")
    out = tmp_path / "m.csv"
    summary = screen_files(write_csv(tmp_path / "w.csv", WATCHLIST), queries, out)
    assert matches(read_csv(out)) == {"Q1": "W1", "Q2": "W3"}
    problems = read_csv(tmp_path / "m.problems.csv")
    assert problems[0]["row"] == "2" and "not JSON" in problems[0]["message"]
    assert summary.rows_skipped == 1


def test_parquet_watchlist(tmp_path: Path) -> None:
    watchlist = tmp_path / "w.parquet"
    pq.write_table(pa.Table.from_pylist(WATCHLIST), watchlist)
    out = tmp_path / "m.csv"
    screen_files(watchlist, write_csv(tmp_path / "q.csv", QUERIES[:3]), out)
    assert matches(read_csv(out)) == {"Q1": "W1", "Q2": "W3", "Q3": "W4"}
    assert not (tmp_path / "m.problems.csv").exists()


def test_a_file_without_the_name_column_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "w.csv"
    bad.write_text("id,full_name\n1,Zhang Wei\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="no column name"):
        screen_files(bad, write_csv(tmp_path / "q.csv", QUERIES), tmp_path / "m.csv")


def test_an_unknown_format_is_refused_before_reading(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="unknown format"):
        screen_files(tmp_path / "w.csv", tmp_path / "q.xlsx", tmp_path / "m.csv")


def test_identity_card_date_wins_over_a_conflicting_birth_date() -> None:
    row = {
        "id": "1",
        "name": "Li Na",
        "birth_date": "1949-31-12",
        "id_number": "11010519491231002X",
    }
    record, problems = person_from_row(row, 3)
    assert record is not None and str(record.birth) == "1949-12-31" and record.sex == "F"
    assert [p.field for p in problems] == ["birth_date"]  # 1949-31-12 is not a date

    row["birth_date"] = "1949-12-30"
    record, problems = person_from_row(row, 3)
    assert record is not None and str(record.birth) == "1949-12-31"
    assert problems[0].action == "value kept" and "encoded in id_number" in problems[0].message


def test_a_bad_identity_card_number_is_ignored_with_a_reason() -> None:
    record, problems = person_from_row(
        {"id": "1", "name": "Li Na", "id_number": "110105194912310021"}, 9
    )
    assert record is not None and record.resident_id is None
    assert problems[0].field == "id_number" and "should be X" in problems[0].message


def test_the_screen_command(tmp_path: Path) -> None:
    out = tmp_path / "m.csv"
    result = CliRunner().invoke(
        app,
        [
            "screen",
            "--watchlist",
            str(write_csv(tmp_path / "w.csv", WATCHLIST)),
            "--input",
            str(write_csv(tmp_path / "q.csv", QUERIES)),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "screened 5 persons against 4 records: 3 matches" in result.output
    assert "m.problems.csv" in result.output
    assert matches(read_csv(out)) == {"Q1": "W1", "Q2": "W3", "Q3": "W4"}


def test_a_line_that_is_not_utf8_is_reported_and_the_rest_read(tmp_path: Path) -> None:
    """Found by fuzzing: one bad byte in a JSON lines file stopped it with UnicodeDecodeError."""
    from accord.identity.screening import read_records

    path = tmp_path / "people.jsonl"
    path.write_bytes(b'{"id": "1", "name": "ZHANG Wei"}\n\xff\n{"id": "2", "name": "LI Na"}\n')
    problems: list[tuple[str, object]] = []
    records = list(read_records(path, "fuzz", problems))  # type: ignore[arg-type]
    assert [r.id for r in records] == ["1", "2"]
    assert "row 2: not UTF-8 text" in str(problems)


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("people.csv", b"id,name\n\xff\xfe,x\n", "not UTF-8"),
        ("people.csv", b'id,name\n"' + b"x" * 200_000 + b'",y\n', "not CSV"),
        ("people.parquet", b"PAR1garbagePAR1", "not a Parquet file"),
    ],
)
def test_unreadable_files_are_invalid_input(
    tmp_path: Path, name: str, data: bytes, words: str
) -> None:
    """Found by fuzzing: these escaped as UnicodeDecodeError, csv.Error and ArrowInvalid."""
    from accord.identity.screening import read_records

    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InvalidInput, match=words):
        list(read_records(path, "fuzz", []))


def test_a_partial_birth_date_is_completed_from_the_identity_card() -> None:
    row = {"id": "1", "name": "Li Na", "birth_date": "1949", "id_number": "11010519491231002X"}
    record, problems = person_from_row(row, 3)
    assert record is not None and str(record.birth) == "1949-12-31"
    assert problems == []


def test_screening_in_several_processes_writes_what_one_process_writes(tmp_path: Path) -> None:
    watchlist = [
        {**row, "id": f"{row['id']}-{i}", "birth_date": f"{1950 + i}-0{1 + i % 9}-1{i % 10}"}
        for i in range(30)
        for row in WATCHLIST
    ]
    queries = [{**q, "id": f"{q['id']}-{i}", "birth_date": w["birth_date"]}
               for i, (q, w) in enumerate(zip(QUERIES * 20, watchlist, strict=False))]  # fmt: skip
    w = write_csv(tmp_path / "w.csv", watchlist)
    q = write_csv(tmp_path / "q.csv", queries)
    one = screen_files(w, q, tmp_path / "one.csv", workers=1)
    three = screen_files(w, q, tmp_path / "three.csv", workers=3)
    assert (one.watchlist_records, one.queries, one.matches) == (
        three.watchlist_records, three.queries, three.matches,
    )  # fmt: skip
    assert one.matches > 0
    ordered = sorted(map(tuple, (r.values() for r in read_csv(tmp_path / "one.csv"))))
    assert ordered == sorted(map(tuple, (r.values() for r in read_csv(tmp_path / "three.csv"))))
    assert read_csv(tmp_path / "one.problems.csv") == read_csv(tmp_path / "three.problems.csv")


def test_csv_rows_read_as_dict_reader_reads_them_and_kept_by_id(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(
        "id,name,birth_date\n"
        "a1,ZHANG Wei,1980\n"
        "\n"  # a blank line is no row
        "a2,LI Na\n"  # short: birth_date None
        " a3 ,WANG Fang,1990,extra,more\n"  # long: the extra values under None
        "a4,CHEN Jie,2001-02-03\n",
        encoding="utf-8",
    )
    with path.open(encoding="utf-8", newline="") as f:
        expected = [dict(r) for r in csv.DictReader(f)]
    assert [fields for _, fields in read_rows(path)] == expected
    assert [row for row, _ in read_rows(path)] == [1, 2, 3, 4]
    kept = list(read_rows(path, keep=lambda record_id: record_id in {"a2", "a3"}))
    assert [(row, fields["id"]) for row, fields in kept if isinstance(fields, dict)] == [
        (2, "a2"),
        (3, " a3 "),
    ]
