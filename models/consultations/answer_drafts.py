"""An answer to all being written (« Répondre à tous », case A), kept when the app ended
before it was published: the Q/A editor has no draft of its own, and a terminal that went
away, or Ctrl+Q, lost the answer. One per question and buyer, until they publish it (the
Q/A entry then takes its place) or leave it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from messagerie.models.consultations.registers import entry_not_found
from messagerie.models.formatting import paris_minutes
from messagerie.models.store.accounts import authorize_reading
from messagerie.models.store.database import Store
from messagerie.models.store.tables import answer_draft, consultation, register_entry
from messagerie.models.store.upsert import insert_or_keep
from messagerie.models.text import cut, kept_at_hang_up_notice


@dataclass(frozen=True)
class KeptAnswer:
    question: str  # the question as the buyer was anonymising it
    answer: str
    kept_at: datetime
    at_hang_up: bool  # kept because the terminal went away, not at the buyer's request


@dataclass(frozen=True)
class AnswerKeptAtHangUp:
    """What the next start tells of an answer kept when the terminal went away."""

    reference: str  # the consultation's
    number: int  # the question's, in its register
    kept_at: datetime


# A kept answer with its question and the question's consultation.
ANSWERED = answer_draft.join(
    register_entry, register_entry.c.id == answer_draft.c.question_entry_id
).join(consultation, consultation.c.id == register_entry.c.consultation_id)


def _authorize(connection: Connection, question_entry_id: int, actor: str) -> None:
    """`actor` sees the question's consultation (the same refusal as a question that is gone)."""
    its_consultation = (
        sa.select(register_entry.c.consultation_id)
        .where(register_entry.c.id == question_entry_id)
        .scalar_subquery()
    )
    authorize_reading(connection, actor, its_consultation,
                      missing=entry_not_found(question_entry_id))  # fmt: skip


def _mine(question_entry_id: int, actor: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        answer_draft.c.question_entry_id == question_entry_id, answer_draft.c.author == actor
    )


def keep_answer(store: Store, question_entry_id: int, kept: KeptAnswer, *, actor: str) -> None:
    """Keep the editor's two fields for `actor`, over what was kept before for that question."""
    with store.engine.begin() as connection:
        _authorize(connection, question_entry_id, actor)
        # Two windows of one buyer (two terminals hung up together) meet on the key.
        fields = asdict(kept)
        values = {"question_entry_id": question_entry_id, "author": actor, **fields}
        insert_or_keep(
            connection,
            answer_draft,
            values,
            key=["question_entry_id", "author"],
            update=list(fields),
        )


def kept_answer(store: Store, question_entry_id: int, *, actor: str) -> KeptAnswer | None:
    """What `actor` kept of their answer to that question, if anything."""
    with store.engine.connect() as connection:
        _authorize(connection, question_entry_id, actor)
        row = connection.execute(
            sa.select(
                answer_draft.c.question,
                answer_draft.c.answer,
                answer_draft.c.kept_at,
                answer_draft.c.at_hang_up,
            ).where(_mine(question_entry_id, actor))
        ).first()
    return KeptAnswer(*row) if row else None


def forget_answer(store: Store, question_entry_id: int, *, actor: str) -> bool:
    """The buyer left the editor without the answer: what was kept of it goes too (True when
    there was something)."""
    with store.engine.begin() as connection:
        return forget_within(connection, question_entry_id, actor)


def forget_within(connection: Connection, question_entry_id: int, actor: str) -> bool:
    """`forget_answer` in the caller's transaction (the answer, published, is a Q/A entry)."""
    deleted = connection.execute(sa.delete(answer_draft).where(_mine(question_entry_id, actor)))
    return deleted.rowcount > 0


def answers_kept_at_hang_up(store: Store, *, actor: str) -> tuple[AnswerKeptAtHangUp, ...]:
    """The answers kept for `actor` when their terminal went away, oldest first: what the
    next start tells them until they publish or leave them."""
    mine = answer_draft.c.author == actor
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(consultation.c.reference, register_entry.c.number, answer_draft.c.kept_at)
            .select_from(ANSWERED)
            .where(mine, answer_draft.c.at_hang_up)
            .order_by(answer_draft.c.kept_at, answer_draft.c.id)
        )
        return tuple(AnswerKeptAtHangUp(*row) for row in rows)


def kept_answers_notice(kept: Sequence[AnswerKeptAtHangUp]) -> str:
    """What the buyer reads at the next start: which consultations, which questions."""
    return kept_at_hang_up_notice(
        [f"{cut(k.reference, 30)}, question n° {k.number} ({paris_minutes(k.kept_at)})"
         for k in kept],
        ("la réponse à tous en cours a été gardée",
         "les réponses à tous en cours ont été gardées"),
        ("Reprenez-la : questions (q) de la consultation, Entrée sur la question, puis d.",
         "Reprenez-les : questions (q) de chaque consultation, Entrée sur la question, puis d."),
    )  # fmt: skip
