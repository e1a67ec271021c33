"""One exception family for Accord, mapped to HTTP statuses and CLI exit codes in one place."""

from __future__ import annotations


class AccordError(Exception):
    """Base of every error a user may see. The message says what was wrong and what to do."""

    http_status = 400
    exit_code = 1
    code = "error"

    def __init__(self, message: str, *, detail: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or {}


class InvalidInput(AccordError):
    http_status = 422
    exit_code = 2
    code = "invalid_input"


class NotFound(AccordError):
    http_status = 404
    exit_code = 3
    code = "not_found"


class Conflict(AccordError):
    http_status = 409
    exit_code = 4
    code = "conflict"


class WorkflowViolation(Conflict):
    """An action that the case's workflow does not allow now, for this side."""

    code = "workflow_violation"


class Unauthenticated(AccordError):
    http_status = 401
    exit_code = 5
    code = "unauthenticated"


class Forbidden(AccordError):
    http_status = 403
    exit_code = 5
    code = "forbidden"


class PayloadTooLarge(AccordError):
    http_status = 413
    exit_code = 2
    code = "payload_too_large"


class PeerUnreachable(AccordError):
    http_status = 502
    exit_code = 6
    code = "peer_unreachable"


class NotInitialised(AccordError):
    http_status = 500
    exit_code = 7
    code = "not_initialised"


class DeclarationError(AccordError):
    """A workflow declaration that cannot be run (refused at load)."""

    code = "bad_declaration"
