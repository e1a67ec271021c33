"""A refused form sends each problem back beside its field, the rest above the form, each in
the officer's language and saying what to do."""

from __future__ import annotations

from accord.core.errors import InvalidInput, Problem, Problems
from accord.web.forms import field_errors


def _problems() -> Problems:
    return Problems(
        (
            Problem(("items", 0, "name"), "string_too_long", "too long", {"max_length": 200}),
            Problem(("items", 1), "missing", "Field required"),
            Problem((), "value_error", "Value error, count does not match"),
        )
    )


def test_a_form_shows_each_message_beside_its_row_and_cell() -> None:
    problems = _problems()
    by_field, general = field_errors(
        InvalidInput("invalid", detail={"errors": problems.text}, problems=problems)
    )
    assert by_field == {
        "items.0.name": "Too long: shorten it to at most 200 characters.",
        "items.1": "Required: fill this in.",
    }  # by the payload's row: the form puts it beside the row the officer typed it in
    assert general == ["Not accepted: count does not match"]


def test_the_same_problems_read_in_chinese() -> None:
    by_field, general = field_errors(InvalidInput("invalid", problems=_problems()), "zh")
    assert "200" in by_field["items.0.name"] and "Too long" not in by_field["items.0.name"]
    assert "Required" not in by_field["items.1"]
    assert general[0].startswith("不予接受")


def test_two_dates_out_of_order_are_shown_beside_the_later_one() -> None:
    problem = Problem(
        (), "date_order", "x", {"earlier": "observed_from", "later": "observed_until"}
    )
    by_field, general = field_errors(InvalidInput("invalid", problems=Problems((problem,))))
    assert by_field == {
        "observed_until": "Observed until is before Observed from: put them in order."
    }
    assert general == []


def test_an_error_made_by_hand_names_its_field_in_its_text() -> None:
    error = InvalidInput("area: choose one", detail={"errors": "area: choose one of the listed"})
    assert field_errors(error) == ({"area": "choose one of the listed"}, [])
