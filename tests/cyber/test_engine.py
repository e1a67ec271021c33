"""The engine: hits aggregated into sightings, suppression at hit time, bad lines counted,
complex patterns decided by stix2-matcher, the fast path agreeing with the line-by-line one."""

from __future__ import annotations

import random
from pathlib import Path

from accord.cyber.matching.engine import Matcher, build_sightings
from accord.cyber.matching.index import IndicatorIndex
from accord.cyber.matching.readers import LogFormat, LogReader
from accord.cyber.matching.suppression import SuppressionList
from accord.cyber.stix import TLP2_MARKINGS, TlpLevel
from tests.cyber.conftest import indicator, indicator_id, write_jsonl


def matcher_for(*patterns: str, suppression: SuppressionList | None = None) -> Matcher:
    suppression = suppression or SuppressionList.defaults()
    index = IndicatorIndex.build(
        (indicator(n, p) for n, p in enumerate(patterns)), suppression.key_entry
    )
    return Matcher(index, suppression=suppression)


def test_hits_are_aggregated_per_indicator_with_first_and_last_seen(tmp_path: Path) -> None:
    log = write_jsonl(
        tmp_path / "conn.jsonl",
        [
            {"ts": 1714521602, "src_ip": "10.0.0.5", "dst_ip": "192.0.2.1"},
            {"ts": 1714521600, "src_ip": "10.0.0.6", "dst_ip": "192.0.2.1"},
            {"ts": 1714521601, "src_ip": "10.0.0.6", "dst_ip": "198.51.100.3"},
            {"ts": 1714521609, "query": "www.evil.example"},
        ],
    )
    report = matcher_for(
        "[ipv4-addr:value = '192.0.2.1']", "[domain-name:value = 'evil.example']"
    ).run([log], LogFormat.JSONL)
    first, second = report.hits[indicator_id(0)], report.hits[indicator_id(1)]
    assert first.count == 2
    assert first.first_seen is not None and first.first_seen.timestamp() == 1714521600
    assert first.last_seen is not None and first.last_seen.timestamp() == 1714521602
    assert second.count == 1 and dict(second.values) == {"www.evil.example": 1}
    assert report.lines == 4 and report.hit_lines == 3

    amber = TLP2_MARKINGS[TlpLevel.AMBER].id
    sightings = build_sightings(report, markings={indicator_id(1): (amber,)})
    by_ref = {s.sighting_of_ref: s for s in sightings}
    assert by_ref[indicator_id(0)].count == 2
    assert by_ref[indicator_id(0)].first_seen.timestamp() == 1714521600
    assert by_ref[indicator_id(1)].object_marking_refs == [amber]


def test_a_line_hitting_one_indicator_twice_counts_once(tmp_path: Path) -> None:
    log = write_jsonl(tmp_path / "l.jsonl", [{"src_ip": "192.0.2.1", "dst_ip": "192.0.2.1"}])
    report = matcher_for("[ipv4-addr:value ISSUBSET '192.0.2.0/24']").run([log], LogFormat.JSONL)
    assert report.hits[indicator_id(0)].count == 1


def test_benign_hits_of_a_wide_network_are_suppressed(tmp_path: Path) -> None:
    log = write_jsonl(
        tmp_path / "l.jsonl",
        [{"dst_ip": "8.8.8.8"}, {"dst_ip": "8.8.4.4"}, {"dst_ip": "8.8.9.9"}],
    )
    report = matcher_for("[ipv4-addr:value ISSUBSET '8.8.0.0/16']").run([log], LogFormat.JSONL)
    assert report.hits[indicator_id(0)].count == 1
    assert report.suppressed == {"8.8.8.8": 1, "8.8.4.4": 1}


def test_bad_lines_are_counted_and_named_and_do_not_stop_the_run(tmp_path: Path) -> None:
    log = tmp_path / "l.jsonl"
    log.write_text(
        '{"dst_ip": "192.0.2.1"}\ngarbage\n{"dst_ip": "192.0.2.999"}\n{"dst_ip": "192.0.2.1"}\n'
    )
    report = matcher_for("[ipv4-addr:value = '192.0.2.1']").run([log], LogFormat.JSONL)
    assert report.hits[indicator_id(0)].count == 2
    assert report.bad_count == 2
    assert [(b.line, b.field) for b in report.bad_lines] == [(2, None), (3, "dst_ip")]


