"""Cantonese syllables as the Hong Kong Government romanises them (the spelling of HKID names,
streets and places), from the maintained `cantonese-romanisation` data of every character, mapped
systematically to the pinyin of the same characters: each spelling stands for the pinyin
syllables of the characters it spells, the likeliest first."""

from __future__ import annotations

import json
import pkgutil
from functools import lru_cache

from accord.identity.names.spellings import pinyin_of_spellings, surname_spellings
from accord.identity.names.surnames import SINGLE


@lru_cache(maxsize=1)
def cantonese_spellings() -> dict[str, list[str]]:
    """Each character (traditional) and its Hong Kong Government spellings (張: cheung, jeung)."""
    raw = pkgutil.get_data("cantoroman", "data/charToRoman.json")
    if raw is None:  # pragma: no cover - the package is a declared dependency
        return {}
    data: dict[str, list[str]] = json.loads(raw)
    return data


@lru_cache(maxsize=1)
def cantonese_syllables() -> dict[str, tuple[str, ...]]:
    """Each Hong Kong Government spelling (wai, siu, kwok …) and the pinyin syllables it
    stands for, ranked by how many everyday characters carry both (weighted by whether the
    pinyin is the character's usual reading)."""
    return pinyin_of_spellings(cantonese_spellings())


@lru_cache(maxsize=1)
def cantonese_surnames() -> dict[str, tuple[str, ...]]:
    """Each Hong Kong Government spelling of a surname character and the surnames it spells
    (張 Cheung, Jeung: zhang; 鄧 Tang, Dang: deng), the more frequent surname first."""
    return surname_spellings(cantonese_spellings(), SINGLE)
