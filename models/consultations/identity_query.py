"""How a query reads a consultation's identity: the publisher's names joined to the
consultation, and the one mapping from such a row to a `ConsultationIdentity`."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from messagerie.models.consultations.identity import ConsultationIdentity
from messagerie.models.store.tables import (
    consultation,
    organisation,
    purchasing_entity,
)
from messagerie.models.text import search_text

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
    return joined_to_publisher(sa.select(consultation, *PUBLISHER_NAMES, *columns))


def identity_of(row: Any) -> ConsultationIdentity:
    """The identity in a row that selected `IDENTITY_COLUMNS` (or `with_publisher`): the one
    place a query's row becomes a `ConsultationIdentity`."""
    return ConsultationIdentity(row.reference, row.title, row.object, row.organisation, row.entity)


def search_text_of(identity: ConsultationIdentity) -> str:
    """A consultation's search column: the words of its identity the dashboard finds it by."""
    return search_text(
        identity.reference, identity.title, identity.object, identity.entity, identity.organisation
    )
