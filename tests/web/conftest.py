"""A node with its web UI in a TestClient, its peer in process, and officers of every role."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyotp
import pytest
from fastapi.testclient import TestClient

from accord.accounts.service import create_user
from accord.app import create_app
from accord.config import Settings
from accord.core.permissions import Role
from tests.helpers import Node, make_node, open_mla, peer_up

PASSWORD = "correct horse battery staple"
STAFF = {
    "smith": ("Officer Smith", Role.LIAISON_OFFICER, "en"),
    "doe": ("J. Doe", Role.LEGAL_REVIEWER, "en"),
    "audrey": ("Audrey Auditor", Role.AUDITOR, "en"),
    "root": ("Ada Admin", Role.ADMINISTRATOR, "en"),
    "dora": ("Dora Coordinator", Role.DIALOGUE_COORDINATOR, "en"),
    "wang": ("王警官", Role.LIAISON_OFFICER, "zh"),
}


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


@dataclass
class Web:
    us: Node
    cn: Node
    app: object
    reference: str
    secrets: dict[str, str]
    steps: dict[str, int] = field(default_factory=dict)
    """the last TOTP time step each officer signed in with: the node takes each step once"""

    def next_code(self, username: str) -> str:
        """A code the node has not taken yet: of this time step, else of the next (within the
        window the node allows), else of the step after, once the clock gets there."""
        totp = pyotp.TOTP(self.secrets[username])
        step = max(totp.timecode(time.time()), self.steps.get(username, 0) + 1)
        while step > totp.timecode(time.time()) + 1:
            time.sleep(0.5)
        self.steps[username] = step
        return totp.generate_otp(step)

    def client(self, *, https: bool = False) -> TestClient:
        base = "https://testserver" if https else "http://testserver"
        return TestClient(self.app, base_url=base)  # type: ignore[arg-type]

    def sign_in(self, client: TestClient, username: str, lang: str | None = None) -> None:
        """Password, then the second factor (enrolled on first use, from the page's key)."""
        if lang:
            client.cookies.set("lang", lang)
        page = client.get("/login")
        answer = client.post(
            "/login",
            data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        )
        if answer.url.path == "/login/enrol":
            found = re.search(r'data-secret="([A-Z2-7]+)"', answer.text)
            assert found
            self.secrets[username] = found.group(1)
        assert answer.url.path in ("/login/enrol", "/login/totp"), answer.text
        code = self.next_code(username)
        done = client.post(
            answer.url.path, data={"code": code, "csrf_token": csrf_of(answer.text), "next": "/"}
        )
        assert done.status_code == 200, done.text
        assert not done.url.path.startswith("/login"), done.url


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    us = make_node(tmp_path, f"sqlite:///{tmp_path / 'us.db'}", "US-DOJ", "US")
    cn = make_node(tmp_path, f"sqlite:///{tmp_path / 'cn.db'}", "CN-MOJ", "CN")
    peer_up(us, cn)
    with us.runtime.transaction() as session:
        for username, (name, role, language) in STAFF.items():
            create_user(
                session,
                username=username,
                display_name=name,
                role=role,
                unit="central-authority",
                password=PASSWORD,
                language=language,
            )
    reference = open_mla(us, cn.name)
    settings = Settings(
        data_dir=tmp_path / "US-DOJ",
        database_url=f"sqlite:///{tmp_path / 'us.db'}",
        run_workers=False,
    )
    app = create_app(settings)
    with TestClient(app):  # runs the lifespan once, so that app.state.runtime exists
        yield Web(us=us, cn=cn, app=app, reference=reference, secrets={})
    us.runtime.close()
    cn.runtime.close()
