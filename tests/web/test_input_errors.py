"""Every form of the web UI, driven with empty, too long, wrong type, impossible date and
hostile values: a 4xx page in the officer's language naming the field and what to do, the form
kept as typed, never a 500 and never a developer's message."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from accord.cases import service
from accord.composition import assemble
from accord.core.errors import InvalidInput
from accord.web.forms import form_fields
from tests.web.conftest import Web, csrf_of

TYPES = assemble().case_types
OPENED_IN_NEW_CASE = [t.name for t in TYPES if t.name != "round"]
DEVELOPER_TEXT = (
    "Field required",
    "String should",
    "Input should",
    "Value error",
    "List should",
    "should match pattern",
    "Traceback",
    "internal_error",
    "may not case:",
    "`accord ",
)


def _no_developer_text(html: str) -> None:
    for text in DEVELOPER_TEXT:
        assert text not in html, text


def _signed_in(web: Web, username: str = "wang", lang: str = "zh") -> TestClient:
    client = web.client()
    web.sign_in(client, username, lang=lang)
    return client


def _wrong_values(case_type: str) -> dict[str, Any]:
    """A wrong value for every detail field of the type's opening form."""
    fields = form_fields(TYPES.workflow(case_type).opening.model_json_schema(), "en")
    posted: dict[str, Any] = {}
    for f in fields:
        name = "d." + f.name
        if f.kind == "number":
            posted[name] = "twelve"
        elif f.kind == "date":
            posted[name] = "1990-13-45"
        elif f.kind == "datetime":
            posted[name] = "2026-02-30T10:00"
        elif f.kind == "json":
            posted[name] = '{"not": json'
        elif f.kind == "rows":
            posted[name + ".count"] = "99999999999"
            for c in f.columns:
                posted[f"{name}.0.{c.name}"] = "\x00<b>" if c.kind != "number" else "NaN?"
        elif f.kind in ("select", "checkboxes"):
            posted[name] = "no-such-choice"
        elif f.kind == "checkbox":
            posted[name] = "true"
        else:
            posted[name] = "x" * 30000
    return posted


@pytest.mark.parametrize("case_type", OPENED_IN_NEW_CASE)
def test_an_empty_new_case_form_is_refused_in_chinese_field_by_field(
    web: Web, case_type: str
) -> None:
    client = _signed_in(web)
    page = client.get(f"/cases/new?type={case_type}")
    answer = client.post(f"/cases/new?type={case_type}", data={"csrf_token": csrf_of(page.text)})
    assert answer.status_code == 422
    assert 'id="new-title-error"' in answer.text  # the title's problem, with the details'
    assert "必填：请填写此项。" in answer.text
    for f in form_fields(TYPES.workflow(case_type).opening.model_json_schema(), "en"):
        if f.required:
            assert f'id="new-d-{f.name}-error"' in answer.text, f.name
    _no_developer_text(answer.text)


@pytest.mark.parametrize("case_type", OPENED_IN_NEW_CASE)
def test_wrong_values_in_every_field_are_refused_with_the_form_kept(
    web: Web, case_type: str
) -> None:
    client = _signed_in(web)
    page = client.get(f"/cases/new?type={case_type}")
    title = "<script>alert('x')</script> 行动"
    answer = client.post(
        f"/cases/new?type={case_type}",
        data={
            "csrf_token": csrf_of(page.text),
            "peer": "CN-MOJ",
            "area": "not-an-area",
            "priority": "whenever",
            "handling_code": "H9",
            "title": title,
            **_wrong_values(case_type),
        },
    )
    assert 400 <= answer.status_code < 500
    assert "<script>alert" not in answer.text  # shown escaped, never run
    assert "&lt;script&gt;alert" in answer.text  # and kept as typed
    assert "请从列出的选项中选择一项。" in answer.text  # area, priority, handling code
    _no_developer_text(answer.text)


