"""Attachments between two nodes: stored by hash, sent in chunks once the case is shared,
verified on arrival; H2 content cannot be exported."""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import os

import pytest
from sqlalchemy import func, select

from accord.accounts.service import Principal
from accord.attachments import service
from accord.attachments.models import Blob
from accord.attachments.store import CHUNK, BlobStore
from accord.cases import service as cases
from accord.cases.enums import HandlingCode
from accord.cli.scenarios import MLA_STEPS
from accord.core.errors import Forbidden, PayloadTooLarge
from accord.core.permissions import Role
from accord.federation.kinds import Rejected
from accord.federation.models import InboxItem, OutboxItem, QuarantineItem
from tests.helpers import (
    Node,
    act,
    deliver,
    open_mla,
    process,
    pump,
    submitted_mla,
    take_outbox,
)

CONTENT = os.urandom(CHUNK * 2 + 1234)  # three chunks, the last one short


def attach(node: Node, reference: str, content: bytes, code: HandlingCode) -> str:
    with node.runtime.transaction() as session:
        service.attach(
            session,
            node=node.identity,
            reference=reference,
            content=io.BytesIO(content),
            filename="statement.pdf",
            media_type="application/pdf",
            handling_code=code,
            description="bank statement",
            officer="tester",
        )
    return hashlib.sha256(content).hexdigest()


def officer(unit: str) -> Principal:
    return Principal(username="t", role=Role.LIAISON_OFFICER, unit=unit)


