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
from accord.identity.names.normalise import has_han
from accord.identity.records import PersonRecord, RowProblem, person_from_row, text_lines

SCHEMA = "Person"

# FtM property -> record field, for the properties that carry one value in a record.
SINGLE = {
    "birthDate": "birth_date",
    "gender": "sex",
    "nationality": "nationality",
    "idNumber": "id_number",
    "passportNumber": "passport_number",
}
_NAMES = ("name", "alias", "firstName", "middleName", "lastName")
_FALLBACK = {"nationality": "citizenship"}  # read when the first is absent
_PROPERTY_OF = {field: f"properties.{prop}" for prop, field in SINGLE.items()}
_PROPERTY_OF["name"] = "properties.name"
_PROPERTY_OF["name_native"] = "properties.name"

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
    fields: dict[str, object] = {"id": record_id, "name": primary, "name_native": native}
    for prop, field in SINGLE.items():
        found = values(prop)
        if not found and prop in _FALLBACK:
            found = values(_FALLBACK[prop])
        if not found:
            continue
        if len(set(found)) > 1:
            problems.append(
                RowProblem(
                    line,
                    record_id,
                    f"properties.{prop}",
                    f"line {line}: properties.{prop} has {len(set(found))} values; a record "
                    f"holds one, the first ({found[0]}) is kept",
                    "value kept",
                )
            )
        fields[field] = _value_in(prop, found[0], line, record_id, problems)
    return fields, problems


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
    if prop == "nationality":
        return value.upper()
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
    """An FtM Person entity from a record's fields (empty fields left out)."""

    def text(field: str) -> str:
        value = fields.get(field)
        return str(value).strip() if value is not None else ""

    properties: dict[str, list[str]] = {"name": [text("name")]}
    native = text("name_native")
    if native and native != text("name"):
        properties["alias"] = [native]
    for prop, field in SINGLE.items():
        value = text(field)
        if prop == "gender":
            value = _GENDER_OUT.get(value, "")
        elif prop == "nationality":
            value = value.lower()
        if value:
            properties[prop] = [value]
    return {"id": text("id"), "schema": SCHEMA, "properties": properties}
