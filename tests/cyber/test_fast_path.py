"""The block fast path against the line-by-line reference: block boundaries, the first and last
line, CRLF, bytes that are not UTF-8, very long lines, each log format, idle address ranges and
URLs decided by their host."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from accord.cyber.matching import readers
from accord.cyber.matching.engine import Matcher, MatchReport
from accord.cyber.matching.index import IndicatorIndex
from accord.cyber.matching.readers import LogFormat, LogReader
from accord.cyber.matching.suppression import SuppressionList
from tests.cyber.conftest import indicator, indicator_id

PATTERNS = (
    "[ipv4-addr:value = '198.51.100.7']",
    "[ipv4-addr:value ISSUBSET '203.0.113.0/26']",
    "[ipv4-addr:value ISSUBSET '0.0.0.0/0']",
    "[ipv6-addr:value = '2001:db8::7']",
    "[domain-name:value = 'evil.example']",
    "[url:value = 'http://cdn.example/Drop/a.exe']",
    "[file:hashes.MD5 = '098f6bcd4621d373cade4e832627b4f6']",
    "[email-addr:value = 'boss@evil.example']",
)
COLUMNS = ["ts", "src_ip", "dst_ip", "query", "url", "md5", "from"]


def matcher_for(*patterns: str, block_size: int = 1 << 20) -> Matcher:
    suppression = SuppressionList.defaults()
    index = IndicatorIndex.build(
        (indicator(n, p) for n, p in enumerate(patterns)), suppression.key_entry
    )
    return Matcher(index, suppression=suppression, block_size=block_size)


def reference(path: Path, log_format: LogFormat, *patterns: str) -> MatchReport:
    """Every line parsed and matched one by one: the semantics the fast path must keep."""
    matcher = matcher_for(*patterns)
    reader = LogReader(path, log_format)
    report = MatchReport()
    lines = path.read_bytes().split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    for number, raw in enumerate(lines, 1):
        if log_format is LogFormat.CSV and number == 1:
            reader.header = raw.decode().strip().split(",")
            continue
        if log_format is LogFormat.ZEEK and raw.startswith(b"#"):
            reader._zeek_directive(raw.decode().rstrip("\r"))
            continue
        if not raw.strip():
            continue
        row = reader.parse_line(raw, number)
        if row is not None:
            matcher.match_row(row, reader=reader, line=number, report=report)
    report.bad_count = reader.bad_count
    report.bad_lines = reader.bad_lines
    return report


def summary(report: MatchReport) -> tuple[object, ...]:
    return (
        {k: (v.count, v.first_seen, v.last_seen) for k, v in report.hits.items()},
        report.hit_lines,
        dict(report.suppressed),
        [(b.line, b.field) for b in report.bad_lines],
    )


def random_rows(seed: int, n: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    planted = {
        "dst_ip": ["198.51.100.7", "203.0.113.9", "2001:DB8::7", "8.8.8.8", "10.9.9.9"],
        "query": ["www.evil.example", "EVIL.example.", "notevil.example"],
        "url": [
            "http://cdn.example/Drop/a.exe",
            "HTTP://CDN.example:80/Drop/a%2Eexe",
            "http://cdn.example/drop/a.exe",
            "cdn.example/Drop/a.exe",
            "https://x.evil.example/?q=1",
            "http://user@cdn.example/Drop/a.exe",
            "http://site1.example:99999/p",
        ],
        "md5": ["098F6BCD4621D373CADE4E832627B4F6"],
        "from": ["Boss <BOSS@evil.example>", "boss@evil.example"],
    }
    rows = []
    for i in range(n):
        row = {
            "ts": f"{1714521600 + i}.5",
            "src_ip": f"10.{rng.randrange(4)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            "dst_ip": f"192.0.2.{rng.randrange(256)}",
            "query": f"h{rng.randrange(50)}.site.example",
            "url": f"https://site{rng.randrange(50)}.example/p?id={rng.randrange(10**6)}",
            "md5": f"{rng.getrandbits(128):032x}",
            "from": "-",
        }
        if rng.random() < 0.05:
            name = rng.choice(sorted(planted))
            row[name] = rng.choice(planted[name])
        rows.append(row)
    return rows


def write(path: Path, rows: list[dict[str, str]], log_format: LogFormat, eol: str = "\n") -> Path:
    if log_format is LogFormat.JSONL:
        text = "".join(json.dumps(row) + eol for row in rows)
    elif log_format is LogFormat.CSV:
        text = ",".join(COLUMNS) + eol
        text += "".join(",".join(r[c] for c in COLUMNS) + eol for r in rows)
    else:
        text = "#separator \\x09" + eol + "#fields\t" + "\t".join(COLUMNS) + eol
        text += "".join("\t".join(r[c] for c in COLUMNS) + eol for r in rows)
        text += "#close\t2024-05-01-00-00-00" + eol
    path.write_bytes(text.encode())
    return path


@pytest.mark.parametrize("log_format", list(LogFormat))
@pytest.mark.parametrize("eol", ["\n", "\r\n"])
@pytest.mark.parametrize("block_size", [2048, 1 << 20])
def test_fast_path_agrees_with_the_reference_in_every_format(
    tmp_path: Path, log_format: LogFormat, eol: str, block_size: int
) -> None:
    path = write(tmp_path / f"log.{log_format.value}", random_rows(3, 400), log_format, eol)
    fast = matcher_for(*PATTERNS, block_size=block_size).run([path], log_format)
    slow = reference(path, log_format, *PATTERNS)
    assert summary(fast) == summary(slow)
    assert fast.hit_lines > 10 and fast.suppressed and fast.lines == 400
    assert any(b.field == "url" for b in fast.bad_lines)


def test_hits_on_the_first_and_last_line_without_a_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    rows = (
        [{"dst_ip": "198.51.100.7"}] + [{"dst_ip": "192.0.2.1"}] * 50 + [{"query": "evil.example"}]
    )
    path.write_text("\n".join(json.dumps(r) for r in rows))
    patterns = ("[ipv4-addr:value = '198.51.100.7']", "[domain-name:value = 'evil.example']")
    for block_size in (16, 1 << 20):
        report = matcher_for(*patterns, block_size=block_size).run([path], LogFormat.JSONL)
        assert report.hits[indicator_id(0)].count == 1
        assert report.hits[indicator_id(1)].count == 1
        assert report.lines == 52 and report.hit_lines == 2


def test_a_line_split_across_blocks_is_read_whole(tmp_path: Path) -> None:
    line = json.dumps({"pad": "x" * 50, "query": "a.evil.example"}) + "\n"
    path = tmp_path / "l.jsonl"
    path.write_text(line * 20)
    # 37 bytes a block: every line spans two or three blocks.
    report = matcher_for(*PATTERNS, block_size=37).run([path], LogFormat.JSONL)
    assert report.hits[indicator_id(4)].count == 20 and report.bad_count == 0


def test_a_very_long_line_with_a_hit(tmp_path: Path) -> None:
    long = {"ua": "A" * 300_000, "url": "http://cdn.example/Drop/a.exe"}
    path = tmp_path / "l.jsonl"
    path.write_text(json.dumps({"dst_ip": "192.0.2.1"}) + "\n" + json.dumps(long) + "\n")
    report = matcher_for(*PATTERNS, block_size=4096).run([path], LogFormat.JSONL)
    assert report.hits[indicator_id(5)].count == 1 and report.lines == 2


def test_bytes_that_are_not_utf8_make_a_bad_line_and_the_block_is_still_matched(
    tmp_path: Path,
) -> None:
    path = tmp_path / "l.zeek"
    path.write_bytes(
        b"#fields\tts\tdst_ip\tquery\n"
        b"1714521600.0\t198.51.100.7\t-\n"
        b"1714521601.0\t192.0.2.1\tcaf\xe9.example\n"
        b"1714521602.0\t-\twww.evil.example\n"
    )
    report = matcher_for(*PATTERNS).run([path], LogFormat.ZEEK)
    assert report.hits[indicator_id(0)].count == 1
    assert report.hits[indicator_id(4)].count == 1
    assert [(b.line, b.reason) for b in report.bad_lines] == [(3, "not UTF-8 at byte 26")]


def test_private_addresses_are_skipped_unless_an_indicator_covers_them(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    path.write_text(
        "".join(json.dumps({"src_ip": ip}) + "\n" for ip in ("10.0.0.1", "10.0.0.999", "8.8.8.8"))
    )
    narrow = matcher_for("[ipv4-addr:value = '198.51.100.7']")
    assert narrow._untouched_ipv4 is not None
    report = narrow.run([path], LogFormat.JSONL)
    assert not report.hits and not report.suppressed
    assert [(b.line, b.field) for b in report.bad_lines] == [(2, "src_ip")]

    wide = matcher_for("[ipv4-addr:value ISSUBSET '0.0.0.0/1']")
    report = wide.run([path], LogFormat.JSONL)
    assert report.suppressed == {"10.0.0.0/8": 1, "8.8.8.8": 1}


def test_urls_on_an_indicator_host_are_looked_up_whole(tmp_path: Path) -> None:
    urls = [
        "http://cdn.example/Drop/a.exe",
        "HTTP://CDN.EXAMPLE:80/Drop/a%2Eexe",
        "http://cdn.example/Drop/b.exe",
        "http://cdn.example/drop/a.exe",
        "https://cdn.example/Drop/a.exe",
        "http://other.example/Drop/a.exe",
    ]
    path = tmp_path / "l.jsonl"
    path.write_text("".join(json.dumps({"url": u}) + "\n" for u in urls))
    report = matcher_for(*PATTERNS).run([path], LogFormat.JSONL)
    assert report.hits[indicator_id(5)].count == 2 and report.hit_lines == 2


def test_lines_at_cuts_out_the_rows_asked_for() -> None:
    block = b"".join(b"line %d %s\r\n" % (i, b"x" * (i % 7)) for i in range(100)) + b"\n"
    import pyarrow as pa

    batch = readers.Batch(pa.table({"n": list(range(101))}), {}, 1, block)
    rows = [0, 1, 15, 16, 17, 50, 98, 99, 100]
    assert batch.lines_at(rows) == [block.split(b"\n")[r] for r in rows]
    assert batch.lines == block.split(b"\n")[:-1]
    assert batch.lines_at([]) == []


def test_zeek_directives_inside_a_block_split_it_into_runs(tmp_path: Path) -> None:
    # Two logs concatenated: a second #fields line with another column order in mid-block.
    head = "#separator \\x09\n#fields\tts\tdst_ip\tquery\n"
    other = "#fields\tquery\tts\tdst_ip\n"
    lines = [f"1700000000.{i}\t10.0.0.{i}\tsite{i}.example" for i in range(5)]
    swapped = [f"site{i}.example\t1700000001.{i}\t10.0.1.{i}" for i in range(5)]
    path = tmp_path / "conn.log"
    path.write_text(head + "\n".join(lines) + "\n#close\tx\n" + other + "\n".join(swapped) + "\n")
    reader = readers.LogReader(path, LogFormat.ZEEK)
    batches = list(reader.batches())
    assert [b.first_line for b in batches] == [3, 10]
    assert [b.table["query"].to_pylist() for b in batches] == [
        [f"site{i}.example" for i in range(5)],
        [f"site{i}.example" for i in range(5)],
    ]
    assert batches[1].lines_at([0, 4]) == [swapped[0].encode(), swapped[4].encode()]
    assert reader.lines_read == 10