def test_a_draft_attachment_travels_when_the_case_is_submitted(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = open_mla(us, cn.name)
    sha = attach(us, reference, CONTENT, HandlingCode.H1)
    with us.runtime.reading() as session:
        assert session.scalar(select(OutboxItem.id)) is None  # a draft: nothing leaves
    for step in MLA_STEPS[:2]:
        act(us, reference, step.action, step.payload)
    pump(us, cn)
    with cn.runtime.reading() as session:
        case = cases.get_case(session, reference=reference)
        (record,) = service.attachments_of(session, case=case)
        blob = session.get(Blob, sha)
    assert record["sha256"] == sha and record["available"] and record["size"] == len(CONTENT)
    assert blob is not None and blob.complete and blob.origin == us.name
    path = service.store_of(cn.identity).path(sha)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha


def test_the_requested_side_attaches_through_the_sequencer(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = open_mla(us, cn.name)
    for step in MLA_STEPS[:2]:
        act(us, reference, step.action, step.payload)
    pump(us, cn)
    sha = attach(cn, reference, b"evidence bytes", HandlingCode.H1)
    pump(us, cn)
    for node in (us, cn):
        with node.runtime.reading() as session:
            case = cases.get_case(session, reference=reference)
            (record,) = service.attachments_of(session, case=case)
            assert record["sha256"] == sha and record["available"] and record["by"] == cn.name


def test_chunks_that_do_not_match_their_hash_are_discarded(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    real = b"the real content"
    sha = hashlib.sha256(real).hexdigest()
    act(us, reference, "attach", {"sha256": sha, "filename": "real.txt", "size": len(real)})
    pump(us, cn)  # announced on the case, its content never sent
    forged = service.ChunkMessage(
        reference=reference,
        sha256=sha,
        size=len(real),
        index=0,
        count=1,
        data=base64.b64encode(b"other content 16").decode(),
    )
    with cn.runtime.transaction() as session, pytest.raises(Rejected, match="do not match"):
        service.receive_chunk(session, cn.identity, us.name, forged)
    assert not service.store_of(cn.identity).has(sha)
    wrong_size = forged.model_copy(update={"data": base64.b64encode(b"short").decode()})
    with cn.runtime.transaction() as session, pytest.raises(Rejected, match="5 bytes"):
        service.receive_chunk(session, cn.identity, us.name, wrong_size)


def test_h2_content_cannot_be_exported(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = open_mla(us, cn.name)  # the case itself is H1
    with us.runtime.reading() as session:
        exported = service.export_case(
            session, reference=reference, viewer=officer("central-authority")
        )
    assert exported["reference"] == reference and len(exported["log"]) == 1
    attach(us, reference, b"informant details", HandlingCode.H2)
    with us.runtime.reading() as session, pytest.raises(Forbidden, match=r"event 2 \(attach\)"):
        service.export_case(session, reference=reference, viewer=officer("central-authority"))


def test_officers_of_another_unit_cannot_see_the_case(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = open_mla(us, cn.name)
    with us.runtime.reading() as session, pytest.raises(Exception, match="no case"):
        service.export_case(session, reference=reference, viewer=officer("narcotics"))


def test_the_store_refuses_a_file_over_its_limit(tmp_path: object) -> None:
    store = BlobStore(tmp_path / "blobs", max_bytes=10)  # type: ignore[operator]
    assert store.put(io.BytesIO(b"0123456789"))[1] == 10
    with pytest.raises(PayloadTooLarge, match="larger than 10 bytes"):
        store.put(io.BytesIO(b"0123456789a"))


def test_quarantine_is_untouched_by_a_clean_transfer(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = open_mla(us, cn.name)
    for step in MLA_STEPS[:2]:
        act(us, reference, step.action, step.payload)
    attach(us, reference, CONTENT, HandlingCode.H0)
    pump(us, cn)
    with cn.runtime.reading() as session:
        assert session.scalar(select(QuarantineItem.id)) is None


def test_a_full_disk_delays_a_received_file_but_never_quarantines_it(
    pair: tuple[Node, Node], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the fault-injection suite: a chunk that could not be written (ENOSPC) was
    quarantined as if the message were bad, and the file never arrived."""
    us, cn = pair
    reference = open_mla(us, cn.name)
    for step in MLA_STEPS[:2]:
        act(us, reference, step.action, step.payload)
    pump(us, cn)

    def disk_full(self: BlobStore, sha256: str, index: int, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(BlobStore, "put_chunk", disk_full)
    sha = attach(us, reference, CONTENT, HandlingCode.H1)
    with pytest.raises(OSError, match="No space left"):
        pump(us, cn)
    with cn.runtime.reading() as session:
        assert session.scalar(select(QuarantineItem.id)) is None
        assert session.scalar(select(func.count()).where(InboxItem.status == "stored")) == 4
    monkeypatch.undo()  # space is freed
    process(cn)
    with cn.runtime.reading() as session:
        case = cases.get_case(session, reference=reference)
        (record,) = service.attachments_of(session, case=case)
        assert session.scalar(select(QuarantineItem.id)) is None
    assert record["sha256"] == sha and record["available"]
    path = service.store_of(cn.identity).path(sha)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha


def test_chunks_processed_before_the_submission_that_announces_them_wait_for_it(
    pair: tuple[Node, Node],
) -> None:
    """A batch's envelopes may be stored in any order (a proxy may shuffle them)."""
    us, cn = pair
    reference = submitted_mla(us, cn)
    sha = attach(cn, reference, CONTENT, HandlingCode.H1)  # CN submits; US sequences
    envelopes = take_outbox(cn)
    assert [e["kind"] for e in envelopes] == ["case.submit"] + [service.CHUNK_KIND] * 3
    assert deliver(us, envelopes[::-1]).error is None
    process(us)
    with us.runtime.reading() as session:
        case = cases.get_case(session, reference=reference)
        (record,) = service.attachments_of(session, case=case)
        assert session.scalar(select(QuarantineItem.id)) is None
    assert record["sha256"] == sha and record["available"]


def test_chunks_behind_an_event_that_waits_for_an_earlier_one_wait_too(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    act(us, reference, "note", {"text": "before the file"})
    sha = attach(us, reference, CONTENT, HandlingCode.H1)  # US sequences: event, then chunks
    note, event, *pieces = take_outbox(us)
    assert deliver(cn, [event, *pieces]).error is None
    process(cn)
    with cn.runtime.reading() as session:
        waiting = session.scalars(select(InboxItem.status).where(InboxItem.kind == "blob.chunk"))
        assert set(waiting) == {"waiting"}  # the event announcing them waits for the note
    assert not (service.store_of(cn.identity).root / "partial").exists()  # nothing kept yet
    assert deliver(cn, [note]).error is None
    process(cn)
    with cn.runtime.reading() as session:
        case = cases.get_case(session, reference=reference)
        (record,) = service.attachments_of(session, case=case)
        assert session.scalar(select(QuarantineItem.id)) is None
    assert record["sha256"] == sha and record["available"]
