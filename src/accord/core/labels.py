"""English and Chinese labels: the language choice, and enumerations whose members carry both."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, Self

Lang = Literal["en", "zh"]


def pick(lang: Lang, en: str, zh: str) -> str:
    """The text in `lang`, of the two given: the one place English or Chinese is chosen."""
    return en if lang == "en" else zh


class Labelled(StrEnum):
    """A StrEnum whose members are declared with their value and two labels:
    `REFUSED = "refused", "Refused", "已拒绝"`. The member is still its value (`== "refused"`,
    in JSON and in Pydantic); a member without both labels is refused when the class is made."""

    en: str
    zh: str

    def __new__(cls, value: str, *labels: str) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        # Checked in __init_subclass__, where the class name and the member names are known.
        member.en, member.zh = labels if len(labels) == 2 else ("", "")
        return member

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        unlabelled = [m.name for m in cls if not (m.en and m.zh)]
        if unlabelled:
            raise TypeError(
                f"{cls.__name__}: give {', '.join(unlabelled)} an English and a Chinese label,"
                ' declared as NAME = "value", "English", "中文"'
            )


def label(member: StrEnum, lang: Lang = "en") -> str:
    """The label of a member in `lang`; KeyError for a member of an enumeration without labels."""
    if not isinstance(member, Labelled):
        raise KeyError(f"{type(member).__name__} is not a Labelled enumeration")
    return pick(lang, member.en, member.zh)
