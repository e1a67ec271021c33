"""accounts: when an officer last chose their own password (My account)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04

The officer's language preference is `users.language`, there since the first revision; My
account now lets the officer change it and their password. `password_changed_at` records the
last change (null: the password an administrator set, never changed since).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("password_changed_at")
