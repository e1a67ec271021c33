"""Dates of birth as lists and notices write them (12 May 1970, circa 1970, 1968 to 1970, 1970年5月,
1970-05), kept as what they say: a partial date stays partial, a range stays a range."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from accord.core.errors import InvalidInput

# "circa 1970" is read as the years this far on either side (sanctions lists write "circa" for a
# birth year known to a year or two; a wider spread is written as a range).
CIRCA_YEARS = 2

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4,
    "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11,
    "dec": 12, "december": 12,
}  # fmt: skip
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"

_ISO = re.compile(r"(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?")
_DAY_MONTH_YEAR = re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th)?[\s\-/.]*{_MONTH}[\s\-/.,]*(\d{{4}})")
_MONTH_DAY_YEAR = re.compile(rf"{_MONTH}[\s\-/.]*(\d{{1,2}})(?:st|nd|rd|th)?[\s,]+(\d{{4}})")
_MONTH_YEAR = re.compile(rf"{_MONTH}[\s\-/.,]*(\d{{4}})")
_CHINESE = re.compile(r"(\d{4})\s*年\s*(?:(\d{1,2})\s*月\s*(?:(\d{1,2})\s*日)?)?")
_CIRCA = re.compile(r"(?:circa|c\.|ca\.?|approx\.?|approximately|about|约|大约)\s*(.+)")
_RANGE = re.compile(r"(?:between|from)?\s*(\d{4})\s*(?:to|and|-|–|—|~|至|到)\s*(\d{4})")


class NotARealDate(InvalidInput):
    """A date in a form that is read, whose parts do not exist (a 13th month, 30 February)."""


class ImplausibleBirthYear(InvalidInput):
    """A real date that cannot be a date of birth (before 1880, or a year still to come)."""


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A date of birth known to the year, the month or the day; or a span of years: `circa`
    (the year give or take CIRCA_YEARS) or a range `year` to `last_year`."""

    year: int
    month: int | None = None
    day: int | None = None
    last_year: int | None = None  # a range's last year (inclusive)
    circa: bool = False

    def __str__(self) -> str:
        if self.circa:
            return f"circa {self.year:04d}"
        if self.last_year is not None:
            return f"{self.year:04d} to {self.last_year:04d}"
        parts = [f"{self.year:04d}"]
        if self.month is not None:
            parts.append(f"{self.month:02d}")
            if self.day is not None:
                parts.append(f"{self.day:02d}")
        return "-".join(parts)

    @property
    def is_full(self) -> bool:
        return self.day is not None

    @property
    def is_span(self) -> bool:
        """A span of years (circa or a range), not one year."""
        return self.circa or self.last_year is not None

    @property
    def years(self) -> tuple[int, int]:
        """The first and last year the date allows."""
        if self.circa:
            return self.year - CIRCA_YEARS, self.year + CIRCA_YEARS
        return self.year, self.last_year if self.last_year is not None else self.year


def _checked(text: str, year: int, month: int | None = None, day: int | None = None) -> PartialDate:
    try:
        if month == 0 or day == 0:  # `month or 1` would read 1970-00 as January
            raise ValueError
        date(year, month or 1, day or 1)
    except ValueError:
        raise NotARealDate(f"{text!r} is not a real date") from None
    if not 1880 <= year <= date.today().year:
        raise ImplausibleBirthYear(f"{text!r}: the year {year} is not a plausible year of birth")
    return PartialDate(year, month, day)


def parse_partial_date(text: str) -> PartialDate:
    """A date of birth in the forms lists and notices use: `1970`, `1970-05`, `1970-05-12`
    (or with / or . between the parts), `12 May 1970`, `May 12, 1970`, `May 1970`,
    `1970年5月12日`, `circa 1970`, `1968 to 1970`. Raise InvalidInput saying what is wrong."""
    stripped = " ".join(text.strip().split())
    lowered = stripped.casefold()
    if circa := _CIRCA.fullmatch(lowered):
        inner = parse_partial_date(circa.group(1))
        if inner.is_span or inner.month is not None:
            raise InvalidInput(f"{text!r}: write circa with a year alone (circa 1970)")
        return PartialDate(inner.year, circa=True)
    if span := _RANGE.fullmatch(lowered):
        first = _checked(text, int(span.group(1)))
        last = _checked(text, int(span.group(2)))
        if last.year < first.year:
            raise InvalidInput(f"{text!r}: a range of years runs from the earlier to the later")
        if last.year == first.year:
            return first
        return PartialDate(first.year, last_year=last.year)
    if found := _ISO.fullmatch(lowered):
        year, month, day = (int(g) if g else None for g in found.groups())
        assert year is not None
        return _checked(text, year, month, day)
    if found := _DAY_MONTH_YEAR.fullmatch(lowered):
        return _checked(text, int(found.group(3)), _MONTHS[found.group(2)], int(found.group(1)))
    if found := _MONTH_DAY_YEAR.fullmatch(lowered):
        return _checked(text, int(found.group(3)), _MONTHS[found.group(1)], int(found.group(2)))
    if found := _MONTH_YEAR.fullmatch(lowered):
        return _checked(text, int(found.group(2)), _MONTHS[found.group(1)])
    if found := _CHINESE.fullmatch(lowered):
        year, month, day = (int(g) if g else None for g in found.groups())
        assert year is not None
        return _checked(text, year, month, day)
    if re.fullmatch(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{4}", lowered):
        raise InvalidInput(
            f"{text!r}: day and month cannot be told apart; write 1970-05-12 or 12 May 1970"
        )
    raise InvalidInput(
        f"{text!r} is not a date; write 1970, 1970-05, 1970-05-12, 12 May 1970, circa 1970 "
        "or 1968 to 1970"
    )
