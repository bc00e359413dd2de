"""Appending to the audit log (append-only: the database refuses updates and deletes)."""

from __future__ import annotations

import sqlalchemy as sa

from models.clock import utc_now
from models.store import Store
from models.tables import AuditEntry, table_of


def record_override(
    store: Store, *, consultation_id: int, rule: int, reason: str, actor: str, detail: str
) -> None:
    """A rule the buyer chose to pass, with the written reason (later printed on the AR)."""
    with store.engine.begin() as connection:
        connection.execute(
            sa.insert(table_of(AuditEntry)).values(
                at=utc_now(),
                actor=actor,
                action="rule.override",
                consultation_id=consultation_id,
                rule=rule,
                override_reason=reason,
                detail=detail,
            )
        )
