"""Romanisations from maintained data (issue 18, item 3): Hokkien from taibun, Cantonese from the
Hong Kong Government romanisation, Wade-Giles as pypinyin gives it, and the sourced table for
what no library covers. Expected spellings are the published ones, written out by hand."""

from __future__ import annotations

import csv
import pkgutil

import pytest
from pypinyin import Style, pinyin

from accord.identity.names.cantonese import cantonese_surnames
from accord.identity.names.hokkien import hokkien_spellings, hokkien_surnames, written_forms
from accord.identity.names.keys import parse_name
from accord.identity.names.normalise import latin_tokens, to_simplified
from accord.identity.names.romanise import System, token_readings
from accord.identity.names.surnames import listed_spellings


def shares_key(a: str, han: str) -> bool:
    return bool(set(parse_name(a).keys) & set(parse_name(han).keys))


# 陳 Tân, 林 Lîm, 蔡 Tshuà (POJ Chhoà), 黃 N̂g / Uînn, 王 Ông, 許 Khóo (POJ Khó͘), 洪 Âng
@pytest.mark.parametrize(
    ("character", "spellings"),
    [
        ("陳", {"tan"}),
        ("林", {"lim"}),
        ("蔡", {"tshua", "chhoa", "chua", "chuah"}),
        ("黃", {"ng", "ooi", "wee", "ui"}),
        ("王", {"ong"}),
        ("許", {"khoo", "koh", "kho"}),
        ("洪", {"ang"}),
        ("志", {"chi", "chee", "tsi"}),
        ("明", {"beng", "bing"}),
    ],
)
def test_hokkien_spellings_come_from_taibun_in_tai_lo_poj_and_register_habits(
    character: str, spellings: set[str]
) -> None:
    assert spellings <= hokkien_spellings()[character]


def test_tai_lo_syllables_are_written_without_tones_as_registers_write_them() -> None:
    assert {"tshua", "chhoa", "tsua", "choa", "chua"} <= written_forms("tshua")
    assert {"tiunn", "tiu"} <= written_forms("tiunn")  # nasality unmarked
    assert {"go", "goh"} <= written_forms("goo")  # POJ o͘, a final h
    assert "tiuu" not in written_forms("tiunn")


@pytest.mark.parametrize(
    ("spelling", "surname"),
    [("tan", "chen"), ("lim", "lin"), ("ng", "huang"), ("ong", "wang"), ("chua", "cai")],
)
def test_hokkien_surname_spellings(spelling: str, surname: str) -> None:
    assert surname in hokkien_surnames()[spelling]


@pytest.mark.parametrize(
    ("written", "han"),
    [
        ("TAN Chee Beng", "陳志明"),  # Hokkien given names, not only the surname
        ("Lim Bee Leng", "林美玲"),
        ("NG Ah Huat", "黃亞發"),
        ("Chuah Boon Hock", "蔡文福"),
        ("Teo Wei", "張偉"),  # Teochew: the sourced table
        ("Cheung Wai", "張偉"),  # Hong Kong Government romanisation
        ("Chang Wei", "張偉"),  # Wade-Giles
        ("CHEUNG Ga Ming", "張家明"),  # Ga, a Cantonese spelling pinyin shares, in a Cantonese name
        ("Jeung Gwok Wing", "張國榮"),
        ("Ieong Man Hou", "楊文豪"),  # Macau
        ("Leong Chi Wai", "梁志偉"),  # Macau
        ("Lum Wai Keung", "林偉強"),  # North American (Taishanese)
        ("Louie Wing", "雷榮"),
        ("Uy Ching", "黃清"),  # Philippines
    ],
)
def test_names_in_every_system_share_a_key_with_their_characters(written: str, han: str) -> None:
    assert shares_key(written, han)


@pytest.mark.parametrize(
    "written",
    [
        "Ch'en Hsiao-ming",
        "Chen Hsiao-ming",
        "Chen Hsiaoming",
        "Chen Hsiao Ming",
        "CH'EN, Hsiao-ming",
    ],
)
def test_wade_giles_with_and_without_apostrophes_and_hyphens(written: str) -> None:
    assert shares_key(written, "陳小明")


def test_a_wade_giles_apostrophe_inside_a_joined_name_is_the_aspiration_mark() -> None:
    assert latin_tokens("Hsiaoch'ing") == ("hsiaoching",)
    assert latin_tokens("Ssut'u") == ("ssutu",)
    assert latin_tokens("Xi'an") == ("xi", "an")  # pinyin: the apostrophe separates
    assert shares_key("Wang Hsiaoch'ing", "王小青")


def test_a_pinyin_name_is_not_read_in_a_system_whose_spellings_it_only_shares() -> None:
    # Li, Ming, Lei, Dang, Ga are Cantonese or Hokkien spellings too; a name of nothing else
    # keeps its pinyin key alone (no southern readings: Lei 李 would meet every 李明)
    assert parse_name("Li Ming").keys == ("li ming",)
    assert parse_name("Lei Ming").keys == ("lei ming",)
    assert parse_name("Zhang Wei").keys == ("wei zhang",)
    assert not shares_key("Lei Ming", "李明")


def test_different_names_in_southern_spellings_do_not_share_keys() -> None:
    assert not shares_key("TAN Chee Beng", "陳志強")
    assert not shares_key("Ieong Man Hou", "梁文豪")


def test_cantonese_surname_spellings_of_every_surname_character() -> None:
    table = cantonese_surnames()
    assert "zhang" in table["cheung"] and "zhang" in table["jeung"]
    assert "deng" in table["dang"]
    assert ("zhang",) in dict(token_readings("jeung", System.SOUTHERN))


def _listed_rows() -> list[dict[str, str]]:
    raw = pkgutil.get_data("accord.identity.names", "data/surname_spellings.tsv")
    assert raw is not None
    text = raw.decode("utf-8")
    assert "Sources" in text and "Macau" in text  # the header cites its sources
    return list(
        csv.DictReader((x for x in text.splitlines() if not x.startswith("#")), delimiter="\t")
    )


def test_the_sourced_table_reads_each_spelling_as_a_reading_of_its_characters() -> None:
    rows = _listed_rows()
    assert rows
    for row in rows:
        assert row["system"] in {s.value for s in System}, row
        assert set(row["sources"].split(",")) <= set("WMSPNR"), row
        readings = {
            r
            for c in row["characters"].split(",")
            for r in pinyin(to_simplified(c), style=Style.NORMAL, heteronym=True)[0]
        }
        for surname in row["pinyin"].split(","):
            assert surname.replace("lv", "lü").replace("lü", "lv") in readings | {"lv"}, row
    assert listed_spellings()["southern"]["ieong"] == ("yang",)


def test_the_sourced_table_holds_only_what_no_library_gives() -> None:
    derived = {"southern": cantonese_surnames(), "hokkien": hokkien_surnames()}
    for row in _listed_rows():
        given = derived.get(row["system"], {}).get(row["spelling"], ())
        assert not set(row["pinyin"].split(",")) <= set(given), row
