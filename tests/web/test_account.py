"""My account: an officer changes their own password under the password policy (other sessions
end, refusals audited) and keeps their language with their account."""

from __future__ import annotations

from sqlalchemy import select

from accord.accounts.models import User
from accord.audit.models import AuditEntry
from tests.web.conftest import PASSWORD, Web, csrf_of

NEW = "quiet river lantern orchard"


def _audit(web: Web, action: str) -> list[tuple[str, str]]:
    with web.us.runtime.reading() as session:
        rows = session.execute(
            select(AuditEntry.outcome, AuditEntry.remote_addr).where(AuditEntry.action == action)
        )
        return [(str(outcome), str(addr)) for outcome, addr in rows]


def test_an_officer_changes_their_password_and_their_other_sessions_end(web: Web) -> None:
    here, elsewhere = web.client(), web.client()
    web.sign_in(here, "wang", lang="zh")
    web.sign_in(elsewhere, "wang", lang="zh")
    page = here.get("/account")
    assert "更改密码" in page.text and "从未更改" in page.text
    form = {"csrf_token": csrf_of(page.text), "current_password": PASSWORD}

    differ = here.post(
        "/account/password", data={**form, "new_password": NEW, "new_password_again": NEW + "x"}
    )
    assert differ.status_code == 422 and "两次输入的新密码不一致" in differ.text
    short = here.post(
        "/account/password", data={**form, "new_password": "short", "new_password_again": "short"}
    )
    assert short.status_code == 422 and "密码太短：至少需要 12 个字符。" in short.text
    wrong = here.post(
        "/account/password",
        data={**form, "current_password": "not it at all", "new_password": NEW,
              "new_password_again": NEW},
    )  # fmt: skip
    assert wrong.status_code == 422 and "这不是您当前的密码" in wrong.text
    assert ("refused", "testclient") in _audit(web, "user.password_changed")

    done = here.post(
        "/account/password", data={**form, "new_password": NEW, "new_password_again": NEW}
    )
    assert done.status_code == 200 and done.url.path == "/account"
    assert "您的密码已更改" in done.text
    assert ("ok", "testclient") in _audit(web, "user.password_changed")
    assert here.get("/").url.path == "/"  # this session stays
    assert elsewhere.get("/").url.path == "/login"  # the other one has ended
    with web.us.runtime.reading() as session:
        user = session.scalars(select(User).where(User.username == "wang")).one()
        assert user.password_changed_at is not None
    fresh = web.client()
    page = fresh.get("/login")
    old = fresh.post(
        "/login",
        data={"username": "wang", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert old.status_code == 401  # the old password opens nothing any more


def test_the_language_preference_is_kept_with_the_account(web: Web) -> None:
    client = web.client()
    web.sign_in(client, "smith")
    page = client.get("/account")
    assert 'value="en" checked' in page.text
    saved = client.post(
        "/account/language", data={"language": "zh", "csrf_token": csrf_of(page.text)}
    )
    assert saved.status_code == 200 and "您的语言已保存。" in saved.text
    with web.us.runtime.reading() as session:
        user = session.scalars(select(User).where(User.username == "smith")).one()
        assert user.language == "zh"
    other = web.client()  # another browser, no language switch yet: the account's language
    web.sign_in(other, "smith")
    assert 'lang="zh-Hans"' in other.get("/account").text
    refused = client.post(
        "/account/language", data={"language": "fr", "csrf_token": csrf_of(page.text)}
    )
    assert refused.status_code == 422


def test_disabling_an_officer_takes_a_second_step(web: Web) -> None:
    admin = web.client()
    web.sign_in(admin, "root", lang="zh")
    page = admin.get("/users")
    assert 'name="confirm" value="true" required' in page.text
    once = admin.post(
        "/users/smith/active", data={"active": "false", "csrf_token": csrf_of(page.text)}
    )
    assert once.status_code == 422 and "请勾选“停用”旁的方框以确认" in once.text
    with web.us.runtime.reading() as session:
        assert session.scalars(select(User).where(User.username == "smith")).one().active


def test_wrong_codes_at_enrolment_are_audited_and_count_towards_the_lock(web: Web) -> None:
    client = web.client()
    page = client.get("/login")
    enrol = client.post(
        "/login",
        data={"username": "dora", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert enrol.url.path == "/login/enrol"
    wrong = client.post("/login/enrol", data={"code": "000000", "csrf_token": csrf_of(enrol.text)})
    assert wrong.status_code == 422
    assert ("refused", "testclient") in _audit(web, "totp.enrolled")
    with web.us.runtime.reading() as session:
        assert session.scalars(select(User).where(User.username == "dora")).one().failed_logins == 1
