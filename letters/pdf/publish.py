"""Case A of the guide: the answer joins the "Questions / réponses" document, which replaces the
previous one in the DCE, and the "Information de modification" draft goes to all registers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from messagerie.letters.pdf.qa import QaDocument, QaItem, qa_filename, render_qa_document
from messagerie.models.clock import utc_now
from messagerie.models.consultations.dce import DceChanges, NewFile, current_dce
from messagerie.models.consultations.detail import consultation_detail
from messagerie.models.consultations.qa import qa_entries, record_qa_entry
from messagerie.models.consultations.workspace import (
    DceUpdate,
    prepare_modification_draft,
    publish_dce_update,
)
from messagerie.models.messages.drafts import DraftView
from messagerie.models.store.accounts import authorize
from messagerie.models.store.database import Store
from messagerie.models.store.enums import Right

QA_PREFIX = "Questions-reponses_"


@dataclass(frozen=True)
class AnswerToAll:
    consultation_id: int
    question_entry_id: int | None
    question: str  # anonymised by the buyer
    answer: str  # anonymised too (rule 4): screens.qa warns about both before publishing
    new_deadline: datetime | None = None  # LEGAL rule 3, when inside the 6-day window
    reason: str = ""


@dataclass(frozen=True)
class AnswerPublished:
    dce_version: int
    filename: str
    pdf: bytes
    draft: DraftView


def qa_document(
    store: Store, answer: AnswerToAll, now: datetime, *, actor: str
) -> tuple[QaDocument, int]:
    """The document with every earlier answer and this one, and the new item's number."""
    detail = consultation_detail(store, answer.consultation_id)
    earlier = qa_entries(store, answer.consultation_id, actor=actor)
    number = len(earlier) + 1
    items = tuple(QaItem(e.number, e.question, e.answer) for e in earlier)
    items += (QaItem(number, answer.question.strip(), answer.answer.strip()),)
    document = QaDocument(
        consultation=detail.identity,
        bid_deadline=answer.new_deadline or detail.bid_deadline,
        items=items,
        issued_at=now,
        version=number,
    )
    return document, number


def publish_answer_to_all(store: Store, answer: AnswerToAll, *, actor: str) -> AnswerPublished:
    """The answer in the Q/A document of the DCE, then the draft to every register: `actor`
    needs the right to answer (checked first: nothing is published without it) and to
    modify the DCE (checked as it is saved)."""
    with store.engine.connect() as connection:
        authorize(connection, actor, Right.ANSWER, answer.consultation_id)
    now = utc_now()
    # The DCE first, then the answers: an answer published in between makes this version a
    # stale base, which the save refuses, rather than a document without that answer.
    changes = DceChanges.starting_from(current_dce(store, answer.consultation_id, actor=actor))
    document, number = qa_document(store, answer, now, actor=actor)
    pdf = render_qa_document(document)
    filename = qa_filename(document.consultation.reference, number)
    previous = next(
        (piece for piece in changes.base_pieces if piece.path.startswith(QA_PREFIX)), None
    )
    new_file = NewFile(filename, pdf)
    # The guide's tip: a new Q/A document replaces the previous one.
    changes = changes.replace(previous.id, new_file) if previous else changes.add(new_file)
    update = DceUpdate(answer.consultation_id, changes, answer.new_deadline, answer.reason)
    entry = partial(
        record_qa_entry,
        consultation_id=answer.consultation_id,
        number=number,
        question=document.items[-1].question,
        answer=document.items[-1].answer,
        question_entry_id=answer.question_entry_id,
        actor=actor,
    )  # with the DCE version, in its transaction: both or neither
    version = publish_dce_update(store, store.blobs, update, actor, now, within=entry)
    draft = prepare_modification_draft(
        store,
        answer.consultation_id,
        actor=actor,
        origin=f"document questions/réponses, question n°{number}",
    )
    return AnswerPublished(version.number, filename, pdf, draft)
