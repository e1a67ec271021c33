"""Logs streamed through the indicator index: each block's columns are screened with pyarrow
kernels and set operations, each distinct value is looked up once, only lines holding a hit are
parsed in full, and hits are aggregated into sightings."""

from __future__ import annotations

import ipaddress
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from stix2matcher.matcher import Pattern

from accord.core.clock import iso, utcnow
from accord.cyber.matching.index import NO_MATCH, BadValue, FieldKind, IndicatorIndex, Match
from accord.cyber.matching.readers import (
    BLOCK_SIZE,
    DEFAULT_FIELDS,
    NO_VALUE,
    BadLine,
    Batch,
    LogFormat,
    LogReader,
    Row,
    event_time,
)
from accord.cyber.matching.suppression import SuppressionList
from accord.cyber.stix import ObservableKind, build_sighting

# A value the index could not read; it makes the lines holding it bad lines.
BAD: tuple[Match, ...] = (Match(-1, ObservableKind.IPV4, ""),)
CACHE_LIMIT = 400_000
# A logged URL's head (`scheme://authority`, up to the path, query or fragment), cut out by a
# simple RE2 pattern; the few distinct heads of a block are then read in Python. A plain head (a
# port, if any, in range: a bad one makes a bad value) gives the URL's host; URLs with another
# head are looked up whole.
_URL_HEAD = r"^(?P<head>[^/?#]*//[^/?#]*)"
_PORT = r"(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
_PLAIN_HEAD = re.compile(rf"(?i:https?|ftp)://(?P<host>[a-z0-9-]+(?:\.[a-z0-9-]+)*){_PORT}")
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_STIX_TYPE_OF_FIELD = {
    FieldKind.DOMAIN: "domain-name",
    FieldKind.URL: "url",
    FieldKind.EMAIL: "email-addr",
}
_HASH_BY_LENGTH = {32: ObservableKind.MD5, 40: ObservableKind.SHA1, 64: ObservableKind.SHA256}
_HASH_NAME = {
    ObservableKind.MD5: "MD5",
    ObservableKind.SHA1: "SHA-1",
    ObservableKind.SHA256: "SHA-256",
}


@dataclass
class Aggregate:
    """What one indicator's hits add up to: a Sighting's count, first and last seen."""

    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    values: Counter[str] = field(default_factory=Counter)

    def add(self, moment: datetime | None, value: str) -> None:
        self.count += 1
        if len(self.values) < 10 or value in self.values:
            self.values[value] += 1
        if moment is not None:
            if self.first_seen is None or moment < self.first_seen:
                self.first_seen = moment
            if self.last_seen is None or moment > self.last_seen:
                self.last_seen = moment


@dataclass
class MatchReport:
    lines: int = 0
    bytes: int = 0
    bad_count: int = 0
    bad_lines: list[BadLine] = field(default_factory=list)
    hit_lines: int = 0
    suppressed: Counter[str] = field(default_factory=Counter)
    complex_evaluated: int = 0
    hits: dict[str, Aggregate] = field(default_factory=dict)
    hits_by_kind: Counter[str] = field(default_factory=Counter)
    started: datetime = field(default_factory=utcnow)
    elapsed_s: float = 0.0

    def hit(self, indicator_id: str, moment: datetime | None, kind: str, value: str) -> None:
        self.hits.setdefault(indicator_id, Aggregate()).add(moment, value)
        self.hits_by_kind[kind] += 1


def _sco_id(stix_type: str, n: int) -> str:
    return f"{stix_type}--00000000-0000-4000-8000-{n:012d}"


