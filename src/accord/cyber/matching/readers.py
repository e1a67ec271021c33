"""Streaming readers for JSON Lines, CSV and Zeek TSV logs: blocks of whole lines parsed into
columns by pyarrow for the fast path, single lines parsed in Python for hits and bad blocks. A
block's lines are only cut out for the rows that need a look (`Batch.lines_at`), by the offsets
of its newlines."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json

from accord.core import jsontext
from accord.core.errors import InvalidInput
from accord.core.labels import Labelled
from accord.cyber.matching.index import FieldKind


class LogFormat(Labelled):
    JSONL = "jsonl", "JSON Lines", "JSON Lines 日志"
    CSV = "csv", "CSV with a header row", "带表头的 CSV"
    ZEEK = "zeek", "Zeek TSV (#fields header)", "Zeek TSV 日志"


# Field names of common log sources (Zeek, Suricata EVE, web servers, proxies, ECS flattened).
DEFAULT_FIELDS: dict[str, FieldKind] = {
    **dict.fromkeys(
        (
            "src_ip",
            "dst_ip",
            "src",
            "dst",
            "ip",
            "client_ip",
            "server_ip",
            "remote_addr",
            "id.orig_h",
            "id.resp_h",
            "source.ip",
            "destination.ip",
        ),
        FieldKind.IP,
    ),
    **dict.fromkeys(
        ("query", "domain", "host", "hostname", "server_name", "dns.question.name", "url.domain"),
        FieldKind.DOMAIN,
    ),
    **dict.fromkeys(("url", "url.full", "http.url"), FieldKind.URL),
    **dict.fromkeys(
        ("md5", "sha1", "sha256", "file.hash.md5", "file.hash.sha1", "file.hash.sha256"),
        FieldKind.HASH,
    ),
    **dict.fromkeys(("email", "from", "to", "sender", "recipient", "mailfrom"), FieldKind.EMAIL),
}
TIME_FIELDS = ("ts", "timestamp", "@timestamp", "time", "date")
# Zeek's markers for an unset and an empty field; a dash means "none" in most other logs too.
NO_VALUE = frozenset({"", "-", "(empty)"})
# Large blocks: each pyarrow call and each set operation is paid once per block, not per line.
BLOCK_SIZE = 8 << 20
MAX_REPORTED = 1000
_NEWLINE = ord("\n")
_DIRECTIVE = ord("#")  # a Zeek header or footer line starts with it
_OPEN_BRACE = ord("{")
# A line whose first character (after blanks) does not open a JSON object.
_NOT_AN_OBJECT = re.compile(rb"(?:^|\n)[ \t\r]*[^{\s]")


def line_starts(newlines: np.ndarray) -> np.ndarray:
    """Where each line begins, given where each ends."""
    return np.concatenate(([0], newlines[:-1] + 1))


def _all_objects(block: bytes, newlines: np.ndarray) -> bool:
    """Whether every line of the block opens a JSON object (after blanks, if any). The first
    byte of each line is looked at in one vectorised step; only a block where some line starts
    otherwise is searched with the regular expression."""
    if not block:
        return True
    if bool((np.frombuffer(block, dtype=np.uint8)[line_starts(newlines)] == _OPEN_BRACE).all()):
        return True
    return _NOT_AN_OBJECT.search(block) is None


@dataclass(frozen=True, slots=True)
class BadLine:
    path: str
    line: int
    reason: str
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}"
        return (
            f"{where}: field {self.field!r}: {self.reason}"
            if self.field
            else f"{where}: {self.reason}"
        )


@dataclass
class Batch:
    """Rows of one block. `table` holds the fields to check as strings. Row i is line
    `first_line + i` of the file and line i of `block` unless the block was read line by line,
    when `numbers` and `kept` give each row's line number and text."""

    table: pa.Table
    fields: dict[str, FieldKind]
    first_line: int
    block: bytes = b""
    numbers: list[int] | None = None
    kept: list[bytes] | None = None
    # Offsets of the block's newlines, found once (see `newline_offsets`).
    newlines: np.ndarray | None = field(default=None, repr=False)

    @property
    def line_numbers(self) -> list[int]:
        if self.numbers is not None:
            return self.numbers
        return list(range(self.first_line, self.first_line + self.table.num_rows))

    @property
    def lines(self) -> list[bytes]:
        return self.lines_at(range(self.table.num_rows))

    def lines_at(self, rows: Sequence[int]) -> list[bytes]:
        """The text of the given rows (without their newline), cut out of the block by the
        offsets of its newlines: the block itself is never split."""
        if self.kept is not None:
            return [self.kept[row] for row in rows]
        if self.newlines is None:
            self.newlines = newline_offsets(self.block)
        wanted = np.asarray(rows, dtype=np.int64)
        ends = self.newlines[wanted]
        starts = line_starts(self.newlines)[wanted]
        block = self.block
        return [block[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]


def newline_offsets(block: bytes) -> np.ndarray:
    """Where the block's newlines are: one vectorised pass, far quicker than `bytes.count` or a
    search for a two-byte needle on a block with a newline every hundred bytes."""
    return np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == _NEWLINE)


