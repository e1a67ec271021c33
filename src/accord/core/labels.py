"""English and Chinese labels for enumerations, declared beside each enumeration."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

Lang = Literal["en", "zh"]

_LABELS: dict[tuple[type[StrEnum], str], tuple[str, str]] = {}
"""Keyed by enumeration and value: members of different enumerations with the same value
(`other`) are equal as strings, so the member alone would not tell them apart."""


def register_labels(labels: dict[StrEnum, tuple[str, str]]) -> None:
    """Attach (English, Chinese) labels; every member of each enumeration must have one.

    Members of different enumerations that share a value collide as keys of one dict literal:
    register such enumerations in separate calls (the completeness check below catches it)."""
    keyed = {(type(member), member.value): texts for member, texts in labels.items()}
    for member in labels:
        missing = [m for m in type(member) if (type(member), m.value) not in keyed]
        if missing:
            raise ValueError(f"{type(member).__name__} has no labels for {missing}")
    _LABELS.update(keyed)


def label(member: StrEnum, lang: Lang = "en") -> str:
    en, zh = _LABELS[(type(member), member.value)]
    return en if lang == "en" else zh
