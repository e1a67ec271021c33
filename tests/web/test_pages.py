"""The web UI against a node on SQLite: sign-in with TOTP, CSRF, every page in both languages,
need-to-know, and case actions through the generated forms."""

from __future__ import annotations

import re

from sqlalchemy import select

from accord.audit.models import AuditEntry
from accord.cases import service
from tests.helpers import act, log_of
from tests.web.conftest import PASSWORD, Web, csrf_of

REVIEW_FORM = {
    "approve_and_submit.reviewer": "J. Doe",
    "approve_and_submit.treaty_basis": "US-PRC MLAA (2000)",
    "approve_and_submit.dual_criminality": "true",
    "approve_and_submit.neutrality_confirmed": "true",
    "approve_and_submit.reasons": "Ordinary fraud; specific and proportionate.",
}


def _state(web: Web) -> str:
    with web.us.runtime.reading() as session:
        return service.get_case(session, reference=web.reference).state


def test_first_sign_in_enrols_the_second_factor_then_asks_for_codes(web: Web) -> None:
    client = web.client()
    page = client.get("/login")
    answer = client.post(
        "/login",
        data={"username": "smith", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert answer.url.path == "/login/enrol"
    assert "<svg" in answer.text  # the QR code, inline
    secret = re.search(r'data-secret="([A-Z2-7]+)"', answer.text)
    assert secret
    cookie = answer.history[0].headers["set-cookie"]
    assert "accord_session=" in cookie and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie and "Secure" not in cookie  # plain http here

    wrong = client.post("/login/enrol", data={"code": "000000", "csrf_token": csrf_of(answer.text)})
    assert wrong.status_code == 422 and "does not match" in wrong.text
    assert secret.group(1) in wrong.text  # the same key, still shown

    assert client.get("/").url.path == "/login"  # the password alone opens nothing
    web.secrets["smith"] = secret.group(1)
    code = web.next_code("smith")
    done = client.post("/login/enrol", data={"code": code, "csrf_token": csrf_of(wrong.text)})
    assert done.url.path == "/" and "My queue" in done.text

    client.post("/logout", data={"csrf_token": csrf_of(done.text)})
    assert client.get("/").url.path == "/login"
    again = client.post(
        "/login",
        data={
            "username": "smith",
            "password": PASSWORD,
            "csrf_token": csrf_of(client.get("/login").text),
        },
    )
    assert again.url.path == "/login/totp"  # enrolled once: now a code is asked for
    refused = client.post("/login/totp", data={"code": "123456", "csrf_token": csrf_of(again.text)})
    assert refused.status_code == 401
    reused = client.post("/login/totp", data={"code": code, "csrf_token": csrf_of(again.text)})
    assert reused.status_code == 401 and "used already" in reused.text  # a code is taken once
    code = web.next_code("smith")
    signed = client.post("/login/totp", data={"code": code, "csrf_token": csrf_of(again.text)})
    assert signed.url.path == "/"


def test_session_cookie_is_secure_over_tls(web: Web) -> None:
    client = web.client(https=True)
    page = client.get("/login")
    answer = client.post(
        "/login",
        data={"username": "smith", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert "Secure" in answer.headers["set-cookie"]


def test_wrong_passwords_lock_the_account(web: Web) -> None:
    client = web.client()
    for _ in range(5):
        answer = client.post(
            "/login",
            data={
                "username": "smith",
                "password": "not the password",
                "csrf_token": csrf_of(client.get("/login").text),
            },
        )
        assert answer.status_code == 401 and "Wrong username or password" in answer.text
    locked = client.post(
        "/login",
        data={
            "username": "smith",
            "password": PASSWORD,
            "csrf_token": csrf_of(client.get("/login").text),
        },
    )
    assert locked.status_code == 401 and "locked" in locked.text


def test_forms_without_the_csrf_token_are_refused(web: Web) -> None:
    client = web.client()
    refused = client.post("/login", data={"username": "smith", "password": PASSWORD})
    expired = "This form has expired or did not come from this site"
    assert refused.status_code == 403 and expired in refused.text
    web.sign_in(client, "smith")
    for token in ("", "forged"):
        answer = client.post(
            f"/cases/{web.reference}/act",
            data={"action": "send_to_review", "csrf_token": token},
        )
        assert answer.status_code == 403 and expired in answer.text
    assert _state(web) == "draft"


def test_pages_carry_the_security_headers(web: Web) -> None:
    client = web.client()
    page = client.get("/login")
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert "<script>" not in page.text  # no inline script: the policy would block it


def test_every_page_renders_in_both_languages(web: Web) -> None:
    pages = {
        "smith": [
            "/",
            "/cases",
            "/cases?state=draft&type=mla&due=7d",
            f"/cases/{web.reference}",
            "/peers",
            "/account",
            *(
                f"/cases/new?type={t}"
                for t in ("mla", "fugitive", "asset", "removal", "intel", "cyber")
            ),
        ],
        "root": ["/users", "/peers"],
        "audrey": ["/audit"],
        "dora": ["/dialogue", "/dialogue?days=365"],
    }
    chinese = {
        "/": "我的待办",
        "/cases": "全部状态",
        "/users": "添加人员",
        "/audit": "审计日志",
        "/dialogue": "积压案件",
    }
    for lang in ("en", "zh"):
        for username, paths in pages.items():
            client = web.client()
            web.sign_in(client, username, lang=lang)
            for path in paths:
                page = client.get(path)
                assert page.status_code == 200, (lang, path, page.text[:500])
                assert f'<html lang="{"zh-Hans" if lang == "zh" else "en"}">' in page.text
                if lang == "zh" and path in chinese:
                    assert chinese[path] in page.text
                if lang == "en" and path in chinese:
                    assert chinese[path] not in page.text


def test_case_page_shows_state_timeline_and_actions_in_chinese(web: Web) -> None:
    client = web.client()
    web.sign_in(client, "smith", lang="zh")
    page = client.get(f"/cases/{web.reference}").text
    assert 'data-state="draft"' in page and "草稿" in page
    assert "<svg" in page and "提交法律审查" in page  # diagram and action, from the declaration
    assert "银行记录" in page  # an enumeration value of the opening details, labelled
    head = log_of(web.us, web.reference)[0]["hash"]
    assert head[:12] in page


def test_auditor_reads_the_audit_log_but_no_case(web: Web) -> None:
    client = web.client()
    web.sign_in(client, "audrey")
    assert client.get("/").url.path == "/audit"
    refused = client.get(f"/cases/{web.reference}")
    assert refused.status_code == 403
    assert "Operation Lotus" not in refused.text
    assert client.get("/cases").status_code == 403
    audit_page = client.get("/audit")
    assert 'data-intact="true"' in audit_page.text and "login" in audit_page.text


def test_users_page_is_for_administrators(web: Web) -> None:
    officer = web.client()
    web.sign_in(officer, "smith")
    assert officer.get("/users").status_code == 403
    admin = web.client()
    web.sign_in(admin, "root")
    page = admin.get("/users")
    added = admin.post(
        "/users",
        data={
            "username": "zhao",
            "display_name": "赵警官",
            "role": "liaison_officer",
            "unit": "central-authority",
            "language": "zh",
            "password": "a long first password",
            "csrf_token": csrf_of(page.text),
        },
    )
    # two administrators (init's and root): a request, that another one approves
    assert added.status_code == 200 and 'data-request-user="zhao"' in added.text
    short = admin.post(
        "/users",
        data={
            "username": "qian",
            "role": "analyst",
            "password": "short",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert short.status_code == 422 and "at least 12 characters" in short.text


def test_officer_acts_through_the_generated_form(web: Web) -> None:
    client = web.client()
    web.sign_in(client, "smith")
    page = client.get(f"/cases/{web.reference}")
    done = client.post(
        f"/cases/{web.reference}/act",
        data={
            "action": "send_to_review",
            "send_to_review.note": "Draft complete",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert done.status_code == 200 and done.url.path == f"/cases/{web.reference}"
    assert _state(web) == "legal_review"
    last = log_of(web.us, web.reference)[-1]
    assert last["action"] == "send_to_review" and last["payload"] == {"note": "Draft complete"}
    assert last["actor_officer"] == "Officer Smith"
    with web.us.runtime.reading() as session:
        actions = list(
            session.scalars(select(AuditEntry.action).where(AuditEntry.actor == "smith"))
        )
    assert "case.act.send_to_review" in actions and "case.read" in actions

    # The review is a legal reviewer's: the officer sees it but has no form for it.
    page = client.get(f"/cases/{web.reference}")
    assert 'data-action="approve_and_submit"' not in page.text
    assert "A legal reviewer of your node takes this action." in page.text
    refused = client.post(
        f"/cases/{web.reference}/act",
        data={"action": "approve_and_submit", **REVIEW_FORM, "csrf_token": csrf_of(page.text)},
    )
    assert refused.status_code == 403 and _state(web) == "legal_review"


def test_validation_errors_are_shown_beside_the_form(web: Web) -> None:
    act(web.us, web.reference, "send_to_review", {})
    client = web.client()
    web.sign_in(client, "doe")
    page = client.get(f"/cases/{web.reference}")
    unchecked = {k: v for k, v in REVIEW_FORM.items() if not k.endswith("dual_criminality")}
    answer = client.post(
        f"/cases/{web.reference}/act",
        data={"action": "approve_and_submit", **unchecked, "csrf_token": csrf_of(page.text)},
    )
    assert answer.status_code == 422
    assert "dual criminality not established" in answer.text
    assert 'value="US-PRC MLAA (2000)"' in answer.text  # what was typed is kept
    assert _state(web) == "legal_review"

    missing = client.post(
        f"/cases/{web.reference}/act",
        data={"action": "withdraw", "withdraw.reason": "  ", "csrf_token": csrf_of(page.text)},
    )
    assert missing.status_code == 422
    form = missing.text.split('data-action="withdraw"')[1].split("</form>")[0]
    assert 'class="error" id="act-withdraw-reason-error"' in form

    approved = client.post(
        f"/cases/{web.reference}/act",
        data={"action": "approve_and_submit", **REVIEW_FORM, "csrf_token": csrf_of(page.text)},
    )
    assert approved.status_code == 200 and _state(web) == "submitted"
    assert log_of(web.us, web.reference)[-1]["payload"]["dual_criminality"] is True


def test_new_case_form_opens_a_case(web: Web) -> None:
    client = web.client()
    web.sign_in(client, "smith", lang="zh")
    page = client.get("/cases/new?type=mla")
    assert "银行记录" in page.text and 'name="d.assistance"' in page.text
    base = {
        "peer": "CN-MOJ",
        "area": "judicial_assistance",
        "priority": "urgent",
        "handling_code": "H2",
        "title": "Records of a money mule network",
        "d.offence": "Money laundering",
        "csrf_token": csrf_of(page.text),
    }
    missing = client.post("/cases/new?type=mla", data=base)
    assert missing.status_code == 422
    assert 'id="new-d-assistance-error"' in missing.text
    assert 'value="Records of a money mule network"' in missing.text
    opened = client.post(
        "/cases/new?type=mla", data={**base, "d.assistance": ["bank_records", "evidence"]}
    )
    assert opened.status_code == 200
    reference = opened.url.path.rsplit("/", 1)[-1]
    assert reference.startswith("MLA-US-")
    header = log_of(web.us, reference)[0]["payload"]
    assert header["details"]["assistance"] == ["bank_records", "evidence"]
    assert header["priority"] == "urgent" and header["handling_code"] == "H2"


def test_case_list_filters_and_dashboard_queue(web: Web) -> None:
    client = web.client()
    web.sign_in(client, "smith")
    dashboard = client.get("/")
    assert f'data-reference="{web.reference}"' in dashboard.text.split('id="deadlines"')[0]
    listed = client.get("/cases?state=draft")
    assert f'data-reference="{web.reference}"' in listed.text
    empty = client.get("/cases?state=closed")
    assert f'data-reference="{web.reference}"' not in empty.text
    assert "No case matches these filters." in empty.text


def test_live_panel_answers_nothing_until_the_case_changes(web: Web) -> None:
    client = web.client()
    web.sign_in(client, "smith")
    page = client.get(f"/cases/{web.reference}").text
    version = re.search(r"live\?version=([0-9.]+)", page)
    assert version
    unchanged = client.get(f"/cases/{web.reference}/live?version={version.group(1)}")
    assert unchanged.status_code == 204
    act(web.us, web.reference, "send_to_review", {})
    changed = client.get(f"/cases/{web.reference}/live?version={version.group(1)}")
    assert changed.status_code == 200 and 'data-state="legal_review"' in changed.text


def test_language_switch_stays_on_this_site(web: Web) -> None:
    client = web.client()
    answer = client.get("/lang/zh?next=//evil.example/", follow_redirects=False)
    assert answer.headers["location"] == "/"
    assert "lang=zh" in answer.headers["set-cookie"]
    assert "登录" in client.get("/login").text
