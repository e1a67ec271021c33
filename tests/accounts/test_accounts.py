"""Officers: argon2id passwords, throttled sign-in, TOTP enrolment, sessions and scoped tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from sqlalchemy.orm import Session

from accord.accounts import service
from accord.accounts.models import User
from accord.accounts.vault import KEY_FILE, UnreadableSecret, Vault, is_sealed, vault_for
from accord.audit import service as audit
from accord.composition import assemble
from accord.config import Settings
from accord.core.clock import utcnow
from accord.core.errors import Forbidden, InvalidInput, Unauthenticated
from accord.core.permissions import Permission, Role
from accord.federation.node import init_node
from accord.runtime import Runtime

PASSWORD = "correct horse battery"


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    settings = Settings(data_dir=tmp_path / "n")
    init_node(settings, name="US-DOJ", country="US", endpoint="http://127.0.0.1:9")
    runtime = Runtime.open(settings, assemble())
    with runtime.transaction() as s:
        yield s
    runtime.close()


def officer(session: Session) -> User:
    return service.create_user(
        session,
        username="smith",
        display_name="Officer Smith",
        role=Role.LIAISON_OFFICER,
        unit="central-authority",
        password=PASSWORD,
    )


def test_passwords_are_stored_as_argon2id_and_checked(session: Session) -> None:
    user = officer(session)
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert service.authenticate(session, username="smith", password=PASSWORD, remote_addr=None)
    with pytest.raises(Unauthenticated, match="wrong username or password"):
        service.authenticate(session, username="smith", password="nope", remote_addr=None)


def test_short_passwords_are_refused(session: Session) -> None:
    with pytest.raises(InvalidInput, match="at least 12"):
        service.create_user(
            session, username="x", display_name="", role=Role.ANALYST, unit="u", password="short"
        )


def test_five_failures_lock_the_account_and_each_is_audited(session: Session) -> None:
    officer(session)
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            service.authenticate(session, username="smith", password="bad", remote_addr="1.2.3.4")
    with pytest.raises(Unauthenticated, match="too many failed sign-ins"):
        service.authenticate(session, username="smith", password=PASSWORD, remote_addr=None)
    assert audit.verify(session) == []


def test_totp_enrolment_needs_a_valid_code(session: Session, tmp_path: Path) -> None:
    user = officer(session)
    vault = vault_for(tmp_path / "keys")
    secret, qr_svg = service.begin_totp(session, user=user, issuer="Accord US-DOJ", vault=vault)
    assert qr_svg.startswith("<svg") and not user.totp_enabled
    with pytest.raises(InvalidInput, match="does not match"):
        wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
        service.confirm_totp(session, user=user, code=wrong, vault=vault)
    service.confirm_totp(session, user=user, code=pyotp.TOTP(secret).now(), vault=vault)
    assert user.totp_enabled
    next_code = pyotp.TOTP(secret).at(utcnow(), counter_offset=1)
    service.check_totp(session, user=user, code=next_code, vault=vault, remote_addr=None)


def test_totp_secrets_are_sealed_at_rest_and_old_ones_sealed_on_use(
    session: Session, tmp_path: Path
) -> None:
    user = officer(session)
    vault = vault_for(tmp_path / "keys")
    secret, _ = service.begin_totp(session, user=user, issuer="Accord US-DOJ", vault=vault)
    assert user.totp_secret and secret not in user.totp_secret and is_sealed(user.totp_secret)
    assert (tmp_path / "keys" / KEY_FILE).stat().st_mode & 0o777 == 0o600
    with pytest.raises(UnreadableSecret):
        Vault(bytes(32)).open(user.totp_secret)
    user.totp_secret = secret  # as stored before sealing
    assert service.seal_stored_secrets(session, vault=vault) == 1
    assert is_sealed(user.totp_secret) and vault.open(user.totp_secret) == secret
    user.totp_secret = secret
    assert service.totp_secret(user, vault=vault) == secret and is_sealed(user.totp_secret)


def test_sessions_resolve_until_they_end(session: Session) -> None:
    user = officer(session)
    token, web = service.start_session(session, user=user, remote_addr=None, hours=1)
    found = service.resolve_session(session, token)
    assert found is not None and found[1].username == "smith" and len(web.csrf_token) >= 24
    service.end_session(session, token)
    session.flush()
    assert service.resolve_session(session, token) is None


def test_scoped_tokens_narrow_the_role(session: Session) -> None:
    user = officer(session)
    token = service.issue_token(session, name="reader", user=user, scopes=[Permission.CASE_READ])
    principal = service.check_token(session, token=token)
    assert principal.can(Permission.CASE_READ) and not principal.can(Permission.CASE_ACT)
    with pytest.raises(Forbidden, match="with this token's scopes"):
        principal.require(Permission.CASE_OPEN)
    with pytest.raises(InvalidInput, match="cannot hold the scope"):
        service.issue_token(session, name="x", user=user, scopes=[Permission.USER_ADMIN])


def test_a_disabled_officer_loses_tokens_and_sessions(session: Session) -> None:
    user = officer(session)
    token = service.issue_token(session, name="t", user=user)
    cookie, _ = service.start_session(session, user=user, remote_addr=None, hours=1)
    service.set_active(session, username="smith", active=False, by="admin")
    session.flush()
    with pytest.raises(Unauthenticated):
        service.check_token(session, token=token)
    assert service.resolve_session(session, cookie) is None


def test_a_generated_password_is_drawn_again_when_it_happens_to_hold_the_username(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The demo drew 'NWl1eOD6aeTDRStJ' for 'doe' once ('eOD' is 'doe' reversed) and the node
    failed to start; a generated password is drawn again until the rules accept it."""
    from accord.accounts import passwords

    draws = iter(["NWl1eOD6aeTDRStJ", "q7Vx2mKp9RtLw4Zs"])
    monkeypatch.setattr(passwords.secrets, "token_urlsafe", lambda _length: next(draws))
    with pytest.raises(passwords.WeakPassword):
        passwords.check_password("NWl1eOD6aeTDRStJ", username="doe")
    assert passwords.generate_password(username="doe") == "q7Vx2mKp9RtLw4Zs"
