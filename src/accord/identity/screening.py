"""Screening: persons against a watchlist, one at a time or file against file (CSV, JSON lines,
Parquet), with scores, decisions and explanations; bad rows are reported, never fatal."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from accord.core.errors import InvalidInput
from accord.identity import ftm
from accord.identity.linkage.compare import Profile, compare, profile
from accord.identity.linkage.explain import explanation
from accord.identity.linkage.index import WatchlistIndex
from accord.identity.linkage.score import Model, Parameters, posteriors
from accord.identity.records import FIELDS, PersonRecord, RowProblem, person_from_row

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
        q = profile(record)
        found = self.index.candidates(q)
        if not found:
            return []
        profiles = self.index.profiles
        table = self.model.table(q)
        scored: list[tuple[Profile, float]] = []
        for i in found:
            c = profiles[i]
            scored.append((c, table.bits(compare(q, c))))
        scores = posteriors(self._prior, [bits for _, bits in scored])
        ranked = sorted(zip(scored, scores, strict=True), key=lambda pair: -pair[1])
        results: list[CandidateMatch] = []
        for (c, _), score in ranked[: self.thresholds.per_query]:
            if score < self.thresholds.possible:
                break
            decision = Decision.MATCH if score >= self.thresholds.match else Decision.POSSIBLE
            weights = table.weights(compare(q, c))
            results.append(
                CandidateMatch(
                    query_id=record.id,
                    candidate_id=c.record.id,
                    score=round(score, 4),
                    decision=decision,
                    explanation=explanation(weights, q, c, prior_bits=self._prior),
                )
            )
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
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    with path.open("rb") as f:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    return max(lines - 1, 0) if kind == "csv" else lines


def _check_columns(path: Path, columns: list[str]) -> None:
    missing = [c for c in ("id", "name") if c not in columns]
    if missing:
        raise InvalidInput(
            f"{path}: no column {', '.join(missing)}; the columns are {', '.join(FIELDS)} "
            "(all but id and name may be empty)"
        )


def read_rows(path: Path, kind: str | None = None) -> Iterator[tuple[int, dict[str, object] | str]]:
    """(row number from 1, the row's fields) — or, for a row that cannot be read at all, the
    reason as text, so that the caller reports it and goes on. `kind` overrides the format
    the file's name suggests (csv, jsonl or parquet; FtM files are read by `read_records`)."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    kind = kind or file_format(path)
    if kind == "ftm":
        raise InvalidInput(f"{path}: FollowTheMoney entities are read as records, not rows")
    if kind == "csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            _check_columns(path, list(reader.fieldnames or []))
            for row, fields in enumerate(reader, start=1):
                yield row, dict(fields)
    elif kind == "jsonl":
        with path.open(encoding="utf-8-sig") as f:
            row = 0
            for line in f:
                if not line.strip():
                    continue
                row += 1
                try:
                    value = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield row, f"row {row}: not JSON ({exc.msg} at column {exc.colno})"
                    continue
                if not isinstance(value, dict):
                    yield row, f"row {row}: expected a JSON object"
                    continue
                yield row, value
    else:
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        names = list(parquet.schema_arrow.names)
        _check_columns(path, names)
        columns = [c for c in FIELDS if c in names]
        row = 0
        for batch in parquet.iter_batches(batch_size=8192, columns=columns):
            for fields in batch.to_pylist():
                row += 1
                yield row, fields


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
    seen: set[str] = set()
    for done, record in enumerate(read_records(path, "watchlist", problems), start=1):
        if record.id in seen:
            message = f"id {record.id!r} appears twice in the watchlist; the later row is skipped"
            problems.append(
                ("watchlist", RowProblem(done, record.id, "id", message, "row skipped"))
            )
            continue
        seen.add(record.id)
        index.add(record)
        if progress and done % 1000 == 0:
            progress("watchlist", done, total)
    if progress:
        progress("watchlist", len(index), len(index))
    return index


def screen_files(
    watchlist: Path,
    queries: Path,
    out: Path,
    *,
    parameters: Parameters | None = None,
    thresholds: Thresholds | None = None,
    progress: Progress | None = None,
) -> ScreeningSummary:
    """Screen every record of `queries` against `watchlist`; write candidates to `out` (CSV) and
    any bad rows of either file to `<out>.problems.csv`."""
    file_format(queries)  # refuse an unknown format before the (long) watchlist load
    problems: list[tuple[str, RowProblem]] = []
    index = load_watchlist(watchlist, problems, progress)
    screener = Screener(index, parameters=parameters, thresholds=thresholds)
    summary = ScreeningSummary(watchlist_records=len(index))
    total = count_rows(queries) if progress else None
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(OUTPUT_COLUMNS)
        for done, record in enumerate(read_records(queries, "input", problems), start=1):
            for found in screener.screen(record):
                writer.writerow(
                    (found.query_id, found.candidate_id, f"{found.score:.4f}", found.decision,
                     found.explanation)
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
