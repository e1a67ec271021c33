"""Subject access: everything a node holds about one person (the case that names her, her
identity record, the screening job that screened her, the audit entries about those) as JSON,
and as a bilingual PDF whose text holds her Chinese name."""

from __future__ import annotations

from pathlib import Path

import pypdfium2

from accord.audit.service import record
from accord.cases import service
from accord.cases.enums import Area, HandlingCode, Priority
from accord.cli.scenarios import REMOVAL
from accord.identity.service import add_to_watchlist, start_job
from accord.lifecycle.subject import subject_access, to_pdf
from tests.helpers import Node


def test_export_holds_the_case_screening_records_and_their_audit_entries(
    pair: tuple[Node, Node], tmp_path: Path
) -> None:
    us, cn = pair
    opening = REMOVAL.opening
    with us.runtime.transaction() as session:
        case = service.open_case(
            session,
            node=us.identity,
            case_type="removal",
            peer=cn.name,
            area=Area(opening["area"]),
            priority=Priority(opening["priority"]),
            handling_code=HandlingCode(opening["handling_code"]),
            title=opening["title"],
            details=opening["details"],
            officer="officer-1",
        )
        reference = case.reference
        add_to_watchlist(
            session,
            persons=[
                {
                    "id": "W-77",
                    "name": "LIN Hui",
                    "name_native": "林慧",
                    "birth_date": "1990-02-03",
                },
                {"id": "W-78", "name": "ZHAO Lei", "name_native": "赵磊"},
            ],
            unit="central-authority",
        )
        job = start_job(
            session,
            persons=[
                {"id": "A1", "name": "Lin Hui", "name_native": "林慧"},
                {"id": "A2", "name": "WANG Fang"},
            ],
            created_by="analyst-1",
            unit="central-authority",
        )
        job_id = str(job.id)
        record(
            session,
            actor="analyst-1",
            action="identity.watchlist.read",
            outcome="ok",
            subject="W-77",
        )
        record(
            session,
            actor="analyst-1",
            action="identity.watchlist.read",
            outcome="ok",
            subject="W-78",
        )
        record(
            session,
            actor="analyst-1",
            action="identity.screening.read",
            outcome="ok",
            subject=job_id,
        )

    with us.runtime.reading() as session:
        document = subject_access(session, query="林慧", node_name=us.name)

    assert [c["reference"] for c in document["cases"]] == [reference]
    screening = document["screening"]
    assert [r["id"] for r in screening["records"]] == ["W-77"]  # not ZHAO Lei's
    assert [j["id"] for j in screening["jobs"]] == [job_id]
    assert [p["id"] for p in screening["jobs"][0]["persons"]] == ["A1"]  # not WANG Fang
    assert [(a["action"], a["subject"]) for a in screening["audit"]] == [
        ("identity.watchlist.read", "W-77"),
        ("identity.screening.read", job_id),
    ]

    pdf_bytes = to_pdf(document)
    assert pdf_bytes.startswith(b"%PDF")
    path = tmp_path / "subject.pdf"
    path.write_bytes(pdf_bytes)
    pdf = pypdfium2.PdfDocument(path)
    text = " ".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    for phrase in ("林慧", "Subject access", "个人数据查阅", "身份记录", reference, "W-77"):
        assert phrase in text, phrase
