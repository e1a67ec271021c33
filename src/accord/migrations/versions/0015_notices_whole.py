"""notices whole: an index of the notice each case holds, for the duplicate check

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04

Importing a notice looks for the case that already holds it (same peer, same entity_id) in
the case's facts, which both nodes fold from the log. The expression index on the facts'
`notice_id` keeps that a lookup instead of a scan of every fugitive case with the peer; the
query writes the same expression (accord.core.dialects.json_text).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_cases_notice_id ON cases ((facts ->> 'notice_id'))")
    else:
        op.execute("CREATE INDEX ix_cases_notice_id ON cases (json_extract(facts, '$.notice_id'))")


def downgrade() -> None:
    op.execute("DROP INDEX ix_cases_notice_id")
