"""consultation: its reference unique in its organisation, not in the store

Unique in the store, a reference another organisation had taken could not be used (an
import, a suite's « -S1 »), and an import refused it, telling that it existed. Each
consultation now carries its entity's organisation, which a foreign key on both columns
keeps equal to the entity's, and the reference is unique with it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from messagerie.models.store.engine import StoreError

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

ENTITY_ORGANISATION = (
    "UPDATE consultation SET organisation_id = (SELECT organisation_id FROM purchasing_entity "
    "WHERE purchasing_entity.id = consultation.entity_id)"
)


def upgrade() -> None:
    with op.batch_alter_table("purchasing_entity") as batch:
        batch.create_unique_constraint("uq_purchasing_entity_id", ["id", "organisation_id"])
    with op.batch_alter_table("consultation") as batch:
        batch.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
    op.execute(ENTITY_ORGANISATION)
    with op.batch_alter_table("consultation") as batch:
        batch.alter_column("organisation_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_constraint("uq_consultation_reference", type_="unique")
        batch.create_unique_constraint(
            "uq_consultation_organisation_id", ["organisation_id", "reference"]
        )
        batch.create_foreign_key(
            "fk_consultation_entity_organisation",
            "purchasing_entity",
            ["entity_id", "organisation_id"],
            ["id", "organisation_id"],
        )
        batch.create_index("ix_consultation_reference", ["reference"])


def downgrade() -> None:
    shared = op.get_bind().execute(
        sa.text("SELECT reference FROM consultation GROUP BY reference HAVING count(*) > 1")
    )
    if references := sorted(shared.scalars()):
        raise StoreError(
            "Revenir avant 0015 rendrait chaque référence unique dans la base, et plusieurs "
            f"organisations ont une consultation « {' », « '.join(references[:5])} » : "
            "renommez-les d'abord. La base n'a pas été modifiée."
        )
    with op.batch_alter_table("consultation") as batch:
        batch.drop_index("ix_consultation_reference")
        batch.drop_constraint("fk_consultation_entity_organisation", type_="foreignkey")
        batch.drop_constraint("uq_consultation_organisation_id", type_="unique")
        batch.create_unique_constraint("uq_consultation_reference", ["reference"])
        batch.drop_column("organisation_id")
    with op.batch_alter_table("purchasing_entity") as batch:
        batch.drop_constraint("uq_purchasing_entity_id", type_="unique")
