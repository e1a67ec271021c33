"""English and Chinese labels for enumerations, declared beside each enumeration."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

Lang = Literal["en", "zh"]

_LABELS: dict[StrEnum, tuple[str, str]] = {}


def register_labels(labels: dict[StrEnum, tuple[str, str]]) -> None:
    """Attach (English, Chinese) labels; every member of each enumeration must have one."""
    for member in labels:
        missing = [m for m in type(member) if m not in labels]
        if missing:
            raise ValueError(f"{type(member).__name__} has no labels for {missing}")
    _LABELS.update(labels)


def label(member: StrEnum, lang: Lang = "en") -> str:
    en, zh = _LABELS[member]
    return en if lang == "en" else zh
