"""Names: surname readings, romanisations, order, joined names, ü and English names share keys."""

from __future__ import annotations

import pytest

from accord.identity.names.keys import parse_name
from accord.identity.names.normalise import han_part, latin_tokens, to_simplified
from accord.identity.names.romanise import System, han_readings, token_readings


def shares_key(a: str, b: str, *, native_a: str = "", native_b: str = "") -> bool:
    return bool(set(parse_name(a, native_a).keys) & set(parse_name(b, native_b).keys))


def test_traditional_characters_are_simplified_and_spaces_dropped() -> None:
    assert to_simplified("張偉") == "张伟"
    assert han_part("歐陽 娜娜") == "欧阳娜娜"
    assert han_part("ZHANG Wei") == ""


def test_latin_tokens_fold_case_accents_and_punctuation_but_keep_u_umlaut() -> None:
    assert latin_tokens("ZHANG Xiao-Ming") == ("zhang", "xiao", "ming")
    assert latin_tokens("Lü Bu") == ("lv", "bu")
    assert latin_tokens("Lu\u0308 Bu") == ("lv", "bu")  # decomposed ü
    assert latin_tokens("Chén Jìng") == ("chen", "jing")


def test_wade_giles_aspiration_apostrophe_stays_in_the_syllable() -> None:
    assert latin_tokens("Ch'en Tu-hsiu") == ("chen", "tu", "hsiu")
    assert latin_tokens("Xi'an") == ("xi", "an")  # a pinyin syllable separator


@pytest.mark.parametrize(
    ("han", "surname"),
    [("单雄信", "shan"), ("曾国藩", "zeng"), ("区志强", "ou"), ("解缙", "xie"), ("仇英", "qiu")],
)
def test_surnames_are_read_as_surnames(han: str, surname: str) -> None:
    readings = han_readings(han)
    assert {r[0] for r in readings} == {(surname,)}


def test_ambiguous_surname_keeps_every_reading() -> None:
    assert {r[0] for r in han_readings("覃海")} == {("qin",), ("tan",)}


def test_single_surname_character_outside_a_name_is_not_read_as_surname() -> None:
    # 单 inside a given name keeps its ordinary reading.
    assert han_readings("王单")[0] == (("wang",), ("dan",))


def test_compound_surname_takes_two_characters() -> None:
    readings = han_readings("欧阳娜娜")
    assert readings[0] == (("ou", "yang"), ("na", "na"))
    assert han_readings("司马光")[0][0] == ("si", "ma")


@pytest.mark.parametrize(
    "spelling",
    [
        "ZHANG Wei",
        "Wei Zhang",
        "zhang wei",
        "Chang Wei",
        "Cheung Wai",
        "Teo Wei",
        "Michael Zhang Wei",
    ],
)
def test_every_spelling_of_zhang_wei_shares_a_key_with_the_characters(spelling: str) -> None:
    assert shares_key(spelling, "张伟")


@pytest.mark.parametrize("spelling", ["Xiaoming Wang", "Xiao Ming Wang", "WANG Xiao-Ming"])
def test_joined_split_and_hyphenated_given_names_share_a_key(spelling: str) -> None:
    assert shares_key(spelling, "王晓明")


def test_compound_surnames_in_romanisations() -> None:
    assert shares_key("Ouyang Nana", "欧阳娜娜")
    assert shares_key("Au Yeung Na Na", "欧阳娜娜")
    assert shares_key("Szeto Wai", "司徒伟")


def test_wade_giles_names() -> None:
    assert shares_key("Mao Tse-tung", "毛泽东")
    assert shares_key("Chiang Ching-kuo", "蒋经国")
    assert shares_key("Hsu Chih-mo", "徐志摩")
    assert shares_key("Kuo Mo-jo", "郭沫若")


def test_cantonese_names() -> None:
    assert shares_key("Chan Tai Man", "陈大文")
    assert shares_key("Tsang Kwok-fan", "曾国藩")
    assert shares_key("Lau Tak-wah", "刘德华")
    assert shares_key("Au Chi Keung", "区志强")


