"""A removal batch as a table on the requested side: one row per person with their status, the
screening proposal (best candidate, score, explanation) and the actions on the row; the queue
and "You can" agree with what the persons' statuses allow."""

from __future__ import annotations

from accord.identity import service as identity
from tests.helpers import act, log_of, open_from, pump
from tests.web.conftest import Web, csrf_of

RECORDS = [
    {
        "id": "R1",
        "name": "张伟",
        "name_native": "张伟",
        "birth_date": "1990-02-03",
        "sex": "M",
        "nationality": "CN",
    },
    {"id": "R2", "name": "李娜", "name_native": "李娜", "birth_date": "1985-07-19", "sex": "F"},
]
BATCH = {
    "case_type": "removal",
    "area": "immigration",
    "priority": "routine",
    "handling_code": "H0",
    "title": "Identity verification: 2 persons",
    "details": {
        "persons": [
            {"person_id": "P1", "name": "ZHANG Wei", "birth_date": "1990-02-03", "sex": "M"},
            {"person_id": "P2", "name": "OKONKWO Chidi", "birth_date": "1979"},
        ]
    },
}


def _received_batch(web: Web) -> str:
    """CN asks US to verify two persons; US holds records of one of them."""
    with web.us.runtime.transaction() as session:
        identity.add_to_watchlist(session, persons=list(RECORDS), unit="central-authority")
    reference = open_from(web.cn, web.us.name, BATCH)
    pump(web.cn, web.us)
    act(web.us, reference, "acknowledge", {})
    pump(web.us, web.cn)
    return reference


def test_the_requested_side_sees_each_person_with_the_proposal_and_acts_on_the_row(
    web: Web,
) -> None:
    reference = _received_batch(web)
    client = web.client()
    web.sign_in(client, "wang", lang="zh")
    page = client.get(f"/cases/{reference}")
    assert page.status_code == 200
    table = page.text.split('class="batch-table"')[1].split("</table>")[0]
    p1 = table.split('data-person="P1"')[1].split("</tr>")[0]
    assert "已核实：有匹配记录" in p1 and "<code>R1</code>" in p1  # the best candidate
    assert "得分" in p1 and "采纳此建议" in p1
    assert 'data-action="confirm_identity"' in p1 and 'data-action="deny_identity"' in p1
    p2 = table.split('data-person="P2"')[1].split("</tr>")[0]
    assert "未核实：无候选记录" in p2 and "待核查" in p2

    accepted = client.post(
        f"/cases/{reference}/persons/P1/accept", data={"csrf_token": csrf_of(page.text)}
    )
    assert accepted.status_code == 200
    pump(web.us, web.cn)
    last = log_of(web.cn, reference)[-1]
    assert last["action"] == "confirm_identity" and last["payload"]["person_id"] == "P1"
    assert "张伟" in last["payload"]["confirmed_name_native"]

    denied = client.post(
        f"/cases/{reference}",
        data={
            "action": "deny_identity",
            "deny_identity.person_id": "P2",
            "deny_identity.reason": "无此人记录",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert denied.status_code == 200
    pump(web.us, web.cn)
    page = client.get(f"/cases/{reference}")
    table = page.text.split('class="batch-table"')[1].split("</table>")[0]
    assert 'data-person="P2" data-status="not_verified"' in table
    p2 = table.split('data-person="P2"')[1].split("</tr>")[0]
    assert "data-action=" not in p2  # nothing left to do on this person


def test_the_queue_leaves_out_a_batch_waiting_on_the_other_side(web: Web) -> None:
    reference = _received_batch(web)
    for person in ("P1", "P2"):
        act(web.us, reference, "deny_identity", {"person_id": person, "reason": "no record"})
    pump(web.us, web.cn)
    client = web.client()
    web.sign_in(client, "smith")
    dashboard = client.get("/")
    queue = dashboard.text.split('id="deadlines"')[0]
    assert f'data-reference="{reference}"' not in queue  # every person settled: the other side
    listed = client.get("/cases?type=removal")
    row = listed.text.split(f'data-reference="{reference}"')[1].split("</tr>")[0]
    assert "Confirm identity" not in row and "Identity not verified" not in row
