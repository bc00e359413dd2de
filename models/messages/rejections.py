"""Rejection letters already sent to the bidders a new one is meant for: a second letter to
the same company restarts the lot's standstill from it (LEGAL rule 8 counts from the latest),
so the message form and « Rejets en nombre » both ask before sending it."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa

from messagerie.models.formatting import paris_minutes
from messagerie.models.store.accounts import authorize_reading
from messagerie.models.store.database import Store
from messagerie.models.store.enums import MessageState, MessageType
from messagerie.models.store.tables import lot, message, message_lot, recipient
from messagerie.models.text import cut, first_few

NAME_LENGTH = 40


def rejected_before(
    store: Store,
    consultation_id: int,
    lot_numbers: Collection[int],
    emails: Iterable[str],
    *,
    actor: str,
) -> dict[str, datetime]:
    """Which of `emails` (lowercased) a rejection letter of these lots (none: any lot) already
    went to, with the latest one's queue time. A letter of all lots concerns every lot."""
    wanted = sorted({email.lower() for email in emails})
    address = sa.func.lower(recipient.c.email)
    query = (
        sa.select(address, sa.func.max(message.c.queued_at))
        .join(message, message.c.id == recipient.c.message_id)
        .where(
            message.c.consultation_id == consultation_id,
            message.c.type == MessageType.REJECTION,
            message.c.state == MessageState.QUEUED,
            address.in_(wanted),
        )
        .group_by(address)
    )
    if lot_numbers:
        of_lots = (
            sa.select(message_lot.c.message_id)
            .join(lot, lot.c.id == message_lot.c.lot_id)
            .where(lot.c.number.in_(sorted(lot_numbers)))
        )
        query = query.where(sa.or_(message.c.all_lots, message.c.id.in_(of_lots)))
    with store.engine.connect() as connection:
        authorize_reading(connection, actor, consultation_id)
        return {email: at for email, at in connection.execute(query)} if wanted else {}


def rejected_again(names: Sequence[str], found: dict[str, datetime], where: str = "ce lot") -> str:
    """What the buyer reads before a second letter: whom (three at most), and since when;
    `where` is what the letter is about (`concerning`)."""
    listed = first_few([cut(name, NAME_LENGTH) for name in names])
    return (
        f"Déjà rejetées pour {where} : {listed} (dernier courrier le "
        f"{paris_minutes(max(found.values()))}). Un second courrier leur serait envoyé, et le "
        "délai de suspension éventuel partirait de celui-ci."
    )


PRESS_AGAIN = "Ctrl+E de nouveau pour leur en envoyer un second."


def ask_again(found: dict[str, datetime]) -> str:
    """The warning of the merge's first Ctrl+E, when some bidders were rejected before (the
    screen names them above its table)."""
    return (
        f"{len(found)} de ces entreprises ont déjà reçu un courrier de rejet pour ce lot : "
        + PRESS_AGAIN
    )


def concerning(lot_numbers: Collection[int]) -> str:
    """« ce lot », « ces lots », or the whole consultation's when the letter names none."""
    if not lot_numbers:
        return "cette consultation"
    return "ce lot" if len(lot_numbers) == 1 else "ces lots"
