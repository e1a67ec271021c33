"""Pages that many officers load all day cost the same number of queries however many cases
there are (the load benchmark, benchmarks/load.py, found the dashboard reading whole logs)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from accord.dialogue import service as dialogue
from accord.runtime import Runtime
from tests.helpers import act, open_mla
from tests.web.conftest import Web


@contextmanager
def counted(web: Web) -> Iterator[list[str]]:
    runtime: Runtime = web.app.state.runtime  # type: ignore[attr-defined]
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(runtime.engine, "before_cursor_execute", record)


def activity(html: str) -> list[str]:
    section = html.split('id="activity"')[1]
    return re.findall(r'<a href="/cases/([^"]+)">[^<]+</a>\s+— ([^·]+?) ·', section)


def test_dashboard_shows_each_case_latest_event_in_a_fixed_number_of_queries(web: Web) -> None:
    client = web.client()
    web.sign_in(client, "smith")
    client.get("/")
    with counted(web) as few:
        client.get("/")
    references = [open_mla(web.us, web.cn.name) for _ in range(6)]
    for reference in references:
        for number in range(3):
            act(web.us, reference, "note", {"text": f"note {number}"})
    act(web.us, references[0], "send_to_review", {"note": "ready"})
    with counted(web) as many:
        page = client.get("/").text
    assert len(many) == len(few)
    shown = dict(activity(page))
    assert shown[references[0]].strip() == "Send to legal review"
    for reference in references[1:]:
        assert shown[reference].strip() == "Add a note"


def test_dialogue_page_reads_the_case_logs_once(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    client = web.client()
    web.sign_in(client, "smith")
    reads: list[int] = []
    original = dialogue.case_records

    def case_records(session: Any) -> Any:
        reads.append(1)
        return original(session)

    monkeypatch.setattr(dialogue, "case_records", case_records)
    assert client.get("/dialogue").status_code == 200
    assert len(reads) == 1
