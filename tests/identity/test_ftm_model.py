"""FollowTheMoney without loss (issue 18, item 5), checked with the `followthemoney` library's
own model: entities built and cleaned by it go into the node's records and come out as entities
that it reads back with every value Accord can hold, none dropped by its cleaning."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from accord.identity import ftm, service
from tests.helpers import make_node

_CSV_LIMIT = csv.field_size_limit()
import followthemoney  # noqa: E402  (a dev dependency: must be there, never skipped)

# FtM raises the process-wide CSV field limit at import (to 30 MiB); the readers' tests of what a
# field past the default limit does run in the same process, so the default comes back.
csv.field_size_limit(_CSV_LIMIT)
model = followthemoney.model

UNIT = "central-authority"


def person(entity_id: str, **properties: list[str]) -> dict[str, Any]:
    """A Person made and cleaned by FtM itself (a value it would not accept fails here)."""
    proxy = model.make_entity("Person")
    proxy.id = entity_id
    for prop, values in properties.items():
        for value in values:
            proxy.add(prop, value)
            assert proxy.get(prop), f"FtM refused {prop}={value!r}"
    data: dict[str, Any] = proxy.to_dict()
    return data


def round_trip(
    tmp_path: Path, entities: list[dict[str, Any]], reported: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Import the entities into a node's records (the problems reported being those of the
    properties named) and export them again."""
    path = tmp_path / "in.ftm.json"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entities), "utf-8")
    node = make_node(tmp_path, f"sqlite:///{tmp_path / 'cn.db'}", "CN-MPS", "CN")
    out = tmp_path / "out.ftm.json"
    try:
        with node.runtime.transaction() as session:
            added, _, problems = service.import_records(session, path=path, kind="ftm", unit=UNIT)
        assert [p.field for p in problems] == list(reported) and added == len(entities)
        with node.runtime.reading() as session, out.open("w", encoding="utf-8") as f:
            service.export_records(session, out=f, kind="ftm", unit=UNIT)
    finally:
        node.runtime.close()
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def read_by_ftm(exported: dict[str, Any]) -> dict[str, set[str]]:
    """The exported entity as FtM reads it (cleaning every value); it must drop nothing."""
    proxy = model.get_proxy(exported, cleaned=False)
    cleaned = {prop: set(values) for prop, values in proxy.to_dict()["properties"].items()}
    assert cleaned == {p: set(v) for p, v in exported["properties"].items()}, "FtM dropped values"
    return cleaned


EVERYTHING = dict(
    name=["LI Xiaoming", "LEE Siu Ming", "李小明"],
    alias=["LI Hsiao-ming", "李曉明"],
    weakAlias=["Ah Ming"],
    previousName=["LI Ming"],
    birthDate=["1980-05-01"],
    gender=["male"],
    nationality=["cn", "hk"],
    citizenship=["mo"],
    passportNumber=["K98765432", "H12345678"],
    idNumber=["110105198005010013", "A123456(3)", "A123456789"],
    birthPlace=["Guangzhou, Guangdong"],
    address=["12 Nathan Road, Kowloon, Hong Kong", "88 Huanshi Road, Guangzhou"],
)


def test_every_property_accord_holds_survives_a_round_trip_through_the_node(
    tmp_path: Path,
) -> None:
    given = person("os-li-xiaoming", **EVERYTHING)
    (exported,) = round_trip(tmp_path, [given], reported=("properties.address",))
    got = read_by_ftm(exported)
    assert exported["id"] == "os-li-xiaoming" and exported["schema"] == "Person"
    # every name, whatever property it came in: the first Latin name is the name, the others
    # aliases (Accord keeps no difference between an alias and a previous name)
    names = {*EVERYTHING["name"], *EVERYTHING["alias"], *EVERYTHING["previousName"]}
    assert got["name"] | got["alias"] == names
    assert got["name"] == {"LI Xiaoming"}
    assert got["weakAlias"] == {"Ah Ming"}
    # every nationality, citizenship read as one
    assert got["nationality"] == {"cn", "hk", "mo"}
    assert got["passportNumber"] == {"K98765432", "H12345678"}
    # identity numbers of three kinds (PRC, Hong Kong, Taiwan), the Hong Kong check digit
    # written without its brackets
    assert got["idNumber"] == {"110105198005010013", "A1234563", "A123456789"}
    assert got["birthPlace"] == {"Guangzhou, Guangdong"}
    assert got["birthDate"] == {"1980-05-01"} and got["gender"] == {"male"}
    # a record holds one address: the second is reported on import, not silently lost
    assert got["address"] == {"12 Nathan Road, Kowloon, Hong Kong"}


def test_a_second_address_is_reported_on_import(tmp_path: Path) -> None:
    given = person("os-1", name=["WANG Fang"], address=["1 A Road", "2 B Road"])
    fields, problems = ftm.entity_fields(given, 1)
    assert fields is not None and fields["address"] == "1 A Road"
    assert [(p.field, p.action) for p in problems] == [("properties.address", "value kept")]


def test_a_span_of_birth_years_goes_out_as_every_year_and_comes_back_a_range(
    tmp_path: Path,
) -> None:
    # FtM's date type holds no "circa" and no range: it drops them when it cleans
    proxy = model.make_entity("Person")
    proxy.add("birthDate", "circa 1970")
    assert proxy.get("birthDate") == []
    circa = {"id": "c1", "schema": "Person", "properties": {"name": ["ZHANG Wei"]}}
    ranged = person("r1", name=["OUYANG Xiu"], birthDate=["1968", "1969", "1970"])
    fields, problems = ftm.entity_fields(ranged, 1)
    assert problems == [] and fields is not None and fields["birth_date"] == "1968 to 1970"
    exported = ftm.entity_of({**circa, "name": "ZHANG Wei", "birth_date": "circa 1970"})
    assert exported["properties"]["birthDate"] == ["1968", "1969", "1970", "1971", "1972"]
    assert read_by_ftm(exported)["birthDate"] == {"1968", "1969", "1970", "1971", "1972"}
    first, second = round_trip(tmp_path, [exported, ranged])
    assert first["properties"]["birthDate"] == ["1968", "1969", "1970", "1971", "1972"]
    assert second["properties"]["birthDate"] == ["1968", "1969", "1970"]


def test_years_that_are_not_a_run_keep_the_first_and_report_the_others() -> None:
    given = person("g1", name=["HUANG Ming"], birthDate=["1970", "1975"])
    fields, problems = ftm.entity_fields(given, 3)
    assert fields is not None and fields["birth_date"] == "1970"
    assert [(p.field, p.action) for p in problems] == [("properties.birthDate", "value kept")]


def test_names_given_only_in_parts_are_read_family_name_first() -> None:
    given = person("p1", firstName=["Xiaoming"], lastName=["Li"], nationality=["cn"])
    fields, problems = ftm.entity_fields(given, 1)
    assert problems == [] and fields is not None
    assert fields["name"] == "LI Xiaoming" and fields["nationality"] == ["cn"]
