"""One exception family for Accord, mapped to HTTP statuses and CLI exit codes in one place,
and what a validation found wrong, field by field."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from pydantic import ValidationError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, as pydantic reported it: where (the path of the field),
    the error type (stable across messages: "missing", "string_too_long", …, to translate by),
    the English message, and the type's parameters (`max_length`, `expected`, …)."""

    path: tuple[str | int, ...]
    type: str
    message: str
    ctx: Mapping[str, object] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return ".".join(str(part) for part in self.path) or "(root)"

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class Problems:
    """The problems of one validation, in pydantic's order."""

    items: tuple[Problem, ...] = ()

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def text(self) -> str:
        """The form every refusal message uses: "where: message; where: message"."""
        return "; ".join(str(problem) for problem in self.items)


def validation_problems(
    error: ValidationError | Iterable[Mapping[str, object]], *, skip: int = 0
) -> Problems:
    """The problems of a pydantic `ValidationError`, or of its `.errors()` (FastAPI's
    `RequestValidationError.errors()` too). `skip` leaves out the first parts of each path:
    FastAPI begins every path with the part of the request it read (body, query, path)."""
    errors = error.errors() if isinstance(error, ValidationError) else error
    problems: list[Problem] = []
    for err in errors:
        loc, ctx = err.get("loc"), err.get("ctx")
        path = (
            [p if isinstance(p, int) else str(p) for p in loc]
            if isinstance(loc, tuple | list)
            else []
        )
        problems.append(
            Problem(
                path=tuple(path[skip:]),
                type=str(err.get("type", "")),
                message=str(err.get("msg", "")),
                ctx=dict(ctx) if isinstance(ctx, Mapping) else {},
            )
        )
    return Problems(tuple(problems))


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
    """Input that does not validate; `problems` says field by field what, where the input was
    validated against a model (a form sends each message back beside its field)."""

    http_status = 422
    exit_code = 2
    code = "invalid_input"

    def __init__(
        self,
        message: str,
        *,
        detail: dict[str, object] | None = None,
        problems: Problems = Problems(),
    ) -> None:
        super().__init__(message, detail=detail)
        self.problems = problems


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


class DatabaseUnreachable(AccordError):
    """The database could not be reached (down, refused, wrong address): not the same as an
    empty one, where `accord init` is the answer."""

    http_status = 503
    exit_code = 8
    code = "database_unreachable"


class NotInitialised(AccordError):
    http_status = 500
    exit_code = 7
    code = "not_initialised"


class DeclarationError(AccordError):
    """A workflow declaration that cannot be run (refused at load)."""

    code = "bad_declaration"
