"""reply: its DKIM signature, checked at its arrival

An e-mailed reply's From can be written by anyone; its DKIM signature, when the sending
domain's key verifies it, says which domain sent it. Checked once, when it comes (the key is
in that day's DNS), and kept with the domain it names.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reply") as batch:
        batch.add_column(sa.Column("dkim", sa.String(32), nullable=True))
        batch.add_column(sa.Column("dkim_domain", sa.String(253), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reply") as batch:
        batch.drop_column("dkim_domain")
        batch.drop_column("dkim")