def observed_data(row: Row, fields: Mapping[str, FieldKind], moment: datetime | None) -> Any:
    """A log line as a STIX 2.1 bundle of one observed-data and its SCOs, as `stix2-matcher`
    takes it."""
    scos: list[dict[str, Any]] = []
    hashes: dict[str, str] = {}
    for name, kind in fields.items():
        value = row.get(name)
        if not value or value in NO_VALUE:
            continue
        if kind is FieldKind.HASH:
            hash_kind = _HASH_BY_LENGTH.get(len(value))
            if hash_kind is not None:
                hashes[_HASH_NAME[hash_kind]] = value
            continue
        if kind is FieldKind.IP or (kind is FieldKind.DOMAIN and value[-1:].isdigit()):
            stix_type = "ipv6-addr" if ":" in value else "ipv4-addr"
        else:
            stix_type = _STIX_TYPE_OF_FIELD[kind]
        scos.append({"type": stix_type, "id": _sco_id(stix_type, len(scos)), "value": value})
    if hashes:
        scos.append({"type": "file", "id": _sco_id("file", len(scos)), "hashes": hashes})
    when = iso(moment or utcnow())
    observation = {
        "type": "observed-data",
        "spec_version": "2.1",
        "id": "observed-data--00000000-0000-4000-8000-000000000000",
        "created": when,
        "modified": when,
        "first_observed": when,
        "last_observed": when,
        "number_observed": 1,
        "object_refs": [sco["id"] for sco in scos],
    }
    return {
        "type": "bundle",
        "id": "bundle--00000000-0000-4000-8000-000000000000",
        "objects": [observation, *scos],
    }


