"""A removal batch's persons and a fugitive notice's subject with other names and dates of birth
as lists write them: read into the payload as they say, screened on every name, and proposed
with the name that matched, on two real nodes."""

from __future__ import annotations

from typing import Any

import pytest

from accord.cases import service as cases
from accord.cases.definitions.fugitive import person_sought
from accord.cases.definitions.removal import persons_asked_about
from accord.cases.enums import Area, HandlingCode, Priority
from accord.cli import scenarios
from accord.composition import assemble
from accord.core.errors import InvalidInput
from accord.identity import integration
from accord.identity.records import person_from_row
from tests.helpers import Node, act, log_of, pump
from tests.identity.test_integration import hold_records, open_removal, proposals_of, screener_of

TYPES = assemble().case_types


def opening(**person: object) -> dict[str, Any]:
    details = {"persons": [{"person_id": "P1", "name": "LI Wei", **person}]}
    validated: dict[str, Any] = TYPES.workflow("removal").validate_opening(details)
    return validated["persons"][0]


# -- the payload ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("12 May 1970", "1970-05-12"),
        ("May 12, 1970", "1970-05-12"),
        ("1970年5月", "1970-05"),
        ("1970/05/12", "1970-05-12"),
        ("circa 1970", "circa 1970"),
        ("c. 1970", "circa 1970"),
        ("1968 to 1970", "1968 to 1970"),
        ("between 1968 and 1970", "1968 to 1970"),
        ("1970", "1970"),
    ],
)
def test_a_batch_reads_dates_of_birth_as_lists_write_them(written: str, kept: str) -> None:
    person = opening(birth_date=written)
    assert person["birth_date"] == kept
    # what the peer validates is the stored form: it reads back as itself
    assert opening(birth_date=kept)["birth_date"] == kept


