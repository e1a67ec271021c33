"""identity units: watchlist entries and screening jobs held by a unit

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10

An entry's record id is unique within its unit, no longer across the node. Entries made before
this revision go to the intake unit's default (`central-authority`); jobs to the unit of the
officer who started them, if that officer is known (else none: not readable through the API).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY_UNIT = "central-authority"


def upgrade() -> None:
    with op.batch_alter_table("identity_watchlist", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit", sa.String(length=100), nullable=True))
    op.execute(sa.text("UPDATE identity_watchlist SET unit = :unit").bindparams(unit=LEGACY_UNIT))
    with op.batch_alter_table("identity_watchlist", schema=None) as batch_op:
        batch_op.alter_column("unit", existing_type=sa.String(length=100), nullable=False)
        batch_op.drop_constraint("uq_identity_watchlist_record_id", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_identity_watchlist_unit"), ["unit", "record_id"]
        )
    with op.batch_alter_table("identity_screening_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit", sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f("ix_identity_screening_jobs_unit"), ["unit"], unique=False)
    op.execute(
        sa.text(
            "UPDATE identity_screening_jobs SET unit = (SELECT users.unit FROM users "
            "WHERE users.username = identity_screening_jobs.created_by)"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("identity_screening_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_screening_jobs_unit"))
        batch_op.drop_column("unit")
    # Two units' entries of one record id cannot both survive a node-wide unique id: keep the
    # oldest.
    op.execute(
        sa.text(
            "DELETE FROM identity_watchlist WHERE id NOT IN "
            "(SELECT MIN(id) FROM identity_watchlist GROUP BY record_id)"
        )
    )
    with op.batch_alter_table("identity_watchlist", schema=None) as batch_op:
        batch_op.drop_constraint("uq_identity_watchlist_unit", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_identity_watchlist_record_id"), ["record_id"]
        )
        batch_op.drop_column("unit")
