"""Values as lists write them, read and kept as what they say: dates (partial, circa, ranges),
countries (codes, English and Chinese names, list forms), annotated passports, and the
identity numbers of the PRC, Hong Kong, Macau and Taiwan, each checked by its own rule."""

from __future__ import annotations

import pytest

from accord.core.errors import InvalidInput
from accord.identity.countries import country_code
from accord.identity.dates import PartialDate, parse_partial_date
from accord.identity.documents import (
    IdentityCard,
    ResidentId,
    hong_kong_check,
    parse_identity_number,
    parse_passport,
)
from accord.identity.linkage.compare import Level, compare_birth
from accord.identity.records import person_from_row


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 May 1970", PartialDate(1970, 5, 12)),
        ("01 Jan 1980", PartialDate(1980, 1, 1)),
        ("12-MAY-1970", PartialDate(1970, 5, 12)),
        ("May 12, 1970", PartialDate(1970, 5, 12)),
        ("Sept 1970", PartialDate(1970, 9)),
        ("1970/05/12", PartialDate(1970, 5, 12)),
        ("1975-03", PartialDate(1975, 3)),
        ("1970年5月12日", PartialDate(1970, 5, 12)),
        ("1970年", PartialDate(1970)),
        ("circa 1970", PartialDate(1970, circa=True)),
        ("c. 1970", PartialDate(1970, circa=True)),
        ("1968 to 1970", PartialDate(1968, last_year=1970)),
        ("between 1968 and 1970", PartialDate(1968, last_year=1970)),
        ("1968-1970", PartialDate(1968, last_year=1970)),
    ],
)
def test_dates_as_lists_write_them(text: str, expected: PartialDate) -> None:
    assert parse_partial_date(text) == expected


def test_a_span_stays_a_span_and_is_written_as_it_was_given() -> None:
    assert str(parse_partial_date("1968 to 1970")) == "1968 to 1970"
    assert str(parse_partial_date("circa 1970")) == "circa 1970"
    assert parse_partial_date("circa 1970").years == (1968, 1972)
    span = parse_partial_date("1968 to 1970")
    assert compare_birth(parse_partial_date("1969-04-02"), span) is Level.WITHIN
    assert compare_birth(parse_partial_date("1971"), span) is Level.NEAR_YEAR
    assert compare_birth(parse_partial_date("1975"), span) is Level.DIFFERENT


@pytest.mark.parametrize(
    "text", ["31 Feb 1970", "1970 to 1968", "05/12/1970", "circa May 1970", "sometime"]
)
def test_dates_that_cannot_be_read_are_refused_saying_why(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_partial_date(text)
    assert repr(text) in refused.value.message


@pytest.mark.parametrize(
    ("text", "code"),
    [("China", "CN"), ("CHN", "CN"), ("cn", "CN"), ("Taiwan", "TW"), ("台湾", "TW"),
     ("Korea, South", "KR"), ("Korea, North", "KP"), ("中国", "CN"), ("香港", "HK"),
     ("Macau", "MO"), ("Hong Kong SAR", "HK"), ("United States", "US"), ("USA", "US"),
     ("Burma", "MM"), ("Russia", "RU"), ("美國", "US")],
)  # fmt: skip
def test_countries_by_code_name_and_list_form(text: str, code: str) -> None:
    assert country_code(text) == code


def test_an_unknown_country_is_reported_and_the_row_kept() -> None:
    found, problems = person_from_row({"id": "P", "name": "LI Na", "nationality": "Atlantis"}, 4)
    assert found is not None and found.nationality is None
    assert [(p.row, p.field, p.action) for p in problems] == [(4, "nationality", "value ignored")]
    assert "Atlantis" in problems[0].message


@pytest.mark.parametrize(
    ("text", "number", "country"),
    [("E12345678 (China)", "E12345678", "CN"), ("CHN-K98765432", "K98765432", "CN"),
     ("PRC Passport No. E87654321", "E87654321", "CN"), ("G1234567, Taiwan", "G1234567", "TW"),
     ("e 1234-5678", "E12345678", None), ("Passport No. 123456789 (USA)", "123456789", "US")],
)  # fmt: skip
def test_annotated_passports_are_split_into_number_and_issuer(
    text: str, number: str, country: str | None
) -> None:
    found = parse_passport(text)
    assert (found.number, found.country) == (number, country)


def test_a_passport_annotation_that_names_no_country_is_refused_not_folded_in() -> None:
    found, problems = person_from_row(
        {"id": "P", "name": "LI Na", "passport_number": "E12345678 (expired)", "sex": "F"}, 3
    )
    assert found is not None and found.passport is None and found.sex == "F"
    assert [(p.field, p.action) for p in problems] == [("passport_number", "value ignored")]


def test_identity_numbers_are_typed_by_form_and_check_digit() -> None:
    assert isinstance(parse_identity_number("11010519491231002X"), ResidentId)
    assert parse_identity_number("A123456(3)") == IdentityCard("HK", "A1234563")
    # two letters, by hand: X=33, A=10; 9*33 + 8*10 + 7*1 + … + 2*6 = 454; 11 - 454 % 11 = 8
    assert parse_identity_number("XA123456(8)").kind == "HK"
    assert hong_kong_check("AB987654") == "3"  # 371 % 11 = 8, 11 - 8 = 3
    assert parse_identity_number("A123456789") == IdentityCard("TW", "A123456789", "M")
    # by hand: F=15 → 1*1 + 5*9, then 2,3,1,9,7,0,7,8 weighted 8…1, then 6: 190
    assert parse_identity_number("F231970786").sex == "F"
    assert parse_identity_number("1234567(8)").kind == "MO"
    for wrong in ("A123456(4)", "A123456788", "12345"):
        with pytest.raises(InvalidInput):
            parse_identity_number(wrong)


def test_a_taiwan_number_is_no_longer_refused_as_a_bad_prc_card() -> None:
    found, problems = person_from_row({"id": "P", "name": "CHEN Mei-ling",
                                       "id_number": "A123456789"}, 1)  # fmt: skip
    assert problems == []
    assert found is not None and found.identity_card == IdentityCard("TW", "A123456789", "M")
    assert found.card_number == "TW:A123456789"
    assert found.sex == "M"


def test_a_second_passport_and_nationality_are_kept_and_compared() -> None:
    from accord.identity.linkage.index import WatchlistIndex
    from accord.identity.screening import Screener

    listed, problems = person_from_row(
        {"id": "W1", "name": "LEE Siu Ming", "nationality": "CN; HK",
         "passport_number": ["K98765432 (China)", "H12345678 (Hong Kong)"]}, 1
    )  # fmt: skip
    assert problems == [] and listed is not None
    assert listed.all_nationalities == {"CN", "HK"}
    assert listed.all_passports == {"K98765432", "H12345678"}
    index = WatchlistIndex()
    index.add(listed)
    for name in ("WANG Fang", "LI Na", "CHEN Jie"):
        index.add(person_from_row({"id": name, "name": name, "nationality": "HK"}, 2)[0])  # type: ignore[arg-type]
    query, _ = person_from_row(
        {"id": "q", "name": "Michael Lee", "passport_number": "H12345678", "nationality": "HK"}, 1
    )
    assert query is not None
    (best, *_) = Screener(index).screen(query)
    assert best.candidate_id == "W1"
    assert "passport: H12345678 = K98765432 (CN)/H12345678 (HK)" in best.explanation
    assert "nationality: HK ~ CN/HK" in best.explanation
