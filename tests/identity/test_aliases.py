"""Many names per person: the aliases field, "a.k.a." inside a name, rows of one person, weak
aliases, one score per person on the best pair of names, and the pair in the explanation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accord.core.errors import InvalidInput
from accord.identity.aliases import Alias, person_id, split_name
from accord.identity.linkage.index import WatchlistIndex
from accord.identity.records import person_from_row
from accord.identity.screening import Decision, Screener, read_records


def record(**fields: object):  # type: ignore[no-untyped-def]
    found, problems = person_from_row(fields, 1)
    assert found is not None, problems
    return found


def screener(*rows: dict[str, object]) -> Screener:
    index = WatchlistIndex()
    for row, fields in enumerate(rows, start=1):
        index.add(record(**fields), row)
    return Screener(index)


def test_aka_inside_a_name_is_split_into_aliases() -> None:
    name, aliases = split_name("LI, Xiaoming (a.k.a. LEE, Siu Ming; a.k.a. LI, Hsiao-ming)")
    assert (name, aliases) == ("LI, Xiaoming", ["LEE, Siu Ming", "LI, Hsiao-ming"])
    assert split_name("WANG Fang also known as WONG Fong") == ("WANG Fang", ["WONG Fong"])
    assert split_name("CHAN Tai Man f.k.a. CHEN Taiwen") == ("CHAN Tai Man", ["CHEN Taiwen"])
    assert split_name("张伟 又名 张大伟") == ("张伟", ["张大伟"])
    assert split_name("ZHANG Wei") == ("ZHANG Wei", [])


@pytest.mark.parametrize(
    "text",
    ["a.k.a. LEE Siu Ming", "LI Xiaoming (a.k.a. LEE Siu Ming", "LI Xiaoming a.k.a. ;"],
)
def test_a_name_that_cannot_be_split_is_refused_naming_the_row(text: str) -> None:
    with pytest.raises(InvalidInput):
        split_name(text)
    found, problems = person_from_row({"id": "P1", "name": text}, 7)
    assert found is None
    assert [(p.row, p.field, p.action) for p in problems] == [(7, "name", "row skipped")]
    assert problems[0].message.startswith("row 7:")


def test_the_record_keeps_its_name_and_aliases_and_finds_its_primary_name() -> None:
    listed = record(id="SDN-2", name="LI, Xiaoming (a.k.a. LEE, Siu Ming)", birth_date="1970")
    assert listed.name == "LI, Xiaoming"
    assert listed.aliases == (Alias("LEE, Siu Ming"),)
    found = screener({"id": "SDN-2", "name": "LI, Xiaoming (a.k.a. LEE, Siu Ming)"}).screen(
        record(id="q", name="Li Xiaoming", birth_date="1970")
    )
    assert [c.candidate_id for c in found] == ["SDN-2"]


def test_aliases_column_csv_and_lists_in_json_lines(tmp_path: Path) -> None:
    csv_file = tmp_path / "w.csv"
    csv_file.write_text(
        "id,name,aliases,weak_aliases\nW1,ZHANG Wei,CHANG Wei; CHEUNG Wai,Ah Wei\n",
        encoding="utf-8",
    )
    jsonl = tmp_path / "w.jsonl"
    jsonl.write_text(
        json.dumps({"id": "W1", "name": ["ZHANG Wei", "CHANG Wei"], "aliases": ["CHEUNG Wai"],
                    "weak_aliases": ["Ah Wei"]}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    for path in (csv_file, jsonl):
        problems: list[object] = []
        (read,) = read_records(path, "watchlist", problems)  # type: ignore[arg-type]
        assert problems == []
        assert read.name == "ZHANG Wei"  # not a Python repr of a list
        assert {a.name for a in read.aliases} == {"CHANG Wei", "CHEUNG Wai", "Ah Wei"}
        assert [a.name for a in read.aliases if a.weak] == ["Ah Wei"]


def test_an_aliases_value_that_is_not_names_is_reported_and_the_row_kept() -> None:
    found, problems = person_from_row({"id": "W1", "name": "ZHANG Wei", "aliases": [3]}, 2)
    assert found is not None and found.aliases == ()
    assert [(p.field, p.action) for p in problems] == [("aliases", "value ignored")]


def test_a_single_name_alias_is_weak() -> None:
    assert record(id="W", name="ZHANG Wei", aliases="Tiger; CHANG Wei").aliases == (
        Alias("Tiger", weak=True),
        Alias("CHANG Wei"),
    )


def test_alias_rows_and_repeated_ids_are_one_person() -> None:
    assert person_id("SDN-10001-AKA1") == "SDN-10001"
    assert person_id("SDN-10001") == "SDN-10001"
    index = WatchlistIndex()
    first = record(
        id="SDN-1", name="ZHANG, Wei", birth_date="1970-05-12", passport_number="E1234567"
    )
    index.add(first, 1)
    index.add(record(id="SDN-1-AKA1", name="CHANG, Wei", birth_date="1970-05-12"), 2)
    problems = index.add(record(id="SDN-1", name="CHEUNG, Wai", birth_date="1971"), 3)
    assert len(index) == 1
    assert index.frequencies.records == 1
    person = index.profiles[0].record
    assert [a.name for a in person.aliases] == ["CHANG, Wei", "CHEUNG, Wai"]
    assert str(person.birth) == "1970-05-12"  # the first row's value, the other reported
    assert [(p.row, p.field, p.action) for p in problems] == [(3, "birth_date", "value kept")]


def test_one_person_with_three_names_is_one_match_not_three_possibles() -> None:
    # issue 18: aliases as extra rows split the probability three ways.
    active = screener(
        {"id": "SDN-1", "name": "ZHANG, Wei", "birth_date": "12 May 1970",
         "passport_number": "E12345678 (China)"},
        {"id": "SDN-1-AKA1", "name": "CHANG, Wei", "birth_date": "12 May 1970"},
        {"id": "SDN-1-AKA2", "name": "CHEUNG, Wai", "birth_date": "12 May 1970"},
    )  # fmt: skip
    found = active.screen(
        record(id="q", name="Cheung Wai", birth_date="1970-05-12", passport_number="E12345678")
    )
    assert [(c.candidate_id, c.decision) for c in found] == [("SDN-1", Decision.MATCH)]


def test_a_person_is_scored_on_the_best_pair_and_the_explanation_names_it() -> None:
    active = screener(
        {"id": "W1", "name": "CHAN Tai Man", "name_native": "陈大文", "birth_date": "1960",
         "aliases": "Tony CHAN; ZHAO Dawen"},
        {"id": "W2", "name": "LIU Yang", "birth_date": "1960"},
    )  # fmt: skip
    (best,) = active.screen(record(id="q", name="Zhao Da Wen", birth_date="1960"))
    assert best.candidate_id == "W1"
    # the alias that agreed, with the person's name in both scripts
    assert "ZHAO Dawen (alias of CHAN Tai Man / 陈大文)" in best.explanation
    assert "same syllables" in best.explanation or "same name" in best.explanation


def test_query_aliases_are_screened_too() -> None:
    active = screener({"id": "W1", "name": "OUYANG Xiu", "birth_date": "1969-01-02"})
    found = active.screen(
        record(id="q", name="Michael Smith", aliases="Ou-yang Hsiu", birth_date="1969-01-02")
    )
    assert [(c.candidate_id, c.decision) for c in found] == [("W1", Decision.MATCH)]


def test_a_weak_alias_agreement_weighs_less_than_a_full_name() -> None:
    names = ("WANG Fang", "LI Na", "CHEN Jie", "HUANG Lei", "ZHAO Min", "SUN Li")
    others = [{"id": f"O{i}", "name": name} for i, name in enumerate(names)]
    weak = screener({"id": "W1", "name": "ZHANG Wei", "weak_aliases": "LIU Yang"}, *others)
    strong = screener({"id": "W1", "name": "ZHANG Wei", "aliases": "LIU Yang"}, *others)
    query = record(id="q", name="Liu Yang", birth_date="1980")
    (by_weak,) = weak.screen(query)
    (by_strong,) = strong.screen(query)
    assert by_weak.score < by_strong.score
    assert "weak alias" in by_weak.explanation
