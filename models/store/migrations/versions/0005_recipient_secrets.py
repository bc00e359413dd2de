"""recipients: one secret per purpose, a reply token and a bounce token beside the page token

Existing rows keep NULL in both: the e-mails already sent carry `reply+TOKEN@` and
`bounce+TOKEN@` with the page token, and those addresses keep resolving (the inbound lookup
falls back to `token` only where the new column is NULL). The outbox gives the two new
tokens to an old row before it ever sends it.

The columns are added in place and their unique indexes created beside them, so that SQLite
does not copy the recipient table (a batch "recreate" would also drop a table that events,
replies and attachments reference).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COLUMNS = ("reply_token", "bounce_token")


def upgrade() -> None:
    with op.batch_alter_table("recipient") as batch:
        for name in COLUMNS:
            batch.add_column(
                sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
            )
            batch.create_index(f"ix_recipient_{name}", [name], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("recipient") as batch:
        for name in COLUMNS:
            batch.drop_index(f"ix_recipient_{name}")
            batch.drop_column(name)
