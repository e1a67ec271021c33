"""What a validation found wrong: one problem per pydantic error (path, type, message, ctx), and
the "where: message; where: message" text every refusal carries."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, Field, ValidationError, model_validator

from accord.core.errors import validation_problems


class Item(BaseModel):
    name: str = Field(max_length=3)


class Order(BaseModel):
    reference: str
    items: list[Item]
    count: int = 0

    @model_validator(mode="after")
    def counted(self) -> Order:
        if self.count and self.count != len(self.items):
            raise ValueError("count does not match the items; check both")
        return self


def refusal(data: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        Order.model_validate(data)
    return refused.value


def test_each_error_becomes_a_problem_with_its_path_type_message_and_parameters() -> None:
    problems = validation_problems(refusal({"items": [{"name": "long"}]}))
    assert [(p.path, p.type) for p in problems] == [
        (("reference",), "missing"),
        (("items", 0, "name"), "string_too_long"),
    ]
    assert problems.items[1].ctx == {"max_length": 3}
    assert problems.text == (
        "reference: Field required; items.0.name: String should have at most 3 characters"
    )


def test_the_text_is_the_one_every_refusal_gave_before() -> None:
    error = refusal({"reference": "R", "items": [{"name": "long"}, {}], "count": "x"})
    before = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in error.errors()
    )
    assert validation_problems(error).text == before
    assert validation_problems(error.errors()).text == before


def test_an_error_of_the_whole_input_is_at_the_root() -> None:
    problems = validation_problems(refusal({"reference": "R", "items": [], "count": 2}))
    assert [p.path for p in problems] == [()]
    assert problems.text == "(root): Value error, count does not match the items; check both"


def test_the_part_of_the_request_can_be_left_out_of_the_path() -> None:
    errors = [{"type": "int_parsing", "loc": ("query", "before"), "msg": "Input should be…"}]
    assert validation_problems(errors, skip=1).text == "before: Input should be…"
    assert validation_problems(errors).text == "query.before: Input should be…"
