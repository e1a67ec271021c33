"""A parsed name: its surname and given-name readings in pinyin and its order-free keys.

A key is the name's pinyin syllables sorted and joined by spaces, so that ZHANG Wei, Wei Zhang,
Chang Wei, Cheung Wai and 张伟 share the key "wei zhang", and Xiaoming / Xiao Ming / Xiao-Ming
all give "ming xiao".
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from sys import intern

from accord.identity.names.normalise import han_part, latin_tokens, upper_tokens
from accord.identity.names.romanise import (
    Syllables,
    System,
    han_readings,
    is_chinese_token,
    marks,
    split_han,
    token_readings,
)
from accord.identity.names.surnames import SURNAME_READINGS

MAX_KEYS = 24
KEYS_PER_SYSTEM = 12
MAX_READINGS = 24
# Readings of the given-name tokens kept per surname position, the cheapest first. Nine (every
# pair of two tokens' three likeliest syllables) cost 6 % more CPU on the census-like benchmark
# set and found no more matches.
GIVEN_READINGS = 8
# A token that is not a known surname reading may still be one, at this extra cost.
UNKNOWN_SURNAME_COST = 3

# Western given names that also happen to split into pinyin syllables (Alan = a lan, Tina = ti na)
# or commonly accompany a Chinese name; they are kept aside, never read as pinyin.
ENGLISH_GIVEN_NAMES = frozenset(
    {
        "aaron",
        "adam",
        "alan",
        "albert",
        "alex",
        "alexander",
        "alice",
        "amanda",
        "amy",
        "andrew",
        "andy",
        "angela",
        "angel",
        "ann",
        "anna",
        "annie",
        "anthony",
        "ben",
        "benjamin",
        "bill",
        "bob",
        "brian",
        "bruce",
        "carol",
        "catherine",
        "charles",
        "charlie",
        "chris",
        "christina",
        "christine",
        "christopher",
        "cindy",
        "daniel",
        "david",
        "dennis",
        "diana",
        "eddie",
        "edmund",
        "edward",
        "elaine",
        "eric",
        "frank",
        "gary",
        "george",
        "grace",
        "helen",
        "henry",
        "irene",
        "ivan",
        "jack",
        "jackie",
        "james",
        "jane",
        "janet",
        "jason",
        "jeffrey",
        "jennifer",
        "jenny",
        "jerry",
        "jessica",
        "jimmy",
        "joan",
        "joe",
        "john",
        "johnny",
        "joseph",
        "joyce",
        "judy",
        "julia",
        "karen",
        "kate",
        "katherine",
        "kelly",
        "ken",
        "kenneth",
        "kevin",
        "lily",
        "linda",
        "lisa",
        "louis",
        "lucy",
        "maggie",
        "mandy",
        "maria",
        "mark",
        "mary",
        "matthew",
        "michael",
        "michelle",
        "mike",
        "nancy",
        "nicholas",
        "nina",
        "oscar",
        "patrick",
        "paul",
        "peter",
        "philip",
        "rachel",
        "raymond",
        "richard",
        "robert",
        "ronald",
        "rose",
        "ryan",
        "sam",
        "samuel",
        "sandy",
        "sarah",
        "simon",
        "sophia",
        "stanley",
        "stephen",
        "steven",
        "susan",
        "terry",
        "thomas",
        "tina",
        "tom",
        "tommy",
        "tony",
        "victor",
        "vincent",
        "vivian",
        "wendy",
        "william",
        "winnie",
        "yvonne",
    }
)


@dataclass(frozen=True, slots=True)
class Reading:
    surname: Syllables
    given: Syllables
    cost: int


@dataclass(frozen=True, slots=True)
class ParsedName:
    """Everything name comparison and blocking need, computed once per distinct name."""

    text: str
    han: str  # simplified Hanzi, "" when the name has none
    han_surname: str
    han_given: str
    readings: tuple[Reading, ...]  # cheapest first
    # Sorted tuples of distinct interned strings, not frozensets: a frozenset of ten keys costs
    # about 730 bytes, the tuple 140, and a watchlist holds one pair per distinct name.
    keys: tuple[str, ...]
    loose_keys: tuple[str, ...]  # with one token left out: for blocking only
    other: tuple[str, ...]  # tokens that are not Chinese (English given names)

    @property
    def surnames(self) -> frozenset[str]:
        return frozenset(" ".join(r.surname) for r in self.readings if r.surname)

    @property
    def givens(self) -> frozenset[str]:
        return frozenset("".join(r.given) for r in self.readings if r.given)

    @property
    def primary(self) -> Reading | None:
        return self.readings[0] if self.readings else None


def order_free_key(syllables: Syllables) -> str:
    return " ".join(sorted(syllables))


def _han_name(han: str) -> tuple[list[Reading], set[str]]:
    readings = [Reading(s, g, 0) for s, g in han_readings(han)]
    return readings, {order_free_key(r.surname + r.given) for r in readings}


LatinParse = tuple[tuple[Reading, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def _latin_name(text: str) -> LatinParse:
    """Readings, keys, loose keys (one token left out) and non-Chinese tokens of a romanised
    name. Spellings that differ only in case or punctuation share one parse."""
    tokens = latin_tokens(text)
    return _latin_parse(tokens, upper_tokens(text) & frozenset(tokens))


@lru_cache(maxsize=65_536)
def _latin_parse(tokens: tuple[str, ...], capitals: frozenset[str]) -> LatinParse:
    chinese = tuple(t for t in tokens if t not in ENGLISH_GIVEN_NAMES and is_chinese_token(t))
    other = tuple(t for t in tokens if t not in chinese)
    if not chinese:
        # A wholly non-Chinese name still needs a key: its tokens, sorted.
        return (), (intern(" ".join(sorted(other))),) if other else (), (), other
    keys: dict[str, int] = {}
    loose: dict[str, int] = {}
    readings: dict[tuple[Syllables, Syllables], int] = {}
    seen: list[System] = []
    for system in System:
        if any(all(_no_cheaper(t, system, earlier) for t in chinese) for earlier in seen):
            # A plain pinyin name reads the same in every system (at a fallback cost elsewhere):
            # the other systems would only repeat its readings at a higher cost.
            continue
        if system == System.HOKKIEN and System.SOUTHERN in seen and _cantonese(chinese):
            # every token is spelt as Cantonese spells it (Cheung Kwok Wing): a Hokkien reading
            # too would mostly add keys, and namesakes
            continue
        seen.append(system)
        _add_keys(keys, _keys_of(_product(chinese, system, 4, KEYS_PER_SYSTEM, by_cost=False)))
        if len(chinese) >= 3:
            # One token may be an unknown Western name that spells pinyin: key without it.
            for i in range(len(chinese)):
                _add_keys(loose, _key_combinations(chinese[:i] + chinese[i + 1 :], system, 1))
        _add_readings(readings, capitals, chinese, system)
    ranked = sorted(readings.items(), key=lambda kv: (kv[1], kv[0]))[:MAX_READINGS]
    return (
        tuple(Reading(s, g, cost) for (s, g), cost in ranked),
        _best(keys),
        _best(loose),
        other,
    )


def _cantonese(tokens: tuple[str, ...]) -> bool:
    """Whether every token is spelt as Cantonese spells and pinyin does not."""
    return all(marks(t, System.SOUTHERN) for t in tokens)


@lru_cache(maxsize=100_000)
def _no_cheaper(token: str, system: System, earlier: System) -> bool:
    """Whether `system` reads the token as `earlier` does, no reading more cheaply, by the
    spellings that mark a system only: a spelling a system shares with pinyin (Dang, Ga) does
    not make a pinyin name Cantonese."""
    mine = token_readings(token, system, wide=False)
    theirs = token_readings(token, earlier, wide=False)
    if mine is theirs:
        return True
    if len(mine) != len(theirs):
        return False
    for (syllables, cost), (their_syllables, their_cost) in zip(mine, theirs, strict=True):
        if syllables != their_syllables or cost < their_cost:
            return False
    return True


def _best(keys: dict[str, int]) -> tuple[str, ...]:
    ranked = sorted(keys.items(), key=lambda kv: (kv[1], kv[0]))[:MAX_KEYS]
    return tuple(intern(k) for k, _ in ranked)


Combinations = tuple[tuple[Syllables, int], ...]


def _product(
    tokens: tuple[str, ...], system: System, per_token: int, limit: int, *, by_cost: bool = True
) -> Combinations:
    """The `limit` cheapest ways to read the tokens in turn in `system` (each token's
    `per_token` likeliest readings), as their syllables end to end with the summed cost; or,
    not `by_cost`, the first `limit` in order (a whole name's blocking keys: ranking those by
    cost too gave no more matches at 1,000,000 records and held 111 MB more keys)."""
    options = [token_readings(token, system)[:per_token] for token in tokens]
    combinations: Iterable[tuple[tuple[Syllables, int], ...]] = itertools.product(*options)
    if not by_cost:
        combinations = itertools.islice(combinations, limit)
    elif math.prod(len(o) for o in options) > limit:
        # Cut by cost, not by position: in order, the first token's likeliest reading would
        # come with every reading of the others before its second reading is tried. The costs
        # are summed and ranked in C; a stable sort keeps ties in order.
        every = list(combinations)
        costs = list(map(sum, itertools.product(*([cost for _, cost in o] for o in options))))
        combinations = [every[i] for i in sorted(range(len(every)), key=costs.__getitem__)[:limit]]
    found = []
    for combination in combinations:
        syllables: list[str] = []
        cost = 0
        for part, part_cost in combination:
            syllables += part
            cost += part_cost
        found.append((tuple(syllables), cost))
    return tuple(found)


# Parts of names (a surname token, the given-name tokens, all tokens but one) recur from name
# to name: their combinations are cached, by the tokens (whose hashes Python keeps), not by
# their readings (nested tuples, hashed again at every look-up). A whole name's tokens seldom
# recur: its combinations are not cached, so that they do not push the parts out.
_combinations = lru_cache(maxsize=100_000)(_product)


def _keys_of(combinations: Combinations) -> tuple[tuple[str, int], ...]:
    return tuple((intern(order_free_key(syllables)), cost) for syllables, cost in combinations)


@lru_cache(maxsize=100_000)
def _key_combinations(
    tokens: tuple[str, ...], system: System, limit: int
) -> tuple[tuple[str, int], ...]:
    return _keys_of(_combinations(tokens, system, 4, limit))


def _add_keys(keys: dict[str, int], found: tuple[tuple[str, int], ...]) -> None:
    for key, cost in found:
        if cost < keys.get(key, cost + 1):
            keys[key] = cost


def _add_readings(
    readings: dict[tuple[Syllables, Syllables], int],
    capitals: frozenset[str],
    chinese: tuple[str, ...],
    system: System,
) -> None:
    """Readings with the surname first or last (ZHANG Wei, Wei Zhang), or the tokens written in
    capitals, or a compound surname split in two (Au Yeung, Ou Yang)."""
    n = len(chinese)
    positions: list[tuple[int, int]] = []  # surname tokens [start, end)
    # A token in capitals marks the surname where it first appears: in LAM Lam Yeung the
    # second Lam is a given name spelt like the surname.
    marked = sorted({chinese.index(token) for token in capitals if token in chinese})
    by_capitals = bool(marked) and marked == list(range(marked[0], marked[-1] + 1))
    if by_capitals:
        positions.append((marked[0], marked[-1] + 1))
    positions.append((0, 1))
    if n >= 2:
        positions.append((n - 1, n))
    if n >= 3:
        positions += [(0, 2), (n - 2, n)]
    readings_from_capitals = False
    for number, (start, end) in enumerate(positions):
        if number and by_capitals and readings_from_capitals:
            break  # the capitals gave a surname; other positions only when they give none
        surnames = []
        for surname, surname_cost in _combinations(chinese[start:end], system, 4, 64):
            known = " ".join(surname) in SURNAME_READINGS
            if end - start == 2 and not known:
                continue  # two tokens are a surname only if they make a compound one
            surnames.append((surname, surname_cost + (0 if known else UNKNOWN_SURNAME_COST)))
        if not surnames:
            continue
        givens = _combinations(chinese[:start] + chinese[end:], system, 3, GIVEN_READINGS)
        readings_from_capitals = number == 0
        for surname, cost in surnames:
            for given, given_cost in givens:
                total = cost + given_cost
                if total < readings.get((surname, given), total + 1):
                    readings[(surname, given)] = total


def parse_name(name: str, native: str = "") -> ParsedName:
    """Parse a person's name as given (any script) with its native-script form if there is one.
    Readings of both forms are pooled: a record's Latin and Hanzi names describe one person."""
    han = han_part(native) or han_part(name)
    readings: list[Reading] = []
    keys: set[str] = set()
    loose: set[str] = set()
    other: tuple[str, ...] = ()
    if han:
        han_list, han_keys = _han_name(han)
        readings += han_list
        keys |= han_keys
    for text in (name, native):
        if text and any(c.isascii() and c.isalpha() for c in text):
            latin_list, latin_keys, latin_loose, latin_other = _latin_name(text)
            # With Hanzi present, the Latin spelling adds keys but the Hanzi readings lead.
            readings += latin_list
            keys.update(latin_keys)
            loose.update(latin_loose)
            other = other or latin_other
    han_surname, han_given = ("", "")
    if han:
        han_surname, han_given = split_han(han)
    unique: dict[tuple[Syllables, Syllables], Reading] = {}
    for reading in sorted(readings, key=lambda r: r.cost):
        unique.setdefault((reading.surname, reading.given), reading)
    return ParsedName(
        text=name,
        han=han,
        han_surname=han_surname,
        han_given=han_given,
        readings=tuple(list(unique.values())[:MAX_READINGS]),
        keys=tuple(sorted(intern(k) for k in keys)),
        loose_keys=tuple(sorted(intern(k) for k in loose - keys)),
        other=other,
    )
