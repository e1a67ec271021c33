"""Screening: persons against a watchlist, one at a time or file against file (CSV, JSON lines,
Parquet), with scores, decisions and explanations; bad rows are reported, never fatal."""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from accord.core import jsontext
from accord.core.errors import InvalidInput
from accord.core.heap import collector_paused
from accord.identity import ftm
from accord.identity.linkage.compare import Profile, compare, name_profiles
from accord.identity.linkage.explain import explanation
from accord.identity.linkage.index import WatchlistIndex
from accord.identity.linkage.score import Model, Parameters, posteriors
from accord.identity.records import (
    FIELDS,
    PersonRecord,
    RowProblem,
    field_text,
    person_from_row,
    text_lines,
)

OUTPUT_COLUMNS = ("query_id", "candidate_id", "score", "decision", "explanation")
PROBLEM_COLUMNS = ("source", "row", "id", "field", "action", "message")

# stage name, rows done, rows in all (None when the format cannot tell without reading it all)
Progress = Callable[[str, int, int | None], None]


class Decision(StrEnum):
    MATCH = "match"
    POSSIBLE = "possible"


@dataclass(frozen=True)
class Thresholds:
    match: float = 0.85
    possible: float = 0.05
    per_query: int = 10  # candidates written per query at most

    def __post_init__(self) -> None:
        if not 0.5 <= self.match <= 1:
            # Below 0.5 two candidates of one query could both be matches.
            raise InvalidInput("the match threshold must be between 0.5 and 1")
        if not 0 <= self.possible <= self.match:
            raise InvalidInput("the possible threshold must be between 0 and the match threshold")
        if self.per_query < 1:
            raise InvalidInput("write at least one candidate per query")


@dataclass(frozen=True, slots=True)
class CandidateMatch:
    query_id: str
    candidate_id: str
    score: float
    decision: Decision
    explanation: str


@dataclass(frozen=True, slots=True)
class ShardCandidates:
    """What one part of the watchlist says about a query: log2 of the sum of its candidates'
    likelihood ratios (None without candidates), and those candidates that could reach the
    `possible` threshold, as (bits, candidate id, explanation), best first."""

    log2_total: float | None
    best: list[tuple[float, str, str]]


