"""The questions and answers of a consultation's "Questions / réponses" document."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from messagerie.models.clock import utc_now
from messagerie.models.consultations.answer_drafts import forget_within
from messagerie.models.errors import Refusal
from messagerie.models.store.accounts import authorize, authorize_reading
from messagerie.models.store.database import Store
from messagerie.models.store.engine import unique_key_refused
from messagerie.models.store.enums import Right
from messagerie.models.store.tables import qa_item


class QaConflict(Refusal):
    """Another answer took this number meanwhile; the message (French) says what to do."""


@dataclass(frozen=True)
class QaEntry:
    number: int
    question: str
    answer: str
    question_entry_id: int | None
    created_at: datetime


def qa_entries(store: Store, consultation_id: int, *, actor: str) -> tuple[QaEntry, ...]:
    """The answered questions, by number, for an `actor` who sees the consultation
    (ConsultationNotFound otherwise, as for one that does not exist)."""
    with store.engine.connect() as connection:
        authorize_reading(connection, actor, consultation_id)
        rows = connection.execute(
            sa.select(qa_item)
            .where(qa_item.c.consultation_id == consultation_id)
            .order_by(qa_item.c.number)
        ).all()
    return tuple(
        QaEntry(row.number, row.question, row.answer, row.question_entry_id, row.created_at)
        for row in rows
    )


def add_qa_entry(store: Store, consultation_id: int, *, actor: str, **item: Any) -> QaEntry:
    """`record_qa_entry` (number, question, answer, question_entry_id) in a transaction."""
    with store.engine.begin() as connection:
        return record_qa_entry(connection, consultation_id, actor=actor, **item)


def record_qa_entry(
    connection: sa.Connection,
    consultation_id: int,
    *,
    number: int,
    question: str,
    answer: str,
    question_entry_id: int | None,
    actor: str,
) -> QaEntry:
    """Record the answered question under `number` (QaConflict when another took it); what
    `actor` kept of their answer to it while writing goes (answer_drafts)."""
    now = utc_now()
    authorize(connection, actor, Right.ANSWER, consultation_id)
    try:
        connection.execute(
            sa.insert(qa_item).values(
                consultation_id=consultation_id,
                number=number,
                question=question,
                answer=answer,
                question_entry_id=question_entry_id,
                created_at=now,
                author=actor,
            )
        )
    except sa.exc.IntegrityError as error:
        if not unique_key_refused(error):  # not another buyer's: a bug, kept as it is
            raise
        raise QaConflict(
            f"La question n°{number} du document questions/réponses vient d'être publiée "
            "par une autre personne : rien n'a été enregistré. Publiez de nouveau la réponse."
        ) from None
    if question_entry_id is not None:
        forget_within(connection, question_entry_id, actor)
    return QaEntry(number, question, answer, question_entry_id, now)
