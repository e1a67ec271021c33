"""A refused form sends each problem back beside its field, the rest above the form."""

from __future__ import annotations

from accord.core.errors import InvalidInput, Problem, Problems
from accord.web.forms import field_errors


def test_a_form_shows_each_message_beside_its_field_even_with_a_semicolon_in_it() -> None:
    problems = Problems(
        (
            Problem(("items", 0, "name"), "string_too_long", "too long; shorten it"),
            Problem(("items", 1), "missing", "Field required"),
            Problem((), "value_error", "count does not match"),
        )
    )
    by_field, general = field_errors(
        InvalidInput("invalid", detail={"errors": problems.text}, problems=problems)
    )
    assert by_field == {"items": "too long; shorten it; Field required"}
    assert general == ["count does not match"]


def test_an_error_made_by_hand_names_its_field_in_its_text() -> None:
    error = InvalidInput("area: choose one", detail={"errors": "area: choose one of the listed"})
    assert field_errors(error) == ({"area": "choose one of the listed"}, [])
