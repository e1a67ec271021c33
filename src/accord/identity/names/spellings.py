"""Spellings of characters in a romanisation (Cantonese, Hokkien) mapped to the pinyin of the same
characters: each spelling stands for the pinyin syllables of the characters it spells, ranked."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

import opencc
from pypinyin import Style, pinyin

# Spellings of each syllable kept, the likeliest first.
READINGS_PER_SPELLING = 4
# A character's first pypinyin reading is its usual one; the others weigh this much.
OTHER_READING_WEIGHT = 0.3


def common(character: str) -> bool:
    """A character of GB 2312 level 1 (the 3,755 characters in everyday use): the characters
    names are written with. Level 2 and beyond would let rare characters decide the ranking."""
    try:
        encoded = character.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(encoded) == 2 and 0xB0 <= encoded[0] <= 0xD7


def simplified(characters: list[str]) -> list[str]:
    """Each (traditional or simplified) character as its simplified form, in one conversion
    (one call per character costs a second over the whole of a romanisation's data)."""
    converter = opencc.OpenCC("t2s")
    joined = converter.convert("".join(characters))
    if len(joined) == len(characters):
        return list(joined)
    return [converter.convert(c)[:1] for c in characters]  # pragma: no cover - t2s is 1:1


def pinyin_of_spellings(
    spellings: Mapping[str, Iterable[str]], *, per_spelling: int = READINGS_PER_SPELLING
) -> dict[str, tuple[str, ...]]:
    """From each character's spellings in a romanisation (traditional or simplified
    characters), each spelling and the pinyin syllables it stands for, ranked by how many
    everyday characters carry both (weighted by whether the pinyin is the character's usual
    reading)."""
    characters = sorted(c for c in spellings if len(c) == 1)
    weights: dict[str, Counter[str]] = defaultdict(Counter)
    for character, plain in zip(characters, simplified(characters), strict=True):
        if not common(plain):
            continue
        readings = pinyin(plain, style=Style.NORMAL, heteronym=True)[0]
        for spelling in sorted(set(spellings[character])):
            for rank, reading in enumerate(dict.fromkeys(readings)):
                if reading.isascii() and reading.isalpha():
                    weight = 1.0 if rank == 0 else OTHER_READING_WEIGHT
                    weights[spelling][reading] += weight  # type: ignore[assignment]
    return {
        spelling: tuple(r for r, _ in sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))[
            :per_spelling
        ]
        for spelling, found in sorted(weights.items())
    }


def surname_spellings(
    spellings: Mapping[str, Iterable[str]], surnames: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """Each spelling of a surname character (`surnames`: simplified character → its pinyin
    readings as a surname, most frequent surname first) and the surnames it spells, in the
    order of `surnames` (a frequency ranking): 陳 Tan → chen."""
    by_simplified: dict[str, set[str]] = defaultdict(set)
    characters = sorted(c for c in spellings if len(c) == 1)
    for character, plain in zip(characters, simplified(characters), strict=True):
        if plain in surnames:
            by_simplified[plain].update(spellings[character])
    found: dict[str, list[str]] = {}
    for character, readings in surnames.items():
        for spelling in sorted(by_simplified.get(character, ())):
            listed = found.setdefault(spelling, [])
            listed += [r for r in readings if r not in listed]
    return {spelling: tuple(readings) for spelling, readings in sorted(found.items())}
