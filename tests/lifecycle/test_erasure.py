"""Erasure in process, on SQLite and PostgreSQL: a subject erased by the requested side reaches
the sequencer with its receipt, the logs verify on both nodes, and a restore of a backup made
before the erasure erases the same parts again from the journal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from sqlalchemy import select

from accord.cases import service
from accord.cases.casetype import CaseTypes
from accord.cases.models import CaseEvent, CaseEventPart
from accord.cli.scenarios import REMOVAL
from accord.composition import assemble
from accord.core.errors import InvalidInput
from accord.identity.integration import screening_id
from accord.identity.models import ScreeningJob
from accord.identity.service import add_to_watchlist
from accord.lifecycle.journal import reapply_after_restore
from accord.lifecycle.subject import subject_access
from accord.ops.backup import create_backup, restore_backup
from accord.runtime import Registry, Runtime
from tests.helpers import Node, act, asker, log_of, make_node, open_from, peer_up, pump
from tests.ops.test_backup import PASSPHRASE, pg_tools

__all__ = ["pg_tools"]


def opening_payload(node: Node, reference: str) -> dict[str, Any]:
    with node.runtime.reading() as session:
        case = service.get_case(session, reference=reference)
        row = session.scalar(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq == 1)
        )
        assert row is not None
        return dict(row.payload)


def salts(node: Node, reference: str) -> list[str | None]:
    with node.runtime.reading() as session:
        case = service.get_case(session, reference=reference)
        return [
            p.salt
            for p in session.scalars(select(CaseEventPart).where(CaseEventPart.case_id == case.id))
        ]


def verified(a: Node, b: Node, reference: str) -> bool:
    with a.runtime.reading() as session:
        return service.verify(
            session, node=a.identity, reference=reference, ask=asker(a, b)
        ).identical


def test_the_requested_side_erases_one_person_and_both_logs_still_verify(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    reference = open_from(us, cn.name, REMOVAL.opening)
    pump(us, cn)
    assert all(salts(us, reference)) and len(salts(us, reference)) == len(salts(cn, reference))
    acted = act(
        cn, reference, "erase", {"rule": "correction request 17", "targets": [
            {"seq": 1, "path": "/details/persons/0"}
        ]},
    )  # fmt: skip
    assert acted.pending is not None  # CN does not sequence: it submits the erasure
    pump(us, cn)
    actions = [e["action"] for e in log_of(us, reference)]
    assert actions[-2:] == ["erase", "erasure_receipt"]
    assert log_of(us, reference) == log_of(cn, reference)
    for node in (us, cn):
        persons = opening_payload(node, reference)["details"]["persons"]
        assert persons[0]["name"] == "" and persons[0]["passport_number"] == ""
        assert persons[1]["name"] == "HUANG Jun"  # only the person named
    assert verified(us, cn, reference) and verified(cn, us, reference)


def test_a_restore_from_before_an_erasure_erases_again(
    pair: tuple[Node, Node], tmp_path: Path, pg_tools: None
) -> None:
    us, cn = pair
    reference = open_from(us, cn.name, REMOVAL.opening)
    pump(us, cn)
    archive = tmp_path / "before.tar.gz"
    create_backup(us.runtime.settings, archive, passphrase=PASSPHRASE)
    act(us, reference, "erase", {"rule": "retention:removal/closed:0d", "targets": [{"seq": 1}]})
    assert "LIN Hui" not in str(opening_payload(us, reference))

    settings = us.runtime.settings
    us.runtime.close()
    report = restore_backup(
        settings, archive, passphrase=PASSPHRASE, force=True, reapply=reapply_after_restore
    )
    assert report["erasures_reapplied"]["cases"] == 1
    restored = Runtime.open(settings, us.runtime.registry)
    try:
        node = Node(runtime=restored, identity=restored.node)
        payload = opening_payload(node, reference)
        assert "LIN Hui" not in str(payload) and "E12345678" not in str(payload)
        assert payload["details"]["detained_at"] == "El Paso processing center"
        assert not any(salts(node, reference))
    finally:
        restored.close()


def hashed_in_clear() -> Registry:
    """The node as it was before format 0.3: no part of any payload declared personal."""
    standard = assemble()
    types = tuple(
        replace(
            t,
            fields=MappingProxyType(
                {name: replace(meta, personal=False) for name, meta in t.fields.items()}
            ),
        )
        for t in standard.case_types
    )
    return Registry(
        case_types=CaseTypes(types, on_shared=standard.case_types.on_shared),
        kinds=standard.kinds,
    )


def test_an_event_hashed_in_clear_is_erased_with_its_hash_as_attested(
    tmp_path: Path, database_url: Callable[[str], str]
) -> None:
    old_us = make_node(tmp_path, database_url("us"), "US-DOJ", "US", hashed_in_clear())
    old_cn = make_node(tmp_path, database_url("cn"), "CN-MOJ", "CN", hashed_in_clear())
    peer_up(old_us, old_cn)
    reference = open_from(old_us, old_cn.name, REMOVAL.opening)
    pump(old_us, old_cn)
    assert salts(old_us, reference) == []  # no parts: the opening is hashed in clear
    old_us.runtime.close()
    old_cn.runtime.close()
    us = Node(runtime=Runtime.open(old_us.runtime.settings, assemble()), identity=old_us.identity)
    cn = Node(runtime=Runtime.open(old_cn.runtime.settings, assemble()), identity=old_cn.identity)
    try:
        act(us, reference, "erase", {"rule": "court order 9", "targets": [{"seq": 1}]})
        pump(us, cn)
        for node in (us, cn):
            assert "LIN Hui" not in str(opening_payload(node, reference))
            with node.runtime.reading() as session:
                case = service.get_case(session, reference=reference)
                rows = list(
                    session.scalars(select(CaseEventPart).where(CaseEventPart.case_id == case.id))
                )
            assert rows and all(r.commitment is None and r.erased_at for r in rows)
        assert [e["action"] for e in log_of(us, reference)][-2:] == ["erase", "erasure_receipt"]
        assert verified(us, cn, reference) and verified(cn, us, reference)
    finally:
        us.runtime.close()
        cn.runtime.close()


def test_subject_access_lists_what_the_node_holds_about_one_person_until_it_is_erased(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    reference = open_from(us, cn.name, REMOVAL.opening)
    pump(us, cn)
    with cn.runtime.reading() as session:
        held = subject_access(session, query="lin hui", node_name=cn.name)
    [case] = held["cases"]
    assert case["reference"] == reference
    assert case["events"][0]["parts"] == {"/details/persons/0/name": "LIN Hui"}
    with pytest.raises(InvalidInput, match="at least 3 characters"), cn.runtime.reading() as s:
        subject_access(s, query="L", node_name=cn.name)
    act(us, reference, "erase", {"rule": "request", "targets": [{"seq": 1, "path": "/details"}]})
    pump(us, cn)
    with cn.runtime.reading() as session:
        assert subject_access(session, query="lin hui", node_name=cn.name)["cases"] == []


def test_an_erasure_removes_the_screening_proposals_that_copied_the_persons(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    with cn.runtime.transaction() as session:
        _, _, problems = add_to_watchlist(
            session,
            persons=[{"id": "R1", "name": "LIN Hui", "birth_date": "1990-02-03"}],
            unit="central-authority",
        )
    assert problems == []
    reference = open_from(us, cn.name, REMOVAL.opening)
    pump(us, cn)
    with cn.runtime.reading() as session:
        job = session.get(ScreeningJob, screening_id(reference))
        assert job is not None and "LIN Hui" in str(job.persons)
    act(us, reference, "erase", {"rule": "retention:removal/closed:0d", "targets": [{"seq": 1}]})
    pump(us, cn)
    with cn.runtime.reading() as session:
        assert session.get(ScreeningJob, screening_id(reference)) is None
