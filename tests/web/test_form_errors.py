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


def test_a_form_shows_each_message_beside_its_top_field_with_the_row_it_is_about() -> None:
    problems = _problems()
    by_field, general = field_errors(
        InvalidInput("invalid", detail={"errors": problems.text}, problems=problems)
    )
    assert by_field == {
        "items": "row 1, Name: Too long: shorten it to at most 200 characters. "
        "row 2: Required: fill this in."
    }
    assert general == ["Not accepted: count does not match"]


def test_the_same_problems_read_in_chinese() -> None:
    by_field, general = field_errors(InvalidInput("invalid", problems=_problems()), "zh")
    assert "200" in by_field["items"] and "第 1 行" in by_field["items"]
    assert "Too long" not in by_field["items"] and "Required" not in by_field["items"]
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
