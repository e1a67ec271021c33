"""Typo-tolerant blocking (issue 18, item 4): a token no system reads is corrected by one edit on
the query side, and its corrections are looked up as names are; nothing more is indexed."""

from __future__ import annotations

from accord.identity.linkage.compare import profile
from accord.identity.linkage.index import WatchlistIndex, corrections
from accord.identity.records import PersonRecord, parse_partial_date


def person(pid: str, name: str, native: str = "", birth: str = "") -> PersonRecord:
    return PersonRecord(
        id=pid,
        name=name,
        name_native=native,
        birth=parse_partial_date(birth) if birth else None,
    )


def test_one_edit_corrections_of_an_unread_token() -> None:
    assert "wei" in corrections("wie")  # two letters exchanged
    assert corrections("zhnag") == ["zhang"]
    assert "cheung" in corrections("cheugn")
    assert "kwok" in corrections("kwk")  # a letter dropped
    assert "ming" in corrections("mingg")  # a letter doubled
    assert len(corrections("qx")) <= 8


def _index() -> WatchlistIndex:
    return WatchlistIndex.build(
        [
            person("w1", "ZHANG Wei", "张伟", "1980-03-04"),
            person("w2", "CHEUNG Kwok Wing", birth="1975"),
            person("w3", "LIN Feng", birth="1990"),
            person("w4", "TAN Ah Kow", birth="1960"),
        ]
    )


def test_a_typo_in_a_one_syllable_given_name_or_the_surname_still_finds_the_candidate() -> None:
    # the syllable-deletion blocks need two given syllables; these have one, or the surname wrong
    index = _index()
    for query, birth, expected in [
        ("Zhang Wie", "1980", "w1"),
        ("Zhnag Wei", "", "w1"),  # no year: the corrected name is an ordinary name block
        ("Cheugn Kwok Wing", "1975", "w2"),
        ("Lin Fneg", "1990", "w3"),
    ]:
        found = index.candidates(profile(person("q", query, birth=birth)))
        assert [index.profiles[i].record.id for i in found] == [expected], query


def test_corrections_are_tried_only_for_tokens_no_system_reads() -> None:
    index = _index()
    # Zhang Wen is a name: it is not corrected towards Zhang Wei
    assert index.candidates(profile(person("q", "Zhang Wen", birth="1980"))) == []
    # a correction keeps to the year as any name block does
    assert index.candidates(profile(person("q", "Zhang Wie", birth="1950"))) == []