def test_hokkien_surnames() -> None:
    assert shares_key("Tan Wei Ming", "陈伟明")
    assert shares_key("Lim Mei Ling", "林美玲")
    assert shares_key("Ong Jia Hui", "王佳慧")


@pytest.mark.parametrize("spelling", ["Lü Bu", "Lv Bu", "Lyu Bu", "Lu Bu", "LU Bu"])
def test_u_umlaut_written_as_u_v_or_yu(spelling: str) -> None:
    assert shares_key(spelling, "吕布")


def test_order_does_not_change_the_key() -> None:
    assert parse_name("Zhang Wei").keys == parse_name("Wei Zhang").keys


def test_different_names_do_not_share_keys() -> None:
    assert not shares_key("Zhang Wei", "李伟")
    assert not shares_key("Wang Xiaoming", "王小红")
    assert not shares_key("Chan Tai Man", "陈小文")


def test_english_name_is_kept_aside_not_read_as_pinyin() -> None:
    name = parse_name("Alan Tan")  # "alan" would split into a + lan
    assert name.other == ("alan",)
    assert "chen" in name.keys


def test_unknown_western_token_is_left_out_of_loose_keys_only() -> None:
    name = parse_name("Dana Zhang Wei")  # not in the list of English names; spells da na
    assert "wei zhang" in name.loose_keys
    assert "wei zhang" not in name.keys


def test_capitals_mark_the_surname() -> None:
    first = parse_name("WEI Zhang").primary
    assert first is not None and first.surname == ("wei",)


def test_joined_wade_giles_and_cantonese_tokens_are_segmented() -> None:
    assert (("xiao", "ming"), 0) in token_readings("xiaoming", System.PINYIN)
    assert any(s == ("zhi", "qiang") for s, _ in token_readings("chikeung", System.SOUTHERN))


def test_a_non_chinese_name_keys_on_its_sorted_tokens() -> None:
    assert parse_name("John Smith").keys == ("john smith",)
    assert shares_key("Smith John", "John Smith")


def test_a_given_name_spelt_like_the_capitalised_surname_stays_a_given_name() -> None:
    # Hong Kong style LAM Lam Yeung (林林阳): the second Lam is not part of the surname.
    name = parse_name("LAM Lam Yeung")
    # Lam also spells 藍 lan and 南 nan (Hong Kong Government romanisation); 林 lin first
    assert name.surnames <= frozenset({"lin", "lan", "nan"})
    first = name.primary
    assert first is not None and (first.surname, first.given) == (("lin",), ("lin", "yang"))


def test_readings_do_not_depend_on_string_hashing() -> None:
    # Ties of rank are kept in table order, and the first readings are kept: a table built by
    # iterating a set gave other readings, scores and candidates under another PYTHONHASHSEED.
    import os
    import subprocess
    import sys

    script = (
        "from accord.identity.names.romanise import SYLLABLE_TABLES, token_readings, System\n"
        "print(sorted((str(s), k, list(v.items())) for s, t in SYLLABLE_TABLES.items()"
        " for k, v in t.items()))\n"
        "print([token_readings(t, s) for t in ('chen', 'chang', 'tsai', 'hsu', 'chu', 'yu')"
        " for s in System])\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1


def test_cantonese_spellings_beyond_the_short_table_come_from_the_government_romanisation() -> None:
    # issue 18, item 3: Heung (香), Yik (益), Gwok (國), Hok (鶴), Foon (歡) are in no hand table;
    # the Hong Kong Government romanisation data gives them.
    from accord.identity.names.cantonese import cantonese_syllables
    from accord.identity.names.romanise import _CANTONESE_SYLLABLES

    table = cantonese_syllables()
    for spelling, syllable in (("heung", "xiang"), ("yik", "yi"), ("gwok", "guo"), ("hok", "he")):
        assert spelling not in _CANTONESE_SYLLABLES
        assert table[spelling][0] == syllable
    assert shares_key("CHAN Heung Yik", "陈香益")
    assert shares_key("LEUNG Gwok Wah", "梁国华")
    assert shares_key("MOK Hok Foon", "莫鹤欢")
