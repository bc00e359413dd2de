"""What an account may import (issue 19): only into its own organisation.

A file naming another organisation, a purchasing entity the account does not work for, or
the reference of a consultation of its organisation it does not see is refused whole, before
anything is written; a store without accounts imports anything, as before. Another
organisation's references are not looked at: a reference is unique in its organisation only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from messagerie.models.importing.reading import ImportedConsultation, ImportRefused
from messagerie.models.importing.write import _select_in
from messagerie.models.store.accounts import Account, visible_consultations
from messagerie.models.store.tables import consultation, organisation
from messagerie.models.text import fold


def check_import_scope(
    connection: Connection,
    account: Account | None,
    file_name: str,
    consultations: Sequence[ImportedConsultation],
) -> None:
    """ImportRefused listing every consultation of the file outside `account`'s reach."""
    if account is None:
        return
    organisations = set(
        connection.execute(
            sa.select(organisation.c.name).where(
                organisation.c.id.in_(sorted(account.organisation_ids))
            )
        ).scalars()
    )
    entities = {name for _, name in account.entities}  # none: every entity of its organisation
    hidden = {
        row.reference
        for row in _select_in(
            connection,
            sa.select(consultation.c.reference).where(
                consultation.c.organisation_id.in_(sorted(account.organisation_ids)),
                sa.not_(visible_consultations(account)),
            ),
            consultation.c.reference,
            (imported.fields.identity.reference for imported in consultations),
        )
    }
    errors = []
    for imported in consultations:
        identity = imported.fields.identity
        where = f"consultation « {identity.reference} »"
        if identity.organisation not in organisations:
            errors.append(
                f"{where} : l'organisation « {identity.organisation} » n'est pas la vôtre "
                f"(« {account.organisation} ») ; l'import n'écrit que dans votre organisation."
            )
        elif entities and identity.entity not in entities:
            errors.append(
                f"{where} : le compte « {account.login} » ne travaille pas pour l'entité "
                f"« {identity.entity} » ({', '.join(sorted(entities))})."
            )
        elif identity.reference in hidden:
            # Another entity's of the organisation, which the account does not work for: a
            # reference is unique in its organisation, so it can be neither created nor updated.
            errors.append(
                f"{where} : cette référence est celle d'une consultation d'une autre entité de "
                "votre organisation, que votre compte ne voit pas ; choisissez-en une autre."
            )
    if errors:
        raise ImportRefused(file_name, errors)


def check_organisation_names(
    connection: Connection, file_name: str, consultations: Sequence[ImportedConsultation]
) -> None:
    """ImportRefused for an organisation the file would create under a name that is a known
    one's but for case, accents or spaces: organisations are matched by exact name, and a
    reference is unique in its organisation only, so such a file made a second organisation
    and a second consultation of each of its references (the registers copied)."""
    known = {
        " ".join(fold(name).split()): name
        for name in connection.execute(sa.select(organisation.c.name)).scalars()
    }
    errors = []
    for name in dict.fromkeys(one.fields.identity.organisation for one in consultations):
        like = known.get(" ".join(fold(name).split()))
        if like is not None and like != name:
            errors.append(
                f"l'organisation « {name} » ressemble à « {like} », déjà connue : écrivez son "
                "nom exact (une autre orthographe créerait une seconde organisation)."
            )
    if errors:
        raise ImportRefused(file_name, errors)
