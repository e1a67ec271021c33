"""Enumerations carry both labels; the canonical encoding is stable and Unicode-exact."""

from __future__ import annotations

from enum import StrEnum

import pytest

from accord.cases import enums
from accord.core.canonical import canonical_bytes
from accord.core.labels import label, register_labels

ENUMS = [
    enums.Side,
    enums.Area,
    enums.Priority,
    enums.HandlingCode,
    enums.RefusalGround,
    enums.MlaAssistance,
]


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_every_member_has_an_english_and_a_chinese_label(enum: type[StrEnum]) -> None:
    for member in enum:
        assert label(member, "en") and label(member, "zh")
        assert label(member, "en") != label(member, "zh")


def test_an_enumeration_with_a_missing_label_is_refused() -> None:
    class Colour(StrEnum):
        RED = "red"
        BLUE = "blue"

    with pytest.raises(ValueError, match="no labels for"):
        register_labels({Colour.RED: ("Red", "红")})


def test_canonical_bytes_sort_keys_and_keep_chinese_as_utf8() -> None:
    assert canonical_bytes({"b": 1, "a": "张伟"}) == '{"a":"张伟","b":1}'.encode()
    with pytest.raises(ValueError):
        canonical_bytes({"x": float("nan")})


def test_members_with_the_same_value_in_two_enumerations_keep_their_own_labels() -> None:
    assert label(enums.RefusalGround.OTHER) == "Other ground (stated)"
    assert label(enums.AssetKind.OTHER) == "Other"
    assert label(enums.CyberActivity.OTHER, "zh") == "其他"