class Screener:
    """A watchlist ready to screen against: its index and the scoring model over it."""

    def __init__(
        self,
        index: WatchlistIndex,
        *,
        parameters: Parameters | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.index = index
        self.model = Model(index.frequencies, parameters)
        self.thresholds = thresholds or Thresholds()
        self._prior = self.model.prior_bits()

    def screen(self, record: PersonRecord) -> list[CandidateMatch]:
        """The query's candidates worth a reviewer's look, best first; at most one is a match
        (scores of one query's candidates sum to at most 1, and a match needs more than 0.5)."""
        return self.decide(record.id, [self.shard_candidates(record)])

    def shard_candidates(self, record: PersonRecord) -> ShardCandidates:
        """The query scored against this index alone. With the watchlist split over several
        indexes (one per process, sharing one set of frequencies), `decide` merges them.
        A person is scored once, on the pair of names (one of the query's, one of theirs)
        that agrees best."""
        queries = name_profiles(record, remember=False)
        found = self.index.candidates(*queries)
        if not found:
            return ShardCandidates(None, [])
        index = self.index
        tables = [self.model.table(q) for q in queries]
        if len(queries) == 1 and not index.aliases:
            # One name on either side (most screenings): each person is one profile.
            q, table = queries[0], tables[0]
            profiles = index.profiles
            pairs = [
                (bits, i, 0, profiles[i])
                for bits, i in zip(
                    table.candidate_bits(q, (profiles[i] for i in found)), found, strict=True
                )
            ]
        else:
            names = [(i, c) for i in found for c in index.names(i)]
            best: dict[int, tuple[float, int, int, Profile]] = {}
            for n, (q, table) in enumerate(zip(queries, tables, strict=True)):
                every = table.candidate_bits(q, (c for _, c in names))
                for bits, (i, c) in zip(every, names, strict=True):
                    held = best.get(i)
                    if held is None or bits > held[0]:
                        best[i] = (bits, i, n, c)
            pairs = [best[i] for i in found]
        top = max(bits for bits, *_ in pairs)
        log2_total = top + math.log2(sum(2.0 ** (bits - top) for bits, *_ in pairs))
        # Scores against this shard alone are upper bounds of the final ones (other shards only
        # add competitors), so what cannot reach `possible` here never will.
        scores = posteriors(self._prior, [bits for bits, *_ in pairs])
        ranked = sorted(zip(pairs, scores, strict=True), key=lambda pair: -pair[1])
        kept: list[tuple[float, str, str]] = []
        for (bits, _, n, c), score in ranked[: self.thresholds.per_query]:
            if score < self.thresholds.possible:
                break
            q = queries[n]
            weights = tables[n].weights(compare(q, c), weak=q.weak or c.weak)
            text = explanation(weights, q, c, prior_bits=self._prior)
            kept.append((bits, c.record.id, text))
        return ShardCandidates(log2_total, kept)

    def decide(self, query_id: str, shards: list[ShardCandidates]) -> list[CandidateMatch]:
        return decide(query_id, shards, prior_bits=self._prior, thresholds=self.thresholds)


def decide(
    query_id: str, shards: list[ShardCandidates], *, prior_bits: float, thresholds: Thresholds
) -> list[CandidateMatch]:
    """Scores, decisions and explanations from every shard's candidates: the probability that
    the query is each candidate, all the watchlist's candidates competing."""
    totals = [s.log2_total for s in shards if s.log2_total is not None]
    if not totals:
        return []
    top = max(totals)
    # odds of "none of them" and of each shard, relative to the largest shard's sum
    denominator = 2.0 ** min(-prior_bits - top, 1000.0) + sum(2.0 ** (t - top) for t in totals)
    entries = sorted((e for s in shards for e in s.best), key=lambda e: -e[0])
    results: list[CandidateMatch] = []
    for bits, candidate_id, text in entries[: thresholds.per_query]:
        score = 2.0 ** (bits - top) / denominator
        if score < thresholds.possible:
            break
        decision = Decision.MATCH if score >= thresholds.match else Decision.POSSIBLE
        results.append(CandidateMatch(query_id, candidate_id, round(score, 4), decision, text))
    return results


# --- files -----------------------------------------------------------------------------------


def file_format(path: Path) -> str:
    """csv, jsonl, parquet, or ftm (JSON lines of FollowTheMoney entities: `*.ftm.json`,
    `*.ftm.jsonl`)."""
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonl") and path.name.lower().endswith((".ftm.json", ".ftm.jsonl")):
        return "ftm"
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise InvalidInput(
        f"{path}: unknown format; use .csv, .jsonl (JSON lines), .parquet or .ftm.json "
        "(FollowTheMoney entities)"
    )


def count_rows(path: Path) -> int:
    """Rows in a file, for the progress bar (a fast pass: lines, or Parquet's footer)."""
    kind = file_format(path)
    if kind == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(path).metadata.num_rows)
        except (pa.ArrowException, OSError) as exc:
            raise _not_parquet(path, exc) from None
    with path.open("rb") as f:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    return max(lines - 1, 0) if kind == "csv" else lines


def _not_parquet(path: Path, exc: Exception) -> InvalidInput:
    return InvalidInput(f"{path}: not a Parquet file that can be read ({exc})")


def _check_columns(path: Path, columns: list[str]) -> None:
    missing = [c for c in ("id", "name") if c not in columns]
    if missing:
        raise InvalidInput(
            f"{path}: no column {', '.join(missing)}; the columns are {', '.join(FIELDS)} "
            "(all but id and name may be empty)"
        )