Row = dict[str, str]


def derive(row: dict[str, Any]) -> None:
    """Zeek's http.log splits the URL into host and uri; rebuild it so URL indicators apply."""
    if "url" not in row and row.get("host") and row.get("uri"):
        row["url"] = "http://" + str(row["host"]) + str(row["uri"])


def event_time(row: Mapping[str, str]) -> datetime | None:
    """The event's time: epoch seconds (Zeek) or ISO 8601 in the first time field present."""
    for name in TIME_FIELDS:
        value = row.get(name)
        if not value or value in NO_VALUE:
            continue
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (ValueError, OverflowError, OSError):
            pass
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


@dataclass
class LogReader:
    """Reads one log file block by block; bad lines are counted and reported, never fatal."""

    path: Path
    format: LogFormat
    field_kinds: Mapping[str, FieldKind] = field(default_factory=lambda: dict(DEFAULT_FIELDS))
    block_size: int = BLOCK_SIZE
    lines_read: int = 0
    bytes_read: int = 0
    bad_count: int = 0
    bad_lines: list[BadLine] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    separator: str = "\t"

    def bad(self, line: int, reason: str, field_name: str | None = None) -> None:
        self.bad_count += 1
        if len(self.bad_lines) < MAX_REPORTED:
            self.bad_lines.append(BadLine(str(self.path), line, reason, field_name))

    # -- whole lines -------------------------------------------------------------------------

    def parse_line(self, raw: bytes, number: int) -> Row | None:
        """All fields of one line as strings (values with no data left out); None, and the line
        reported, if it cannot be read."""
        try:
            text = raw.removesuffix(b"\r").decode("utf-8")
        except UnicodeDecodeError as exc:
            self.bad(number, f"not UTF-8 at byte {exc.start}")
            return None
        row: dict[str, Any]
        if self.format is LogFormat.JSONL:
            try:
                value = jsontext.loads(text)
            except json.JSONDecodeError as exc:
                self.bad(number, f"not JSON: {exc.msg} at column {exc.colno}")
                return None
            if not isinstance(value, dict):
                self.bad(number, "not a JSON object")
                return None
            row = value
        else:
            try:
                cells = (
                    next(csv.reader([text]), [])
                    if self.format is LogFormat.CSV
                    else text.split(self.separator)
                )
            except csv.Error as exc:
                self.bad(number, f"not CSV: {exc}")
                return None
            if len(cells) != len(self.header):
                self.bad(number, f"{len(cells)} fields where the header has {len(self.header)}")
                return None
            row = dict(zip(self.header, cells, strict=True))
        derive(row)
        out: Row = {}
        for name, value in row.items():
            if value is None or value in NO_VALUE:
                continue
            if isinstance(value, str):
                out[name] = value
            elif name in self.field_kinds:
                self.bad(number, f"expected a string, found {type(value).__name__}", name)
                return None
            elif isinstance(value, int | float) and not isinstance(value, bool):
                out[name] = str(value)
        return out

    # -- blocks ------------------------------------------------------------------------------

    def _raw_blocks(self) -> Iterator[tuple[bytes, int, np.ndarray]]:
        """Blocks of whole lines, the number of the first line of each, and the offsets of its
        newlines (as many as it has lines)."""
        line = 1
        carry = b""
        with self.path.open("rb") as handle:
            # A regular file is read again from the last whole line (no copy to join the part
            # line to the next read); a pipe keeps the part line and joins it.
            seekable = handle.seekable()
            while True:
                data = handle.read(self.block_size)
                if not data:
                    break
                if carry:
                    data = carry + data
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    self.bytes_read += len(data) - len(carry)
                    carry = data
                    continue
                self.bytes_read += cut - len(carry)
                if cut == len(data):
                    block, carry = data, b""
                elif seekable:
                    handle.seek(cut - len(data), io.SEEK_CUR)
                    block, carry = data[:cut], b""
                else:
                    block, carry = data[:cut], data[cut:]
                    self.bytes_read += len(carry)
                newlines = newline_offsets(block)
                yield block, line, newlines
                line += len(newlines)
        if carry:
            yield carry + b"\n", line, np.array([len(carry)])

    def batches(self) -> Iterator[Batch]:
        try:
            blocks = self._raw_blocks()
            if self.format is LogFormat.JSONL:
                for block, first, newlines in blocks:
                    yield self._batch(block, first, newlines)
            elif self.format is LogFormat.CSV:
                yield from self._csv_batches(blocks)
            else:
                yield from self._zeek_batches(blocks)
        except OSError as exc:
            raise InvalidInput(f"cannot read {self.path}: {exc.strerror}") from None

    def _csv_batches(self, blocks: Iterator[tuple[bytes, int, np.ndarray]]) -> Iterator[Batch]:
        for block, first, newlines in blocks:
            if not self.header:
                head, _, block = block.partition(b"\n")
                try:
                    self.header = next(csv.reader([head.decode("utf-8", "replace").strip()]), [])
                except csv.Error as exc:  # a field longer than csv's limit (found by fuzzing)
                    raise InvalidInput(
                        f"{self.path}: the first line is not a CSV header ({exc})"
                    ) from None
                first += 1
                newlines = newlines[1:] - (len(head) + 1)
                if not self.header:
                    raise InvalidInput(f"{self.path}: the first line must be a CSV header")
            if block:
                yield self._batch(block, first, newlines)

    def _zeek_batches(self, blocks: Iterator[tuple[bytes, int, np.ndarray]]) -> Iterator[Batch]:
        for block, first, newlines in blocks:
            starts = line_starts(newlines)
            directive = np.frombuffer(block, dtype=np.uint8)[starts] == _DIRECTIVE
            if not directive.any():
                if not self.header:
                    raise InvalidInput(f"{self.path}:{first}: a Zeek log starts with #fields")
                yield self._batch(block, first, newlines)
                continue
            # Header and footer lines (#fields, #close, a new header in a concatenated log)
            # split the block into runs of data lines.
            row, count = 0, len(newlines)
            while row < count:
                if directive[row]:
                    line = block[starts[row] : newlines[row]]
                    self._zeek_directive(line.decode("utf-8", "replace").rstrip("\r"))
                    row += 1
                    continue
                if not self.header:
                    raise InvalidInput(f"{self.path}:{first + row}: data before the #fields line")
                following = np.flatnonzero(directive[row:])
                end = row + int(following[0]) if len(following) else count
                begin, stop = int(starts[row]), int(newlines[end - 1]) + 1
                yield self._batch(block[begin:stop], first + row, newlines[row:end] - begin)
                row = end

    def _zeek_directive(self, line: str) -> None:
        name, _, value = line.partition(" " if line.startswith("#separator") else self.separator)
        if name == "#separator":
            try:
                separator = value.encode("ascii").decode("unicode_escape")
            except UnicodeError:  # not ASCII, or a broken escape such as \xZZ
                separator = ""
            if not separator:
                raise InvalidInput(
                    f"{self.path}: #separator {value!r} names no separator; Zeek writes \\x09"
                )
            self.separator = separator
        elif name == "#fields":
            self.header = value.split(self.separator)

    def _read_columns(self, block: bytes, newlines: np.ndarray, wanted: list[str]) -> pa.Table:
        """The wanted fields of every line as string columns; ArrowInvalid if any line is bad."""
        if self.format is LogFormat.JSONL:
            # pyarrow 26 kills the process (SIGSEGV) on a block whose first line is `null` or
            # `true` (found by fuzzing): only blocks of objects go to it, the rest line by line.
            if not _all_objects(block, newlines):
                raise pa.ArrowInvalid("a line that is not a JSON object")
            schema = pa.schema([(name, pa.string()) for name in wanted])
            return pa_json.read_json(
                pa.BufferReader(block),
                read_options=pa_json.ReadOptions(use_threads=False, block_size=len(block) + 1),
                parse_options=pa_json.ParseOptions(
                    explicit_schema=schema, unexpected_field_behavior="ignore"
                ),
            )
        invalid: list[int] = []

        def on_invalid(row: Any) -> str:
            invalid.append(row.number or 0)
            return "skip"

        table = pa_csv.read_csv(
            pa.BufferReader(block),
            read_options=pa_csv.ReadOptions(
                use_threads=False, block_size=len(block) + 1, column_names=self.header
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter="," if self.format is LogFormat.CSV else self.separator,
                quote_char='"' if self.format is LogFormat.CSV else False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pa_csv.ConvertOptions(
                include_columns=wanted,
                column_types=dict.fromkeys(wanted, pa.string()),
                null_values=list(NO_VALUE),
                strings_can_be_null=True,
            ),
        )
        if invalid:
            raise pa.ArrowInvalid(f"{len(invalid)} rows with the wrong number of fields")
        return table

    def _batch(self, block: bytes, first: int, newlines: np.ndarray) -> Batch:
        count = len(newlines)
        self.lines_read += count
        if self.format is LogFormat.JSONL:
            # Zeek's http.log as JSON has host and uri too: the URL is rebuilt from them.
            wanted = list(dict.fromkeys([*self.field_kinds, "uri"]))
        else:
            present = set(self.header)
            wanted = [name for name in self.field_kinds if name in present]
            if {"host", "uri"} <= present:
                wanted.append("uri")
        table: pa.Table | None = None
        if wanted:
            try:
                table = self._read_columns(block, newlines, wanted)
            except (pa.ArrowInvalid, UnicodeDecodeError):
                table = None
            if table is not None and table.num_rows != count:
                table = None  # blank lines were skipped: rows no longer line up with lines
        if table is None and wanted:
            return self._batch_line_by_line(block.split(b"\n")[:-1], first, wanted)
        if table is None:
            table = pa.table({})
        names = table.column_names
        if {"host", "uri"} <= set(names) and (
            "url" not in names or table["url"].null_count == table.num_rows
        ):
            url = pc.binary_join_element_wise("http://", table["host"], table["uri"], "")
            if "url" in names:
                table = table.drop_columns(["url"])
            table = table.append_column("url", url)
        kinds = {
            name: kind
            for name, kind in {**self.field_kinds, "url": FieldKind.URL}.items()
            if name in table.column_names
        }
        return Batch(table, kinds, first, block, newlines=newlines)

    def _batch_line_by_line(self, lines: list[bytes], first: int, wanted: list[str]) -> Batch:
        """The slow road for a block with a bad line: parse each line, report and drop bad ones."""
        columns: dict[str, list[str | None]] = {name: [] for name in [*wanted, "url"]}
        numbers: list[int] = []
        kept: list[bytes] = []
        for offset, raw in enumerate(lines):
            number = first + offset
            if not raw.strip():
                continue
            row = self.parse_line(raw, number)
            if row is None:
                continue
            numbers.append(number)
            kept.append(raw)
            for name, values in columns.items():
                values.append(row.get(name))
        table = pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})
        kinds = {
            name: kind
            for name, kind in {**self.field_kinds, "url": FieldKind.URL}.items()
            if name in columns
        }
        return Batch(table, kinds, first, numbers=numbers, kept=kept)
