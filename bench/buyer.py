"""Whom the benchmarks act as on the demo store, which has accounts (issue 19): an actor
without one is refused, as in the app."""

from __future__ import annotations

import sqlalchemy as sa

from messagerie.models.store.accounts import current_login, seen_by
from messagerie.models.store.tables import consultation, message

BUYER = "marie.dupont"  # every right, on her organisation's consultations (DEMO_ACCOUNTS)
# Sees every organisation, read only: the demo makes the builder's login a support account.
SUPPORT = current_login()


def busiest_consultation(connection: sa.Connection) -> int:
    """The buyer's consultation with the most messages (the worst case of the
    per-consultation queries)."""
    return connection.execute(
        sa.select(message.c.consultation_id)
        .join(consultation, consultation.c.id == message.c.consultation_id)
        .where(seen_by(BUYER))
        .group_by(message.c.consultation_id)
        .order_by(sa.func.count().desc())
        .limit(1)
    ).scalar_one()
