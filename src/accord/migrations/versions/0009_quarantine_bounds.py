"""quarantine_bounds: bounded storage for unauthenticated refusals

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

Rows already in the quarantine keep what they hold (digest and size unknown, a count of one);
the worker's retention deletes the unauthenticated ones in time.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("quarantine", sa.Column("digest", sa.String(length=64), nullable=True))
    op.add_column("quarantine", sa.Column("size", sa.BigInteger(), nullable=True))
    op.add_column(
        "quarantine", sa.Column("count", sa.Integer(), server_default="1", nullable=False)
    )
    op.add_column(
        "quarantine", sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("quarantine", sa.Column("capped", sa.String(length=8), nullable=True))
    op.create_index(
        "ix_quarantine_source", "quarantine", ["stage", "remote_addr", "received_at"], unique=False
    )
    op.create_index("ix_quarantine_capped", "quarantine", ["capped", "received_at"], unique=False)
    op.create_index("ix_quarantine_envelope_id", "quarantine", ["envelope_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_quarantine_envelope_id", table_name="quarantine")
    op.drop_index("ix_quarantine_capped", table_name="quarantine")
    op.drop_index("ix_quarantine_source", table_name="quarantine")
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_column("capped")
        batch.drop_column("last_seen_at")
        batch.drop_column("count")
        batch.drop_column("size")
        batch.drop_column("digest")
