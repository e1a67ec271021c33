"""Comparison of two person records, feature by feature, into discrete agreement levels."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from sys import intern

from rapidfuzz.fuzz import ratio

from accord.identity.names.keys import ParsedName, parse_name
from accord.identity.records import Alias, PartialDate, PersonRecord

SIMILAR_GIVEN = 85.0  # rapidfuzz ratio (0–100) of the joined given names


class Feature(StrEnum):
    NAME = "name"
    NATIVE = "native_name"
    BIRTH_DATE = "birth_date"
    SEX = "sex"
    NATIONALITY = "nationality"
    RESIDENT_ID = "id_number"
    PASSPORT = "passport_number"


class Level(StrEnum):
    """How far two values agree. Not every level applies to every feature."""

    EXACT = "exact"
    REORDERED = "reordered"  # same syllables, given name in another order
    SIMILAR = "similar"
    SURNAME_ONLY = "surname_only"
    HOMOPHONE = "homophone"  # same pinyin, different characters
    YEAR_MONTH = "year_month"  # one date known to the month only, and they agree so far
    YEAR = "year"  # one date known to the year only, and they agree
    SWAPPED = "swapped"  # day and month exchanged
    NEAR = "near"  # one year apart, the same day and month
    NEAR_YEAR = "near_year"  # one year apart, one date known to the year or month only
    WITHIN = "within"  # within a span of years (circa 1970, 1968 to 1970)
    DIFFERENT = "different"
    MISSING = "missing"  # one side does not say: no evidence either way


@dataclass(frozen=True, slots=True)
class Profile:
    """A record with what comparison needs precomputed once."""

    record: PersonRecord
    name: ParsedName
    # Tuples of distinct interned strings, not frozensets: a set of one string costs 216 bytes,
    # a tuple 48, and a million records hold three of them each.
    pairs: tuple[str, ...]  # "surname|given" readings, order kept
    bags: tuple[str, ...]  # "surname|sorted given syllables"
    surnames: tuple[str, ...]
    # surname → joined given names of the cheapest readings with it, for fuzzy comparison
    givens: dict[str, tuple[str, ...]]
    alias: Alias | None = None  # the other name this profile reads (None: the record's name)

    @property
    def weak(self) -> bool:
        return self.alias is not None and self.alias.weak


def profile(record: PersonRecord, *, remember: bool = True) -> Profile:
    """The record's profile; its name parts shared with earlier records of the same name, and
    kept for later ones unless `remember` is false (a screened query: queries seldom repeat a
    name as written, and a cache filled with them only grows)."""
    parts = _name_parts if remember else _name_parts.__wrapped__
    return Profile(record, *parts(record.name, record.name_native))


def name_profiles(record: PersonRecord, *, remember: bool = True) -> tuple[Profile, ...]:
    """A profile for each of the record's names: its name (with its characters) first, then
    each alias, read on its own (an alias's spelling is not pooled with the name's)."""
    first = profile(record, remember=remember)
    if not record.aliases:
        return (first,)
    parts = _name_parts if remember else _name_parts.__wrapped__
    return (first, *(Profile(record, *parts(a.name, a.native), alias=a) for a in record.aliases))


NameParts = tuple[
    ParsedName, tuple[str, ...], tuple[str, ...], tuple[str, ...], dict[str, tuple[str, ...]]
]


@lru_cache(maxsize=1_000_000)
def _name_parts(name: str, native: str) -> NameParts:
    """What comparison needs of a name, computed once per distinct name and shared by every
    record that carries it (strings interned, so a million records hold each key once)."""
    parsed = parse_name(name, native)
    pairs = _distinct(f"{' '.join(r.surname)}|{''.join(r.given)}" for r in parsed.readings)
    bags = _distinct(
        intern(f"{' '.join(r.surname)}|{' '.join(sorted(r.given))}") for r in parsed.readings
    )
    givens: dict[str, list[str]] = {}
    for r in parsed.readings[:8]:
        if r.given:
            given = intern("".join(r.given))
            listed = givens.setdefault(intern(" ".join(r.surname)), [])
            if given not in listed:
                listed.append(given)
    frozen = {s: tuple(g) for s, g in givens.items()}
    surnames = _distinct(parsed.surnames)
    return parsed, pairs, bags, surnames, frozen


def forget_names() -> None:
    """Empty the cache of name parts. Once a watchlist's index is built its records hold their
    parts; the cache's own entries (a few hundred bytes for each distinct name: 150 MB less at
    the peak of a 1,000,000-record screening on two processes) are then memory the queries can
    use instead."""
    _name_parts.cache_clear()


def _distinct(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({intern(v) for v in values}))


class NameMatcher:
    """A query's name, ready to be compared with many candidates: its readings and keys held
    as sets, so that each candidate's tuples are looked up in them (in C) rather than every
    pair of strings compared."""

    __slots__ = ("bags", "keys", "pairs", "query", "similar", "surnames")

    def __init__(self, q: Profile) -> None:
        self.query = q
        self.pairs = frozenset(q.pairs)
        self.bags = frozenset(q.bags)
        self.keys = frozenset(q.name.keys)
        self.surnames = frozenset(q.surnames)
        # surname → candidate given name → whether one of the query's is similar to it
        self.similar: dict[str, dict[str, bool]] = {}

    def level(self, c: Profile) -> Level:
        if not self.pairs.isdisjoint(c.pairs):
            return Level.EXACT
        if not self.bags.isdisjoint(c.bags) or not self.keys.isdisjoint(c.name.keys):
            return Level.REORDERED
        q = self.query
        if not q.name.readings or not c.name.readings:
            # Neither name is Chinese: compare the other tokens (English names) as they are.
            if q.name.other and q.name.other == c.name.other:
                return Level.EXACT
            if q.name.other and c.name.other:
                joined = ratio(" ".join(q.name.other), " ".join(c.name.other))
                return Level.SIMILAR if joined >= SIMILAR_GIVEN else Level.DIFFERENT
            return Level.DIFFERENT
        shared = self.surnames.intersection(c.surnames)
        if not shared:
            return Level.DIFFERENT
        for surname in shared:
            mine = q.givens.get(surname, ())
            known = self.similar.setdefault(surname, {})
            for b in c.givens.get(surname, ()):
                similar = known.get(b)
                if similar is None:
                    similar = known[b] = any(ratio(a, b) >= SIMILAR_GIVEN for a in mine)
                if similar:
                    return Level.SIMILAR
        return Level.SURNAME_ONLY


def compare_name(q: Profile, c: Profile) -> Level:
    return NameMatcher(q).level(c)


def compare_native(q: Profile, c: Profile, name_level: Level) -> Level:
    """Characters only add evidence beyond the pinyin: equal characters confirm a pinyin
    agreement, different characters with the same pinyin (张伟, 章伟) speak against it."""
    if not q.name.han or not c.name.han or name_level not in (Level.EXACT, Level.REORDERED):
        return Level.MISSING
    return Level.EXACT if q.name.han == c.name.han else Level.HOMOPHONE


def compare_birth(a: PartialDate | None, b: PartialDate | None) -> Level:
    if a is None or b is None:
        return Level.MISSING
    if a.is_span or b.is_span:
        (first_a, last_a), (first_b, last_b) = a.years, b.years
        if first_a <= last_b and first_b <= last_a:
            return Level.WITHIN
        gap = max(first_a, first_b) - min(last_a, last_b)
        return Level.NEAR_YEAR if gap == 1 else Level.DIFFERENT
    if a.year == b.year:
        if a.month is None or b.month is None:
            return Level.YEAR
        if a.month == b.month:
            if a.day is None or b.day is None:
                return Level.YEAR_MONTH
            return Level.EXACT if a.day == b.day else Level.DIFFERENT
        if a.is_full and b.is_full and a.month == b.day and a.day == b.month:
            return Level.SWAPPED
        return Level.DIFFERENT
    if abs(a.year - b.year) == 1:
        if a.is_full and b.is_full:
            return Level.NEAR if (a.month, a.day) == (b.month, b.day) else Level.DIFFERENT
        if a.month is None or b.month is None or a.month == b.month:
            return Level.NEAR_YEAR
    return Level.DIFFERENT


def compare_value(a: str | None, b: str | None) -> Level:
    if a is None or b is None:
        return Level.MISSING
    return Level.EXACT if a == b else Level.DIFFERENT


Levels = tuple[Level, Level, Level, Level, Level, Level, Level]


def compare(q: Profile, c: Profile) -> Levels:
    """Every feature's level, in the order of `Feature`."""
    name = compare_name(q, c)
    qr, cr = q.record, c.record
    return (
        name,
        compare_native(q, c, name),
        compare_birth(qr.birth, cr.birth),
        compare_value(qr.sex, cr.sex),
        compare_any(qr.nationality, cr.nationality, qr.all_nationalities, cr.all_nationalities),
        compare_any(qr.card_number, cr.card_number, qr.all_card_numbers, cr.all_card_numbers),
        compare_any(qr.passport, cr.passport, qr.all_passports, cr.all_passports),
    )


def compare_any(
    a: str | None, b: str | None, every_a: frozenset[str], every_b: frozenset[str]
) -> Level:
    """Two records' values where each may hold several (nationalities, passports): they
    agree when any value is shared."""
    if a is None or b is None:
        return Level.MISSING
    return Level.EXACT if a == b or not every_a.isdisjoint(every_b) else Level.DIFFERENT
