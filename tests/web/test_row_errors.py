"""An error in one cell of repeatable rows stands beside that cell, in the row the officer typed
it in (empty rows in between do not shift it), in both languages, with every row kept."""

from __future__ import annotations

import re

import pytest

from accord.cases import service
from tests.web.conftest import Web, csrf_of

WORDS = {
    "en": ("Wang", "row 3, Date of birth: ", "Not a real date"),
    "zh": ("wang", "第 3 行，出生日期：", "不是真实的日期"),
}


def cell_error(html: str, cell: str) -> str:
    found = re.search(rf'<p class="error" id="{cell}-error">([^<]*)</p>', html)
    assert found, f"no error beside {cell}"
    return found.group(1)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_wrong_birth_date_in_row_3_is_shown_beside_its_cell(web: Web, lang: str) -> None:
    _username, summary, not_a_date = WORDS[lang]
    client = web.client()
    web.sign_in(client, "smith" if lang == "en" else "wang", lang=lang)
    page = client.get("/cases/new?type=removal")
    answer = client.post(
        "/cases/new?type=removal",
        data={
            "csrf_token": csrf_of(page.text),
            "peer": "CN-MOJ",
            "area": "immigration",
            "title": "Batch of two",
            "d.persons.count": "3",
            "d.persons.0.person_id": "P1",
            "d.persons.0.name": "LI Wei",
            "d.persons.0.birth_date": "1990-02-28",
            # row 2 left empty: the payload's second person is the form's third row
            "d.persons.2.person_id": "P3",
            "d.persons.2.name": "ZHANG San",
            "d.persons.2.birth_date": "1990-13-45",
        },
    )
    assert answer.status_code == 422
    html = answer.text
    beside = cell_error(html, "new-d-persons-2-birth_date")
    assert beside.startswith(not_a_date)  # beside its cell: the message alone
    assert re.search(
        r'<input type="text" id="new-d-persons-2-birth_date" name="d.persons.2.birth_date" '
        r'value="1990-13-45"[^>]*aria-invalid="true" aria-describedby="new-d-persons-2-'
        r'birth_date-error"',
        html,
    )
    assert 'id="new-d-persons-1-birth_date-error"' not in html  # the empty row: nothing
    assert 'id="new-d-persons-0-birth_date-error"' not in html
    table_summary = html.split('id="new-d-persons-error">')[1].split("</p>")[0]
    assert table_summary.startswith(summary)  # the row as shown, not the payload's row 2
    for name, value in (
        ("d.persons.0.person_id", "P1"),
        ("d.persons.0.birth_date", "1990-02-28"),
        ("d.persons.2.name", "ZHANG San"),
    ):
        assert re.search(rf'name="{re.escape(name)}" value="{value}"', html)
    assert re.search(r'name="d.persons.1.person_id" value=""', html)  # the empty row kept
    with web.us.runtime.reading() as session:
        cases, _ = service.list_cases(session, case_type="removal")
    assert cases == []


def test_a_removed_row_does_not_shift_the_error_either(web: Web) -> None:
    client = web.client()
    web.sign_in(client, "smith", lang="en")
    page = client.get("/cases/new?type=removal")
    answer = client.post(
        "/cases/new?type=removal",
        data={
            "csrf_token": csrf_of(page.text),
            "peer": "CN-MOJ",
            "area": "immigration",
            "title": "Batch",
            "d.persons.count": "3",
            "d.persons.0.person_id": "P1",
            "d.persons.0.name": "LI Wei",
            "d.persons.0._remove": "true",
            "d.persons.1.person_id": "P2",
            "d.persons.1.name": "WU Ming",
            "d.persons.1.birth_date": "1990-02-30",
        },
    )
    assert answer.status_code == 422
    # the removed row is gone and the rows are numbered again: WU Ming's is the first
    assert re.search(r'name="d.persons.0.person_id" value="P2"', answer.text)
    assert 'value="P1"' not in answer.text
    assert "Not a real date" in cell_error(answer.text, "new-d-persons-0-birth_date")
    summary = answer.text.split('id="new-d-persons-error">')[1].split("</p>")[0]
    assert summary.startswith("row 1, Date of birth: ")
