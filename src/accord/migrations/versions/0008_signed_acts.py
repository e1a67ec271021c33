"""signed_acts: acts signed by their actor's node, and each node's reference namespace

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_events") as table:
        table.add_column(sa.Column("acted_at", sa.String(length=40), nullable=True))
        table.add_column(sa.Column("signature", sa.String(length=100), nullable=True))
    with op.batch_alter_table("node") as table:
        table.add_column(sa.Column("namespace", sa.String(length=12), nullable=True))
    with op.batch_alter_table("peers") as table:
        table.add_column(sa.Column("namespace", sa.String(length=12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("peers") as table:
        table.drop_column("namespace")
    with op.batch_alter_table("node") as table:
        table.drop_column("namespace")
    with op.batch_alter_table("case_events") as table:
        table.drop_column("signature")
        table.drop_column("acted_at")
