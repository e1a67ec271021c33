"""Forms generated from payload schemas parse back into the payloads they were filled with."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from pydantic import BaseModel

from accord.cases.definitions.mla import EvidenceReturn, MlaDetails
from accord.cli.scenarios import ALL
from accord.composition import assemble
from accord.core.errors import InvalidInput
from accord.web.forms import FormField, field_errors, form_fields, parse_form, readable

TYPES = assemble().case_types


class Posted(dict[str, list[str]]):
    def getlist(self, key: str) -> list[str]:
        return self.get(key, [])


def fill(fields: list[FormField], payload: dict[str, Any], prefix: str) -> Posted:
    """What a browser posts after an officer typed `payload` into the fields."""
    posted = Posted()
    for f in fields:
        if f.name not in payload:
            continue
        value = payload[f.name]
        if f.kind == "checkbox":
            posted[prefix + f.name] = ["true"] if value else []
        elif f.kind == "checkboxes":
            posted[prefix + f.name] = list(value)
        elif f.kind == "lines":
            posted[prefix + f.name] = ["\n".join(value)]
        elif f.kind == "countries":
            posted[prefix + f.name] = list(value)
        elif f.kind == "rows":
            posted[f"{prefix}{f.name}.count"] = [str(len(value))]
            for i, row in enumerate(value):
                posted.update(fill(f.columns, row, f"{prefix}{f.name}.{i}."))
        elif f.kind == "json":
            posted[prefix + f.name] = [json.dumps(value, ensure_ascii=False)]
        elif value is not None:
            posted[prefix + f.name] = [str(value)]
    return posted


STEPS = [
    pytest.param(
        sc.opening["case_type"],
        step.action,
        step.payload,
        id=f"{sc.opening['case_type']}-{n}-{step.action}",
    )
    for sc in ALL
    for n, step in enumerate(sc.steps)
]


@pytest.mark.parametrize(("case_type", "action", "payload"), STEPS)
def test_every_scenario_payload_survives_its_form(
    case_type: str, action: str, payload: dict[str, Any]
) -> None:
    model = TYPES.workflow(case_type).action(action).payload
    schema = model.model_json_schema()
    for lang in ("en", "zh"):
        fields = form_fields(schema, lang)
        parsed = parse_form(schema, fill(fields, payload, "f."))
        expected = model.model_validate(payload).model_dump(mode="json")
        assert model.model_validate(parsed).model_dump(mode="json") == expected


@pytest.mark.parametrize("case_type", sorted(TYPES.names))
def test_every_opening_form_survives_a_round_trip(case_type: str) -> None:
    scenario = next(sc for sc in ALL if sc.opening["case_type"] == case_type)
    model = TYPES.workflow(case_type).opening
    schema = model.model_json_schema()
    details = scenario.opening["details"]
    parsed = parse_form(schema, fill(form_fields(schema, "zh"), details, "d."), prefix="d.")
    expected = model.model_validate(details).model_dump(mode="json")
    assert model.model_validate(parsed).model_dump(mode="json") == expected


def test_schema_kinds_become_the_right_inputs() -> None:
    fields = {f.name: f for f in form_fields(MlaDetails.model_json_schema(), "zh")}
    assert fields["assistance"].kind == "checkboxes" and fields["assistance"].required
    assert ("bank_records", "银行记录") in {
        (o.value, o.label) for o in fields["assistance"].options
    }
    assert fields["offence"].kind == "text" and fields["facts"].kind == "textarea"
    assert fields["legal_basis"].hint == "treaty or reciprocity"
    evidence = {f.name: f for f in form_fields(EvidenceReturn.model_json_schema(), "en")}
    assert evidence["items"].kind == "rows"
    assert [c.name for c in evidence["items"].columns][:2] == ["description", "sha256"]
    kinds = {
        f.kind
        for wf in (t.workflow for t in TYPES)
        for a in wf.actions
        for f in form_fields(a.payload.model_json_schema(), "en")
    }
    assert {"checkbox", "select", "date", "textarea", "lines", "json", "rows"} <= kinds


class Sample(BaseModel):
    count: int
    ratio: float | None = None
    on: date
    names: list[str] = []


def test_numbers_dates_and_lists_of_text() -> None:
    schema = Sample.model_json_schema()
    fields = {f.name: f for f in form_fields(schema, "en")}
    assert [fields[n].kind for n in ("count", "ratio", "on", "names")] == [
        "number", "number", "date", "lines",
    ]  # fmt: skip
    posted = Posted(
        {"f.count": ["12"], "f.ratio": [""], "f.on": ["2026-03-01"], "f.names": ["a\n\n b "]}
    )
    parsed = parse_form(schema, posted)
    assert Sample.model_validate(parsed) == Sample(count=12, on=date(2026, 3, 1), names=["a", "b"])


def test_unchecked_box_is_false_and_empty_optional_inputs_are_left_out() -> None:
    schema = TYPES.workflow("mla").action("close").payload.model_json_schema()
    assert parse_form(schema, Posted({"f.note": [" "]})) == {"satisfied": False}


def test_bad_json_is_an_input_error_not_a_crash() -> None:
    schema = TYPES.workflow("intel").opening.model_json_schema()
    with pytest.raises(InvalidInput) as refused:
        parse_form(schema, Posted({"f.subjects": ["[{oops"], "f.summary": ["x"]}))
    by_field, _ = field_errors(refused.value)
    assert "subjects" in by_field


def test_payloads_are_shown_with_labels() -> None:
    schema = TYPES.workflow("mla").action("refuse").payload.model_json_schema()
    shown = readable(
        schema,
        {"grounds": ["political_offence", "no_dual_criminality"], "explanation": "x"},
        "zh",
        lambda text: text,
    )
    assert shown[0].label == "Grounds" and shown[0].text == "政治犯罪、不符合双重犯罪原则"


def test_a_case_types_form_metadata_labels_its_fields_in_both_languages() -> None:
    fugitive = TYPES.get("fugitive")
    schema = fugitive.workflow.opening.model_json_schema()
    zh = {f.name: f.label for f in form_fields(schema, "zh", meta=fugitive.fields)}
    en = {f.name: f.label for f in form_fields(schema, "en", meta=fugitive.fields)}
    assert zh["name_native"] == "本国文字姓名" and en["name_native"] == "Name in its own script"
    # a field the type says nothing of keeps the label made from its name
    assert en["forename"] == "Forename"
    removal = TYPES.get("removal")
    payload = removal.workflow.action("confirm_identity").payload.model_json_schema()
    fields = {f.name: f for f in form_fields(payload, "zh", meta=removal.fields)}
    assert fields["person_id"].label == "批次中的人员编号"


def test_repeatable_rows_leave_out_empty_and_removed_rows_and_keep_their_order() -> None:
    removal = TYPES.get("removal")
    schema = removal.workflow.opening.model_json_schema()
    persons = {f.name: f for f in form_fields(schema, "zh", meta=removal.fields)}["persons"]
    assert persons.kind == "rows" and len(persons.rows) == 2  # two empty rows to fill
    columns = {c.name: c for c in persons.columns}
    assert columns["sex"].kind == "select" and [o.label for o in columns["sex"].options] == [
        "男", "女", "不详",
    ]  # fmt: skip
    assert columns["nationality"].kind == "country"
    assert ("CN", "中国 (CN)") in {(o.value, o.label) for o in columns["nationality"].options}
    assert (
        columns["birth_date"].kind == "partial_date" and columns["birth_date"].label == "出生日期"
    )
    posted = Posted(
        {
            "d.persons.count": ["4"],
            "d.persons.0.person_id": ["P1"],
            "d.persons.0.name": ["LI Wei"],
            "d.persons.1.person_id": ["P2"],
            "d.persons.1.name": ["WU Ming"],
            "d.persons.1._remove": ["true"],
            "d.persons.2.person_id": [" "],
            "d.persons.3.person_id": ["P3"],
            "d.persons.3.name": ["ZHANG San"],
            "d.persons.3.sex": ["F"],
        }
    )
    parsed = parse_form(schema, posted, prefix="d.")
    assert [p["person_id"] for p in parsed["persons"]] == ["P1", "P3"]
    assert parsed["persons"][1]["sex"] == "F"
    shown = {f.name: f for f in form_fields(schema, "en", posted=posted, prefix="d.")}
    kept = shown["persons"].rows
    assert [r[0].value for r in kept] == ["P1", " ", "P3", "", ""]  # the removed row is gone


def test_a_hostile_row_count_reads_no_more_than_the_limit() -> None:
    schema = TYPES.workflow("removal").opening.model_json_schema()
    for count in ("-5", "nine", "99999999999"):
        parsed = parse_form(schema, Posted({"d.persons.count": [count]}), prefix="d.")
        assert parsed == {"persons": []}  # none: the model says "add at least one"


def test_an_empty_row_whose_select_shows_its_default_is_left_out() -> None:
    schema = EvidenceReturn.model_json_schema()
    posted = Posted(
        {
            "f.items.count": ["2"],
            "f.items.0.description": ["Statements of account"],
            "f.items.0.handling_code": ["H1"],
            "f.items.1.handling_code": ["H0"],  # the default the empty row's select shows
        }
    )
    assert parse_form(schema, posted)["items"] == [
        {"description": "Statements of account", "handling_code": "H1"}
    ]
