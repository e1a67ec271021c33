"""Attachments against a pinned peer that turns hostile: CN-MOJ's real keys seal every envelope
here, through US-DOJ's real inbox (receive, then process), on SQLite and PostgreSQL. Each test
is one attack, and checks that it gets nothing and that nothing of it is kept."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from accord.accounts.service import Principal
from accord.app import create_app
from accord.attachments import service
from accord.attachments.enums import FileStatus
from accord.attachments.models import Blob, CaseFile
from accord.attachments.store import CHUNK
from accord.cases import service as cases
from accord.cases.enums import Area, HandlingCode, Priority
from accord.cases.models import CaseEvent, PendingAction
from accord.cases.workflow import Action, Workflow
from accord.cli.scenarios import MLA_OPENING
from accord.config import Settings
from accord.core.clock import iso, new_id, utcnow
from accord.core.errors import Conflict, InvalidInput
from accord.core.permissions import Role
from accord.cyber.stix import TLP2_MARKINGS, TlpLevel
from accord.federation.envelope import seal
from accord.federation.keys import PeerKeys
from accord.federation.models import QuarantineItem
from tests.helpers import Node, act, deliver, process, pump, role_tokens, submitted_mla

SECRET = os.urandom(CHUNK * 2 + 100)  # three chunks
SECRET_SHA = hashlib.sha256(SECRET).hexdigest()
CRLF_TYPE = "text/plain\r\nSet-Cookie: session=stolen"


# -- the hostile peer -------------------------------------------------------------------------


def push(peer: Node, to: Node, kind: str, *bodies: dict[str, Any]) -> None:
    """Seal each body with the peer's own keys, deliver them in one request, process them."""
    keys = PeerKeys.from_b64(to.name, to.identity.signing_public, to.identity.encryption_public)
    envelopes = [
        seal(peer.identity, keys, envelope_id=new_id(), kind=kind, body=b, sent_at=iso(utcnow()))
        for b in bodies
    ]
    outcome = deliver(to, envelopes)
    assert outcome.error is None, outcome.error
    process(to)