def read_rows(
    path: Path, kind: str | None = None, *, keep: Callable[[str], bool] | None = None
) -> Iterator[tuple[int, dict[str, object] | str]]:
    """(row number from 1, the row's fields) — or, for a row that cannot be read at all, the
    reason as text, so that the caller reports it and goes on. `kind` overrides the format
    the file's name suggests (csv, jsonl or parquet; FtM files are read by `read_records`).
    With `keep`, only rows whose id it accepts are given (and, in CSV, only theirs are made
    into fields): a screening shard reads the whole file but keeps its own rows."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    kind = kind or file_format(path)
    if kind == "ftm":
        raise InvalidInput(f"{path}: FollowTheMoney entities are read as records, not rows")
    if kind == "csv":
        row = 0
        try:
            with path.open(encoding="utf-8-sig", newline="") as f:
                reader = csv.reader(f)
                header = next(reader, [])
                _check_columns(path, header)
                at = header.index("id")
                width = len(header)
                for values in reader:
                    if not values:
                        continue  # a blank line is no row (as csv.DictReader has it)
                    row += 1
                    if keep is not None and not keep(
                        values[at].strip() if at < len(values) else ""
                    ):
                        continue
                    yield row, _csv_fields(header, width, values)
        # A CSV file is read as one text: past a bad byte or an unclosed quote nothing is sure.
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"{path}: not UTF-8 text (byte {exc.start} of a block after row {row}); "
                "save the file as UTF-8"
            ) from None
        except csv.Error as exc:
            raise InvalidInput(f"{path}: after row {row}: not CSV ({exc})") from None
    elif kind == "jsonl":
        row = 0
        for _, line in text_lines(path):
            if line is not None and not line.strip():
                continue
            row += 1
            if line is None:
                yield row, f"row {row}: not UTF-8 text"
                continue
            try:
                value = jsontext.loads(line)
            except json.JSONDecodeError as exc:
                yield row, f"row {row}: not JSON ({exc.msg} at column {exc.colno})"
                continue
            if not isinstance(value, dict):
                yield row, f"row {row}: expected a JSON object"
                continue
            if keep is None or keep(field_text(value, "id")):
                yield row, value
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(path)
            names = list(parquet.schema_arrow.names)
        except (pa.ArrowException, OSError) as exc:
            raise _not_parquet(path, exc) from None
        _check_columns(path, names)
        columns = [c for c in FIELDS if c in names]
        row = 0
        batches = parquet.iter_batches(batch_size=8192, columns=columns)
        while True:
            try:
                batch = next(batches, None)
            except (pa.ArrowException, OSError) as exc:
                raise _not_parquet(path, exc) from None
            if batch is None:
                break
            for fields in batch.to_pylist():
                row += 1
                if keep is None or keep(field_text(fields, "id")):
                    yield row, fields


def _csv_fields(header: list[str], width: int, values: list[str]) -> dict[str, object]:
    """A CSV row's fields by column, as `csv.DictReader` gives them: a short row's missing
    fields are None, a long row's extra values a list under the key None."""
    fields: dict[str, object] = dict(zip(header, values, strict=False))
    if len(values) < width:
        fields.update(dict.fromkeys(header[len(values) :]))
    elif len(values) > width:
        fields[None] = values[width:]  # type: ignore[index]
    return fields


def read_records(
    path: Path, source: str, problems: list[tuple[str, RowProblem]], kind: str | None = None
) -> Iterator[PersonRecord]:
    """The file's records; each problem is appended to `problems` with `source` and reading
    goes on."""
    kind = kind or file_format(path)
    if kind == "ftm":
        yield from ftm.read_records(path, source, problems)
        return
    for row, fields in read_rows(path, kind):
        if isinstance(fields, str):
            problems.append((source, RowProblem(row, "", "", fields, "row skipped")))
            continue
        record, found = person_from_row(fields, row)
        problems.extend((source, p) for p in found)
        if record is not None:
            yield record