def test_unanchored_complex_pattern_is_tried_on_every_line_with_its_kind(tmp_path: Path) -> None:
    log = write_jsonl(
        tmp_path / "l.jsonl",
        [
            {"url": "http://evil.example/wp-admin/x.php"},
            {"url": "http://evil.example/index.html"},
            {"url": "http://other.example/wp-admin/x.php"},
        ],
    )
    report = matcher_for("[url:value LIKE '%/wp-admin/%']").run([log], LogFormat.JSONL)
    assert report.hits[indicator_id(0)].count == 2

    matcher = matcher_for(
        "[url:value = 'http://evil.example/wp-admin/x.php' OR url:value MATCHES '^https://']"
    )
    report = matcher.run([log], LogFormat.JSONL)
    assert report.hits[indicator_id(0)].count == 1
    assert report.complex_evaluated == 3  # unanchored: every line with a URL is a candidate


def test_anchored_complex_pattern_sees_only_candidate_lines(tmp_path: Path) -> None:
    log = write_jsonl(
        tmp_path / "l.jsonl",
        [{"url": f"http://site{i}.example/a"} for i in range(50)]
        + [{"url": "http://evil.example/drop/a.exe"}, {"url": "http://evil.example/ok"}],
    )
    matcher = matcher_for("[url:value LIKE '%.exe'] AND [domain-name:value = 'evil.example']")
    report = matcher.run([log], LogFormat.JSONL)
    assert report.complex_evaluated == 2


def test_fast_path_agrees_with_matching_every_line(tmp_path: Path) -> None:
    rng = random.Random(7)
    ips = [f"198.51.{rng.randrange(3)}.{rng.randrange(256)}" for _ in range(60)]
    names = [f"h{rng.randrange(40)}.d{rng.randrange(5)}.example" for _ in range(60)]
    rows = [
        {
            "ts": 1714521600 + i,
            "dst_ip": rng.choice(ips),
            "query": rng.choice(names),
            "url": f"http://{rng.choice(names)}/p{rng.randrange(3)}",
        }
        for i in range(3000)
    ]
    log = write_jsonl(tmp_path / "l.jsonl", rows)
    patterns = [
        "[ipv4-addr:value ISSUBSET '198.51.1.0/25']",
        f"[ipv4-addr:value = '{ips[0]}']",
        "[domain-name:value = 'd3.example']",
        f"[domain-name:value = '{names[1]}']",
        f"[url:value = 'http://{names[2]}/p1']",
    ]
    fast = matcher_for(*patterns).run([log], LogFormat.JSONL)

    slow_matcher = matcher_for(*patterns)
    reader = LogReader(log, LogFormat.JSONL)
    from accord.cyber.matching.engine import MatchReport

    slow = MatchReport()
    for number, raw in enumerate(log.read_bytes().splitlines(), 1):
        row = reader.parse_line(raw, number)
        assert row is not None
        slow_matcher.match_row(row, reader=reader, line=number, report=slow)
    assert {k: v.count for k, v in fast.hits.items()} == {k: v.count for k, v in slow.hits.items()}
    assert fast.hit_lines == slow.hit_lines > 0


def test_a_small_cache_gives_the_same_answers(tmp_path: Path) -> None:
    rows = [{"dst_ip": f"192.0.2.{i % 200}"} for i in range(2000)]
    log = write_jsonl(tmp_path / "l.jsonl", rows)
    matcher = matcher_for("[ipv4-addr:value ISSUBSET '192.0.2.0/28']")
    matcher.cache_limit = 7
    report = matcher.run([log], LogFormat.JSONL)
    assert report.hits[indicator_id(0)].count == 16 * 10


def test_zeek_http_as_json_rebuilds_the_url_from_host_and_uri(tmp_path: Path) -> None:
    log = write_jsonl(
        tmp_path / "http.jsonl",
        [
            {"host": "www.example.org", "uri": "/drop/a.exe"},
            {"host": "www.example.org", "uri": "/"},
        ],
    )
    report = matcher_for("[url:value = 'http://www.example.org/drop/a.exe']").run(
        [log], LogFormat.JSONL
    )
    assert report.hits[indicator_id(0)].count == 1
