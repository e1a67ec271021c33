"""The message kinds through which two nodes keep one case log."""

from __future__ import annotations

from typing import Any

from accord.cases import service
from accord.cases.schemas import EventMessage, HeadQuery, RejectedMessage, SubmitMessage
from accord.federation.kinds import Kind


def _reference(message: Any) -> str:
    return str(message.reference)


KINDS = (
    Kind(service.EVENT_KIND, EventMessage, _reference, handler=service.apply_replicated),
    Kind(service.SUBMIT_KIND, SubmitMessage, _reference, handler=service.apply_submission),
    Kind(service.REJECTED_KIND, RejectedMessage, _reference, handler=service.apply_rejection),
    Kind(service.HEAD_QUERY_KIND, HeadQuery, _reference, query=service.head),
)
