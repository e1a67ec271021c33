"""A person record as screened: fields checked one by one, each problem named by row and field so
that one bad value costs only that value (or, without id or name, that row)."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from accord.core.errors import InvalidInput
from accord.identity.documents import ResidentId, normalise_passport, parse_resident_id

FIELDS = (
    "id",
    "name",
    "name_native",
    "birth_date",
    "sex",
    "nationality",
    "id_number",
    "passport_number",
)

_SEX = {
    "m": "M", "male": "M", "man": "M", "男": "M",
    "f": "F", "female": "F", "woman": "F", "女": "F",
    "u": None, "x": None, "unknown": None, "未知": None,
}  # fmt: skip

# Alpha-3 codes of the countries most often met, so CHN and CN agree.
_ALPHA3 = {
    "CHN": "CN", "HKG": "HK", "MAC": "MO", "TWN": "TW", "USA": "US", "GBR": "GB", "CAN": "CA",
    "AUS": "AU", "NZL": "NZ", "SGP": "SG", "MYS": "MY", "IDN": "ID", "THA": "TH", "VNM": "VN",
    "PHL": "PH", "JPN": "JP", "KOR": "KR", "FRA": "FR", "DEU": "DE", "ITA": "IT", "ESP": "ES",
    "NLD": "NL", "RUS": "RU", "IND": "IN", "KHM": "KH", "MMR": "MM", "LAO": "LA",
}  # fmt: skip

_DATE = re.compile(r"(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?")


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A date of birth known to the year, the month or the day."""

    year: int
    month: int | None = None
    day: int | None = None

    def __str__(self) -> str:
        parts = [f"{self.year:04d}"]
        if self.month is not None:
            parts.append(f"{self.month:02d}")
            if self.day is not None:
                parts.append(f"{self.day:02d}")
        return "-".join(parts)

    @property
    def is_full(self) -> bool:
        return self.day is not None


def parse_partial_date(text: str) -> PartialDate:
    """`YYYY`, `YYYY-MM` or `YYYY-MM-DD` (also with / or . between the parts)."""
    match = _DATE.fullmatch(text.strip())
    if not match:
        raise InvalidInput(f"{text!r} is not a date; write YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(g) if g else None for g in match.groups())
    assert year is not None
    try:
        date(year, month or 1, day or 1)
    except ValueError:
        raise InvalidInput(f"{text!r} is not a real date") from None
    if not 1880 <= year <= date.today().year:
        raise InvalidInput(f"{text!r}: the year {year} is not a plausible year of birth")
    return PartialDate(year, month, day)


def text_lines(path: Path) -> Iterator[tuple[int, str | None]]:
    """(line number from 1, the line as text, or None where it is not UTF-8: that line is
    reported, the others are read); a BOM is dropped."""
    with path.open("rb") as f:
        for number, raw in enumerate(f, start=1):
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError:
                yield number, None


@dataclass(frozen=True, slots=True)
class PersonRecord:
    id: str
    name: str
    name_native: str = ""
    birth: PartialDate | None = None
    sex: str | None = None
    nationality: str | None = None
    resident_id: ResidentId | None = None
    passport: str | None = None


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One bad value: where it is, what was wrong, and what was done about it."""

    row: int  # records counted from 1, the CSV header not counted
    record_id: str
    field: str
    message: str
    action: str  # "row skipped", "value ignored" or "value kept"


def field_text(raw: Mapping[str, object], field: str) -> str:
    """A field of a row as stripped text, "" when it is missing, empty or NaN."""
    value = raw.get(field)
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from a Parquet writer
        return ""
    return str(value).strip()


def person_from_row(
    raw: Mapping[str, object], row: int
) -> tuple[PersonRecord | None, list[RowProblem]]:
    """Check a row's fields one by one. A record is returned unless `id` or `name` is missing;
    a bad optional value is left out and reported."""
    problems: list[RowProblem] = []
    record_id, name = field_text(raw, "id"), field_text(raw, "name")
    for field, value in (("id", record_id), ("name", name)):
        if not value:
            message = f"row {row}: `{field}` is empty; every record needs an id and a name"
            return None, [RowProblem(row, record_id, field, message, "row skipped")]

    def ignore(field: str, message: str) -> None:
        problems.append(RowProblem(row, record_id, field, f"row {row}: {message}", "value ignored"))

    birth: PartialDate | None = None
    if text := field_text(raw, "birth_date"):
        try:
            birth = parse_partial_date(text)
        except InvalidInput as exc:
            ignore("birth_date", exc.message)
    sex: str | None = None
    if text := field_text(raw, "sex"):
        if text.casefold() in _SEX:
            sex = _SEX[text.casefold()]
        else:
            ignore("sex", f"sex {text!r} is not M, F or empty")
    nationality: str | None = None
    if text := field_text(raw, "nationality").upper():
        if re.fullmatch(r"[A-Z]{2,3}", text):
            nationality = _ALPHA3.get(text, text)
        else:
            ignore("nationality", f"nationality {text!r} is not an ISO 3166 country code")
    resident_id: ResidentId | None = None
    if text := field_text(raw, "id_number"):
        try:
            resident_id = parse_resident_id(text)
        except InvalidInput as exc:
            ignore("id_number", exc.message)
    passport: str | None = None
    if text := field_text(raw, "passport_number"):
        try:
            passport = normalise_passport(text)
        except InvalidInput as exc:
            ignore("passport_number", exc.message)

    if resident_id is not None:
        encoded = resident_id.birth_date
        if birth is None or (not birth.is_full and _consistent(birth, encoded)):
            # The card gives the whole date where the record gives none, or only its year or
            # month: 1980 and a card born 1980-05-01 are one person born 1980-05-01.
            birth = PartialDate(encoded.year, encoded.month, encoded.day)
        elif not _consistent(birth, encoded):
            problems.append(
                RowProblem(
                    row,
                    record_id,
                    "birth_date",
                    f"row {row}: birth_date {birth} disagrees with the date encoded in "
                    f"id_number ({encoded}); the identity card's date is used",
                    "value kept",
                )
            )
            birth = PartialDate(encoded.year, encoded.month, encoded.day)
        if sex is None:
            sex = resident_id.sex
        elif sex != resident_id.sex:
            problems.append(
                RowProblem(
                    row,
                    record_id,
                    "sex",
                    f"row {row}: sex {sex} disagrees with id_number, which encodes "
                    f"{resident_id.sex}; the identity card's sex is used",
                    "value kept",
                )
            )
            sex = resident_id.sex
    record = PersonRecord(
        id=record_id,
        name=name,
        name_native=field_text(raw, "name_native"),
        birth=birth,
        sex=sex,
        nationality=nationality,
        resident_id=resident_id,
        passport=passport,
    )
    return record, problems


def _consistent(birth: PartialDate, encoded: date) -> bool:
    if birth.year != encoded.year:
        return False
    if birth.month is not None and birth.month != encoded.month:
        return False
    return birth.day is None or birth.day == encoded.day
