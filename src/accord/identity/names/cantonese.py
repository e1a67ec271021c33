"""Cantonese syllables as the Hong Kong Government romanises them (the spelling of HKID names,
streets and places), from the maintained `cantonese-romanisation` data of every character, mapped
systematically to the pinyin of the same characters: each spelling stands for the pinyin
syllables of the characters it spells, the likeliest first."""

from __future__ import annotations

import json
import pkgutil
from collections import Counter, defaultdict
from functools import lru_cache

import opencc
from pypinyin import Style, pinyin

# Spellings of each syllable kept, the likeliest first (as many as the hand table held at most).
READINGS_PER_SPELLING = 4
# A character's first pypinyin reading is its usual one; the others weigh this much.
OTHER_READING_WEIGHT = 0.3


def _common(character: str) -> bool:
    """A character of GB 2312 level 1 (the 3,755 characters in everyday use): the characters
    names are written with. Level 2 and beyond would let rare characters decide the ranking."""
    try:
        encoded = character.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(encoded) == 2 and 0xB0 <= encoded[0] <= 0xD7


@lru_cache(maxsize=1)
def cantonese_syllables() -> dict[str, tuple[str, ...]]:
    """Each Hong Kong Government spelling (wai, siu, kwok …) and the pinyin syllables it
    stands for, ranked by how many everyday characters carry both (weighted by whether the
    pinyin is the character's usual reading)."""
    raw = pkgutil.get_data("cantoroman", "data/charToRoman.json")
    if raw is None:  # pragma: no cover - the package is a declared dependency
        return {}
    data: dict[str, list[str]] = json.loads(raw)
    characters = sorted(c for c in data if len(c) == 1)
    # one conversion of every character at once (one call per character costs a second)
    simplified = opencc.OpenCC("t2s").convert("".join(characters))
    if len(simplified) != len(characters):  # pragma: no cover - t2s maps one to one
        simplified = "".join(opencc.OpenCC("t2s").convert(c)[:1] for c in characters)
    weights: dict[str, Counter[str]] = defaultdict(Counter)
    for character, plain in zip(characters, simplified, strict=True):
        if not _common(plain):
            continue
        readings = pinyin(plain, style=Style.NORMAL, heteronym=True)[0]
        for spelling in sorted(set(data[character])):
            for rank, reading in enumerate(dict.fromkeys(readings)):
                if reading.isascii() and reading.isalpha():
                    weight = 1.0 if rank == 0 else OTHER_READING_WEIGHT
                    weights[spelling][reading] += weight  # type: ignore[assignment]
    return {
        spelling: tuple(r for r, _ in sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))[
            :READINGS_PER_SPELLING
        ]
        for spelling, found in sorted(weights.items())
    }
