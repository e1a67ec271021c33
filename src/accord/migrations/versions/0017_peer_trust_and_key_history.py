"""federation: peer TLS trust, key history, restore reconciliation

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04

Each peer may carry its own TLS trust (a CA bundle or a pinned certificate), used for that peer
only. `key_history` keeps the public keys of ours and of each peer from before a rotation, so
that old signatures still verify. `reconciliations` holds, after a restore, one row per peer
that the node must reconcile with before it sequences or delivers again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("peers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tls_ca", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("tls_pin", sa.String(length=64), nullable=True))
    op.create_table(
        "key_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("signing_key", sa.String(length=64), nullable=False),
        sa.Column("encryption_key", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced_by", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_history")),
    )
    op.create_index("ix_key_history_owner", "key_history", ["owner"], unique=False)
    op.create_table(
        "reconciliations",
        sa.Column("peer", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("restored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("backup_created_at", sa.String(length=40), nullable=True),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "report",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("peer", name=op.f("pk_reconciliations")),
    )


def downgrade() -> None:
    op.drop_table("reconciliations")
    op.drop_index("ix_key_history_owner", table_name="key_history")
    op.drop_table("key_history")
    with op.batch_alter_table("peers", schema=None) as batch_op:
        batch_op.drop_column("tls_pin")
        batch_op.drop_column("tls_ca")
