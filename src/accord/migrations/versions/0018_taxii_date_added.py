"""taxii: collection ids as TAXII identifiers (UUIDs), a strictly increasing date_added per
collection, and an index to start added_after paging from

Stored collections were named `to-<peer>` / `from-<peer>`; their rows now carry the UUID the
server derives from that name (uuid5, the namespace below, the same as
`accord.cyber.taxii.service.COLLECTION_NAMESPACE`), and the old name stays the collection's
alias, still accepted in paths. Objects of one add shared one date_added; each now gets a tick
(a microsecond) after the one before it, in key order, so that added_after never skips a row.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid5

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAMESPACE = UUID("3f0b7c52-6d2e-4c1a-9d8e-2b5f4a7c9e10")
TICK = timedelta(microseconds=1)
INDEX = "ix_taxii_objects_collection_date_added"

objects = sa.table(
    "taxii_objects",
    sa.column("key", sa.Integer()),
    sa.column("collection", sa.String()),
    sa.column("date_added", sa.DateTime(timezone=True)),
)
statuses = sa.table("taxii_statuses", sa.column("collection", sa.String()))
peers = sa.table("peers", sa.column("name", sa.String()))


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _rename(mapping: dict[str, str]) -> None:
    bind = op.get_bind()
    for table in (objects, statuses):
        for old, new in mapping.items():
            bind.execute(sa.update(table).where(table.c.collection == old).values(collection=new))


def upgrade() -> None:
    bind = op.get_bind()
    names = {
        name
        for table in (objects, statuses)
        for (name,) in bind.execute(sa.select(table.c.collection).distinct())
    }
    _rename(
        {name: str(uuid5(NAMESPACE, name)) for name in names if name.startswith(("to-", "from-"))}
    )
    collections = [c for (c,) in bind.execute(sa.select(objects.c.collection).distinct())]
    for collection in collections:
        rows = bind.execute(
            sa.select(objects.c.key, objects.c.date_added)
            .where(objects.c.collection == collection)
            .order_by(objects.c.key)
        ).all()
        last: datetime | None = None
        changed: list[dict[str, object]] = []
        for key, added in rows:
            moment = _aware(added)
            if last is not None and moment <= last:
                moment = last + TICK
                changed.append({"k": key, "d": moment})
            last = moment
        if changed:
            bind.execute(
                sa.update(objects)
                .where(objects.c.key == sa.bindparam("k"))
                .values(date_added=sa.bindparam("d")),
                changed,
            )
    op.create_index(INDEX, "taxii_objects", ["collection", "date_added"], unique=False)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="taxii_objects")
    bind = op.get_bind()
    aliases = [
        f"{direction}-{name}"
        for (name,) in bind.execute(sa.select(peers.c.name))
        for direction in ("to", "from")
    ]
    _rename({str(uuid5(NAMESPACE, alias)): alias for alias in aliases})
