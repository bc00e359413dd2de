"""reply: the address an e-mailed reply says it is from

A reply reaches its recipient's row through the reply address of the message, which every
copy of the thread carries: a forwarded copy let anyone answer as the company, with R. The
address the reply says it comes from is kept, and shown when it is not the recipient's.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reply") as batch:
        batch.add_column(sa.Column("sender", sa.String(320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reply") as batch:
        batch.drop_column("sender")