class Matcher:
    """Matches logs against an index. One instance keeps its caches across files."""

    def __init__(
        self,
        index: IndicatorIndex,
        *,
        suppression: SuppressionList | None = None,
        field_kinds: Mapping[str, FieldKind] | None = None,
        cache_limit: int = CACHE_LIMIT,
        block_size: int = BLOCK_SIZE,
    ) -> None:
        self.index = index
        self.suppression = suppression or SuppressionList()
        self.field_kinds = dict(field_kinds or DEFAULT_FIELDS)
        self.cache_limit = cache_limit
        self.block_size = block_size
        # Verdicts per field kind for raw values seen before, and the raw values worth a look.
        self._verdicts: dict[FieldKind, dict[str, tuple[Match, ...]]] = {k: {} for k in FieldKind}
        self._hot: dict[FieldKind, set[str]] = {k: set() for k in FieldKind}
        self._patterns: dict[int, Any] = {}
        self._untouched_ipv4 = untouched_ipv4_pattern(index, self.suppression)

    # -- one value, one line: the reference semantics ---------------------------------------

    def verdict(self, kind: FieldKind, value: str) -> tuple[Match, ...]:
        cache = self._verdicts[kind]
        found = cache.get(value)
        if found is None:
            found = self._classify(kind, value)
            self._remember(kind, value, found)
        return found

    def _classify(self, kind: FieldKind, value: str) -> tuple[Match, ...]:
        try:
            return self.index.match(kind, value)
        except BadValue:
            return BAD

    def _remember(self, kind: FieldKind, value: str, found: tuple[Match, ...]) -> None:
        cache = self._verdicts[kind]
        if len(cache) >= self.cache_limit:
            # Unbounded caches would grow with every unique URL; start again instead.
            cache.clear()
            self._hot[kind].clear()
        cache[value] = found
        if found is not NO_MATCH:
            self._hot[kind].add(value)

    def match_row(
        self,
        row: Row,
        *,
        reader: LogReader,
        line: int,
        report: MatchReport,
        hot: Mapping[str, tuple[FieldKind, set[str]]] | None = None,
    ) -> None:
        """Match one line. `hot`, if given, holds per field every value of the block that can
        hit or is bad (`candidate_rows` found them, with each field's kind): the values of other
        fields, and other values, are known misses."""
        moment = event_time(row)
        found: dict[int, Match] = {}
        fields = self.field_kinds if hot is None else hot
        for name in fields:
            value = row.get(name)
            if value is None or value in NO_VALUE:
                continue
            if hot is None:
                kind = self.field_kinds[name]
            else:
                kind, values = hot[name]
                if value not in values:
                    continue
            matches = self.verdict(kind, value)
            if matches is BAD:
                reader.bad(line, f"{value[:80]!r} is not a valid {kind.value}", name)
                return
            for match in matches:
                found.setdefault(match.position, match)
        complex_ids = [p for p in found if p in self.index.complex]
        complex_ids += [p for p in self.index.unanchored if p not in found]
        hit = False
        for position, match in found.items():
            if position in self.index.complex:
                continue
            entry = self.suppression.entry_for(match.kind, match.value)
            if entry is not None:
                report.suppressed[entry] += 1
                continue
            report.hit(self.index.ids[position], moment, match.kind.value, match.value)
            hit = True
        if complex_ids:
            observed = observed_data(row, self.field_kinds, moment)
            if len(observed["objects"]) > 1:
                for position in complex_ids:
                    report.complex_evaluated += 1
                    if self._pattern(position).match([observed]):
                        report.hit(self.index.ids[position], moment, "complex", "")
                        hit = True
        report.hit_lines += hit

    def _pattern(self, position: int) -> Any:
        pattern = self._patterns.get(position)
        if pattern is None:
            pattern = Pattern(self.index.complex[position].pattern, "2.1")
            self._patterns[position] = pattern
        return pattern

    # -- blocks: the fast path ----------------------------------------------------------------

    def candidate_rows(
        self, batch: Batch
    ) -> tuple[list[int], dict[str, tuple[FieldKind, set[str]]] | None]:
        """Rows of the block holding a value that hits, is bad, or anchors a complex pattern,
        and those values per field (None when every row is a candidate: patterns that no
        value anchors must see every line)."""
        rows: set[int] = set()
        table = batch.table
        if self.index.unanchored:
            for name in batch.fields:
                rows.update(pc.indices_nonzero(pc.is_valid(table[name])).to_pylist())
            return sorted(rows), None
        hot_by_field: dict[str, tuple[FieldKind, set[str]]] = {}
        for name, kind in batch.fields.items():
            column = table[name]
            if column.null_count == len(column):
                continue
            if kind is FieldKind.URL:
                hot = self._hot_urls(column)
            else:
                if kind is FieldKind.IP and self._untouched_ipv4 is not None:
                    # Well-formed addresses where the index has nothing (private sources, most
                    # often) can neither hit nor be bad: dropped before any lookup.
                    idle = pc.match_substring_regex(column, pattern=self._untouched_ipv4)
                    column = column.filter(pc.invert(idle))
                hot = self._hot_values(kind, _distinct(column))
            if hot:
                hot_by_field[name] = (kind, hot)
                mask = pc.is_in(table[name], value_set=pa.array(list(hot), pa.string()))
                rows.update(pc.indices_nonzero(mask).to_pylist())
        return sorted(rows), hot_by_field

    def _hot_values(self, kind: FieldKind, distinct: set[str]) -> set[str]:
        """The values among `distinct` that hit or are bad, each decided once and remembered."""
        # Taken before classifying: a full cache is cleared on the way.
        hot = self._hot[kind].intersection(distinct)
        unknown = distinct.difference(self._verdicts[kind])
        unknown.difference_update(NO_VALUE)
        if not unknown:
            return hot
        maybe = self.index.screen(kind, unknown)
        if len(self._verdicts[kind]) + len(unknown) > self.cache_limit:
            # Unbounded caches would grow with every unique URL; start again instead.
            self._verdicts[kind].clear()
            self._hot[kind].clear()
        self._verdicts[kind].update(dict.fromkeys(unknown - maybe, NO_MATCH))
        for value in maybe:
            found = self._classify(kind, value)
            self._remember(kind, value, found)
            if found is not NO_MATCH:
                hot.add(value)
        return hot

    def _hot_urls(self, column: pa.ChunkedArray) -> set[str]:
        """URLs that hit or are bad. Most logged URLs are plain (`scheme://host/...`) and most
        are unique (query strings): those are decided by their host, which is far less varied;
        only URLs on a host that hits or that a URL indicator names are looked up whole."""
        host, hosts = _url_hosts(column)
        odd = column.filter(pc.and_(pc.is_valid(column), pc.is_null(host)))
        hot = self._hot_values(FieldKind.URL, _distinct(odd)) if len(odd) else set()
        if not hosts:
            return hot
        hot_hosts = self._hot_values(FieldKind.DOMAIN, hosts)
        hot_hosts.update(self.index.url_hosts.intersection(hosts))
        if hot_hosts:
            on_hot_host = pc.is_in(host, value_set=pa.array(list(hot_hosts), pa.string()))
            hot |= self._hot_values(FieldKind.URL, _distinct(column.filter(on_hot_host)))
        return hot

    def match_batch(self, batch: Batch, *, reader: LogReader, report: MatchReport) -> None:
        rows, hot = self.candidate_rows(batch)
        if not rows:
            return
        numbers = batch.numbers
        for row_index, raw in zip(rows, batch.lines_at(rows), strict=True):
            line = numbers[row_index] if numbers is not None else batch.first_line + row_index
            row = reader.parse_line(raw, line)
            if row is not None:
                self.match_row(row, reader=reader, line=line, report=report, hot=hot)

    def run(
        self,
        paths: Sequence[Path],
        log_format: LogFormat,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> MatchReport:
        """Match every file; `progress` is told how many bytes were read after each block."""
        report = MatchReport()
        start = time.perf_counter()
        for path in paths:
            reader = LogReader(path, log_format, self.field_kinds, block_size=self.block_size)
            before = 0
            for batch in reader.batches():
                self.match_batch(batch, reader=reader, report=report)
                if progress is not None:
                    progress(reader.bytes_read - before)
                before = reader.bytes_read
            report.lines += reader.lines_read
            report.bytes += reader.bytes_read
            report.bad_count += reader.bad_count
            report.bad_lines += reader.bad_lines
        report.elapsed_s = time.perf_counter() - start
        return report


def _distinct(column: pa.ChunkedArray | pa.Array) -> set[str]:
    values = set(pc.unique(column).to_pylist())
    values.discard(None)
    return values


def _url_hosts(column: pa.ChunkedArray) -> tuple[pa.Array, set[str]]:
    """Each URL's host (null where the URL is not plain), and the distinct hosts."""
    heads = pc.struct_field(pc.extract_regex(column, pattern=_URL_HEAD), [0])
    encoded = pc.dictionary_encode(heads.combine_chunks())
    hosts: list[str | None] = []
    for head in encoded.dictionary.to_pylist():
        plain = _PLAIN_HEAD.fullmatch(head)
        hosts.append(plain["host"] if plain else None)
    distinct = set(hosts)
    distinct.discard(None)
    return pa.array(hosts, pa.string()).take(encoded.indices), distinct  # type: ignore[return-value]


def untouched_ipv4_pattern(index: IndicatorIndex, suppression: SuppressionList) -> str | None:
    """A regular expression (RE2) for well-formed IPv4 addresses in ranges the index does not
    meet at all: the suppression list's ranges and whole /8 networks, to /24 at the finest."""
    ranges = suppression.ranges[ObservableKind.IPV4]
    spans = [*zip(ranges.starts, ranges.ends, strict=True)]
    spans += [(octet << 24, (octet << 24) | 0xFFFFFF) for octet in range(256)]
    prefixes: dict[int, set[str]] = {1: set(), 2: set(), 3: set()}
    for start, end in index.ipv4_untouched(spans):
        for network in ipaddress.summarize_address_range(
            ipaddress.IPv4Address(start), ipaddress.IPv4Address(end)
        ):
            if network.prefixlen > 24:
                continue
            octets = (network.prefixlen + 7) // 8
            first = int(network.network_address)
            step = 1 << (32 - octets * 8)
            for number in range(first, first + network.num_addresses, step):
                text = str(ipaddress.IPv4Address(number)).split(".")[:octets]
                prefixes[octets].add(".".join(text))
    alternatives = [
        f"(?:{'|'.join(re.escape(p) for p in sorted(found))})" + rf"(?:\.{_OCTET}){{{4 - n}}}"
        for n, found in prefixes.items()
        if found
    ]
    return f"^(?:{'|'.join(alternatives)})$" if alternatives else None


def build_sightings(
    report: MatchReport,
    *,
    markings: Mapping[str, Sequence[str]] | None = None,
    where_sighted_refs: Sequence[str] = (),
    created_by_ref: str | None = None,
) -> list[Any]:
    """One STIX Sighting per indicator hit, carrying that indicator's markings. Hits without a
    time in the log are dated by the run."""
    markings = markings or {}
    sightings = []
    for indicator_id, aggregate in sorted(report.hits.items()):
        sightings.append(
            build_sighting(
                indicator_id=indicator_id,
                count=aggregate.count,
                first_seen=aggregate.first_seen or report.started,
                last_seen=aggregate.last_seen or report.started,
                where_sighted_refs=where_sighted_refs,
                marking_refs=markings.get(indicator_id, ()),
                created_by_ref=created_by_ref,
            )
        )
    return sightings


def marking_refs_of(indicators: Iterable[Any]) -> dict[str, tuple[str, ...]]:
    return {i.id: i.marking_refs for i in indicators if i.marking_refs}
