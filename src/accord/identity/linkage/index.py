"""Blocking: an in-memory inverted index from name keys, birth years and document numbers to
watchlist records, so a query is compared with a few candidates instead of every record.

Postings are compact arrays of record numbers (4 bytes each, not Python lists of ints) and the
keys are interned strings shared with the name layer, so a million records fit in a few GB."""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache
from sys import intern

from accord.identity.aliases import person_id
from accord.identity.linkage.compare import Profile, name_profiles
from accord.identity.linkage.score import Frequencies
from accord.identity.records import PartialDate, PersonRecord, RowProblem, merge_rows

# A block larger than this (a very common name with no year to narrow it) is read only this far:
# such a query cannot single anyone out by name anyway.
MAX_BLOCK = 2_000
# A name block this large is sorted by birth year once, and read by year from then on.
SORTED_BLOCK = 64
_NO_YEAR = 0


def _surname_date_keys(p: Profile, birth: PartialDate) -> list[str]:
    return [f"{s}|{birth}" for s in p.surnames]


# A typo block (a given-name syllable left out) read this far at most: it holds everyone of the
# surname sharing one given syllable, a wider net than a name block.
MAX_TYPO_BLOCK = 400
TYPO_READINGS = 4  # a query's readings whose syllables are left out in turn


def typo_keys(surname: tuple[str, ...], given: tuple[str, ...]) -> list[str]:
    """The deletion neighbourhood of a reading on syllables: the surname with the given
    syllables, one of them left out (sorted: order-free). A name whose given name has one
    syllable wrong (Xiaomin for Xiaoming, Xiaomng, Xaioming) shares one of them. A one-syllable
    given name has none: its surname alone would be the block (the surname and full date of
    birth block covers it)."""
    if len(given) < 2:
        return []
    head = " ".join(surname)
    keys = {f"{head}|{' '.join(sorted(given[:i] + given[i + 1 :]))}" for i in range(len(given))}
    return [intern(k) for k in sorted(keys)]


def _query_typo_keys(p: Profile) -> set[str]:
    """A query's typo keys: those of its likeliest readings, and where a token could not be
    read at all (a typo that spells no syllable: Xiaomng), its readable syllables with the
    unread one left out."""
    from accord.identity.names.keys import ENGLISH_GIVEN_NAMES

    found: set[str] = set()
    readings = p.name.readings[:TYPO_READINGS]
    unread = [t for t in p.name.other if t not in ENGLISH_GIVEN_NAMES and len(t) <= 12]
    for r in readings:
        found.update(typo_keys(r.surname, r.given))
        if unread and r.given:
            # the unread token is the left-out syllable
            found.add(f"{' '.join(r.surname)}|{' '.join(sorted(r.given))}")
    if unread and readings:
        for r in readings:
            syllables = (*r.surname, *r.given)
            if len(syllables) >= 2:
                # the unread token is the surname (Zhnag Xiaoming): the given name alone
                found.add(f"|{' '.join(sorted(syllables))}")
            for token in unread:
                for part in _readable_part(token):
                    found.add(f"{' '.join(r.surname)}|{' '.join(sorted((*r.given, *part)))}")
    return found


# Spellings tried per unread token, and the longest token spelt letter by letter (a joined name
# beyond it is tried with a letter dropped or two exchanged only: no letter added or changed).
MAX_CORRECTIONS = 8
SPELT_TOKEN = 6
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@lru_cache(maxsize=1)
def _spellings() -> frozenset[str]:
    """Every token some system reads whole: its syllables and surname spellings."""
    from accord.identity.names.romanise import WIDE_SURNAME_ALIASES, WIDE_SYLLABLE_TABLES

    found: set[str] = set()
    for tables in (WIDE_SYLLABLE_TABLES, WIDE_SURNAME_ALIASES):
        for table in tables.values():
            found.update(table)
    return frozenset(found)