def chunks(reference: str, content: bytes, *, size: int | None = None) -> list[dict[str, Any]]:
    """`content` as blob.chunk bodies, claiming `size` bytes in all (its own length if None)."""
    size = len(content) if size is None else size
    count = max(1, -(-size // CHUNK))
    return [
        service.ChunkMessage(
            reference=reference,
            sha256=hashlib.sha256(content).hexdigest(),
            size=size,
            index=index,
            count=count,
            data=base64.b64encode(content[index * CHUNK : (index + 1) * CHUNK]).decode(),
        ).model_dump()
        for index in range(count)
    ]


def announce(node: Node, reference: str, content: bytes, **record: Any) -> str:
    """The `attach` action alone: the log names the file, no content is sent with it."""
    sha = hashlib.sha256(content).hexdigest()
    payload = {"sha256": sha, "filename": "statement.pdf", "size": len(content), **record}
    act(node, reference, "attach", payload)
    return sha


def refusals(node: Node, kind: str) -> list[str]:
    with node.runtime.reading() as session:
        return list(
            session.scalars(
                select(QuarantineItem.reason)
                .where(QuarantineItem.kind == kind)
                .order_by(QuarantineItem.id)
            )
        )


def kept(node: Node) -> list[str]:
    """Every file under the node's blob folder: stored blobs and chunks of partial transfers."""
    root = service.store_of(node.identity).root
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def officer(unit: str) -> Principal:
    return Principal(username=f"{unit}-officer", role=Role.LIAISON_OFFICER, unit=unit)


def status_on(node: Node, reference: str, sha: str) -> FileStatus:
    with node.runtime.reading() as session:
        case = cases.get_case(session, reference=reference)
        (record,) = [a for a in service.attachments_of(session, case=case) if a["sha256"] == sha]
    status: FileStatus = record["status"]
    assert record["available"] is (status is FileStatus.AVAILABLE)
    return status


def permissive_decide(
    self: Workflow, *, state: str, action: str, side: Any, payload: Any, facts: Any = None
) -> tuple[Action, dict[str, Any]]:
    """A peer that does not check its own payloads (or runs code that does not)."""
    return self.action(action), dict(payload)


# -- US-DOJ's API, for the download routes ----------------------------------------------------


@dataclass
class Api:
    client: TestClient
    tokens: dict[str, str]
    """per unit: a liaison officer's token"""

    def get(self, path: str, unit: str = "central-authority") -> Any:
        return self.client.get(path, headers={"Authorization": f"Bearer {self.tokens[unit]}"})


@pytest.fixture
def api(pair: tuple[Node, Node]) -> Iterator[Api]:
    us, _ = pair
    tokens: dict[str, str] = {}
    with us.runtime.transaction() as session:
        for unit in ("central-authority", "narcotics"):
            made = role_tokens(session, [Role.LIAISON_OFFICER], prefix=unit, unit=unit)
            tokens[unit] = made[Role.LIAISON_OFFICER]
    settings = Settings(
        data_dir=us.runtime.settings.data_dir,
        database_url=us.runtime.settings.database_url,
        run_workers=False,
    )
    with TestClient(create_app(settings)) as client:
        yield Api(client, tokens)


def draft_of_another_unit(us: Node, peer: str) -> str:
    """A narcotics officer's MLA draft, with the secret attached: nothing of it leaves."""
    with us.runtime.transaction() as session:
        case = cases.open_case(
            session,
            node=us.identity,
            case_type="mla",
            peer=peer,
            area=Area.COUNTER_NARCOTICS,
            priority=Priority.ROUTINE,
            handling_code=HandlingCode.H2,
            title="Informant's account",
            details=MLA_OPENING["details"],
            officer="narcotics officer",
            unit="narcotics",
        )
        reference = case.reference
        service.attach(
            session,
            node=us.identity,
            reference=reference,
            content=io.BytesIO(SECRET),
            filename="informant.pdf",
            media_type="application/pdf",
            handling_code=HandlingCode.H2,
            description="informant's statement",
            officer="narcotics officer",
        )
    return reference


# -- the attacks ------------------------------------------------------------------------------


def test_a_blob_no_case_announced_is_refused_and_not_kept(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    before = kept(us)
    junk = os.urandom(CHUNK + 10)
    push(cn, us, service.CHUNK_KIND, *chunks(reference, junk))  # a real case, never announced
    push(cn, us, service.CHUNK_KIND, *chunks("MLA-US-2026-999999", junk))  # no such case
    reasons = refusals(us, service.CHUNK_KIND)
    assert len(reasons) == 4 and all("announces this file" in r for r in reasons), reasons
    assert all("not kept" in r for r in reasons)
    assert kept(us) == before  # no chunk, no blob
    with us.runtime.reading() as session:
        assert session.scalar(select(func.count()).select_from(CaseFile)) == 0
        assert session.get(Blob, hashlib.sha256(junk).hexdigest()) is None


def test_a_peer_cannot_send_more_than_it_announced(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    content = os.urandom(CHUNK + 10)
    sha = announce(cn, reference, content)  # CN's submission, appended by US, the sequencer
    pump(us, cn)
    before = kept(us)
    padded = chunks(reference, content, size=len(content) + CHUNK)  # claims one chunk more
    push(cn, us, service.CHUNK_KIND, padded[0])
    beyond = {**chunks(reference, content)[0], "index": 2}  # a chunk past the announced count
    push(cn, us, service.CHUNK_KIND, beyond)
    first, second = refusals(us, service.CHUNK_KIND)
    assert f"announced as {len(content)} bytes" in first, first
    assert "does not fit a size" in second, second
    assert kept(us) == before
    assert status_on(us, reference, sha) is FileStatus.RECEIVING
    push(cn, us, service.CHUNK_KIND, *chunks(reference, content))  # what was announced, whole
    assert status_on(us, reference, sha) is FileStatus.AVAILABLE


def stix_bundle(marking: str) -> bytes:
    """A bundle of one indicator marked with `marking` (a TLP marking-definition id)."""
    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{new_id()}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [marking],
    }
    bundle = {"type": "bundle", "id": f"bundle--{new_id()}", "objects": [indicator]}
    return json.dumps(bundle).encode()


def test_a_peers_stix_bundle_stricter_than_the_case_is_refused_and_not_kept(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)  # an H1 case
    red = stix_bundle(TLP2_MARKINGS[TlpLevel.RED].id)  # TLP:RED asks for H3
    mislabelled = stix_bundle(TLP2_MARKINGS[TlpLevel.AMBER].id)  # AMBER asks for H2, labelled H0
    green = stix_bundle(TLP2_MARKINGS[TlpLevel.GREEN].id)
    stix = {"media_type": "application/stix+json;version=2.1"}
    shas = [
        announce(cn, reference, red, **stix, handling_code="H1"),
        announce(cn, reference, mislabelled, **stix, handling_code="H0"),
        announce(cn, reference, green, **stix, handling_code="H0"),
    ]
    pump(us, cn)
    before = kept(us)
    for content in (red, mislabelled):
        push(cn, us, service.CHUNK_KIND, *chunks(reference, content))
    first, second = refusals(us, service.CHUNK_KIND)
    assert "need handling code H3" in first and "refused and not kept" in first, first
    assert "need handling code H2" in second and "as labelled (H0)" in second, second
    assert kept(us) == before  # neither the chunks nor the joined bundle stay
    assert status_on(us, reference, shas[0]) is not FileStatus.AVAILABLE
    assert status_on(us, reference, shas[1]) is not FileStatus.AVAILABLE
    with us.runtime.reading() as session:
        assert session.get(Blob, shas[0]) is None and session.get(Blob, shas[1]) is None
    push(cn, us, service.CHUNK_KIND, *chunks(reference, green))  # what the case carries: held
    assert status_on(us, reference, shas[2]) is FileStatus.AVAILABLE


def test_chunks_a_peer_never_finishes_expire(pair: tuple[Node, Node]) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    sha = announce(cn, reference, SECRET)  # a three-chunk file...
    pump(us, cn)
    push(cn, us, service.CHUNK_KIND, *chunks(reference, SECRET)[:2])  # ...of which two come
    partial = [p for p in kept(us) if p.startswith("partial/")]
    assert len(partial) == 2
    assert status_on(us, reference, sha) is FileStatus.RECEIVING
    store = service.store_of(us.identity)
    legacy = store.root / "partial" / SECRET_SHA  # kept by hash alone, before 0010
    legacy.mkdir(parents=True)
    (legacy / "00000000").write_bytes(b"old chunk")
    os.utime(legacy, (time.time() - 3600, time.time() - 3600))
    with us.runtime.transaction() as session:
        assert service.expire_partial(session, node=us.identity, older_than=timedelta(days=1)) == 0
    assert len(kept(us)) == 3  # nothing is due yet

    expiry = Settings(attachment_transfer_expiry_seconds=0.05)
    time.sleep(0.1)
    assert service.expire_transfers(us.runtime.factory, us.identity, expiry) == 1  # the worker's
    assert kept(us) == []
    assert status_on(us, reference, sha) is FileStatus.NOT_RECEIVED
    with us.runtime.reading() as session, pytest.raises(Conflict, match="not received"):
        service.open_attachment(
            session,
            node=us.identity,
            reference=reference,
            sha256=sha,
            viewer=officer("central-authority"),
        )


def test_a_forged_attach_naming_another_units_draft_file_gets_nothing(
    pair: tuple[Node, Node], api: Api
) -> None:
    us, cn = pair
    draft = draft_of_another_unit(us, cn.name)
    theirs = submitted_mla(cn, us)  # CN's own case, held here by the intake unit
    announce(cn, theirs, SECRET, filename="anything.pdf", media_type="application/pdf")
    pump(us, cn)
    assert status_on(us, theirs, SECRET_SHA) is FileStatus.RECEIVING  # never "here"
    url = f"/api/v1/cases/{theirs}/attachments/{SECRET_SHA}"
    answer = api.get(url)
    assert answer.status_code == 409 and SECRET not in answer.content, answer.text
    listed = api.get(f"/api/v1/cases/{theirs}/attachments").json()
    assert [a["available"] for a in listed] == [False]
    forged = chunks(theirs, SECRET)  # the right hash and size, bytes it does not have
    for body in forged:
        body["data"] = base64.b64encode(os.urandom(len(base64.b64decode(body["data"])))).decode()
    push(cn, us, service.CHUNK_KIND, *forged)
    assert any("do not match the SHA-256" in r for r in refusals(us, service.CHUNK_KIND))
    assert api.get(url).status_code == 409
    # the file is served only through the case that holds it, to the unit that holds that case
    assert api.get(f"/api/v1/cases/{draft}/attachments/{SECRET_SHA}").status_code == 404
    mine = api.get(f"/api/v1/cases/{draft}/attachments/{SECRET_SHA}", unit="narcotics")
    assert mine.status_code == 200 and mine.content == SECRET


def test_naming_a_file_through_the_action_route_gets_nothing(
    pair: tuple[Node, Node], api: Api
) -> None:
    """The same attack from inside: an officer of one unit names, on a case of their own, the
    hash of a file that only another unit's draft holds."""
    us, cn = pair
    draft_of_another_unit(us, cn.name)
    own = submitted_mla(us, cn)
    answer = api.client.post(
        f"/api/v1/cases/{own}/actions",
        json={
            "action": "attach",
            "payload": {"sha256": SECRET_SHA, "filename": "x.pdf", "size": len(SECRET)},
        },
        headers={"Authorization": f"Bearer {api.tokens['central-authority']}"},
    )
    assert answer.status_code == 201, answer.text
    download = api.get(f"/api/v1/cases/{own}/attachments/{SECRET_SHA}")
    assert download.status_code == 409 and "not received" in download.json()["message"]
    assert SECRET not in download.content
    pump(us, cn)
    assert status_on(cn, own, SECRET_SHA) is FileStatus.RECEIVING  # nor does it leave


def test_a_hash_the_case_does_not_name_is_no_such_file(pair: tuple[Node, Node], api: Api) -> None:
    us, cn = pair
    draft_of_another_unit(us, cn.name)
    own = submitted_mla(us, cn)
    for sha in (SECRET_SHA, "0" * 64, "not-a-hash"):
        answer = api.get(f"/api/v1/cases/{own}/attachments/{sha}")
        assert answer.status_code == 404, answer.text
        assert answer.json()["message"].startswith("no such file on this case")


def test_a_crlf_media_type_from_the_peer_is_refused(
    pair: tuple[Node, Node], monkeypatch: pytest.MonkeyPatch
) -> None:
    us, cn = pair
    theirs = submitted_mla(cn, us)  # CN sequences: its event comes as it wrote it
    ours = submitted_mla(us, cn)  # US sequences: CN's attach comes as a submission
    with monkeypatch.context() as unchecked:
        unchecked.setattr(Workflow, "decide", permissive_decide)
        announce(cn, theirs, b"text", media_type=CRLF_TYPE)
        announce(cn, ours, b"text", media_type=CRLF_TYPE)
    with us.runtime.reading() as session:
        count_before = cases.get_case(session, reference=theirs).event_count
    pump(us, cn)
    (reason,) = refusals(us, "case.event")
    assert "media type has a control character" in reason, reason
    with us.runtime.reading() as session:
        for reference in (theirs, ours):
            case = cases.get_case(session, reference=reference)
            assert service.attachments_of(session, case=case) == []
        assert cases.get_case(session, reference=theirs).event_count == count_before
    with cn.runtime.reading() as session:
        (rejected,) = session.scalars(select(PendingAction).where(PendingAction.action == "attach"))
    assert rejected.status == "rejected" and "control character" in (rejected.reason or "")


def test_a_crlf_media_type_of_our_own_upload_is_refused_before_it_is_stored(
    pair: tuple[Node, Node],
) -> None:
    us, cn = pair
    reference = submitted_mla(us, cn)
    for bad in (CRLF_TYPE, "text/plain\n", "pdf", "text/" + "x" * 300, "текст/plain"):
        with us.runtime.transaction() as session, pytest.raises(InvalidInput) as refused:
            service.attach(
                session,
                node=us.identity,
                reference=reference,
                content=io.BytesIO(b"content"),
                filename="note.txt",
                media_type=bad,
                handling_code=HandlingCode.H0,
                description="",
                officer="tester",
            )
        assert "media type" in refused.value.message, refused.value.message
    assert kept(us) == []


def test_a_record_stored_before_the_check_downloads_with_safe_headers(
    pair: tuple[Node, Node], api: Api
) -> None:
    """Logs written before media types were checked may hold anything: the download still
    sends a Content-Type and a Content-Disposition that cannot be split or spoofed."""
    us, cn = pair
    reference = submitted_mla(us, cn)
    with us.runtime.transaction() as session:
        service.attach(
            session,
            node=us.identity,
            reference=reference,
            content=io.BytesIO(b"%PDF-1.7"),
            filename="银行流水.pdf",
            media_type="application/pdf",
            handling_code=HandlingCode.H0,
            description="",
            officer="tester",
        )
        event = session.scalars(select(CaseEvent).where(CaseEvent.action == "attach")).one()
        event.payload = {
            **event.payload,
            "media_type": CRLF_TYPE,
            "filename": '银行\r\n"流水".pdf',
        }
        sha = event.payload["sha256"]
    answer = api.get(f"/api/v1/cases/{reference}/attachments/{sha}")
    assert answer.status_code == 200 and answer.content == b"%PDF-1.7"
    assert answer.headers["content-type"] == "application/octet-stream"
    assert "set-cookie" not in answer.headers
    assert answer.headers["content-disposition"] == (
        "attachment; filename=\"______.pdf\"; filename*=UTF-8''"
        "%E9%93%B6%E8%A1%8C%22%E6%B5%81%E6%B0%B4%22.pdf"
    )