@dataclass
class ScreeningSummary:
    watchlist_records: int = 0
    queries: int = 0
    matches: int = 0
    possibles: int = 0
    problems: int = 0
    rows_skipped: int = 0
    problems_path: Path | None = None
    counts: dict[str, int] = field(default_factory=dict)


def problems_path_for(out: Path) -> Path:
    return out.with_name(out.stem + ".problems.csv")


def load_watchlist(
    path: Path,
    problems: list[tuple[str, RowProblem]],
    progress: Progress | None = None,
) -> WatchlistIndex:
    total = count_rows(path) if progress else None
    index = WatchlistIndex()
    with collector_paused():
        for done, record in enumerate(read_records(path, "watchlist", problems), start=1):
            # Rows of one person (the same id, or an alias row <id>-AKA1) are merged.
            problems += [("watchlist", p) for p in index.add(record, done)]
            if progress and done % 1000 == 0:
                progress("watchlist", done, total)
    if progress:
        progress("watchlist", len(index), len(index))
    return index


# Below this many watchlist rows one process screens: forking and merging would cost more.
SHARD_FROM = 50_000


def default_workers(watchlist: Path) -> int:
    """One process per available core (at most four) for a large watchlist, else one."""
    from accord.identity.bulk import can_shard

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cores or 1) < 2 or not watchlist.is_file() or not can_shard(watchlist):
        return 1  # a missing file is reported by the reader, with its usual message
    if count_rows(watchlist) < SHARD_FROM:
        return 1
    return min(cores or 1, 4)


def screen_files(
    watchlist: Path,
    queries: Path,
    out: Path,
    *,
    parameters: Parameters | None = None,
    thresholds: Thresholds | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> ScreeningSummary:
    """Screen every record of `queries` against `watchlist`; write candidates to `out` (CSV) and
    any bad rows of either file to `<out>.problems.csv`. `workers` processes share the
    watchlist (by default one per core for a large watchlist; see `bulk`)."""
    file_format(queries)  # refuse an unknown format before the (long) watchlist load
    problems: list[tuple[str, RowProblem]] = []
    workers = default_workers(watchlist) if workers is None else workers
    with contextlib.ExitStack() as stack:
        results: Iterator[list[CandidateMatch]]
        if workers > 1:
            from accord.identity.bulk import ShardedWatchlist

            shards = stack.enter_context(
                ShardedWatchlist(watchlist, workers, parameters=parameters, thresholds=thresholds)
            )
            shards.load(progress)
            problems += [("watchlist", p) for p in shards.problems]
            summary = ScreeningSummary(watchlist_records=shards.records)
            results = shards.screen(read_records(queries, "input", problems))
        else:
            index = load_watchlist(watchlist, problems, progress)
            screener = Screener(index, parameters=parameters, thresholds=thresholds)
            summary = ScreeningSummary(watchlist_records=len(index))
            results = map(screener.screen, read_records(queries, "input", problems))
        total = count_rows(queries) if progress else None
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(OUTPUT_COLUMNS)
            for done, candidates in enumerate(results, start=1):
                for found in candidates:
                    writer.writerow(
                        (found.query_id, found.candidate_id, f"{found.score:.4f}",
                         found.decision, found.explanation)
                    )  # fmt: skip
                    if found.decision is Decision.MATCH:
                        summary.matches += 1
                    else:
                        summary.possibles += 1
                summary.queries = done
                if progress and done % 500 == 0:
                    progress("input", done, total)
    if progress:
        progress("input", summary.queries, summary.queries)
    summary.problems = len(problems)
    summary.rows_skipped = sum(1 for _, p in problems if p.action == "row skipped")
    target = problems_path_for(out)
    if problems:
        with target.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(PROBLEM_COLUMNS)
            for source, p in problems:
                writer.writerow((source, p.row, p.record_id, p.field, p.action, p.message))
        summary.problems_path = target
    elif target.exists():
        target.unlink()  # a report from an earlier run would describe other files
    return summary
