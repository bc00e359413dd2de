"""workspace: suite candidates and questions-answers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qa_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("question_entry_id", sa.Integer(), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_qa_item_consultation_id_consultation"),
        ),
        sa.ForeignKeyConstraint(
            ["question_entry_id"],
            ["register_entry.id"],
            name=op.f("fk_qa_item_question_entry_id_register_entry"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_item")),
        sa.UniqueConstraint("consultation_id", "number", name=op.f("uq_qa_item_consultation_id")),
    )
    with op.batch_alter_table("qa_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_qa_item_consultation_id"), ["consultation_id"], unique=False
        )

    op.create_table(
        "suite_candidate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consultation_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("contact_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("contact_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("source_entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_suite_candidate_company_id_company")
        ),
        sa.ForeignKeyConstraint(
            ["consultation_id"],
            ["consultation.id"],
            name=op.f("fk_suite_candidate_consultation_id_consultation"),
        ),
        sa.ForeignKeyConstraint(
            ["source_entry_id"],
            ["register_entry.id"],
            name=op.f("fk_suite_candidate_source_entry_id_register_entry"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suite_candidate")),
        sa.UniqueConstraint(
            "consultation_id", "contact_email", name=op.f("uq_suite_candidate_consultation_id")
        ),
    )
    with op.batch_alter_table("suite_candidate", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_suite_candidate_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_suite_candidate_consultation_id"), ["consultation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("suite_candidate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suite_candidate_consultation_id"))
        batch_op.drop_index(batch_op.f("ix_suite_candidate_company_id"))

    op.drop_table("suite_candidate")
    with op.batch_alter_table("qa_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_item_consultation_id"))

    op.drop_table("qa_item")
