"""Files on the case page: attached through the form, downloaded only through a case that holds
them, with safe headers; the peer's files shown on their way, then not received if they expire."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from accord.attachments import service
from accord.cli.scenarios import MLA_STEPS
from tests.helpers import act, pump
from tests.hostile.test_attachments_hostile import CHUNK, announce, chunks, push
from tests.web.conftest import Web, csrf_of

STATEMENT = b"%PDF-1.7 bank statement"


def test_a_file_attached_on_the_page_downloads_with_its_chinese_name(web: Web) -> None:
    client = web.client()
    web.sign_in(client, "smith")
    page = client.get(f"/cases/{web.reference}")
    sent = client.post(
        f"/cases/{web.reference}/attach",
        data={"csrf_token": csrf_of(page.text), "handling_code": "H1", "description": "x"},
        files={"file": ("银行流水.pdf", STATEMENT, "application/pdf")},
    )
    assert sent.status_code == 200, sent.text
    sha = hashlib.sha256(STATEMENT).hexdigest()
    assert f'href="/cases/{web.reference}/files/{sha}"' in sent.text
    download = client.get(f"/cases/{web.reference}/files/{sha}")
    assert download.status_code == 200 and download.content == STATEMENT
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == (
        'attachment; filename="____.pdf"; '
        "filename*=UTF-8''%E9%93%B6%E8%A1%8C%E6%B5%81%E6%B0%B4.pdf"
    )


def test_a_hash_the_case_does_not_name_is_no_such_file_on_the_page(web: Web) -> None:
    client = web.client()
    web.sign_in(client, "smith")
    answer = client.get(f"/cases/{web.reference}/files/{'0' * 64}")
    assert answer.status_code == 404 and "There is no such file on this case" in answer.text
    assert "/api/v1/" not in answer.text  # no advice for another interface


def test_the_peers_file_is_on_its_way_then_not_received_when_it_expires(web: Web) -> None:
    us, cn = web.us, web.cn
    for step in MLA_STEPS[:2]:
        act(us, web.reference, step.action, step.payload)
    pump(us, cn)
    content = b"x" * (CHUNK + 1)
    sha = announce(cn, web.reference, content, filename="records.pdf")
    pump(us, cn)
    push(cn, us, service.CHUNK_KIND, chunks(web.reference, content)[0])  # one of two
    client = web.client()
    web.sign_in(client, "smith")
    page = client.get(f"/cases/{web.reference}")
    assert "records.pdf</span> <small>(on its way)</small>" in page.text
    assert f"/files/{sha}" not in page.text
    with us.runtime.transaction() as session:
        assert service.expire_partial(session, node=us.identity, older_than=timedelta(0)) == 1
    page = client.get(f"/cases/{web.reference}")
    assert "records.pdf</span> <small>(not received)</small>" in page.text
    client.cookies.set("lang", "zh")
    assert (
        "records.pdf</span> <small>(未收到)</small>" in client.get(f"/cases/{web.reference}").text
    )
    assert client.get(f"/cases/{web.reference}/files/{sha}").status_code == 409
