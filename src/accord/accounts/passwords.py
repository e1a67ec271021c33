"""What makes a password acceptable: long enough, not derived from the officer's username, and
not guessable — zxcvbn, whose dictionaries hold the most common and breached passwords."""

from __future__ import annotations

import secrets
from enum import StrEnum

from zxcvbn import zxcvbn  # type: ignore[import-untyped]

from accord.core.errors import InvalidInput

MIN_PASSWORD = 12
MIN_SCORE = 3
"""zxcvbn's score (0-4) a password needs: 3 is "safely unguessable", about 10^8 guesses or more."""
_LEET = str.maketrans("01!|34@5$7+892", "oiiieaassttbgz")  # leetspeak, read back as letters


class PasswordFault(StrEnum):
    """Why a password is refused; the web shows each in the officer's language."""

    TOO_SHORT = "too_short"
    FROM_USERNAME = "from_username"
    COMMON = "common"
    GUESSABLE = "guessable"


class WeakPassword(InvalidInput):
    def __init__(self, fault: PasswordFault, message: str) -> None:
        super().__init__(message, detail={"fault": fault.value})
        self.fault = fault


def _plain(text: str) -> str:
    """Lower case, leetspeak read as letters, only letters and digits left."""
    return "".join(c for c in text.lower().translate(_LEET) if c.isalnum())


def derived_from(password: str, name: str) -> bool:
    """Whether `password` is `name`, holds it, or holds it reversed, leetspeak read as letters
    (`Sm1th-2026!` and `htimsHTIMS` are derived from `smith`)."""
    plain, target = _plain(password), _plain(name)
    if len(target) < 3:
        return False
    return target in plain or target[::-1] in plain or plain in (target, target[::-1])


def check_password(password: str, *, username: str, display_name: str = "") -> None:
    """Refuse, saying why, a password that is short, derived from the username, common or
    breached, or otherwise quickly guessed."""
    if len(password) < MIN_PASSWORD:
        raise WeakPassword(
            PasswordFault.TOO_SHORT, f"a password needs at least {MIN_PASSWORD} characters"
        )
    if derived_from(password, username):
        raise WeakPassword(
            PasswordFault.FROM_USERNAME,
            "the password is derived from the username (it holds it, reversed or with digits "
            "for letters): choose one that has nothing to do with it",
        )
    verdict = zxcvbn(password[:100], user_inputs=[username, *display_name.split()])
    if int(verdict["score"]) >= MIN_SCORE:
        return
    common = any(
        match.get("pattern") == "dictionary" and match.get("dictionary_name") == "passwords"
        for match in verdict.get("sequence", [])
    )
    warning = str(verdict.get("feedback", {}).get("warning") or "")
    if common:
        raise WeakPassword(
            PasswordFault.COMMON,
            "this password is (or is built on) one of the most common passwords, found in "
            "breached password lists: choose another, e.g. four or five unrelated words",
        )
    raise WeakPassword(
        PasswordFault.GUESSABLE,
        "this password would be guessed quickly"
        + (f" ({warning.rstrip('.').lower()})" if warning else "")
        + ": choose a longer one, e.g. four or five unrelated words",
    )


def generate_password(*, username: str, display_name: str = "", length: int = 16) -> str:
    """A random password the rules above accept for this account: drawn again in the rare case
    that the random letters happen to hold the username (`eOD` in one is `doe` reversed)."""
    while True:
        password = secrets.token_urlsafe(length)
        try:
            check_password(password, username=username, display_name=display_name)
        except WeakPassword:
            continue
        return password
