"""identity: many names per person, list-style values

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

Watchlist entries keep a person's other names (`aliases`, JSON: name, name_native, weak), the
issuing country of the passport (`passport_country`, alpha-2), the values beyond the first of a
field (`more_values`, JSON: a second nationality, passport or identity number), `birth_place`,
`address`, and birth dates as lists write them (`12 May 1970`, `circa 1970`, `1968 to 1970`: up
to 40 characters, was 10).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("identity_watchlist", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "aliases",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("passport_country", sa.String(length=2), nullable=True))
        batch_op.add_column(
            sa.Column(
                "more_values",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("birth_place", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("address", sa.String(length=500), nullable=True))
        batch_op.alter_column(
            "birth_date",
            existing_type=sa.String(length=10),
            type_=sa.String(length=40),
            existing_nullable=True,
        )


def downgrade() -> None:
    # A date written as a list writes it does not fit ten characters: it is dropped, and the
    # entry screened without it (as an unreadable date would be).
    op.execute(
        sa.text("UPDATE identity_watchlist SET birth_date = NULL WHERE LENGTH(birth_date) > 10")
    )
    with op.batch_alter_table("identity_watchlist", schema=None) as batch_op:
        batch_op.alter_column(
            "birth_date",
            existing_type=sa.String(length=40),
            type_=sa.String(length=10),
            existing_nullable=True,
        )
        batch_op.drop_column("address")
        batch_op.drop_column("birth_place")
        batch_op.drop_column("more_values")
        batch_op.drop_column("passport_country")
        batch_op.drop_column("aliases")
