"""FollowTheMoney `Person` entities (JSON lines) to and from person records: strict about the
entity's shape, each problem named by line and property, a bad line never stopping the file.

The mapping is written by hand rather than through the `followthemoney` library: a dozen
properties do not justify its seventeen dependencies (rigour, rdflib, networkx, openpyxl …).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from accord.core import jsontext
from accord.core.errors import InvalidInput
from accord.identity.dates import parse_partial_date
from accord.identity.names.normalise import has_han
from accord.identity.records import PersonRecord, RowProblem, person_from_row, text_lines

SCHEMA = "Person"

# FtM property -> record field. Every value is kept: the first is the record's, the others
# (a second nationality, passport or identity number) are held beside it.
SINGLE = {
    "birthDate": "birth_date",
    "gender": "sex",
    "nationality": "nationality",
    "idNumber": "id_number",
    "passportNumber": "passport_number",
    "birthPlace": "birth_place",
    "address": "address",
}
MANY = ("nationality", "idNumber", "passportNumber")  # a record holds several of these
_NAMES = ("name", "alias", "weakAlias", "previousName", "firstName", "middleName", "lastName")
_FALLBACK = {"nationality": "citizenship"}  # read with the first
_PROPERTY_OF = {field: f"properties.{prop}" for prop, field in SINGLE.items()}
_PROPERTY_OF["name"] = "properties.name"
_PROPERTY_OF["name_native"] = "properties.name"
_PROPERTY_OF["aliases"] = "properties.alias"
_PROPERTY_OF["weak_aliases"] = "properties.weakAlias"

_GENDER_IN = {"male": "M", "female": "F", "other": ""}
_GENDER_OUT = {"M": "male", "F": "female"}
_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})T[\d:.]+Z?")


def _skip(line: int, record_id: str, field: str, message: str) -> RowProblem:
    return RowProblem(line, record_id, field, f"line {line}: {message}", "row skipped")


def entity_fields(entity: object, line: int) -> tuple[dict[str, object] | None, list[RowProblem]]:
    """The record fields of one FtM entity, or None (with the reason) when the line cannot
    give a person. Values are not checked here beyond their shape: `person_from_row` does."""
    if not isinstance(entity, dict):
        return None, [_skip(line, "", "", "expected a JSON object (a FollowTheMoney entity)")]
    raw_id = entity.get("id")
    record_id = raw_id.strip() if isinstance(raw_id, str) else ""
    if not record_id:
        return None, [_skip(line, "", "id", "`id` is missing or not a string")]
    schema = entity.get("schema")
    if schema != SCHEMA:
        return None, [
            _skip(
                line,
                record_id,
                "schema",
                f"schema {schema!r} is not Person; only Person entities are imported",
            )
        ]
    properties = entity.get("properties")
    if not isinstance(properties, dict):
        return None, [_skip(line, record_id, "properties", "`properties` is not a JSON object")]

    problems: list[RowProblem] = []

    def values(prop: str) -> list[str]:
        value = properties.get(prop)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(
                RowProblem(
                    line,
                    record_id,
                    f"properties.{prop}",
                    f"line {line}: properties.{prop} must be a list of strings; left out",
                    "value ignored",
                )
            )
            return []
        return [v.strip() for v in value if v.strip()]

    names, aliases = values("name"), values("alias")
    weak, previous = values("weakAlias"), values("previousName")
    if not names:
        last, first = values("lastName"), values("firstName")
        middle = values("middleName")
        if last or first:
            # The family name in capitals: the name layer reads it as the surname (ZHANG Wei).
            names = [" ".join([*(n.upper() for n in last[:1]), *first[:1], *middle[:1]])]
    if not names:
        return None, [*problems, _skip(line, record_id, "properties.name", "no name")]
    latin = [n for n in names if not has_han(n)]
    primary = latin[0] if latin else names[0]
    native = next((n for n in (*names, *aliases) if has_han(n) and n != primary), "")
    # Every other name is an alias (other spellings of `name`, `alias`, `previousName`, the
    # other values in characters); `weakAlias` a weak one.
    others = [n for n in (*names, *aliases, *previous) if n not in (primary, native)]
    fields: dict[str, object] = {
        "id": record_id,
        "name": primary,
        "name_native": native,
        "aliases": list(dict.fromkeys(others)),
        "weak_aliases": [n for n in dict.fromkeys(weak) if n not in (primary, native)],
    }
    for prop, field in SINGLE.items():
        found = values(prop)
        if prop in _FALLBACK:
            found += [v for v in values(_FALLBACK[prop]) if v not in found]
        if not found:
            continue
        distinct = list(dict.fromkeys(found))
        if prop == "birthDate" and (span := _years_as_span(distinct)):
            fields[field] = span
            continue
        if prop not in MANY and len(distinct) > 1:
            problems.append(
                RowProblem(
                    line,
                    record_id,
                    f"properties.{prop}",
                    f"line {line}: properties.{prop} has {len(distinct)} values; a record "
                    f"holds one, the first ({distinct[0]}) is kept",
                    "value kept",
                )
            )
            distinct = distinct[:1]
        checked = [_value_in(prop, v, line, record_id, problems) for v in distinct]
        fields[field] = checked if prop in MANY else checked[0]
    return fields, problems


def _years_as_span(values: list[str]) -> str | None:
    """Several birth years in a row (1968, 1969, 1970), as lists publish a range or a "circa"
    in FtM's `birthDate`: the range they make (`1968 to 1970`), or None."""
    if len(values) < 2 or not all(re.fullmatch(r"\d{4}", v) for v in values):
        return None
    years = sorted(int(v) for v in values)
    if years != list(range(years[0], years[-1] + 1)):
        return None
    return f"{years[0]} to {years[-1]}"


