"""Enumerations carry both labels; the canonical encoding is stable and Unicode-exact."""

from __future__ import annotations

import json
from enum import StrEnum

import pytest
from pydantic import BaseModel

from accord.cases import enums
from accord.core import permissions
from accord.core.canonical import canonical_bytes
from accord.core.labels import Labelled, label, pick
from accord.cyber import stix
from accord.cyber.matching import index, readers
from accord.identity import integration

DECLARING = (enums, permissions, stix, index, readers, integration)


def _labelled() -> list[type[Labelled]]:
    """Every Labelled enumeration loaded: at least those of the modules above."""
    found: list[type[Labelled]] = []
    pending = list(Labelled.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda cls: cls.__qualname__)


LABELLED = _labelled()


def test_every_enumeration_of_the_declaring_modules_is_labelled() -> None:
    declared = {
        value
        for module in DECLARING
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, StrEnum)
        and value.__module__ == module.__name__
    }
    # Permissions are checked, never shown: they carry no label.
    assert declared - {permissions.Permission} <= set(LABELLED)


@pytest.mark.parametrize("enum", LABELLED, ids=lambda e: e.__name__)
def test_every_member_has_an_english_and_a_chinese_label(enum: type[Labelled]) -> None:
    for member in enum:
        assert label(member, "en") and label(member, "zh")
        assert label(member, "en") != label(member, "zh")


def test_an_enumeration_with_a_missing_label_is_refused_when_it_is_declared() -> None:
    with pytest.raises(TypeError, match="BLUE, GREEN an English and a Chinese label"):

        class Colour(Labelled):
            RED = "red", "Red", "红"
            BLUE = "blue"
            GREEN = "green", "Green"


def test_a_labelled_member_is_its_value() -> None:
    class Filed(BaseModel):
        area: enums.Area

    assert enums.Area.FUGITIVES == "fugitives"
    assert enums.Area("fugitives") is enums.Area.FUGITIVES
    assert Filed.model_validate({"area": "fugitives"}).area is enums.Area.FUGITIVES
    assert Filed(area=enums.Area.FUGITIVES).model_dump_json() == '{"area":"fugitives"}'
    assert json.dumps([enums.Area.FUGITIVES]) == '["fugitives"]'


def test_members_with_the_same_value_in_two_enumerations_keep_their_own_labels() -> None:
    assert enums.RefusalGround.OTHER == enums.AssetKind.OTHER == enums.CyberActivity.OTHER
    assert label(enums.RefusalGround.OTHER) == "Other ground (stated)"
    assert label(enums.AssetKind.OTHER) == "Other"
    assert label(enums.CyberActivity.OTHER, "zh") == "其他"
    assert label(enums.RefusalGround.OTHER, "zh") == "其他理由（已说明）"


def test_an_enumeration_without_labels_has_no_label() -> None:
    class Plain(StrEnum):
        ONE = "one"

    with pytest.raises(KeyError):
        label(Plain.ONE)


def test_pick_chooses_the_text_of_the_language() -> None:
    assert pick("en", "Round", "轮次") == "Round"
    assert pick("zh", "Round", "轮次") == "轮次"


def test_canonical_bytes_sort_keys_and_keep_chinese_as_utf8() -> None:
    assert canonical_bytes({"b": 1, "a": "张伟"}) == '{"a":"张伟","b":1}'.encode()
    with pytest.raises(ValueError):
        canonical_bytes({"x": float("nan")})