@pytest.mark.parametrize(
    ("written", "kind", "says"),
    [
        ("1970-13-01", "partial_date", "not a real date"),
        ("1970-00", "partial_date", "not a real date"),
        ("30 February 1970", "partial_date", "not a real date"),
        ("05/12/1970", "string_pattern_mismatch", "day and month cannot be told apart"),
        ("around nineteen seventy", "string_pattern_mismatch", "circa 1970"),
        ("1970 to 1968", "string_pattern_mismatch", "from the earlier to the later"),
        ("circa 2990", "birth_date_range", "not a plausible date of birth"),
        ("1890", "birth_date_range", "between 1900 and today"),
    ],
)
def test_a_date_of_birth_that_cannot_be_read_is_refused_saying_why(
    written: str, kind: str, says: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        opening(birth_date=written)
    (problem,) = refused.value.problems.items
    assert problem.type == kind and problem.path == ("persons", 0, "birth_date")
    assert says in refused.value.message


def test_aliases_are_read_from_text_or_a_list_each_name_once() -> None:
    assert opening(aliases="LEE Wai;  Li  Wai ;\nLEE WAI")["aliases"] == "LEE Wai; Li Wai"
    assert opening(aliases=["LEE Wai", "李伟"])["aliases"] == "LEE Wai; 李伟"
    for bad, says in (
        (7, "aliases are names"),
        ([7], "an alias is a name"),
        ([f"Name {i}" for i in range(21)], "at most 20"),
    ):
        with pytest.raises(InvalidInput, match=says):
            opening(aliases=bad)


def test_the_forms_label_aliases_and_list_dates_in_both_languages() -> None:
    for case_type, date_field in (("removal", "birth_date"), ("fugitive", "date_of_birth")):
        fields = TYPES.get(case_type).fields
        assert fields["aliases"].en == "Other names (aliases)"
        assert fields["aliases"].zh == "其他姓名（别名）"
        assert fields["aliases"].personal  # committed by salted hash, erasable
        assert "circa 1970" in fields[date_field].hint_en
        assert "约1970年" in fields[date_field].hint_zh


# -- what is screened -------------------------------------------------------------------------


def test_a_batch_person_is_screened_with_its_aliases_and_list_date() -> None:
    person = opening(
        aliases="Cheung Wai; 張偉",
        birth_date="circa 1960",
        claimed_origin="Fuzhou, Fujian",
    )
    (row,) = persons_asked_about({"persons": [person]})
    record, problems = person_from_row(row, 1)
    assert problems == [] and record is not None
    assert [a.name for a in record.aliases] == ["Cheung Wai", "張偉"]
    assert record.birth is not None and str(record.birth) == "circa 1960"
    assert record.address == "Fuzhou, Fujian"


def test_a_notice_subject_carries_its_other_names_nationalities_and_birth_place() -> None:
    details = {
        **scenarios.FUGITIVE.opening["details"],
        "aliases": "CHAN Siu Ming; Ch'en Hsiao-ming",
        "birth_name": "CHEN Xiaoping",
        "nationalities": ["CN", "HK"],
        "date_of_birth": "1977 to 1979",
    }
    (subject,) = person_sought(details)
    record, problems = person_from_row(subject, 1)
    assert problems == [] and record is not None
    assert record.name == "CHEN XIAOMING"
    assert [a.name for a in record.aliases] == [
        "CHAN Siu Ming",
        "Ch'en Hsiao-ming",
        "CHEN Xiaoping",
    ]
    assert record.all_nationalities == {"CN", "HK"}
    assert record.birth_place == "Wenzhou"
    assert record.birth is not None and record.birth.years == (1977, 1979)


def test_a_person_known_here_only_by_an_alias_is_proposed_verified_naming_the_alias() -> None:
    screener = screener_of(
        [{"id": "R1", "name": "陈大文", "name_native": "陈大文", "birth_date": "1961-03-04"}]
        + [
            {"id": f"N{i}", "name": "ZHANG Wei", "birth_date": f"{1950 + i}-01-01"}
            for i in range(9)
        ]
    )
    person = {"id": "P1", "name": "Michael TAN", "aliases": "Chan Tai Man", "birth_date": "1961"}
    without = integration.propose(screener, {**person, "aliases": ""}, 1)
    assert without["outcome"] == "no_candidate"
    proposal = integration.propose(screener, person, 1)
    assert proposal["candidate_id"] == "R1", proposal
    # the pair that matched is named
    assert "Chan Tai Man (alias of Michael TAN) ~ 陈大文" in proposal["explanation"]
    assert "陈大文" in proposal["explanation"]


def test_a_circa_date_is_evidence_within_its_span_and_against_outside_it() -> None:
    rows = [
        {"id": "R1", "name": "OUYANG Xiu", "birth_date": "1969-06-01", "nationality": "CN"},
        {"id": "R2", "name": "OUYANG Xiu", "birth_date": "1990-06-01", "nationality": "CN"},
    ]
    screener = screener_of(rows)
    proposal = integration.propose(
        screener, {"id": "P1", "name": "Ou-yang Hsiu", "birth_date": "circa 1970"}, 1
    )
    assert proposal["candidate_id"] == "R1"
    assert "circa 1970 ~ 1969-06-01: within the span of years given" in proposal["explanation"]
    assert proposal["candidates"] == 1  # the one born in 1990 is outside circa 1970


# -- two nodes --------------------------------------------------------------------------------


RECORDS = [
    {
        "id": "HK-0042",
        "name": "CHAN Tai Man",
        "name_native": "陈大文",
        "birth_date": "1961-03-04",
        "sex": "M",
        "nationality": "CN",
        "id_number": "",
    },
    {"id": "HK-0043", "name": "CHAN Tai Man", "birth_date": "1984-11-20", "sex": "M"},
    {"id": "HK-0044", "name": "OUYANG Xiu", "birth_date": "1969-06-01", "sex": "M"},
    {"id": "HK-0045", "name": "LI Na", "birth_date": "1975-02-02", "sex": "F"},
]


def test_a_batch_with_aliases_and_list_dates_is_screened_on_arrival_and_confirmed(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    hold_records(cn, RECORDS)
    persons = [
        # known on the US side under an English name; the alias is the record's name
        {
            "person_id": "P1",
            "name": "Michael TAN",
            "aliases": "Chan Tai Man; Tan Tai Man",
            "birth_date": "04 Mar 1961",
            "sex": "M",
        },
        # a Wade-Giles name and a circa date: the record born in 1969
        {"person_id": "P2", "name": "Ou-yang Hsiu", "birth_date": "circa 1970", "sex": "M"},
        # a range that holds neither CHAN Tai Man
        {"person_id": "P3", "name": "Chan Tai Man", "birth_date": "1970 to 1975", "sex": "M"},
    ]
    reference = open_removal(us, cn, persons)
    stored = cases_details(us, reference)
    assert stored[0]["birth_date"] == "1961-03-04"
    assert stored[0]["aliases"] == "Chan Tai Man; Tan Tai Man"
    assert stored[1]["birth_date"] == "circa 1970" and stored[2]["birth_date"] == "1970 to 1975"
    assert cases_details(cn, reference) == stored  # the peer holds the same persons

    found = {p["person_id"]: p for p in proposals_of(cn, reference)}
    assert found["P1"]["outcome"] == "verified" and found["P1"]["candidate_id"] == "HK-0042"
    assert "Chan Tai Man" in found["P1"]["explanation"]
    assert found["P2"]["candidate_id"] == "HK-0044"
    assert found["P3"]["outcome"] == "no_candidate"

    act(cn, reference, "acknowledge", {})
    pump(us, cn)
    with cn.runtime.transaction() as session:
        integration.confirm(
            session, node=cn.identity, reference=reference, person_id="P1", officer="Li Ming"
        )
    pump(us, cn)
    (event,) = [e for e in log_of(us, reference) if e["action"] == "confirm_identity"]
    assert event["payload"]["confirmed_name_native"] == "陈大文"
    assert log_of(us, reference) == log_of(cn, reference)


def cases_details(node: Node, reference: str) -> list[dict[str, Any]]:
    with node.runtime.reading() as session:
        persons: list[dict[str, Any]] = cases.header_of(
            session, cases.get_case(session, reference=reference)
        ).details["persons"]
    return persons


def test_a_notice_with_aliases_and_a_range_is_screened_on_every_name(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair  # CN issues the notice; US screens it against its records
    hold_records(
        us,
        [
            {"id": "A-21", "name": "Ming CHAN", "birth_date": "1978-04-09", "sex": "M"},
            {"id": "A-22", "name": "Peter WONG", "birth_date": "1978-04-09", "sex": "M"},
        ],
    )
    o = scenarios.FUGITIVE.opening
    details = {**o["details"], "aliases": ["Ming CHAN"], "date_of_birth": "1977 to 1979"}
    with cn.runtime.transaction() as session:
        reference = cases.open_case(
            session,
            node=cn.identity,
            case_type="fugitive",
            peer=us.name,
            area=Area.FUGITIVES,
            priority=Priority.URGENT,
            handling_code=HandlingCode.H2,
            title=o["title"],
            details=details,
            officer="tester",
        ).reference
    pump(us, cn)
    (proposal,) = proposals_of(us, reference)
    assert proposal["candidate_id"] == "A-21", proposal
    assert "Ming CHAN" in proposal["explanation"]
    with us.runtime.reading() as session:
        received = cases.header_of(session, cases.get_case(session, reference=reference)).details
    assert received["aliases"] == "Ming CHAN" and received["date_of_birth"] == "1977 to 1979"