def _birth_dates_out(written: str) -> list[str]:
    """A record's date of birth as FtM's `birthDate` holds it: a date, or for a span (circa
    1970, 1968 to 1970), which FtM's date type cannot hold, every year it allows."""
    try:
        born = parse_partial_date(written)
    except InvalidInput:
        return [written]
    if not born.is_span:
        return [str(born)]
    first, last = born.years
    return [f"{year:04d}" for year in range(first, last + 1)]


def _value_in(prop: str, value: str, line: int, record_id: str, problems: list[RowProblem]) -> str:
    if prop == "gender":
        if value.casefold() in _GENDER_IN:
            return _GENDER_IN[value.casefold()]
        problems.append(
            RowProblem(
                line,
                record_id,
                "properties.gender",
                f"line {line}: gender {value!r} is not male, female or other; left out",
                "value ignored",
            )
        )
        return ""
    if prop == "birthDate":
        stamp = _DATE_TIME.fullmatch(value)
        return stamp.group(1) if stamp else value
    return value


def in_ftm_terms(problem: RowProblem) -> RowProblem:
    """A record-level problem named by the entity's property and line."""
    message = problem.message
    prefix = f"row {problem.row}:"
    if message.startswith(prefix):
        message = f"line {problem.row}:" + message[len(prefix) :]
    field = _PROPERTY_OF.get(problem.field, problem.field)
    return RowProblem(problem.row, problem.record_id, field, message, problem.action)


def read_entities(
    path: Path,
) -> Iterator[tuple[int, dict[str, object] | None, list[RowProblem]]]:
    """(line number, record fields or None, problems) for each non-blank line of a JSON lines
    file of FtM entities."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    for line, text in text_lines(path):
        if text is None:
            yield line, None, [_skip(line, "", "", "not UTF-8 text")]
            continue
        if not text.strip():
            continue
        try:
            entity: Any = jsontext.loads(text)
        except json.JSONDecodeError as exc:
            yield (
                line,
                None,
                [_skip(line, "", "", f"not JSON ({exc.msg} at column {exc.colno})")],
            )
            continue
        fields, problems = entity_fields(entity, line)
        yield line, fields, problems


def read_records(
    path: Path, source: str, problems: list[tuple[str, RowProblem]]
) -> Iterator[PersonRecord]:
    """The file's Person records; each problem is appended to `problems` with `source`."""
    for line, fields, found in read_entities(path):
        problems.extend((source, p) for p in found)
        if fields is None:
            continue
        record, checked = person_from_row(fields, line)
        problems.extend((source, in_ftm_terms(p)) for p in checked)
        if record is not None:
            yield record


def entity_of(fields: Mapping[str, object]) -> dict[str, object]:
    """An FtM Person entity from a record's fields (empty fields left out; a list field, or
    aliases as stored, gives each of its values)."""

    def texts(field: str) -> list[str]:
        value = fields.get(field)
        items = value if isinstance(value, list) else [value]
        found = []
        for item in items:
            if isinstance(item, dict):  # an alias as the node stores it
                item = item.get("name")
            if item is not None and str(item).strip():
                found.append(str(item).strip())
        return found

    name = (texts("name") or [""])[0]
    properties: dict[str, list[str]] = {"name": [name]}
    stored = fields.get("aliases")
    listed = [a for a in stored if isinstance(a, dict)] if isinstance(stored, list) else []
    strong = [a["name"] for a in listed if not a.get("weak")] + [
        a for a in texts("aliases") if a not in {x["name"] for x in listed}
    ]
    weak = [a["name"] for a in listed if a.get("weak")] + texts("weak_aliases")
    native = (texts("name_native") or [""])[0]
    alias = ([native] if native and native != name else []) + strong
    alias += [a.get("name_native") for a in listed if a.get("name_native")]
    if alias:
        properties["alias"] = list(dict.fromkeys(str(a) for a in alias))
    if weak:
        properties["weakAlias"] = list(dict.fromkeys(weak))
    for prop, field in SINGLE.items():
        values = texts(field)
        if prop == "gender":
            values = [v for v in (_GENDER_OUT.get(v, "") for v in values) if v]
        elif prop == "birthDate":
            values = [d for v in values for d in _birth_dates_out(v)]
        elif prop == "nationality":
            values = [v.lower() for v in values]
        elif prop == "passportNumber":
            # FtM's passportNumber is the number; the issuer written with it is left out
            values = [_PASSPORT_ISSUER.sub("", v) for v in values]
        if values:
            properties[prop] = values
    return {"id": (texts("id") or [""])[0], "schema": SCHEMA, "properties": properties}


_PASSPORT_ISSUER = re.compile(r"\s*\([A-Z]{2}\)$")
