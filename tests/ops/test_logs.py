"""The log format: one JSON object a line with time, level, logger, message and what the record
is about; passwords of URLs and tokens masked in messages and tracebacks; a request id taken
from the client only when it is a plain short token; backoff that grows, is capped and jitters."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from accord.config import Settings
from accord.core.db import redact_url
from accord.core.errors import InvalidInput
from accord.federation.workers import backoff_seconds
from accord.ops import logs

URL = "postgresql+psycopg://accord:s3cret-pw@db.internal:5432/accord"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    logs.configure(Settings(log_format="json"))
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)
    logs.set_node(None)


def records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_node_peer_case_and_mask_secrets(captured: io.StringIO) -> None:
    logs.set_node("US-DOJ")
    log = logging.getLogger("accord.test")
    with logs.about(peer_name="CN-MOJ", reference="MLA-US-2026-000001"):
        log.warning("could not reach %s with Bearer %s", URL, "tok-123.abc")
    try:
        raise RuntimeError(f"connect failed for {URL} password=hunter2")
    except RuntimeError:
        log.exception("failed")
    first, second = records(captured)
    assert first["level"] == "WARNING" and first["logger"] == "accord.test"
    assert first["node"] == "US-DOJ" and first["peer"] == "CN-MOJ"
    assert first["case"] == "MLA-US-2026-000001" and first["time"]
    text = captured.getvalue()
    for secret in ("s3cret-pw", "tok-123.abc", "hunter2"):
        assert secret not in text
    assert "accord:***@db.internal" in str(first["message"])
    assert "RuntimeError" in str(second["traceback"]) and second["peer"] is None


def test_text_format_and_unknown_levels() -> None:
    formatter = logs.formatter("text")
    record = logging.LogRecord("accord.x", logging.INFO, __file__, 1, "hello", None, None)
    record.request_id, record.node = "r1", "US-DOJ"
    line = formatter.format(record)
    assert "INFO accord.x: hello" in line and "request_id=r1 node=US-DOJ" in line
    with pytest.raises(InvalidInput, match="log level 'loud'"):
        logs.configure(Settings(), level="loud")


def test_request_ids_from_clients_only_when_plain() -> None:
    assert logs.incoming_request_id("abc-123_x.y:z") == "abc-123_x.y:z"
    for bad in (None, "", "has space", "x" * 65, "new\nline", "{json}"):
        made = logs.incoming_request_id(bad)
        assert made != bad and len(made) == 32


def test_database_urls_are_redacted() -> None:
    assert redact_url(URL) == "postgresql+psycopg://accord:***@db.internal:5432/accord"
    assert redact_url("sqlite:////srv/accord/accord.db") == "sqlite:////srv/accord/accord.db"
    assert "s3cret" not in logs.mask_secrets(f"engine at {URL} failed")


def test_backoff_doubles_to_its_ceiling_with_jitter() -> None:
    waits = [[backoff_seconds(n, base=0.5, ceiling=60) for _ in range(200)] for n in (1, 2, 3, 12)]
    for n, drawn in zip((1, 2, 3, 12), waits, strict=True):
        step = min(60.0, 0.5 * 2 ** (n - 1))
        assert all(step / 2 <= w <= step for w in drawn)
        assert len(set(drawn)) > 100  # jitter: processes do not retry in step
