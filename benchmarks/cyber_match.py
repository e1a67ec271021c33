"""Indicator matching benchmark: how many log lines per second go through an index of 1,000,000
STIX indicators, how much memory the index takes, and what `stix2-matcher` alone would manage.

It generates N indicators (IPv4/IPv6 exact and CIDR, domains, URLs, MD5/SHA-1/SHA-256, e-mails)
as STIX pattern strings and reads them with `accord.cyber.stix.observables_of`, builds the index
(with the default suppression list), generates a log of realistic lines (connections, DNS, HTTP,
files, mail; Zipf-like popularity; about 0.5 % of lines carry an indicator value) and matches it
twice, each time with a new matcher: the figures are the second (steady) run's, the first is shown
beside them.
The baseline, in the same run: `stix2-matcher` on a sample of lines against a sample of the same
indicators, extrapolated to all N (it has no index: each line meets every pattern).

    .venv/bin/python benchmarks/cyber_match.py [--indicators 1000000] [--lines 1000000]
        [--format jsonl|csv|zeek] [--baseline-lines 200] [--baseline-patterns 100]

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stix2matcher.matcher import Pattern

from accord.cyber.matching.engine import Matcher, observed_data
from accord.cyber.matching.index import IndicatorIndex
from accord.cyber.matching.readers import BLOCK_SIZE, DEFAULT_FIELDS, LogFormat
from accord.cyber.matching.suppression import SuppressionList
from accord.cyber.stix import IndicatorPattern, observables_of

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # as a script, or imported
from benchmarks.exchange import machine

TARGET_LINES_PER_S = 1_000_000
TARGET_INDEX_MB = 300
HIT_RATE = 0.005
NETWORK_FIRST_OCTETS = (5, 37, 62, 80, 95, 176, 178, 194)
COLUMNS = [
    "ts",
    "uid",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "proto",
    "bytes",
    "query",
    "host",
    "url",
    "md5",
    "sha256",
    "from",
]


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def hexstr(rng: random.Random, nbytes: int) -> str:
    return rng.getrandbits(nbytes * 8).to_bytes(nbytes).hex()


def public_ipv4(rng: random.Random, firsts: tuple[int, ...] = (23, 31, 45, 52, 77, 91, 104)) -> str:
    first = rng.choice(firsts)
    return f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def make_indicators(n: int, rng: random.Random) -> tuple[list[str], dict[str, list[str]]]:
    """Pattern strings, and per log field some values that hit (to plant in the log)."""
    patterns: list[str] = []
    planted: dict[str, list[str]] = {"dst_ip": [], "query": [], "url": [], "sha256": [], "from": []}
    words = ["login", "secure", "update", "cdn", "mail", "pay", "account", "verify", "files"]
    tlds = ["com", "net", "org", "info", "xyz", "top", "ru", "cn", "io"]
    for i in range(n):
        roll = rng.random()
        if roll < 0.35:
            ip = public_ipv4(rng)
            patterns.append(f"[ipv4-addr:value = '{ip}']")
            planted["dst_ip"].append(ip)
        elif roll < 0.40:
            ip = f"2a0{rng.randrange(10)}:{rng.randrange(65536):x}::{rng.randrange(65536):x}"
            patterns.append(f"[ipv6-addr:value = '{ip}']")
        elif roll < 0.45:
            # Hosting ranges the log's usual traffic does not go to: hits are the planted ones.
            length = rng.choice([16, 20, 24, 24, 24, 28, 30])
            net = public_ipv4(rng, NETWORK_FIRST_OCTETS)
            patterns.append(f"[ipv4-addr:value ISSUBSET '{net}/{length}']")
            planted["dst_ip"].append(net)
        elif roll < 0.46:
            patterns.append(
                f"[ipv6-addr:value ISSUBSET '2a0{rng.randrange(10)}:{i % 65536:x}::/48']"
            )
        elif roll < 0.71:
            domain = f"{rng.choice(words)}-{i:x}.{rng.choice(tlds)}"
            patterns.append(f"[domain-name:value = '{domain}']")
            planted["query"].append(f"www.{domain}")
        elif roll < 0.81:
            url = f"http://{rng.choice(words)}{i:x}.{rng.choice(tlds)}/{hexstr(rng, 4)}/x.php"
            patterns.append(f"[url:value = '{url}']")
            planted["url"].append(url)
        elif roll < 0.86:
            patterns.append(f"[file:hashes.MD5 = '{hexstr(rng, 16)}']")
        elif roll < 0.91:
            patterns.append(f"[file:hashes.'SHA-1' = '{hexstr(rng, 20)}']")
        elif roll < 0.96:
            value = hexstr(rng, 32)
            patterns.append(f"[file:hashes.'SHA-256' = '{value}']")
            planted["sha256"].append(value)
        else:
            address = f"{rng.choice(words)}{i}@{rng.choice(words)}.{rng.choice(tlds)}"
            patterns.append(f"[email-addr:value = '{address}']")
            planted["from"].append(address)
    return patterns, planted


def zipf_pool(rng: random.Random, pool: list[str]) -> str:
    # Popularity falls off like real traffic: a few destinations take most lines.
    return pool[min(int(rng.paretovariate(1.1)) - 1, len(pool) - 1)]


def make_log(
    path: Path, lines: int, log_format: LogFormat, planted: dict[str, list[str]], seed: int
) -> None:
    rng = random.Random(seed)
    dst_ips = [public_ipv4(rng) for _ in range(200_000)]
    rng.shuffle(dst_ips)
    sites = [
        f"{rng.choice(['www', 'api', 'cdn', 'img', 'static'])}.site{i}.example"
        for i in range(100_000)
    ]
    hashes = [hexstr(rng, 32) for _ in range(50_000)]
    with path.open("w", encoding="utf-8") as out:
        if log_format is LogFormat.ZEEK:
            out.write(
                "#separator \\x09\n#path\taccord-bench\n#fields\t" + "\t".join(COLUMNS) + "\n"
            )
        elif log_format is LogFormat.CSV:
            out.write(",".join(COLUMNS) + "\n")
        ts = 1714521600.0
        for n in range(lines):
            ts += rng.random() * 0.002
            roll = rng.random()
            row: dict[str, Any] = {
                "ts": f"{ts:.6f}",
                "uid": f"C{rng.getrandbits(64):016x}",
                "src_ip": f"10.{rng.randrange(4)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                "src_port": str(rng.randrange(1024, 65536)),
                "dst_ip": zipf_pool(rng, dst_ips),
                "dst_port": "443",
                "proto": "tcp",
                "bytes": str(rng.randrange(40, 200_000)),
            }
            site = zipf_pool(rng, sites)
            if roll < 0.35:
                row["query"] = site
                row["dst_port"], row["proto"] = "53", "udp"
            elif roll < 0.75:
                row["host"] = site
                row["url"] = f"https://{site}/{rng.choice(['', 'index.html', 'api/v1/items'])}"
                if rng.random() < 0.5:
                    row["url"] += f"?id={rng.randrange(100_000)}"
            elif roll < 0.85:
                row["sha256"] = zipf_pool(rng, hashes)
                row["md5"] = hexstr(rng, 16)
            elif roll < 0.88:
                row["from"] = f"user{rng.randrange(5000)}@mail.example"
            if rng.random() < HIT_RATE:
                field = rng.choice([f for f in planted if planted[f]])
                row[field] = rng.choice(planted[field])
            if log_format is LogFormat.JSONL:
                out.write(json.dumps(row) + "\n")
            else:
                sep = "\t" if log_format is LogFormat.ZEEK else ","
                out.write(sep.join(row.get(c, "-" if sep == "\t" else "") for c in COLUMNS) + "\n")
            if n == lines - 1 and log_format is LogFormat.ZEEK:
                out.write("#close\t2024-05-01-00-00-00\n")


def baseline(
    patterns: list[str], log: Path, log_format: LogFormat, lines: int, sample: int, seed: int
) -> dict[str, Any]:
    """stix2-matcher on `lines` log lines against `sample` compiled patterns."""
    from accord.cyber.matching.readers import LogReader

    rng = random.Random(seed)
    compiled = [Pattern(p, "2.1") for p in rng.sample(patterns, sample)]
    reader = LogReader(log, log_format, DEFAULT_FIELDS)
    bundles = []
    for batch in reader.batches():
        for number, raw in zip(batch.line_numbers, batch.lines, strict=True):
            row = reader.parse_line(raw, number)
            if row is not None:
                bundles.append(observed_data(row, DEFAULT_FIELDS, None))
            if len(bundles) == lines:
                break
        break
    start = time.process_time()
    for bundle in bundles:
        for pattern in compiled:
            pattern.match([bundle])
    cpu = time.process_time() - start
    per_pair = cpu / (len(bundles) * len(compiled))
    return {
        "lines": len(bundles),
        "patterns": len(compiled),
        "cpu_s": round(cpu, 3),
        "lines_per_s_against_sample": round(len(bundles) / cpu, 1),
        "lines_per_s_against_all": round(1 / (per_pair * len(patterns)), 6),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--indicators", type=int, default=1_000_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--format", choices=[f.value for f in LogFormat], default="jsonl")
    parser.add_argument("--baseline-lines", type=int, default=200)
    parser.add_argument("--baseline-patterns", type=int, default=100)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--keep", type=Path, help="keep the generated log at this path")
    parser.add_argument(
        "--only-log-fields",
        action="store_true",
        help="check only the log's own fields, as `accord cyber match --no-default-fields "
        "--field ...` does, instead of the default list of common field names",
    )
    args = parser.parse_args()
    log_format = LogFormat(args.format)
    rng = random.Random(args.seed)

    start = time.perf_counter()
    patterns, planted = make_indicators(args.indicators, rng)
    generate_indicators_s = time.perf_counter() - start

    start = time.perf_counter()
    indicators = [
        IndicatorPattern(f"indicator--00000000-0000-4000-8000-{i:012x}", "", *observables_of(p))
        for i, p in enumerate(patterns)
    ]
    pattern_parse_s = time.perf_counter() - start

    suppression = SuppressionList.defaults()
    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    index = IndicatorIndex.build(indicators, suppression.key_entry)
    index_build_s = time.perf_counter() - start
    gc.collect()
    index_mb = rss_mb() - before
    del indicators
    gc.collect()

    with tempfile.TemporaryDirectory() as folder:
        log = args.keep or Path(folder) / f"bench.{log_format.value}"
        start = time.perf_counter()
        make_log(log, args.lines, log_format, planted, args.seed + 1)
        generate_log_s = time.perf_counter() - start

        # Two runs, each with a new Matcher (no verdict cached from the first): the first pays
        # the process's start-up costs (memory pools growing, pyarrow's kernels and RE2 patterns
        # met for the first time), the second is the steady rate of a long match.
        runs = []
        field_kinds = (
            {name: DEFAULT_FIELDS[name] for name in COLUMNS if name in DEFAULT_FIELDS}
            if args.only_log_fields
            else None
        )
        for _ in range(2):
            matcher = Matcher(index, suppression=suppression, field_kinds=field_kinds)
            wall = time.perf_counter()
            cpu = time.process_time()
            report = matcher.run([log], log_format)
            runs.append((time.process_time() - cpu, time.perf_counter() - wall))
        cpu_s, wall_s = runs[1]

        base = baseline(
            patterns, log, log_format, args.baseline_lines, args.baseline_patterns, args.seed
        )
        log_bytes = log.stat().st_size

    lines_per_s = report.lines / wall_s
    per_core = report.lines / cpu_s
    print(
        json.dumps(
            {
                "format": log_format.value,
                "fields_checked": sorted(field_kinds) if field_kinds else "default list",
                "indicators": args.indicators,
                "indexed": len(index),
                "index_sizes": index.sizes,
                "suppressed_indicator_values": len(index.suppressed),
                "lines": report.lines,
                "log_mb": round(log_bytes / 1e6, 1),
                "bytes_per_line": round(log_bytes / max(report.lines, 1), 1),
                "elapsed_s": round(wall_s, 3),
                "cpu_s": round(cpu_s, 3),
                "lines_per_s": round(lines_per_s),
                "lines_per_cpu_s": round(per_core),
                "first_run": {
                    "cpu_s": round(runs[0][0], 3),
                    "elapsed_s": round(runs[0][1], 3),
                    "lines_per_cpu_s": round(report.lines / runs[0][0]),
                },
                "mb_per_s": round(log_bytes / 1e6 / wall_s, 1),
                "block_mb": BLOCK_SIZE / 2**20,
                "hit_lines": report.hit_lines,
                "indicators_sighted": len(report.hits),
                "suppressed_hits": sum(report.suppressed.values()),
                "bad_lines": report.bad_count,
                "pattern_parse_s": round(pattern_parse_s, 2),
                "index_build_s": round(index_build_s, 2),
                "index_rss_mb": round(index_mb, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3, 1),
                "generate_s": {
                    "indicators": round(generate_indicators_s, 2),
                    "log": round(generate_log_s, 2),
                },
                "stix2_matcher_baseline": base,
                "speedup_vs_stix2_matcher": round(lines_per_s / base["lines_per_s_against_all"]),
                "meets_target": {
                    "lines_per_cpu_s": per_core >= TARGET_LINES_PER_S,
                    "index_mb": index_mb <= TARGET_INDEX_MB,
                },
                "machine": machine(),
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
