"""What names a consultation wherever it is shown or printed: the "Référence | Intitulé",
"Objet" and "Organisme | Entité d'achat" lines of the platform's context block, of every
letter, AR and Q/A document; and how a query reads it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from messagerie.models.store.tables import (
    Consultation,
    consultation,
    organisation,
    purchasing_entity,
)


@dataclass(frozen=True)
class ConsultationIdentity:
    reference: str
    title: str
    object: str
    organisation: str
    entity: str  # the purchasing entity ("entité d'achat") within the organisation


# The names of who publishes a consultation; selected with `joined_to_publisher`.
PUBLISHER_NAMES = (
    organisation.c.name.label("organisation"),
    purchasing_entity.c.name.label("entity"),
)
# Read back by `identity_of`.
IDENTITY_COLUMNS = (
    consultation.c.reference,
    consultation.c.title,
    consultation.c.object,
    *PUBLISHER_NAMES,
)


def joined_to_publisher(query: sa.Select[Any]) -> sa.Select[Any]:
    """`query`, which reads consultations, joined to the entity and organisation that
    publish them."""
    return query.join(purchasing_entity, purchasing_entity.c.id == consultation.c.entity_id).join(
        organisation, organisation.c.id == purchasing_entity.c.organisation_id
    )


def with_publisher(*columns: Any) -> sa.Select[Any]:
    """Whole consultation rows with their publisher's names and `columns`."""
    return joined_to_publisher(sa.select(Consultation, *PUBLISHER_NAMES, *columns))


def identity_of(row: Any) -> ConsultationIdentity:
    """The identity in a row that selected `IDENTITY_COLUMNS` (or in anything with those
    attributes: a `ConsultationDetail`)."""
    return ConsultationIdentity(row.reference, row.title, row.object, row.organisation, row.entity)
