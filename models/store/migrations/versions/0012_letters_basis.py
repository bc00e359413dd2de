"""message: what its generated letters were drawn from

A letter generated (Ctrl+G) before the buyer corrected an amount, a reason or a lot went out
saying what the form no longer said. The form now keeps, with the letters, the type, lots,
mentions and attachments they were drawn from, and refuses to send them once any changed; a
draft keeps them here. Drafts saved before have none: their letters are to be drawn again.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message") as batch:
        batch.add_column(sa.Column("letters_basis", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("message") as batch:
        batch.drop_column("letters_basis")
