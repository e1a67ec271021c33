"""Hokkien readings of characters from the maintained `taibun` data (Taiwanese Hokkien, every
reading of 4,600 characters in Tâi-lô), written without tones and diacritics as passports and
registers write them: in Tâi-lô (Tsua), in Pe̍h-ōe-jī (Chhoa), and with the habits of the
Singapore, Malaysia and Philippines registers (aspiration and nasal marks dropped: Chua; a long
vowel written with h or doubled: Goh, Lee, Khoo), each mapped to the pinyin of the characters."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from taibun import taibun  # type: ignore[import-untyped]

from accord.identity.names.spellings import pinyin_of_spellings, surname_spellings
from accord.identity.names.surnames import SINGLE

_LETTERS = re.compile(r"[a-z]+")
# Pe̍h-ōe-jī from Tâi-lô, as taibun converts (its own table: ts → ch, ua → oa, ing → eng …).
_POJ = taibun.Converter.SYSTEM_CONFIGS["poj"]["convert"]
_ASPIRATED = re.compile(r"^(chh|tsh|ph|th|kh)")


def _plain(reading: str) -> str:
    """A Tâi-lô reading without tone marks (and other diacritics), in lower case."""
    decomposed = unicodedata.normalize("NFD", reading.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _poj(tailo: str) -> str:
    """The Pe̍h-ōe-jī spelling of a toneless Tâi-lô syllable, nasal mark (ⁿ) and the dot of o͘
    dropped (tshua → chhoa, tsing → cheng, too → to)."""
    spelt = tailo
    for old, new in _POJ.items():
        spelt = spelt.replace(old, new)
    spelt = spelt.replace("ⁿ", "")
    return "".join(c for c in unicodedata.normalize("NFD", spelt) if not unicodedata.combining(c))


def written_forms(tailo: str) -> set[str]:
    """How a toneless Tâi-lô syllable is written in names: Tâi-lô, POJ and the two mixed (ch
    with Tâi-lô's finals: chhua), then each with the
    register habits: aspiration unmarked (chh → ch, kh → k), nasality unmarked (tiunn → tiu),
    a final open vowel with h (go → goh), final i or e as ee (li → lee, te → tee), a lone u as
    oo (khu → khoo), iu as ew (chiu → chew), io as eo (tio → teo), an initial i as y and an
    initial u as w (iong → yong, ui → wee), a final au as ow (kau → kow), un as oon (bun →
    boon), k as ck (hok → hock): English spelling habits of the registers."""
    # Singapore and Malaysia write POJ's ch with Tâi-lô's finals as often as not (Chua, Chuah)
    forms = {tailo, _poj(tailo), tailo.replace("ts", "ch")}
    forms |= {f[:-2] for f in forms if f.endswith("nn") and len(f) > 3 and f[-3] != "n"}
    forms |= {_ASPIRATED.sub(lambda m: m.group(1)[:-1], f) for f in forms}
    more: set[str] = set()
    for f in forms:
        if f[-1] in "aeiou":
            more.add(f + "h")
        if f[-1] in "ie" and f[-2:] not in ("ee", "ie"):
            more.add(f[:-1] + "ee")
        if re.fullmatch(r"[^aeiou]*u", f):
            more.add(f + "o" if f.endswith("o") else f[:-1] + "oo")
        if f.endswith("iu"):
            more.add(f[:-2] + "ew")
        if "io" in f:
            more.add(f.replace("io", "eo"))
        if f.startswith("i") and len(f) > 1:
            more.add("y" + f[1:])
        if f.startswith("u") and len(f) > 1:
            more.add("w" + f[1:])
        if f in ("ui", "oi"):
            more |= {"wee", "ooi", "oei"}
        if f.endswith("au"):
            more.add(f[:-2] + "ow")
        if f.endswith("un"):
            more.add(f[:-2] + "oon")
        if f.endswith("k"):
            more.add(f[:-1] + "ck")
    return {f for f in forms | more if f.isascii() and f.isalpha()}


@lru_cache(maxsize=1)
def hokkien_spellings() -> dict[str, frozenset[str]]:
    """Each character of the taibun data (traditional) and its Hokkien spellings as written."""
    found: dict[str, frozenset[str]] = {}
    for character, readings in taibun.prons_dict.items():
        spelt: set[str] = set()
        # "hí/hú": the southern (Zhangzhou) and northern (Quanzhou) readings
        for reading in (r for rs in readings for r in rs.split("/")):
            for syllable in _LETTERS.findall(_plain(reading)):
                spelt |= written_forms(syllable)
        if spelt:
            found[character] = frozenset(spelt)
    return found


@lru_cache(maxsize=1)
def hokkien_syllables() -> dict[str, tuple[str, ...]]:
    """Each Hokkien spelling (lim, tshua, chua, beng …) and the pinyin syllables it stands for,
    the likeliest first."""
    return pinyin_of_spellings(hokkien_spellings())


@lru_cache(maxsize=1)
def hokkien_surnames() -> dict[str, tuple[str, ...]]:
    """Each Hokkien spelling of a surname character and the surnames it spells (陳 Tan, Tin:
    chen; 黃 Ng, Ong, Wee: huang), the more frequent surname first."""
    return surname_spellings(hokkien_spellings(), SINGLE)
