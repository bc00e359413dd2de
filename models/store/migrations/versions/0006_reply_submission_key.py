"""replies: the key of the page's reply form that sent each one, so that a form sent twice
(a double click, a reload, a retry of the browser) records one reply

Existing rows keep NULL, as do the replies that come by e-mail: only the page's form carries
a key. The column is added in place and its unique index created beside it, so that SQLite
does not copy the reply table (a batch "recreate" would also drop a table that reply
attachments reference).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reply") as batch:
        batch.add_column(
            sa.Column("submission_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch.create_index("ix_reply_submission_key", ["submission_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("reply") as batch:
        batch.drop_index("ix_reply_submission_key")
        batch.drop_column("submission_key")
