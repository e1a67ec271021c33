"""An insider or a thief with an officer's password, or with random credentials: guessing the
second factor, replaying a code, escaping the rate limit, weak passwords, a token that cannot be
revoked, and `accord user add` without a terminal. Each test is the attack it stops."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import anyio
import httpx
import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.accounts import service as accounts
from accord.accounts.models import User
from accord.accounts.passwords import PasswordFault, WeakPassword
from accord.app import create_app
from accord.audit.models import AuditEntry
from accord.config import Settings
from accord.core.clock import utcnow
from accord.core.errors import Unauthenticated
from accord.core.permissions import Role
from accord.core.ratelimit import RateLimit
from accord.federation.node import init_node
from tests.web.conftest import PASSWORD, Web, csrf_of
from tests.web.conftest import web as web  # the fixture, used by name below


def _password(client: TestClient, username: str = "smith") -> httpx.Response:
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )


def _wrong_code(secret: str) -> str:
    """A code that none of the time steps the node accepts now, or soon, would give."""
    totp = pyotp.TOTP(secret)
    now = totp.timecode(time.time())
    window = {totp.generate_otp(now + d) for d in (-1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in window)


def _user(web: Web, username: str) -> User:
    with web.us.runtime.reading() as session:
        found = session.scalar(select(User).where(User.username == username))
        assert found is not None
        return found


def test_guessing_codes_with_a_stolen_password_locks_the_account(web: Web) -> None:
    enrolled = web.client()
    web.sign_in(enrolled, "smith")  # the officer enrols; the thief has the password only
    secret = web.secrets["smith"]
    thief = web.client()
    wrong = _wrong_code(secret)
    for attempt in range(5):  # a fresh password sign-in before each guess: no fresh allowance
        asked = _password(thief)
        assert asked.url.path == "/login/totp", (attempt, asked.text)
        guess = thief.post(
            "/login/totp",
            data={"code": wrong, "csrf_token": csrf_of(asked.text)},
        )
        assert guess.status_code == 401
    assert "locked for" in guess.text and "more minutes" in guess.text
    assert _user(web, "smith").locked_until is not None
    # Locked: the password is refused, whatever it is, and says for how long.
    refused = _password(thief)
    assert refused.status_code == 401
    assert "locked for" in refused.text and "more minutes" in refused.text
    # In Chinese too.
    zh = web.client()
    zh.cookies.set("lang", "zh")
    assert "分钟" in _password(zh).text
    # The administrator sees the lock, and may lift it.
    admin = web.client()
    web.sign_in(admin, "root")
    users = admin.get("/users")
    assert "after 5 failed sign-ins" in users.text and "/users/smith/unlock" in users.text
    api = admin.get("/api/v1/users", headers={"Authorization": f"Bearer {_admin_token(web)}"})
    smith = next(u for u in api.json() if u["username"] == "smith")
    assert smith["locked_until"] and smith["failed_logins"] == 5
    admin.post("/users/smith/unlock", data={"csrf_token": csrf_of(users.text)})
    assert _user(web, "smith").locked_until is None
    web.sign_in(web.client(), "smith")


def test_the_lock_backs_off_with_each_further_failure(web: Web) -> None:
    locks: list[timedelta] = []
    with web.us.runtime.transaction() as session:
        user = accounts.get_user(session, "smith")
        for _ in range(7):
            user.locked_until = None  # as if each lock had run out, so the guess is checked
            with pytest.raises(Unauthenticated):
                accounts.authenticate(
                    session, username="smith", password="guess" * 3, remote_addr=None
                )
            if user.locked_until is not None:
                locks.append(user.locked_until - utcnow())
    assert [round(lock.total_seconds() / 60) for lock in locks] == [15, 30, 60]


def test_a_code_is_not_accepted_twice(web: Web) -> None:
    officer = web.client()
    web.sign_in(officer, "smith")
    used = pyotp.TOTP(web.secrets["smith"]).generate_otp(web.steps["smith"])
    replayer = web.client()  # saw the code over the officer's shoulder, has the password
    asked = _password(replayer)
    replayed = replayer.post(
        "/login/totp",
        data={"code": used, "csrf_token": csrf_of(asked.text)},
    )
    assert replayed.status_code == 401 and "used already" in replayed.text
    assert replayer.get("/").url.path == "/login"
    # An older code of the window is refused too, not only the same one.
    earlier = pyotp.TOTP(web.secrets["smith"]).generate_otp(web.steps["smith"] - 1)
    asked = _password(replayer)
    older = replayer.post(
        "/login/totp",
        data={"code": earlier, "csrf_token": csrf_of(asked.text)},
    )
    assert older.status_code == 401


def test_totp_keys_are_not_in_the_database_in_clear(web: Web) -> None:
    web.sign_in(web.client(), "smith")
    stored = _user(web, "smith").totp_secret
    assert stored and web.secrets["smith"] not in stored and stored.startswith("sealed:")
    key = web.us.runtime.settings.keys_dir / "accounts.key"
    assert key.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("username", "password", "fault"),
    [
        ("alice", "aaaaaaaaaaaa", PasswordFault.GUESSABLE),
        ("alice", "password1234", PasswordFault.COMMON),
        ("alice", "iloveyou2024!", PasswordFault.COMMON),
        ("alice.wong", "alice.wong12", PasswordFault.FROM_USERNAME),
        ("alicewong", "alicewong", PasswordFault.TOO_SHORT),
        ("alicewong", "alicewongalicewong", PasswordFault.FROM_USERNAME),
        ("alicewong", "gnowecila-2026", PasswordFault.FROM_USERNAME),
        ("alicewong", "@l1c3w0ng-r3port", PasswordFault.FROM_USERNAME),
    ],
)
def test_weak_passwords_are_refused_saying_why(
    web: Web, username: str, password: str, fault: PasswordFault
) -> None:
    with web.us.runtime.transaction() as session, pytest.raises(WeakPassword) as refused:
        accounts.create_user(
            session,
            username=username,
            display_name="",
            role=Role.ANALYST,
            unit="u",
            password=password,
        )
    assert refused.value.fault is fault and refused.value.detail == {"fault": fault.value}


def test_the_users_page_refuses_a_breached_password_in_both_languages(web: Web) -> None:
    admin = web.client()
    web.sign_in(admin, "root")
    form = {"username": "alice", "role": "analyst", "unit": "u", "password": "password1234"}
    page = admin.get("/users")
    answer = admin.post("/users", data=form | {"csrf_token": csrf_of(page.text)})
    assert answer.status_code == 422 and "breached passwords" in answer.text
    form["password"] = "Alice-2026-Alice"
    answer = admin.post("/users", data=form | {"csrf_token": csrf_of(page.text)})
    assert answer.status_code == 422 and "derived from the username" in answer.text
    wang = web.client()
    with web.us.runtime.transaction() as session:
        accounts.get_user(session, "wang").role = Role.ADMINISTRATOR.value
    web.sign_in(wang, "wang")
    page = wang.get("/users")
    form["password"] = "password1234"
    answer = wang.post("/users", data=form | {"csrf_token": csrf_of(page.text)})
    assert answer.status_code == 422 and "已泄露密码" in answer.text


def _admin_token(web: Web) -> str:
    with web.us.runtime.transaction() as session:
        return accounts.issue_token(session, name="admin", user=accounts.get_user(session, "root"))


# -- the rate limit --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/api/v1/cases"])
def test_random_credentials_on_each_request_do_not_escape_the_limit(
    tmp_path: Path, path: str
) -> None:
    config = Settings(
        data_dir=tmp_path / "node",
        run_workers=False,
        rate_limit_per_second=0.01,
        rate_limit_burst=20,
    )
    init_node(config, name="US-DOJ", country="US", endpoint="http://127.0.0.1:9")
    with TestClient(create_app(config)) as client:
        answers = []
        for n in range(60):
            junk = secrets.token_urlsafe(16)
            if n % 2:
                answers.append(client.get(path, headers={"Authorization": f"Bearer {junk}"}))
            else:
                client.cookies.set("accord_session", junk)
                answers.append(client.get(path))
                client.cookies.clear()
    statuses = [a.status_code for a in answers]
    assert statuses.count(429) == 40, statuses
    assert all(s == 429 for s in statuses[20:])
    assert "from this address" in answers[-1].json()["message"]


def _scope(address: str, token: str) -> dict[str, object]:
    return {
        "type": "http",
        "path": "/api/v1/cases",
        "client": (address, 1234),
        "headers": [(b"authorization", f"Bearer {token}".encode())],
    }


def test_a_verified_token_is_limited_as_one_caller_from_any_address() -> None:
    async def ok(scope: object, receive: object, send: Callable[..., Awaitable[None]]) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def verify(kind: str, credential: str) -> str | None:
        return "officer:smith" if (kind, credential) == ("token", "acc_real") else None

    limiter = RateLimit(ok, rate=0.01, burst=3, session_cookie="s", verify=verify)  # type: ignore[arg-type]

    async def call(scope: dict[str, object]) -> int:
        sent: list[dict[str, object]] = []

        async def send(message: dict[str, object]) -> None:
            sent.append(message)

        await limiter(scope, None, send)  # type: ignore[arg-type]
        return int(str(sent[0]["status"]))

    async def run() -> list[int]:
        # the stolen token from three addresses: one bucket, the officer's
        return [await call(_scope(f"10.0.0.{n}", "acc_real")) for n in range(4)]

    assert anyio.run(run) == [200, 200, 200, 429]


# -- tokens ----------------------------------------------------------------------------------


def test_one_stolen_token_is_revoked_and_refused_after(web: Web) -> None:
    with web.us.runtime.transaction() as session:
        smith = accounts.get_user(session, "smith")
        stolen = accounts.issue_token(session, name="laptop", user=smith)
        kept = accounts.issue_token(session, name="case system", user=smith)
        other = accounts.issue_token(session, name="doe", user=accounts.get_user(session, "doe"))
    client = web.client()
    bearer = {"Authorization": f"Bearer {kept}"}
    listed = client.get("/api/v1/tokens", headers=bearer).json()
    assert {t["name"] for t in listed} == {"laptop", "case system"}  # only smith's own
    laptop = next(t["id"] for t in listed if t["name"] == "laptop")
    # Another officer cannot revoke it (nor learn that it exists).
    refused = client.delete(
        f"/api/v1/tokens/{laptop}", headers={"Authorization": f"Bearer {other}"}
    )
    assert refused.status_code == 404
    assert (
        client.get("/api/v1/cases", headers={"Authorization": f"Bearer {stolen}"}).status_code
        == 200
    )
    revoked = client.delete(f"/api/v1/tokens/{laptop}", headers=bearer)
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    after = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {stolen}"})
    assert after.status_code == 401 and "revoked" in after.json()["message"]
    assert client.get("/api/v1/cases", headers=bearer).status_code == 200  # the other still works
    # An administrator revokes anyone's, here from the command line.
    doe_id = next(
        t["id"]
        for t in client.get(
            "/api/v1/tokens", headers={"Authorization": f"Bearer {_admin_token(web)}"}
        ).json()
        if t["name"] == "doe"
    )
    done = _accord(web, "token", "revoke", doe_id)
    assert done.returncode == 0, done.stderr
    assert (
        client.get("/api/v1/cases", headers={"Authorization": f"Bearer {other}"}).status_code == 401
    )
    with web.us.runtime.reading() as session:
        assert audit_actions(session) >= {"token.revoked"}


def test_user_add_without_a_terminal_says_to_use_password_env(web: Web) -> None:
    done = _accord(web, "user", "add", "lee", "--role", "analyst", "--unit", "u")
    assert done.returncode == 2
    assert "--password-env" in done.stderr and "Traceback" not in done.stderr
    done = _accord(
        web,
        "user",
        "add",
        "lee",
        "--role",
        "analyst",
        "--unit",
        "u",
        "--password-env",
        "NEW_PW",
        NEW_PW="lee-lee-2026-lee",
    )
    assert done.returncode == 2 and "derived from the username" in done.stderr


def _accord(web: Web, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    settings = web.us.runtime.settings
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")} | env
    return subprocess.run(
        [
            *(sys.executable, "-m", "accord", "--data", str(settings.data_dir)),
            *("--database-url", settings.resolved_database_url, *args),
        ],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        env=clean,
        timeout=120,
        check=False,
    )


def audit_actions(session: Session) -> set[str]:
    return set(session.scalars(select(AuditEntry.action)))
