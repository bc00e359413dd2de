"""events: each recipient's history hash-chained (previous_hash, hash, recipient.chain_head)

The events already there are chained here, in the order they were written (their ids), with
the same function as models/store/chain.py — copied, so that this migration keeps computing
what it computed the day it was written.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import hashlib
import json
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
FIELDS = ("recipient_id", "kind", "at", "detail", "client_address", "user_agent")
BATCH = 5000


def _canonical(value):  # type: ignore[no-untyped-def]
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat(timespec="microseconds")
    return str(value) if value is not None and not isinstance(value, int) else value


def _hash(previous: str, row) -> str:  # type: ignore[no-untyped-def]
    values = [previous, *(_canonical(row[name]) for name in FIELDS)]
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def upgrade() -> None:
    hash_column = sqlmodel.sql.sqltypes.AutoString(length=64)
    with op.batch_alter_table("event") as batch:
        batch.add_column(sa.Column("previous_hash", hash_column, nullable=True))
        batch.add_column(sa.Column("hash", hash_column, nullable=True))
    with op.batch_alter_table("recipient") as batch:
        batch.add_column(sa.Column("chain_head", hash_column, nullable=True))
    _chain_existing_events()


def _chain_existing_events() -> None:
    connection = op.get_bind()
    # Typed as the model types them: SQLite hands back `at` as text without its type.
    types = {"recipient_id": sa.Integer(), "at": sqlmodel.sql.sqltypes.UTCDateTime()}
    event = sa.table(
        "event", sa.column("id"), sa.column("previous_hash"), sa.column("hash"),
        *(sa.column(name, types.get(name)) for name in FIELDS),
    )  # fmt: skip
    recipient = sa.table("recipient", sa.column("id"), sa.column("chain_head"))
    rows = connection.execute(
        sa.select(event.c.id, *(event.c[name] for name in FIELDS)).order_by(
            event.c.recipient_id, event.c.id
        )
    ).mappings()
    heads: dict[int, str] = {}
    updates = []
    for row in rows.all():
        previous = heads.get(row["recipient_id"], GENESIS)
        heads[row["recipient_id"]] = _hash(previous, row)
        updates.append({"key": row["id"], "previous": previous, "own": heads[row["recipient_id"]]})
    update = sa.update(event).where(event.c.id == sa.bindparam("key"))
    for start in range(0, len(updates), BATCH):
        connection.execute(
            update.values(previous_hash=sa.bindparam("previous"), hash=sa.bindparam("own")),
            updates[start : start + BATCH],
        )
    if heads:
        connection.execute(
            sa.update(recipient)
            .where(recipient.c.id == sa.bindparam("key"))
            .values(chain_head=sa.bindparam("head")),
            [{"key": rid, "head": head} for rid, head in heads.items()],
        )


def downgrade() -> None:
    with op.batch_alter_table("recipient") as batch:
        batch.drop_column("chain_head")
    with op.batch_alter_table("event") as batch:
        batch.drop_column("hash")
        batch.drop_column("previous_hash")
