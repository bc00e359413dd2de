"""accounts: who uses the messagerie (by system login), the purchasing entities they work
for and their rights (issue 19)

A store upgraded here has no account: it keeps running as before, in single-user mode
(every consultation visible, the audit's author from MESSAGERIE_USER or the login name),
until the first account is added (`messagerie comptes ajouter`).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

RIGHTS = ("consult", "answer", "dce", "send", "decide", "export", "import", "manage")


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("support", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_account_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
        sa.UniqueConstraint("login", name=op.f("uq_account_login")),
    )
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "account_entity",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_account_entity_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["entity_id"],
            ["purchasing_entity.id"],
            name=op.f("fk_account_entity_entity_id_purchasing_entity"),
        ),
        sa.PrimaryKeyConstraint("account_id", "entity_id", name=op.f("pk_account_entity")),
    )
    with op.batch_alter_table("account_entity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_entity_entity_id"), ["entity_id"], unique=False
        )

    op.create_table(
        "account_right",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column(
            "right",
            sa.Enum(*RIGHTS, name="right", native_enum=False, length=32),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_account_right_account_id_account")
        ),
        sa.PrimaryKeyConstraint("account_id", "right", name=op.f("pk_account_right")),
    )


def downgrade() -> None:
    op.drop_table("account_right")
    with op.batch_alter_table("account_entity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_entity_entity_id"))
    op.drop_table("account_entity")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_organisation_id"))
    op.drop_table("account")
