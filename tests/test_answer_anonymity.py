"""LEGAL.md rule 4 on the answer of the Q/A document: the answer goes to every candidate as the
question does, so the Q/A editor warns live when it names the asker and asks before
broadcasting it, as it does for the question. Pilot tests on a private copy of today's demo,
at the tester's 80×24."""

from __future__ import annotations

import io
from datetime import timedelta

import sqlalchemy as sa
from pypdf import PdfReader
from textual.widgets import TextArea

from messagerie.models.clock import utc_now
from messagerie.models.consultations.answer_drafts import KeptAnswer, keep_answer
from messagerie.models.consultations.dce import current_dce
from messagerie.models.consultations.qa import qa_entries
from messagerie.models.consultations.registers import RegisterRow, list_register
from messagerie.models.store.enums import RegisterKind
from messagerie.models.store.tables import Consultation, RegisterEntry, table_of
from messagerie.screens.dialogs import ConfirmDialog
from messagerie.screens.message_form import MessageFormScreen
from messagerie.screens.qa import QaEditorScreen
from tests.helpers.pilot import settle
from tests.helpers.screens import screen_lines

ACTOR = "marie.dupont"
SIZE = (80, 24)  # the tester's terminal
ANSWER_WARNING = "⚠ Règle 4 : Anonymisez la réponse avant diffusion"
QUESTION_WARNING = "⚠ Règle 4 : Anonymisez la question avant diffusion"
CLEAN_ANSWER = "Réponse transmise à l'entreprise qui l'a demandée."
consultation = table_of(Consultation)
entry = table_of(RegisterEntry)


def asked_question(store) -> RegisterRow:  # type: ignore[no-untyped-def]
    """A question of a consultation whose deadline is well ahead (no rule 3 dialog)."""
    with store.engine.connect() as connection:
        cid = connection.execute(
            sa.select(entry.c.consultation_id)
            .join(consultation, consultation.c.id == entry.c.consultation_id)
            .where(
                entry.c.kind == RegisterKind.QUESTION,
                consultation.c.bid_deadline > utc_now() + timedelta(days=10),
            )
            .order_by(entry.c.id)
            .limit(1)
        ).scalar_one()
    return list_register(store, cid, RegisterKind.QUESTION, actor=ACTOR).rows[0]


def siren(asker: RegisterRow) -> str:
    return asker.siret.replace(" ", "")[:9]


def leaking_answer(asker: RegisterRow) -> str:
    """The tester's sentence: the asker's company, contact and SIREN."""
    return f"Réponse transmise à {asker.company_name} ({asker.contact_name}, {siren(asker)})"


def shown(pilot) -> str:  # type: ignore[no-untyped-def]
    """The screen as painted, one space between words: what scrolled out of it is not."""
    return " ".join(" ".join(screen_lines(pilot)).split())


def qa_pdf_text(store, asker: RegisterRow) -> str | None:  # type: ignore[no-untyped-def]
    """The text of the Q/A document in the consultation's DCE, None when there is none."""
    dce = current_dce(store, asker.consultation_id, actor=ACTOR)
    pieces = [p for p in dce.pieces if p.path.startswith("Questions-reponses_")] if dce else []
    if not pieces:
        return None
    reader = PdfReader(io.BytesIO(store.blobs.read(pieces[0].sha256)))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


async def open_editor(pilot, asker: RegisterRow) -> QaEditorScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    pilot.app.open_qa_editor(asker)
    await settle(pilot)
    editor = pilot.app.screen
    assert isinstance(editor, QaEditorScreen)
    return editor


async def type_answer(pilot, editor: QaEditorScreen, answer: str) -> None:  # type: ignore[no-untyped-def]
    editor.query_one("#answer", TextArea).focus()
    await pilot.press(*answer)
    await settle(pilot)


async def test_an_answer_naming_the_asker_is_flagged_live_and_held_until_anonymised(
    workspace, workspace_app
):
    asker = asked_question(workspace)
    async with workspace_app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, asker)
        await type_answer(pilot, editor, leaking_answer(asker))
        screen = shown(pilot)  # the whole warning, on screen at 80×24
        assert f"{ANSWER_WARNING} : le nom de l'entreprise « {asker.company_name} » ;" in screen
        assert f"le numéro SIREN {siren(asker)} ;" in screen
        assert f"le nom de la personne qui a posé la question « {asker.contact_name} »." in screen
        assert QUESTION_WARNING not in screen  # the question itself is anonymous
        await pilot.press("ctrl+s")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert dialog.question.startswith("La réponse semble encore identifier le candidat :")
        assert f"• le numéro SIREN {siren(asker)}" in dialog.question
        await pilot.press("n")  # back to anonymise it: nothing is broadcast
        await settle(pilot)
        assert pilot.app.screen is editor
        assert qa_pdf_text(workspace, asker) is None
        editor.query_one("#answer", TextArea).text = CLEAN_ANSWER
        await settle(pilot)
        assert ANSWER_WARNING not in shown(pilot)
        await pilot.press("ctrl+s")  # nothing left to confirm: straight to the draft to all
        await settle(pilot)
        assert isinstance(pilot.app.screen, MessageFormScreen)
    text = qa_pdf_text(workspace, asker)
    assert text is not None and CLEAN_ANSWER in text
    assert asker.company_name not in text and asker.contact_name not in text
    assert siren(asker) not in text


async def test_one_confirmation_names_both_fields_and_diffuser_broadcasts_as_for_the_question(
    workspace, workspace_app
):
    asker = asked_question(workspace)
    async with workspace_app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, asker)
        question = editor.query_one("#question", TextArea)
        question.text += f" ({asker.company_name})"
        await type_answer(pilot, editor, f"Voir avec {asker.contact_name}.")
        await pilot.press("ctrl+s")
        await settle(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert dialog.question == (
            "La question semble encore identifier le candidat :\n"
            f"• le nom de l'entreprise « {asker.company_name} »\n"
            "La réponse semble encore identifier le candidat :\n"
            f"• le nom de la personne qui a posé la question « {asker.contact_name} »\n"
            "Diffuser quand même à toutes les entreprises ?"
        )
        await pilot.press("o")  # the buyer's decision, as for a question
        await settle(pilot)
        assert isinstance(pilot.app.screen, MessageFormScreen)
    text = qa_pdf_text(workspace, asker)
    assert text is not None and f"Voir avec {asker.contact_name}." in text
    assert len(qa_entries(workspace, asker.consultation_id, actor=ACTOR)) == 1


async def test_a_kept_answer_naming_the_asker_is_flagged_when_its_editor_opens_again(
    workspace, workspace_app
):
    asker = asked_question(workspace)
    kept = KeptAnswer(asker.question_text or "", leaking_answer(asker), utc_now(), True)
    keep_answer(workspace, asker.id, kept, actor=ACTOR)  # e.g. at a hang-up
    async with workspace_app.run_test(size=SIZE) as pilot:
        await open_editor(pilot, asker)
        screen = shown(pilot)
        assert f"{ANSWER_WARNING} : le nom de l'entreprise «" in screen  # its first line
        assert QUESTION_WARNING not in screen
        await pilot.press("tab")  # to the answer: its warning comes into view, whole
        await settle(pilot)
        assert f"le numéro SIREN {siren(asker)} ;" in shown(pilot)
        assert f"le nom de la personne qui a posé la question « {asker.contact_name} »." in shown(
            pilot
        )
