"""Text normalisation before any comparison: NFKC, case, punctuation, traditional → simplified."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

_T2S = opencc.OpenCC("t2s")

# CJK Unified Ideographs and Extension A: the characters Chinese names are written in.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_TOKEN = re.compile(r"[a-z]+")
# Interpuncts join parts of transcribed foreign names (约翰·史密斯); they separate like spaces.
_SEPARATORS = re.compile(r"[\s\-‐‑–—_.,;:/'’`·・•()\[\]\"]+")
# Wade-Giles marks aspiration with an apostrophe after the initial (Ch'en, T'ang, Tz'u); there it
# is part of the syllable, also inside a joined name (Hsiaoch'ing, Ssut'u: no pinyin syllable
# ends in ch, s, z, k, p or t). Elsewhere (Xi'an, Chang'an) an apostrophe separates syllables.
_ASPIRATION = re.compile(r"(ch|ts|tz|k|p|t)['’`](?=[a-z])", re.IGNORECASE)


def is_han(char: str) -> bool:
    return bool(_HAN.fullmatch(char))


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


@lru_cache(maxsize=65536)
def to_simplified(text: str) -> str:
    """Traditional (and variant) characters as simplified ones; other text is left alone."""
    return _T2S.convert(text) if has_han(text) else text


def han_part(text: str) -> str:
    """The Han characters of a name, simplified, without spaces or interpuncts (张 伟 → 张伟)."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(c for c in to_simplified(folded) if is_han(c))


@lru_cache(maxsize=65536)
def latin_tokens(text: str) -> tuple[str, ...]:
    """Lower-case ASCII tokens of a romanised name: accents dropped, ü kept as `v` (the pinyin
    keyboard convention), hyphens, apostrophes and other punctuation treated as separators."""
    folded = _ASPIRATION.sub(r"\1", unicodedata.normalize("NFKC", text).casefold())
    # ü (and its decomposed form) must survive accent stripping: Lü is not Lu in pinyin.
    folded = folded.replace("ü", "v").replace("u\u0308", "v")
    stripped = "".join(
        c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c)
    )
    return tuple(
        token for part in _SEPARATORS.split(stripped) for token in _LATIN_TOKEN.findall(part)
    )


def upper_tokens(text: str) -> frozenset[str]:
    """Tokens written wholly in capitals in a mixed-case name (ZHANG Wei): by convention the
    surname. Empty when the whole name is in one case."""
    words = [w for w in _SEPARATORS.split(unicodedata.normalize("NFKC", text)) if w.isascii()]
    words = [w for w in words if w.isalpha()]
    capitals = [w for w in words if w.isupper() and len(w) > 1]
    if not capitals or len(capitals) == len(words):
        return frozenset()
    return frozenset(token for w in capitals for token in latin_tokens(w))