def corrections(token: str) -> list[str]:
    """Spellings one edit away from a token no system reads (a letter dropped, added, changed,
    or two exchanged: Wie → wei, Zhnag → zhang, Cheugn → cheung), most likely edits first
    (exchanges, then drops, adds, changes), at most MAX_CORRECTIONS."""
    from accord.identity.names.romanise import is_chinese_token

    n = len(token)
    swaps = [token[:i] + token[i + 1] + token[i] + token[i + 2 :] for i in range(n - 1)]
    drops = [token[:i] + token[i + 1 :] for i in range(n)]
    edits = swaps + drops
    if n <= SPELT_TOKEN:
        edits += [token[:i] + c + token[i:] for i in range(n + 1) for c in _LETTERS]
        edits += [token[:i] + c + token[i + 1 :] for i in range(n) for c in _LETTERS]
        known = _spellings()
        found = [e for e in dict.fromkeys(edits) if e != token and e in known]
    else:
        found = [e for e in dict.fromkeys(edits) if is_chinese_token(e)]
    return found[:MAX_CORRECTIONS]


def _corrected_keys(p: Profile) -> set[str]:
    """Name keys of the query's name with one unread token corrected by one edit: the blocks
    its name would have without the typo (query side only: nothing more is indexed)."""
    from accord.identity.names.keys import ENGLISH_GIVEN_NAMES, parse_name
    from accord.identity.names.normalise import latin_tokens

    unread = {t for t in p.name.other if t not in ENGLISH_GIVEN_NAMES and 2 <= len(t) <= 12}
    if not unread or not p.name.readings:
        return set()
    tokens = latin_tokens(p.name.text)
    found: set[str] = set()
    for token in sorted(unread):
        for spelling in corrections(token):
            written = " ".join(spelling if t == token else t for t in tokens)
            corrected = parse_name(written)
            found.update(corrected.keys)
            found.update(corrected.loose_keys)
    return found


def _readable_part(token: str) -> list[tuple[str, ...]]:
    """The longest start and the longest end of an unreadable token that are one pinyin
    syllable (Xiaomng: xiao; Xaioming: ming)."""
    from accord.identity.names.romanise import System, token_readings

    found: list[tuple[str, ...]] = []
    cuts = range(min(len(token) - 1, 6), 1, -1)
    for parts in ([token[:cut] for cut in cuts], [token[-cut:] for cut in cuts]):
        for part in parts:
            readings = token_readings(part, System.PINYIN)
            if readings and len(readings[0][0]) == 1:
                found.append(readings[0][0])
                break
    return found


def _year(birth: PartialDate | None) -> int:
    """The year a record is filed under for blocking: none for a span of years (circa, a
    range), which any query's year may fall in."""
    return birth.year if birth is not None and not birth.is_span else _NO_YEAR


# Most blocks hold one record (a rare name, a document number): those are stored as the bare
# record number; an array of 4-byte numbers costs 80 bytes before its first element.
Postings = dict[str, "int | array[int]"]
# A person's keys by kind: full name, loose name, surname and date, identity number, passport,
# typo (a given syllable left out).
_Keys = tuple[set[str], set[str], set[str], set[str], set[str], set[str]]
_NO_KEYS: _Keys = (set(), set(), set(), set(), set(), set())


def _record_typo_keys(p: Profile) -> tuple[str, ...]:
    """Typo keys of a name's likeliest reading, and its given name of two syllables or more
    without the surname (for a query whose surname has the typo)."""
    first = p.name.primary
    return _reading_typo_keys(first.surname, first.given) if first is not None else ()


def forget_typo_keys() -> None:
    """Empty the cache of typo keys once an index is built (as `compare.forget_names`)."""
    _reading_typo_keys.cache_clear()


@lru_cache(maxsize=200_000)
def _reading_typo_keys(surname: tuple[str, ...], given: tuple[str, ...]) -> tuple[str, ...]:
    keys = typo_keys(surname, given)
    if len(given) >= 2:
        keys.append(intern(f"|{' '.join(sorted(given))}"))
    return tuple(keys)


def _post(postings: Postings, key: str, i: int) -> None:
    found = postings.get(key)
    if found is None:
        postings[key] = i
    elif isinstance(found, int):
        postings[key] = array("i", (found, i))
    else:
        found.append(i)


def _block(postings: Postings, key: str) -> array[int] | tuple[int, ...]:
    found = postings.get(key, ())
    return (found,) if isinstance(found, int) else found