def test_a_title_too_long_or_with_a_nul_is_refused_beside_the_title(web: Web) -> None:
    client = _signed_in(web)
    page = client.get("/cases/new?type=mla")
    base = {
        "csrf_token": csrf_of(page.text),
        "peer": "CN-MOJ",
        "area": "judicial_assistance",
        "d.assistance": "bank_records",
        "d.offence": "Fraud",
    }
    long = client.post("/cases/new?type=mla", data={**base, "title": "长" * 501})
    assert long.status_code == 422
    error = long.text.split('id="new-title-error">')[1].split("</p>")[0]
    assert error == "太长：请缩短到最多 500 个字符。"
    nul = client.post("/cases/new?type=mla", data={**base, "title": "Fraud\x00ring"})
    assert nul.status_code == 422 and "文字中含有 NUL 字符：请删除。" in nul.text
    _no_developer_text(nul.text)


@pytest.mark.parametrize(
    ("birth_date", "message"),
    [
        ("1990-13-45", "不是真实的日期"),
        ("1990-02-30", "不是真实的日期"),
        ("2990-01-01", "不是可信的出生日期"),
        ("13/45/1990", "格式不符"),
    ],
)
def test_an_impossible_birth_date_in_a_removal_batch_is_refused_before_it_is_sent(
    web: Web, birth_date: str, message: str
) -> None:
    client = _signed_in(web)
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
            "d.persons.0.birth_date": birth_date,
        },
    )
    assert answer.status_code == 422
    error = answer.text.split('id="new-d-persons-error">')[1].split("</p>")[0]
    assert error.startswith("第 1 行，出生日期：") and message in error
    assert f'value="{birth_date}"' in answer.text  # kept in its row
    with web.us.runtime.reading() as session:
        cases, _ = service.list_cases(session, case_type="removal")
    assert cases == []  # nothing opened, nothing sent


def test_observed_until_before_observed_from_is_refused_beside_observed_until(web: Web) -> None:
    client = _signed_in(web, "smith", "en")
    page = client.get("/cases/new?type=cyber")
    answer = client.post(
        "/cases/new?type=cyber",
        data={
            "csrf_token": csrf_of(page.text),
            "peer": "CN-MOJ",
            "area": "cybercrime",
            "title": "Botnet",
            "d.activity": "ddos",
            "d.description": "A DDoS from the peer's address space",
            "d.measures_requested": "investigation",
            "d.observed_from": "2026-03-02T10:00",
            "d.observed_until": "2026-03-01T10:00",
        },
    )
    assert answer.status_code == 422, answer.text
    error = answer.text.split('id="new-d-observed_until-error">')[1].split("</p>")[0]
    assert "is before" in error and "put them in order" in error
    assert 'value="2026-03-02T10:00"' in answer.text  # kept as typed


def test_the_schemas_refuse_impossible_values_for_the_api_too() -> None:
    removal = TYPES.workflow("removal")
    for bad in ("1990-13-45", "1990-02-30", "1990-00"):
        with pytest.raises(InvalidInput) as refused:
            removal.validate_opening(
                {"persons": [{"person_id": "P1", "name": "LI Wei", "birth_date": bad}]}
            )
        assert [p.type for p in refused.value.problems] == ["partial_date"]
        assert refused.value.problems.items[0].path == ("persons", 0, "birth_date")
    assert removal.validate_opening(
        {"persons": [{"person_id": "P1", "name": "LI Wei", "birth_date": "1990-02"}]}
    )
    with pytest.raises(InvalidInput) as refused:
        removal.validate_opening(
            {"persons": [{"person_id": "P1", "name": "L", "nationality": "中国"}]}
        )
    assert refused.value.problems.items[0].type == "country_code"
    cyber = TYPES.workflow("cyber")
    with pytest.raises(InvalidInput) as refused:
        cyber.validate_opening(
            {
                "activity": ["ddos"],
                "description": "d",
                "measures_requested": ["investigation"],
                "observed_from": "2026-03-02T10:00:00Z",
                "observed_until": "2026-03-01T10:00:00Z",
            }
        )
    assert refused.value.problems.items[0].type == "date_order"


