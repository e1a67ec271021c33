"""notices whole: an index of the notice each case holds, for the duplicate check

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04

Importing a notice looks for the case that already holds it (same peer, same entity_id) in
the case's facts, which both nodes fold from the log. The expression index on the facts'
`notice_id` keeps that a lookup instead of a scan of every fugitive case with the peer; the
query writes the same expression (accord.core.dialects.JsonText). Fugitive cases opened before
this revision get the facts the fold now keeps (the notice's id and kind, read from their opening
event), so that importing their notice again finds them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
cases = sa.table("cases", sa.column("id"), sa.column("case_type"), sa.column("facts", JSON))
events = sa.table("case_events", sa.column("case_id"), sa.column("seq"), sa.column("payload", JSON))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_cases_notice_id ON cases ((facts ->> 'notice_id'))")
    else:
        op.execute("CREATE INDEX ix_cases_notice_id ON cases (json_extract(facts, '$.notice_id'))")
    opened = bind.execute(
        sa.select(cases.c.id, cases.c.facts, events.c.payload)
        .join(events, sa.and_(events.c.case_id == cases.c.id, events.c.seq == 1))
        .where(cases.c.case_type == "fugitive")
    ).all()
    for case_id, facts, payload in opened:
        details = (payload or {}).get("details") or {}
        if (facts or {}).get("notice_id") is not None or not details.get("notice_id"):
            continue
        folded = {
            **(facts or {}),
            "notice_id": str(details["notice_id"]),
            "notice_kind": "red",  # the only kind before this revision
            "notice_content": "",
            "notice_summary": False,
        }
        bind.execute(cases.update().where(cases.c.id == case_id).values(facts=folded))


def downgrade() -> None:
    op.execute("DROP INDEX ix_cases_notice_id")
