"""erasable_payloads: the erasable parts of case-log events (commitment, salt, erasure)

Each personal part of an event's payload is committed by salted hash in what the event's hash
and signature cover; its salt lives here, and erasing it deletes the salt and overwrites the
value in the payload. Events written before (formats 0.1 and 0.2, hashed in clear) get a row
only when they are erased: no commitment, their stored hash kept as attested.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_event_parts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("commitment", sa.String(length=64), nullable=True),
        sa.Column("salt", sa.String(length=64), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erasure_seq", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_event_parts_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_event_parts")),
        sa.UniqueConstraint("case_id", "seq", "path", name="uq_case_event_parts_case_seq_path"),
    )
    op.create_index(
        op.f("ix_case_event_parts_case_id"), "case_event_parts", ["case_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_case_event_parts_case_id"), table_name="case_event_parts")
    op.drop_table("case_event_parts")