class WatchlistIndex:
    """Profiles of the watchlist's persons, their frequencies and the blocking index over them.
    A person is one number: the profile of their name in `profiles`, those of their aliases
    in `aliases`; every block holds person numbers."""

    def __init__(self) -> None:
        self.profiles: list[Profile] = []
        # Only the persons with other names have an entry: most records have one name.
        self.aliases: dict[int, tuple[Profile, ...]] = {}
        self.frequencies = Frequencies()
        self._numbers: dict[str, int] = {}  # person id -> number
        self._years = array("h")  # birth year of each record, 0 when unknown
        # Full name keys, and the "loose" keys of names with three or more tokens (one token
        # left out). A query's full keys meet both; its loose keys meet full keys only: two
        # names that agree only once each drops a token (Zhang Xiao Ming, Zhang Xiao Hong) are
        # not a block worth reading.
        self._by_name: Postings = {}
        self._by_loose_name: Postings = {}
        self._by_surname_date: Postings = {}
        self._by_typo: Postings = {}  # typo_keys of each name's likeliest reading
        # keyed by the record's own number strings: no new string per record
        self._by_resident_id: Postings = {}
        self._by_passport: Postings = {}
        # Large name blocks (a common name), sorted by birth year when first read, so that a
        # query reads the years it needs instead of filtering the block: (records, their years).
        self._by_year: dict[tuple[bool, str], tuple[array[int], array[int]]] = {}

    def __len__(self) -> int:
        return len(self.profiles)

    def names(self, i: int) -> tuple[Profile, ...]:
        """The profiles of person `i`'s names, their name first."""
        first = self.profiles[i]
        more = self.aliases.get(i)
        return (first, *more) if more else (first,)

    def add(self, record: PersonRecord, row: int = 0) -> list[RowProblem]:
        """Add a person; a row of a person already added (the same id, or an alias row
        `<id>-AKA1`) is merged into them (`records.merge_rows`): what disagrees is returned."""
        key = person_id(record.id)
        if key != record.id:
            record = replace(record, id=key)
        i = self._numbers.get(key)
        if i is None:
            self._numbers[key] = len(self.profiles)
            self._add_person(name_profiles(record))
            return []
        merged, problems = merge_rows(self.profiles[i].record, record, row)
        before = self.names(i)
        self.frequencies.remove(*before)
        names = name_profiles(merged)
        self.profiles[i] = names[0]
        if len(names) > 1:
            self.aliases[i] = names[1:]
        self.frequencies.add(*names)
        self._years[i] = _year(merged.birth)
        self._by_year.clear()
        self._post(i, names, already=self._keys(before))
        return problems

    def _add_person(self, names: tuple[Profile, ...]) -> None:
        i = len(self.profiles)
        self.profiles.append(names[0])
        if len(names) > 1:
            self.aliases[i] = names[1:]
        if self._by_year:
            self._by_year.clear()  # a block may have grown
        self.frequencies.add(*names)
        self._years.append(_year(names[0].record.birth))
        if len(names) == 1:
            self._post_one(i, names[0])
        else:
            self._post(i, names, already=_NO_KEYS)

    def _post_one(self, i: int, p: Profile) -> None:
        record = p.record
        for key in p.name.keys:
            _post(self._by_name, key, i)
        for key in p.name.loose_keys:
            _post(self._by_loose_name, key, i)
        for key in _record_typo_keys(p):
            _post(self._by_typo, key, i)
        if record.birth is not None and record.birth.is_full:
            for key in _surname_date_keys(p, record.birth):
                _post(self._by_surname_date, key, i)
        if record.card_number is not None:
            for number in record.all_card_numbers if record.other_ids else (record.card_number,):
                _post(self._by_resident_id, number, i)
        if record.passport is not None:
            for number in record.all_passports if record.passports else (record.passport,):
                _post(self._by_passport, number, i)

    def _keys(self, names: tuple[Profile, ...]) -> _Keys:
        """Every block key of a person's names, once each."""
        record = names[0].record
        full = {k for p in names for k in p.name.keys}
        loose = {k for p in names for k in p.name.loose_keys}
        dated = (
            {k for p in names for k in _surname_date_keys(p, record.birth)}
            if record.birth is not None and record.birth.is_full
            else set()
        )
        cards = set(record.all_card_numbers)
        passports = set(record.all_passports)
        typos = {k for p in names for k in _record_typo_keys(p)}
        return full, loose, dated, cards, passports, typos

    def _post(self, i: int, names: tuple[Profile, ...], *, already: _Keys) -> None:
        postings = (self._by_name, self._by_loose_name, self._by_surname_date,
                    self._by_resident_id, self._by_passport, self._by_typo)  # fmt: skip
        for blocks, keys, old in zip(postings, self._keys(names), already, strict=True):
            for key in sorted(keys - old):
                _post(blocks, key, i)

    @classmethod
    def build(cls, records: Iterable[PersonRecord]) -> WatchlistIndex:
        index = cls()
        for record in records:
            index.add(record)
        return index

    def _name_block(self, loose: bool, key: str, birth: PartialDate | None) -> Iterable[int]:
        """The records of a name block born within a year of `birth` or in an unknown year."""
        postings = _block(self._by_loose_name if loose else self._by_name, key)
        if not postings or birth is None:
            return postings[:MAX_BLOCK]
        if len(postings) < SORTED_BLOCK:
            years = self._years
            near = (_NO_YEAR, birth.year - 1, birth.year, birth.year + 1)
            return [i for i in postings if years[i] in near]
        found = self._by_year.get((loose, key))
        if found is None:
            ordered = sorted(postings, key=self._years.__getitem__)
            found = (array("i", ordered), array("h", (self._years[i] for i in ordered)))
            self._by_year[(loose, key)] = found
        records, years = found
        unknown = bisect_right(years, _NO_YEAR)
        start = bisect_left(years, birth.year - 1, lo=unknown)
        end = bisect_right(years, birth.year + 1, lo=start)
        return records[:unknown].tolist() + records[start:end].tolist()

    def _typo_block(self, key: str, birth: PartialDate | None) -> Iterable[int]:
        """A typo block's records born within a year of `birth` (or in an unknown year); a
        query without a year reads none: a wrong syllable and no date single no one out."""
        if birth is None:
            return ()
        postings = _block(self._by_typo, key)
        years = self._years
        near = (_NO_YEAR, birth.year - 1, birth.year, birth.year + 1)
        return [i for i in postings[: MAX_TYPO_BLOCK * 16] if years[i] in near][:MAX_TYPO_BLOCK]

    def candidates(self, q: Profile, *aliases: Profile) -> list[int]:
        """Persons sharing a block with the query (any of its names, `aliases` the profiles
        of its other names): a name key and a birth year within one year (or no year on either
        side), a surname and the full date of birth (also with day and month swapped), or a
        document number."""
        found: set[int] = set()
        record = q.record
        birth = record.birth
        year_of = None if birth is not None and birth.is_span else birth
        for name in (q, *aliases):
            for key in name.name.keys:
                found.update(self._name_block(False, key, year_of))
                found.update(self._name_block(True, key, year_of))
            for key in name.name.loose_keys:
                found.update(self._name_block(False, key, year_of))
        if not found:
            # No record carries any of the query's names near its year: a token no system reads
            # is a typo; its one-edit corrections are looked up as names are.
            for name in (q, *aliases):
                for key in _corrected_keys(name):
                    found.update(self._name_block(False, key, year_of))
        if not found:
            # Still none: look again with one given syllable left out (a typo), bounded by the
            # year and MAX_TYPO_BLOCK.
            for name in (q, *aliases):
                for key in _query_typo_keys(name):
                    found.update(self._typo_block(key, year_of))
        for name in (q, *aliases):
            if birth is not None and birth.is_full:
                dates = [birth]
                if birth.day is not None and birth.month is not None and birth.day <= 12:
                    dates.append(PartialDate(birth.year, birth.day, birth.month))
                for date in dates:
                    for key in _surname_date_keys(name, date):
                        found.update(_block(self._by_surname_date, key)[:MAX_BLOCK])
        for number in record.all_card_numbers:
            found.update(_block(self._by_resident_id, number))
        for number in record.all_passports:
            found.update(_block(self._by_passport, number))
        return sorted(found)
