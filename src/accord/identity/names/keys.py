"""A parsed name: its surname and given-name readings in pinyin and its order-free keys.

A key is the name's pinyin syllables sorted and joined by spaces, so that ZHANG Wei, Wei Zhang,
Chang Wei, Cheung Wai and 张伟 share the key "wei zhang", and Xiaoming / Xiao Ming / Xiao-Ming
all give "ming xiao".
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

from accord.identity.names.normalise import han_part, latin_tokens, upper_tokens
from accord.identity.names.romanise import (
    Syllables,
    System,
    han_readings,
    is_chinese_token,
    split_han,
    token_readings,
)
from accord.identity.names.surnames import SURNAME_READINGS

MAX_KEYS = 24
KEYS_PER_SYSTEM = 12
MAX_READINGS = 24
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
    keys: frozenset[str]
    loose_keys: frozenset[str]  # with one token left out: for blocking only
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


LatinParse = tuple[tuple[Reading, ...], frozenset[str], frozenset[str], tuple[str, ...]]


def _latin_name(text: str) -> LatinParse:
    """Readings, keys, loose keys (one token left out) and non-Chinese tokens of a romanised
    name. Spellings that differ only in case or punctuation share one parse."""
    tokens = latin_tokens(text)
    return _latin_parse(tokens, upper_tokens(text) & frozenset(tokens))


@lru_cache(maxsize=300_000)
def _latin_parse(tokens: tuple[str, ...], capitals: frozenset[str]) -> LatinParse:
    chinese = [t for t in tokens if t not in ENGLISH_GIVEN_NAMES and is_chinese_token(t)]
    other = tuple(t for t in tokens if t not in chinese)
    if not chinese:
        # A wholly non-Chinese name still needs a key: its tokens, sorted.
        return (), frozenset({" ".join(sorted(other))} if other else ()), frozenset(), other
    keys: dict[str, int] = {}
    loose: dict[str, int] = {}
    readings: dict[tuple[Syllables, Syllables], int] = {}
    seen: list[list[TokenOptions]] = []
    for system in System:
        options = [token_readings(token, system) for token in chinese]
        if options in seen:
            continue  # a plain pinyin name reads the same in every system
        seen.append(options)
        _add_keys(keys, options)
        if len(chinese) >= 3:
            # One token may be an unknown Western name that spells pinyin: key without it.
            for i in range(len(chinese)):
                _add_keys(loose, options[:i] + options[i + 1 :], limit=1)
        _add_readings(readings, capitals, chinese, options)
    ranked = sorted(readings.items(), key=lambda kv: (kv[1], kv[0]))[:MAX_READINGS]
    return (
        tuple(Reading(s, g, cost) for (s, g), cost in ranked),
        _best(keys),
        _best(loose),
        other,
    )


def _best(keys: dict[str, int]) -> frozenset[str]:
    return frozenset(k for k, _ in sorted(keys.items(), key=lambda kv: (kv[1], kv[0]))[:MAX_KEYS])


TokenOptions = tuple[tuple[Syllables, int], ...]


def _add_keys(
    keys: dict[str, int], options: list[TokenOptions], limit: int = KEYS_PER_SYSTEM
) -> None:
    for combination in itertools.islice(itertools.product(*(o[:4] for o in options)), limit):
        key = order_free_key(tuple(s for syllables, _ in combination for s in syllables))
        cost = sum(c for _, c in combination)
        keys[key] = min(cost, keys.get(key, cost))


def _add_readings(
    readings: dict[tuple[Syllables, Syllables], int],
    capitals: frozenset[str],
    chinese: list[str],
    options: list[TokenOptions],
) -> None:
    """Readings with the surname first or last (ZHANG Wei, Wei Zhang), or the tokens written in
    capitals, or a compound surname split in two (Au Yeung, Ou Yang)."""
    n = len(chinese)
    positions: list[tuple[int, int]] = []  # surname tokens [start, end)
    marked = [i for i, token in enumerate(chinese) if token in capitals]
    if marked and marked == list(range(marked[0], marked[-1] + 1)):
        positions.append((marked[0], marked[-1] + 1))
    else:
        positions.append((0, 1))
        if n >= 2:
            positions.append((n - 1, n))
        if n >= 3:
            positions += [(0, 2), (n - 2, n)]
    for start, end in positions:
        given_options = options[:start] + options[end:]
        givens = [
            (tuple(s for syllables, _ in combo for s in syllables), sum(c for _, c in combo))
            for combo in itertools.islice(itertools.product(*(o[:3] for o in given_options)), 8)
        ]
        for surname_combo in itertools.product(*(o[:4] for o in options[start:end])):
            surname = tuple(s for syllables, _ in surname_combo for s in syllables)
            known = " ".join(surname) in SURNAME_READINGS
            if end - start == 2 and not known:
                continue  # two tokens are a surname only if they make a compound one
            cost = sum(c for _, c in surname_combo) + (0 if known else UNKNOWN_SURNAME_COST)
            for given, given_cost in givens:
                total = cost + given_cost
                if total < readings.get((surname, given), total + 1):
                    readings[(surname, given)] = total


@lru_cache(maxsize=500_000)
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
            keys |= latin_keys
            loose |= latin_loose
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
        keys=frozenset(keys),
        loose_keys=frozenset(loose - keys),
        other=other,
    )