def test_a_refused_action_is_translated_and_a_reload_lands_on_the_case(web: Web) -> None:
    client = _signed_in(web, "smith", "zh")
    page = client.get(f"/cases/{web.reference}")
    assert f'action="/cases/{web.reference}"' in page.text  # forms post to the case's address
    answer = client.post(
        f"/cases/{web.reference}",
        data={"action": "withdraw", "withdraw.reason": " ", "csrf_token": csrf_of(page.text)},
    )
    assert answer.status_code == 422 and answer.url.path == f"/cases/{web.reference}"
    assert "必填" in answer.text or "太短" in answer.text
    _no_developer_text(answer.text)
    wrong_state = client.post(
        f"/cases/{web.reference}",
        data={"action": "close", "csrf_token": csrf_of(page.text)},
    )
    assert wrong_state.status_code in (404, 409, 422)
    _no_developer_text(wrong_state.text)
    reload = client.get(f"/cases/{web.reference}/act", follow_redirects=False)
    assert reload.status_code == 303 and reload.headers["location"] == f"/cases/{web.reference}"


def test_error_pages_keep_the_layout_and_the_language(web: Web) -> None:
    client = _signed_in(web, "wang", "zh")
    html = {"accept": "text/html"}
    unknown = client.get("/no/such/page", headers=html)
    assert unknown.status_code == 404 and "<nav" in unknown.text and "工作台" in unknown.text
    assert "此页面不存在" in unknown.text
    missing = client.get("/cases/MLA-US-2026-999999", headers=html)
    assert missing.status_code == 404 and "<nav" in missing.text
    assert "accord case list" not in missing.text and "本节点没有案件" in missing.text
    method = client.put("/cases", headers=html)
    assert method.status_code == 405 and "<nav" in method.text
    api = client.get("/api/v1/no-such-thing", headers={"accept": "application/json"})
    assert api.status_code == 404 and api.json()["error"] == "not_found"

    auditor = _signed_in(web, "audrey", "en")
    refused = auditor.get(f"/cases/{web.reference}", headers=html)
    assert refused.status_code == 403 and "<nav" in refused.text
    assert "may not" not in refused.text and "case:read" not in refused.text
    assert "Your role does not allow this" in refused.text


def test_withdrawing_asks_for_confirmation_and_is_not_the_panel_open_by_default(
    web: Web,
) -> None:
    client = _signed_in(web, "smith", "en")
    page = client.get(f"/cases/{web.reference}")
    withdraw = page.text.split('data-action="withdraw"')[0].rsplit("<details", 1)[1]
    assert "open" not in withdraw.split(">")[0]  # the next step is open, not the withdrawal
    form = {"action": "withdraw", "withdraw.reason": "Resolved locally"}
    unconfirmed = client.post(
        f"/cases/{web.reference}", data={**form, "csrf_token": csrf_of(page.text)}
    )
    assert unconfirmed.status_code == 422
    assert "Tick the box to confirm: this step cannot be undone." in unconfirmed.text
    assert ">Resolved locally</textarea>" in unconfirmed.text
    with web.us.runtime.reading() as session:
        assert service.get_case(session, reference=web.reference).state == "draft"
    confirmed = client.post(
        f"/cases/{web.reference}",
        data={**form, "withdraw._confirm": "true", "csrf_token": csrf_of(page.text)},
    )
    assert confirmed.status_code == 200
    with web.us.runtime.reading() as session:
        assert service.get_case(session, reference=web.reference).state == "withdrawn"


def test_a_form_sent_after_the_session_ended_keeps_the_text_and_leads_back_to_the_case(
    web: Web,
) -> None:
    client = _signed_in(web, "smith", "en")
    page = client.get(f"/cases/{web.reference}")
    client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    text = "Please also send the account opening forms.\nAnd the KYC file."
    late = client.post(
        f"/cases/{web.reference}",
        data={"action": "note", "note.text": text, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert late.status_code == 401
    assert "Your session has ended" in late.text
    assert ">Please also send the account opening forms.\nAnd the KYC file.</textarea>" in late.text
    assert f'href="/login?next=/cases/{web.reference}"' in late.text
    assert csrf_of(page.text) not in late.text  # the form's token is not shown back
    again = client.get(f"/login?next=/cases/{web.reference}")
    assert f'value="/cases/{web.reference}"' in again.text  # sign-in returns to the case
