"""Bulk screening on several cores: the watchlist split into shards by record id, one process
per shard holding its own index, every query scored against every shard and the candidates
merged, so that time and memory per process fall with the number of processes."""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import zlib
from collections.abc import Iterable, Iterator
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import TracebackType
from typing import Any

from accord.core.errors import AccordError
from accord.core.heap import collector_paused
from accord.identity.aliases import person_id
from accord.identity.linkage.compare import forget_names
from accord.identity.linkage.index import WatchlistIndex, forget_typo_keys
from accord.identity.linkage.score import Frequencies, Model, Parameters
from accord.identity.records import PersonRecord, RowProblem, person_from_row
from accord.identity.screening import (
    CandidateMatch,
    Progress,
    Screener,
    ShardCandidates,
    Thresholds,
    decide,
    file_format,
    read_rows,
)

BATCH = 256  # queries sent to the shards at a time
IN_FLIGHT = 4  # batches sent ahead of the one being merged, so no process waits on another
PROGRESS_EVERY = 20_000


def shard_of(record_id: str, shards: int) -> int:
    """The shard a record belongs to: a stable hash of its id, so a repeated id meets itself."""
    return zlib.crc32(record_id.encode("utf-8", "surrogatepass")) % shards


def can_shard(watchlist: Path) -> bool:
    """Rows can be dealt out before they are parsed (not FtM entities), and processes can be
    forked (the index is built in each child, nothing large is pickled)."""
    methods = multiprocessing.get_all_start_methods()
    return "fork" in methods and file_format(watchlist) != "ftm"


def _build_shard(
    path: Path, shard: int, shards: int, results: Any
) -> tuple[WatchlistIndex, list[RowProblem]]:
    problems: list[RowProblem] = []
    index = WatchlistIndex()
    # Dealt out by person, so that the rows of one person (SDN-10001, SDN-10001-AKA1) meet.
    keep = lambda text: shard_of(person_id(text), shards) == shard  # noqa: E731
    for row, fields in read_rows(path, keep=keep):
        if isinstance(fields, str):
            if shard == 0:
                problems.append(RowProblem(row, "", "", fields, "row skipped"))
            continue
        record, found = person_from_row(fields, row)
        problems += found
        if record is None:
            continue
        problems += index.add(record, row)
        if len(index) % PROGRESS_EVERY == 0:
            results.put(("progress", shard, len(index)))
    return index, problems


def _serve_shard(
    path: Path,
    shard: int,
    shards: int,
    tasks: Any,
    results: Any,
    parameters: Parameters | None,
    thresholds: Thresholds,
) -> None:
    with collector_paused(then_freeze=True):  # this process only reads its index afterwards
        index, problems = _build_shard(path, shard, shards, results)
    forget_names()
    forget_typo_keys()
    # The counts travel pickled and are unpickled only by the shards: the parent relays them
    # as bytes (unpickled there, they would cost it hundreds of MB for a million records).
    counts = pickle.dumps(index.frequencies, protocol=pickle.HIGHEST_PROTOCOL)
    results.put(("built", shard, index.frequencies.records, counts, problems))
    del counts
    for other in tasks.get():  # the other shards' counts: u values and the prior are global
        index.frequencies.merge(pickle.loads(other))
    screener = Screener(index, parameters=parameters, thresholds=thresholds)
    while (batch := tasks.get()) is not None:
        number, records = batch
        results.put(("screened", shard, number, [screener.shard_candidates(r) for r in records]))


class ShardedWatchlist:
    """A watchlist file loaded into `shards` forked processes, ready to screen batches."""

    def __init__(
        self,
        path: Path,
        shards: int,
        *,
        parameters: Parameters | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.path = path
        self.shards = shards
        self.parameters = parameters
        self.thresholds = thresholds or Thresholds()
        self.records = 0
        self.problems: list[RowProblem] = []
        self._prior = 0.0
        context = multiprocessing.get_context("fork")
        self._tasks = [context.Queue() for _ in range(shards)]
        self._results = context.Queue()
        self._processes: list[BaseProcess] = []

    def __enter__(self) -> ShardedWatchlist:
        context = multiprocessing.get_context("fork")
        for shard in range(self.shards):
            args = (self.path, shard, self.shards, self._tasks[shard], self._results,
                    self.parameters, self.thresholds)  # fmt: skip
            process = context.Process(target=_serve_shard, args=args, daemon=True)
            process.start()
            self._processes.append(process)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        for process in self._processes:
            if error is not None:
                process.terminate()
        for tasks in self._tasks:
            if error is None:
                tasks.put(None)
        for process in self._processes:
            process.join()

    def _next(self) -> tuple[Any, ...]:
        while True:
            try:
                message: tuple[Any, ...] = self._results.get(timeout=2)
                return message
            except queue.Empty:
                for shard, process in enumerate(self._processes):
                    if process.exitcode is not None:
                        raise AccordError(
                            f"screening process {shard} stopped (exit code {process.exitcode}), "
                            "most likely out of memory; screen with fewer processes"
                        ) from None

    def load(self, progress: Progress | None = None) -> None:
        """Wait until every shard has built its index; share the counts between them."""
        partial: dict[int, bytes] = {}  # each shard's counts, pickled
        loaded = dict.fromkeys(range(self.shards), 0)
        while len(partial) < self.shards:
            message = self._next()
            if message[0] == "progress":
                loaded[message[1]] = message[2]
                if progress:
                    progress("watchlist", sum(loaded.values()), None)
            else:
                _, shard, records, counts, problems = message
                partial[shard] = counts
                loaded[shard] = records
                self.problems += problems
        for shard in range(self.shards):
            self._tasks[shard].put([f for other, f in partial.items() if other != shard])
        total = Frequencies()
        total.records = sum(loaded.values())
        self.records = total.records
        self._prior = Model(total, self.parameters).prior_bits()
        self.problems.sort(key=lambda p: p.row)
        if progress:
            progress("watchlist", self.records, self.records)

    def screen(self, records: Iterable[PersonRecord]) -> Iterator[list[CandidateMatch]]:
        """Each query's candidates, in the order of `records`."""
        batches = _batches(records)
        pending: dict[int, list[PersonRecord]] = {}
        answers: dict[int, dict[int, list[ShardCandidates]]] = {}
        sent = merged = 0
        exhausted = False
        while True:
            while not exhausted and sent - merged < IN_FLIGHT:
                batch = next(batches, None)
                if batch is None:
                    exhausted = True
                    break
                pending[sent] = batch
                answers[sent] = {}
                for tasks in self._tasks:
                    tasks.put((sent, batch))
                sent += 1
            if merged == sent:
                return
            while len(answers[merged]) < self.shards:
                _, shard, number, found = self._next()
                answers[number][shard] = found
            batch, by_shard = pending.pop(merged), answers.pop(merged)
            for i, record in enumerate(batch):
                shards = [by_shard[s][i] for s in range(self.shards)]
                yield decide(record.id, shards, prior_bits=self._prior, thresholds=self.thresholds)
            merged += 1


def _batches(records: Iterable[PersonRecord]) -> Iterator[list[PersonRecord]]:
    batch: list[PersonRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
