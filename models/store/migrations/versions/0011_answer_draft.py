"""answer_draft: an answer to all being written, kept when the app ended before it was
published

The Q/A editor (« Répondre à tous », case A) had no draft: a terminal that went away, or
Ctrl+Q, lost the answer being written. One row per question and buyer, until they publish it
or leave it. On PostgreSQL it is behind the organisations' wall (0009) like its question.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WALL = "question_entry_id IN (SELECT id FROM register_entry)"
# The roles granted the store's tables before this table existed (accounts' and services'
# roles, database_roles.py) get it too: without it, publishing an answer was refused to them.
GRANT_TO_EARLIER_ROLES = """
DO $$ DECLARE granted record; BEGIN
    FOR granted IN SELECT DISTINCT grantee FROM information_schema.role_table_grants
        WHERE table_schema = current_schema() AND table_name = 'register_entry'
          AND privilege_type = 'DELETE' AND grantee <> current_user LOOP
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON answer_draft TO %I',
                       granted.grantee);
        EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE answer_draft_id_seq TO %I',
                       granted.grantee);
    END LOOP;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "answer_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_entry_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("kept_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("at_hang_up", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_entry_id"],
            ["register_entry.id"],
            name=op.f("fk_answer_draft_question_entry_id_register_entry"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_draft")),
        sa.UniqueConstraint(
            "question_entry_id", "author", name=op.f("uq_answer_draft_question_entry_id")
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE answer_draft ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY organisation_wall ON answer_draft USING ({WALL})")
        op.execute(GRANT_TO_EARLIER_ROLES)


def downgrade() -> None:
    op.drop_table("answer_draft")  # its policy goes with it
