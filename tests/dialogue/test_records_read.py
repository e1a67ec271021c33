"""The scorecard's case records are read from the database again only when a log changed (an
event appended, a part erased), per database: the scorecard page is loaded by every officer,
and reading a year of logs on each load was most of its time."""

from __future__ import annotations

from typing import Any

import pytest

from accord.cli.scenarios import REMOVAL
from accord.dialogue import service
from accord.dialogue.scorecard import CaseRecord
from tests.helpers import Node, act, open_from, open_mla, pump


def records(node: Node) -> list[CaseRecord]:
    with node.runtime.reading() as session:
        return service.case_records(session)


def by_reference(node: Node) -> dict[str, CaseRecord]:
    return {r.reference: r for r in records(node)}


def fresh(node: Node) -> dict[str, CaseRecord]:
    with node.runtime.reading() as session:
        return {r.reference: r for r in service.read_case_records(session)}


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The databases the records were read from, one entry per read."""
    seen: list[str] = []
    original = service.read_case_records

    def counted(session: Any) -> list[CaseRecord]:
        seen.append(str(session.get_bind().url))
        return original(session)

    monkeypatch.setattr(service, "read_case_records", counted)
    return seen


def test_the_logs_are_read_again_only_after_an_event(
    pair: tuple[Node, Node], reads: list[str]
) -> None:
    us, cn = pair
    reference = open_mla(us, cn.name)
    first = by_reference(us)
    assert by_reference(us) == first
    assert len(reads) == 1
    act(us, reference, "note", {"text": "checked the bank records"})
    after = by_reference(us)
    assert len(reads) == 2
    assert [e.action for e in after[reference].events][-1] == "note"
    assert len(after[reference].events) == len(first[reference].events) + 1
    assert after == fresh(us)


def test_each_node_keeps_its_own_records(pair: tuple[Node, Node], reads: list[str]) -> None:
    us, cn = pair
    ours = open_mla(us, cn.name)  # a draft: not shared with CN
    assert ours in by_reference(us)
    assert ours not in by_reference(cn)
    assert len(set(reads)) == 2
    assert by_reference(cn) == fresh(cn)


def test_an_erasure_reaches_the_records(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = open_from(us, cn.name, REMOVAL.opening)
    pump(us, cn)
    name = REMOVAL.opening["details"]["persons"][0]["name"]
    assert name in str(by_reference(us)[reference].events[0].payload)
    act(
        us,
        reference,
        "erase",
        {"rule": "correction request 17", "targets": [{"seq": 1, "path": "/details/persons/0"}]},
    )
    pump(us, cn)
    for node in (us, cn):
        opening = by_reference(node)[reference].events[0].payload
        assert name not in str(opening)
        assert by_reference(node) == fresh(node)
