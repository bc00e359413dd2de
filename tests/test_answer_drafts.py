"""An answer to all being written, kept when the app ended before it was published
(models/consultations/answer_drafts.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

import pytest
import sqlalchemy as sa

from messagerie.models.consultations.answer_drafts import (
    KeptAnswer,
    answers_kept_at_hang_up,
    forget_answer,
    keep_answer,
    kept_answer,
    kept_answers_notice,
)
from messagerie.models.consultations.qa import add_qa_entry
from messagerie.models.consultations.registers import EntryNotFound
from messagerie.models.store.enums import RegisterKind, Right
from messagerie.models.store.tables import register_entry
from tests.helpers.accounts import COLMAR, MULHOUSE, add_accounts, add_towns
from tests.helpers.factories import paris
from tests.helpers.interleave import right_after

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 30, 9, 5, tzinfo=UTC)
AT_HANG_UP = KeptAnswer("Q ?", "R.", NOW, True)


def question_of(store, consultation_id: int) -> int:
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(register_entry.c.id).where(
                register_entry.c.consultation_id == consultation_id,
                register_entry.c.kind == RegisterKind.QUESTION,
            )
        ).scalar_one()


@pytest.fixture
def towns(store):
    """COL-01 and MUL-01, and an agent of each town who may answer."""
    ids = add_towns(store, paris(2026, 12, 27), paris(2026, 11, 20))
    rights = {Right.CONSULT, Right.ANSWER, Right.DCE}
    agents = {"agent.colmar": (COLMAR, rights), "agent.mulhouse": (MULHOUSE, rights)}
    add_accounts(store, "support", agents, NOW)
    return {town: question_of(store, cid) for town, cid in ids.items()}


def test_a_kept_answer_is_the_buyers_own_and_the_latest_replaces_it(store, towns):
    colmar = towns["colmar"]
    keep_answer(store, colmar, KeptAnswer("Q ?", "Premier jet.", NOW, True), actor="agent.colmar")
    latest = KeptAnswer("Q, anonymisée ?", "Réponse finie.", LATER, False)
    keep_answer(store, colmar, latest, actor="agent.colmar")
    assert kept_answer(store, colmar, actor="agent.colmar") == latest
    assert kept_answer(store, colmar, actor="support") is None  # another buyer's typing
    # Kept at the buyer's request: the next start has nothing to tell.
    assert answers_kept_at_hang_up(store, actor="agent.colmar") == ()


def test_two_windows_keeping_one_answer_at_once_keep_one(store, towns):
    """Two terminals of one buyer hung up together: each cleared the answer kept before and
    wrote its own, and the second failed on the unique key (the app stopped)."""
    colmar = towns["colmar"]
    first = KeptAnswer("Q ?", "Depuis la première fenêtre.", NOW, True)
    second = KeptAnswer("Q ?", "Depuis la seconde.", LATER, True)
    other_window = partial(keep_answer, store, colmar, first, actor="agent.colmar")
    with right_after(store, "answer_draft", other_window, head_start=0.5):
        keep_answer(store, colmar, second, actor="agent.colmar")
    assert kept_answer(store, colmar, actor="agent.colmar") in (first, second)


def test_another_organisations_question_is_refused_as_if_it_did_not_exist(store, towns):
    mulhouse = towns["mulhouse"]
    for call in (
        lambda: keep_answer(store, mulhouse, AT_HANG_UP, actor="agent.colmar"),
        lambda: kept_answer(store, mulhouse, actor="agent.colmar"),
    ):
        with pytest.raises(EntryNotFound, match="n'existe plus"):
            call()
    assert kept_answer(store, mulhouse, actor="agent.mulhouse") is None


def test_the_start_is_told_of_answers_kept_at_a_hang_up_until_published_or_left(store, towns):
    colmar = towns["colmar"]
    keep_answer(store, colmar, AT_HANG_UP, actor="agent.colmar")
    (kept,) = answers_kept_at_hang_up(store, actor="agent.colmar")
    assert (kept.reference, kept.kept_at) == ("COL-01", NOW)
    notice = kept_answers_notice([kept])
    assert f"la réponse à tous en cours a été gardée : COL-01, question n° {kept.number} (" in (
        notice
    )
    assert answers_kept_at_hang_up(store, actor="agent.mulhouse") == ()

    # Published: the Q/A entry takes its place (only this buyer's is gone).
    keep_answer(store, colmar, AT_HANG_UP, actor="support")
    add_qa_entry(store, question_cid(store, colmar), number=1, question="Q", answer="R",
                 question_entry_id=colmar, actor="agent.colmar")  # fmt: skip
    assert kept_answer(store, colmar, actor="agent.colmar") is None
    assert kept_answer(store, colmar, actor="support") is not None

    # Left without publishing.
    forget_answer(store, colmar, actor="support")
    assert kept_answer(store, colmar, actor="support") is None


def question_cid(store, entry_id: int) -> int:
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(register_entry.c.consultation_id).where(register_entry.c.id == entry_id)
        ).scalar_one()
