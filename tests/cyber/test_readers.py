"""Log readers: fields by name from JSON Lines, CSV and Zeek TSV; bad lines reported, not fatal."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from accord.core.errors import InvalidInput
from accord.cyber.matching.readers import LogFormat, LogReader, event_time

ZEEK_HTTP = (
    "#separator \\x09\n"
    "#set_separator\t,\n"
    "#empty_field\t(empty)\n"
    "#unset_field\t-\n"
    "#path\thttp\n"
    "#fields\tts\tuid\tid.orig_h\tid.resp_h\thost\turi\n"
    "#types\ttime\tstring\taddr\taddr\tstring\tstring\n"
    "1714521600.5\tC1\t10.0.0.5\t192.0.2.1\tevil.example\t/payload\n"
    "1714521601.5\tC2\t10.0.0.6\t-\t-\t-\n"
    "#close\t2024-05-01-00-00-00\n"
)


def rows_of(reader: LogReader) -> list[dict[str, str | None]]:
    rows: list[dict[str, str | None]] = []
    for batch in reader.batches():
        rows += batch.table.to_pylist()
    return rows


def test_zeek_fields_header_unset_values_and_rebuilt_url(tmp_path: Path) -> None:
    path = tmp_path / "http.log"
    path.write_text(ZEEK_HTTP)
    reader = LogReader(path, LogFormat.ZEEK)
    rows = rows_of(reader)
    assert rows[0]["id.resp_h"] == "192.0.2.1"
    assert rows[0]["url"] == "http://evil.example/payload"
    assert rows[1]["id.resp_h"] is None and rows[1]["url"] is None
    assert reader.bad_count == 0 and reader.lines_read == 2


def test_csv_header_and_quoted_values(tmp_path: Path) -> None:
    path = tmp_path / "proxy.csv"
    path.write_text(
        'timestamp,client_ip,url\n2024-05-01T00:00:00Z,10.0.0.5,"http://a.example/?x=1,2"\n'
    )
    rows = rows_of(LogReader(path, LogFormat.CSV))
    assert rows == [{"client_ip": "10.0.0.5", "url": "http://a.example/?x=1,2"}]


def test_bad_jsonl_lines_are_reported_with_line_and_field_and_the_rest_is_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text(
        '{"dst_ip": "192.0.2.1"}\n'
        '{"dst_ip": "192.0.2.2"\n'
        '{"dst_ip": 42}\n'
        "\n"
        '{"dst_ip": "192.0.2.3"}\n'
    )
    reader = LogReader(path, LogFormat.JSONL)
    rows = rows_of(reader)
    assert [r["dst_ip"] for r in rows] == ["192.0.2.1", "192.0.2.3"]
    assert reader.bad_count == 2
    assert [str(b) for b in reader.bad_lines] == [
        f"{path}:2: not JSON: Expecting ',' delimiter at column 23",
        f"{path}:3: field 'dst_ip': expected a string, found int",
    ]


def test_csv_line_with_too_many_fields_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "src_ip,dst_ip\n10.0.0.1,192.0.2.1\n10.0.0.1,192.0.2.1,extra\n10.0.0.2,192.0.2.2\n"
    )
    reader = LogReader(path, LogFormat.CSV)
    rows = rows_of(reader)
    assert [r["dst_ip"] for r in rows] == ["192.0.2.1", "192.0.2.2"]
    assert [(b.line, b.reason) for b in reader.bad_lines] == [
        (3, "3 fields where the header has 2")
    ]


@pytest.mark.parametrize("pipe", [False, True], ids=["file", "pipe"])
def test_lines_spanning_block_boundaries_are_read_whole(tmp_path: Path, pipe: bool) -> None:
    # Lines of every length around the block size (one four blocks long), the last without its
    # newline; a regular file is read again from the last whole line, a pipe carries it over.
    lines = [f'{{"dst_ip": "192.0.2.{i % 250}", "pad": "{"x" * (i % 97)}"}}' for i in range(300)]
    lines[150] = lines[150][:-1] + ', "long": "' + "y" * 250 + '"}'
    text = "\n".join(lines)
    path = tmp_path / "log.jsonl"
    if pipe:
        os.mkfifo(path)
        writer = threading.Thread(target=path.write_text, args=(text,))
        writer.start()
    else:
        path.write_text(text)
    reader = LogReader(path, LogFormat.JSONL, block_size=64)
    batches = list(reader.batches())
    if pipe:
        writer.join()
    assert [line.decode() for b in batches for line in b.lines] == lines
    assert [n for b in batches for n in b.line_numbers] == list(range(1, 301))
    assert reader.bytes_read == len(text.encode()) and reader.lines_read == 300


def test_event_time_from_epoch_or_iso() -> None:
    assert event_time({"ts": "1714521600.5"}) is not None
    moment = event_time({"timestamp": "2024-05-01T10:00:00Z"})
    assert moment is not None and moment.hour == 10
    assert event_time({"uid": "x"}) is None


@pytest.mark.parametrize("separator", ["\\xZZ", "", "é"])
def test_zeek_separator_that_names_none_is_invalid_input(tmp_path: Path, separator: str) -> None:
    """Found by fuzzing: a broken #separator escaped as UnicodeDecodeError or ValueError."""
    path = tmp_path / "conn.log"
    path.write_text(f"#separator {separator}\n#fields\tts\n1\n")
    with pytest.raises(InvalidInput, match="names no separator"):
        rows_of(LogReader(path, LogFormat.ZEEK))


@pytest.mark.parametrize("first", [b"null", b" true", b"[]"])
def test_jsonl_block_starting_with_a_non_object_is_read_line_by_line(
    tmp_path: Path, first: bytes
) -> None:
    """Found by fuzzing: pyarrow's JSON reader crashed the process on a block starting `null`."""
    path = tmp_path / "log.jsonl"
    path.write_bytes(first + b'\n{"dst_ip": "192.0.2.1"}\n')
    reader = LogReader(path, LogFormat.JSONL)
    assert [r["dst_ip"] for r in rows_of(reader)] == ["192.0.2.1"]
    assert reader.bad_count == 1 and "not a JSON object" in reader.bad_lines[0].reason


def test_csv_field_past_the_csv_limit_is_reported_not_raised(tmp_path: Path) -> None:
    """Found by fuzzing: a field of more than 128 KiB escaped as csv.Error."""
    path = tmp_path / "log.csv"
    path.write_bytes(b'client_ip,url\n10.0.0.1,"' + b"x" * 200_000 + b'"\n10.0.0.2,-\n')
    reader = LogReader(path, LogFormat.CSV)
    assert [r["client_ip"] for r in rows_of(reader)] in (["10.0.0.1", "10.0.0.2"], ["10.0.0.2"])
    huge_header = tmp_path / "header.csv"
    huge_header.write_bytes(b'"' + b"x" * 200_000 + b'"\n1\n')
    with pytest.raises(InvalidInput, match="not a CSV header"):
        rows_of(LogReader(huge_header, LogFormat.CSV))
