"""The dialogue pages: rounds and outcomes recorded through the forms by a coordinator, the
scorecard's figures linked to their cases, the briefing pack downloaded, in both languages."""

from __future__ import annotations

import base64
import hashlib

from accord.cli import scenarios
from accord.dialogue import service
from tests.cases.test_case_types import play
from tests.helpers import pump
from tests.web.conftest import Web, csrf_of


def _round(web: Web) -> str:
    reference, _, _ = play(web.us, web.cn, scenarios.ROUND)
    return reference


def test_the_coordinator_lands_on_the_dialogue_and_follows_a_figure_to_its_cases(web: Web) -> None:
    intel, _, _ = play(web.us, web.cn, scenarios.INTEL)  # CN sends, US receives
    reference = _round(web)
    client = web.client()
    web.sign_in(client, "dora")
    page = client.get("/")
    assert page.url.path == "/dialogue"
    assert f'data-round="{reference}"' in page.text
    assert "Law enforcement and cybersecurity dialogue — Round 3" in page.text
    link = f"/dialogue/figure?days=90&amp;area=all&amp;node={web.us.name}&amp;name=received"
    assert link in page.text
    figure = client.get(link.replace("&amp;", "&"))
    assert figure.status_code == 200
    assert intel in figure.text and "Requests received: 1" in figure.text
    assert client.get("/dialogue/figure?area=all&node=XX&name=received").status_code == 404
    assert client.get("/dialogue?days=7").status_code == 422


def test_the_coordinator_records_an_outcome_through_the_form(web: Web) -> None:
    reference = _round(web)
    client = web.client()
    web.sign_in(client, "dora", lang="zh")
    page = client.get(f"/dialogue/rounds/{reference}")
    assert page.status_code == 200 and "商定成果" in page.text and "第3轮" in page.text
    assert 'data-action="record_outcome"' in page.text
    refused = client.post(
        f"/dialogue/rounds/{reference}/act",
        data={"action": "record_outcome", "record_outcome.text_en": "Meet again.",
              "csrf_token": csrf_of(page.text)},
    )  # fmt: skip
    assert refused.status_code == 422  # the Chinese text, the area, the owner and the due date
    done = client.post(
        f"/dialogue/rounds/{reference}/act",
        data={
            "action": "record_outcome",
            "record_outcome.text_en": "Hold the next round in Beijing.",
            "record_outcome.text_zh": "下一轮在北京举行。",
            "record_outcome.area": "transnational_crime",
            "record_outcome.owner": "requested",
            "record_outcome.due": "2027-06-30",
            "record_outcome.status": "agreed",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert done.status_code == 200 and done.url.path == f"/dialogue/rounds/{reference}"
    assert "下一轮在北京举行。" in done.text
    pump(web.us, web.cn)
    with web.cn.runtime.reading() as session:
        on_cn = service.get_round(session, reference)
    assert on_cn.outcomes[-1].text_zh == "下一轮在北京举行。"
    assert on_cn.outcomes[-1].owner == web.cn.name

    pdf = client.get(f"/dialogue/rounds/{reference}/brief?lang=zh&format=pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_an_officer_reads_the_round_but_records_nothing(web: Web) -> None:
    reference = _round(web)
    client = web.client()
    web.sign_in(client, "smith")
    page = client.get(f"/dialogue/rounds/{reference}")
    assert page.status_code == 200
    assert 'data-action="record_outcome"' not in page.text
    assert "A dialogue coordinator of your node takes this action." in page.text
    answer = client.post(
        f"/dialogue/rounds/{reference}/act",
        data={"action": "conclude", "csrf_token": csrf_of(page.text)},
    )
    assert answer.status_code == 403
    auditor = web.client()
    web.sign_in(auditor, "audrey")
    assert auditor.get("/dialogue").status_code == 403


def test_the_briefing_page_is_styled_under_the_policy_by_its_stylesheets_hash(web: Web) -> None:
    reference = _round(web)
    client = web.client()
    web.sign_in(client, "dora", lang="zh")
    page = client.get(f"/dialogue/rounds/{reference}/brief?lang=zh&format=html")
    assert page.status_code == 200
    style = page.text.split("<style>", 1)[1].split("</style>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    policy = page.headers["content-security-policy"]
    assert f"style-src 'self' 'sha256-{digest}'" in policy
    assert "default-src 'self'" in policy and "script" not in policy  # no script let in
    assert (
        client.get(f"/dialogue/rounds/{reference}")
        .headers["content-security-policy"]
        .endswith("object-src 'none'")
    )  # every other page keeps the plain policy
