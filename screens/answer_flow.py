"""Answering a question: the dialog, then case A (Q/A document in the DCE, all registers) or
case B (a "Réponse à une question" draft to the asker only, with the reason of rule 1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.compose import ALL_REGISTERS
from models.drafts import DraftRecipient, DraftRequest, DraftView, Override, create_draft
from models.enums import MessageType
from models.registers import RegisterAddress, RegisterRow, register_addresses
from models.rules import answer_to_one_company
from screens.answer import AnswerChoice, AnswerDialog, SingleAnswerReasonDialog

if TYPE_CHECKING:
    from screens.widgets import StoreWork


def answer_question(screen: StoreWork, question: RegisterRow) -> None:
    """Open "Répondre à une question" for `question` and follow the buyer's choice."""

    def chosen(choice: AnswerChoice | None) -> None:
        if choice == "messaging":
            answer_asker_only(screen, question)
        elif choice == "dce":
            from screens.qa import QaEditorScreen

            screen.app.push_screen(QaEditorScreen(question))  # type: ignore[attr-defined]

    screen.app.push_screen(AnswerDialog(question), chosen)  # type: ignore[attr-defined]


def answer_asker_only(screen: StoreWork, question: RegisterRow) -> None:
    """Case B: a draft to the asker; a reason is asked when other companies are registered."""
    cid = question.consultation_id
    screen.store_task(
        lambda store: register_addresses(store, cid, ALL_REGISTERS),
        lambda addresses: _with_reason(screen, question, addresses),
    )


def _with_reason(
    screen: StoreWork, question: RegisterRow, addresses: tuple[RegisterAddress, ...]
) -> None:
    verdict = answer_to_one_company(len(addresses), reason="")
    if verdict is None:
        _create(screen, question, reason=None)
        return
    others = sum(1 for a in addresses if a.email.casefold() != question.contact_email.casefold())

    def reason_given(reason: str | None) -> None:
        if reason:
            _create(screen, question, reason)

    screen.app.push_screen(  # type: ignore[attr-defined]
        SingleAnswerReasonDialog(question.company_name, others), reason_given
    )


def _create(screen: StoreWork, question: RegisterRow, reason: str | None) -> None:
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
    actor = screen.app.actor  # type: ignore[attr-defined]
    screen.store_task(
        lambda store: create_draft(store, request, actor=actor),
        lambda draft: show_draft(screen, draft, question.consultation_id),
    )


def show_draft(screen: StoreWork, draft: DraftView, consultation_id: int) -> None:
    """Open the prepared draft in the message form, over the consultation screen (where it
    stays in « Brouillons de messages » if the buyer leaves without sending)."""
    from screens.consultation import ConsultationScreen
    from screens.message_form import MessageFormScreen

    app = screen.app  # type: ignore[attr-defined]
    app.notify(
        f"Brouillon « {draft.type.label} » préparé pour {len(draft.recipients)} "
        "destinataire(s) : vérifiez-le, puis envoyez-le (^e).",
        title="Brouillon enregistré",
    )
    # The flow's screen (register, DCE, Q/A editor) gives way to the consultation.
    app.switch_screen(ConsultationScreen(consultation_id))
    app.push_screen(MessageFormScreen(consultation_id, draft_id=draft.id))


def send_modification_draft(screen: StoreWork, consultation_id: int, *, origin: str) -> None:
    """After a DCE change: the "Information de modification" draft to all registers."""
    from models.workspace import prepare_modification_draft

    actor = screen.app.actor  # type: ignore[attr-defined]
    screen.store_task(
        lambda store: prepare_modification_draft(
            store, consultation_id, actor=actor, origin=origin
        ),
        lambda draft: show_draft(screen, draft, consultation_id),
    )
