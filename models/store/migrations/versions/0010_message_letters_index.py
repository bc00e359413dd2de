"""message: an index for the letters of one type and state in a consultation

The message form reads, on opening and on each send, the queued letters of a type in its
consultation: the latest rejection letters (LEGAL rule 8, for all lots first) and the award
letters with their lots. With 100,000 messages that read the consultation's every message
(bench/message_form.py: opening the form 62 ms, 14 ms with this index).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NAME = "ix_message_consultation_letters"
COLUMNS = ["consultation_id", "type", "state", "all_lots", "queued_at"]


def upgrade() -> None:
    op.create_index(NAME, "message", COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index(NAME, table_name="message")
