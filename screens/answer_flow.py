"""Answering a question: the dialog, then case A (Q/A document in the DCE, all registers) or
case B (a "Réponse à une question" draft to the asker only, with the reason of rule 1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from messagerie.models.consultations.registers import (
    RegisterAddress,
    RegisterRow,
    register_addresses,
)
from messagerie.models.messages.drafts import DraftRecipient, DraftRequest, Override, create_draft
from messagerie.models.messages.form import ALL_REGISTERS
from messagerie.models.rules.checks import answer_to_one_company
from messagerie.models.store.enums import MessageType
from messagerie.screens.answer import AnswerChoice, AnswerDialog, SingleAnswerReasonDialog

if TYPE_CHECKING:
    from messagerie.screens.base import StoreScreen


def answer_question(screen: StoreScreen[None], question: RegisterRow) -> None:
    """Open "Répondre à une question" for `question` and follow the buyer's choice."""

    def chosen(choice: AnswerChoice | None) -> None:
        if choice == "messaging":
            answer_asker_only(screen, question)
        elif choice == "dce":
            screen.app.open_qa_editor(question)

    screen.app.push_screen(AnswerDialog(question), chosen)


def answer_asker_only(screen: StoreScreen[None], question: RegisterRow) -> None:
    """Case B: a draft to the asker; a reason is asked when other companies are registered."""
    cid = question.consultation_id
    screen.store_task(
        lambda store: register_addresses(store, cid, ALL_REGISTERS, actor=screen.app.actor),
        lambda addresses: _with_reason(screen, question, addresses),
    )


def _with_reason(
    screen: StoreScreen[None], question: RegisterRow, addresses: tuple[RegisterAddress, ...]
) -> None:
    verdict = answer_to_one_company(len(addresses), reason="")
    if verdict is None:
        _create(screen, question, reason=None)
        return
    others = sum(1 for a in addresses if a.email.casefold() != question.contact_email.casefold())

    def reason_given(reason: str | None) -> None:
        if reason:
            _create(screen, question, reason)

    screen.app.push_screen(SingleAnswerReasonDialog(question.company_name, others), reason_given)


def _create(screen: StoreScreen[None], question: RegisterRow, reason: str | None) -> None:
    request = DraftRequest(
        consultation_id=question.consultation_id,
        type=MessageType.ANSWER,
        recipients=(
            DraftRecipient(question.contact_email, question.company_id, question.contact_name),
        ),
        lot_numbers=question.lot_numbers,
        overrides=(Override(1, reason),) if reason else (),
        origin=f"réponse à la question n°{question.number}",
    )
    actor = screen.app.actor
    screen.store_task(
        lambda store: create_draft(store, request, actor=actor),
        lambda draft: screen.app.open_draft(question.consultation_id, draft),
    )


def send_modification_draft(
    screen: StoreScreen[None], consultation_id: int, *, origin: str
) -> None:
    """After a DCE change: the "Information de modification" draft to all registers."""
    from messagerie.models.consultations.workspace import prepare_modification_draft

    actor = screen.app.actor
    screen.store_task(
        lambda store: prepare_modification_draft(
            store, consultation_id, actor=actor, origin=origin
        ),
        lambda draft: screen.app.open_draft(consultation_id, draft),
    )
