"""The audit log, as the tests read it."""

from __future__ import annotations

import sqlalchemy as sa

from messagerie.models.store.database import Store
from messagerie.models.store.tables import audit_entry


def audit_rows(store: Store, action_prefix: str) -> list[tuple[str, str, str]]:
    """(author, action, detail) of each entry whose action starts with `action_prefix`, in order."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(audit_entry.c.actor, audit_entry.c.action, audit_entry.c.detail)
            .where(audit_entry.c.action.startswith(action_prefix))
            .order_by(audit_entry.c.id)
        )
        return [tuple(row) for row in rows]
