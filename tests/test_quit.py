"""Ctrl+Q with work unsaved: it ended the app at once, and the letter being typed with it.
It now asks, keeps the letters as drafts when told to, and quits at once when nothing is
unsaved."""

from __future__ import annotations

import signal

import sqlalchemy as sa
from textual.screen import Screen
from textual.widgets import Button, Input, Static, TextArea

from messagerie.models.consultations.answer_drafts import kept_answer
from messagerie.models.consultations.dce import current_dce
from messagerie.models.messages.drafts import kept_at_hang_up, list_drafts
from messagerie.models.messages.queue import load_form
from messagerie.models.store.enums import RegisterKind
from messagerie.models.store.tables import audit_entry
from messagerie.screens.consultation import ConsultationScreen
from messagerie.screens.dce import DceScreen
from messagerie.screens.message_form import MessageFormScreen
from messagerie.screens.qa import QaEditorScreen
from messagerie.screens.quit import QuitDialog
from messagerie.screens.registers import EntryForm, RegisterScreen
from messagerie.tui.app import MessagerieApp
from tests.helpers.message_form import deposits_consultation, open_form, type_into
from tests.helpers.pilot import fill_body, hang_up_on, pick_path, run_command, settle
from tests.helpers.screens import qa_editor, questions, wines_id

SIZE = (80, 24)
ACTOR = "marie.dupont"
HANG_UP_TITLE = "Réponse non publiée retrouvée"


async def letter_typed(pilot, cid: int) -> MessageFormScreen:
    form = await open_form(pilot, cid)
    await type_into(pilot, form, "#subject", "Précision sur le calendrier")
    await fill_body(pilot, "Bonjour,\n\nLa visite du site est avancée au 12.")
    return form


async def over_its_consultation(pilot, cid: int, opener) -> Screen:
    """The screen `opener(cid)` opens, over the consultation's, as the buyer reaches it."""
    await settle(pilot)
    pilot.app.open_consultation(cid)
    await settle(pilot)
    opener(cid)
    await settle(pilot)
    return pilot.app.screen


async def typed_then(pilot, screen: Screen, field: str, text: str, key: str) -> str:
    """`text` typed in `screen`'s `field`, then `key`: what the dialog it opens says."""
    screen.query_one(field, Input).focus()
    await pilot.press(*text)
    await pilot.press(key)
    await settle(pilot)
    return asked(pilot)


async def dropped(pilot) -> None:
    """Échap, then « Ne pas enregistrer » (q) in the dialog it opens."""
    await pilot.press("escape", "q")
    await settle(pilot)


def asked(pilot) -> str:
    dialog = pilot.app.screen
    assert isinstance(dialog, QuitDialog), "left without asking what to do of the typing"
    return "\n".join(str(static.render()) for static in dialog.query(Static))


async def test_ctrl_q_with_a_letter_typed_asks_then_keeps_it_as_a_draft(workspace, workspace_app):
    cid, reference = deposits_consultation(workspace)
    async with workspace_app.run_test(size=SIZE) as pilot:
        form = await letter_typed(pilot, cid)
        typed = form.form()
        await pilot.press("ctrl+q")
        await settle(pilot)
        text = asked(pilot)
        assert "Pas encore enregistré" in text
        assert f"le message « Précision sur le calendrier » — {reference}" in text
        assert workspace_app.return_code is None  # still open
        await pilot.press("e")  # « Enregistrer et quitter »
        await settle(pilot)
    assert workspace_app.return_code == 0
    (draft,) = list_drafts(workspace, cid, actor=ACTOR)
    kept = load_form(workspace, draft.id, actor=ACTOR)
    assert (kept.subject, kept.body, kept.recipients) == (
        typed.subject,
        typed.body,
        typed.recipients,
    )
    audit = audit_entry
    with workspace.engine.connect() as connection:
        said = connection.execute(
            sa.select(audit.c.actor, audit.c.detail).where(audit.c.message_id == draft.id)
        ).all()
    assert said == [(ACTOR, "brouillon enregistré")]
    # The buyer chose to keep it: the next start has nothing to tell of a lost connection.
    assert kept_at_hang_up(workspace, actor=ACTOR) == ()


async def test_escape_goes_back_to_the_letter_as_typed_and_q_quits_without_it(
    workspace, workspace_app
):
    cid, _ = deposits_consultation(workspace)
    async with workspace_app.run_test(size=SIZE) as pilot:
        form = await letter_typed(pilot, cid)
        await pilot.press("ctrl+q")
        await settle(pilot)
        asked(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert pilot.app.screen is form
        assert form.query_one("#subject", Input).value == "Précision sur le calendrier"
        assert workspace_app.return_code is None
        await pilot.press("ctrl+q")
        await settle(pilot)
        await pilot.press("q")  # « Quitter sans enregistrer »
        await settle(pilot)
    assert workspace_app.return_code == 0
    assert list_drafts(workspace, cid, actor=ACTOR) == ()


async def test_ctrl_q_pressed_twice_keeps_the_letter_and_quits(workspace, workspace_app):
    cid, _ = deposits_consultation(workspace)
    async with workspace_app.run_test(size=SIZE) as pilot:
        await letter_typed(pilot, cid)
        await pilot.press("ctrl+q", "ctrl+q")
        await settle(pilot)
    assert workspace_app.return_code == 0
    (draft,) = list_drafts(workspace, cid, actor=ACTOR)
    assert load_form(workspace, draft.id, actor=ACTOR).subject == "Précision sur le calendrier"


async def test_a_hang_up_just_after_the_dialog_kept_the_letter_keeps_it_once(
    workspace, workspace_app
):
    cid, _ = deposits_consultation(workspace)
    async with workspace_app.run_test(size=SIZE) as pilot:
        await letter_typed(pilot, cid)
        await pilot.press("ctrl+q")
        await settle(pilot)
        asked(pilot)
        dialog = pilot.app.screen
        # What « Enregistrer et quitter » runs in its worker, done; the connection drops
        # before the dialog hears back from it.
        (unsaved,) = dialog.keepable
        unsaved.keep(workspace, ACTOR, False)
        await hang_up_on(pilot, signal.SIGHUP)
        assert pilot.app.return_code == 128 + signal.SIGHUP
    (draft,) = list_drafts(workspace, cid, actor=ACTOR)
    assert load_form(workspace, draft.id, actor=ACTOR).subject == "Précision sur le calendrier"


async def test_quitter_in_the_palette_asks_as_ctrl_q_does(workspace, workspace_app):
    cid, _ = deposits_consultation(workspace)
    async with workspace_app.run_test(size=SIZE) as pilot:
        await letter_typed(pilot, cid)
        await run_command(pilot, "Quitter")
        await settle(pilot)
        assert "le message « Précision sur le calendrier »" in asked(pilot)
        assert workspace_app.return_code is None


async def test_ctrl_q_with_nothing_typed_quits_at_once(workspace, workspace_app):
    cid, _ = deposits_consultation(workspace)
    async with workspace_app.run_test(size=SIZE) as pilot:
        await open_form(pilot, cid)  # the presets, untouched
        await pilot.press("ctrl+q")
        await settle(pilot)
    assert workspace_app.return_code == 0
    assert list_drafts(workspace, cid, actor=ACTOR) == ()


async def answer_typed(pilot, store, answer: str) -> QaEditorScreen:
    await settle(pilot)
    await qa_editor(pilot, store)
    editor = pilot.app.screen
    assert isinstance(editor, QaEditorScreen)
    editor.query_one("#answer", TextArea).focus()
    await pilot.press(*answer)
    return editor


def started(store) -> MessagerieApp:
    return MessagerieApp(open_store=lambda: store, actor=ACTOR)


def told(pilot, title: str) -> list[str]:
    return [n.message for n in pilot.app._notifications if n.title == title]


async def test_an_answer_to_all_is_kept_on_e_and_given_back_when_its_editor_opens_again(
    workspace,
):
    question = questions(workspace)  # 2025VINS's first
    async with started(workspace).run_test(size=SIZE) as pilot:
        editor = await answer_typed(pilot, workspace, "Oui, la visite est libre.")
        anonymised = editor.query_one("#question", TextArea).text
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert f"la réponse à la question n° {question.number} — 2025VINS" in asked(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert pilot.app.return_code == 0
    kept = kept_answer(workspace, question.id, actor=ACTOR)
    assert kept is not None and not kept.at_hang_up
    assert (kept.question, kept.answer) == (anonymised, "Oui, la visite est libre.")
    async with started(workspace).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert told(pilot, HANG_UP_TITLE) == []  # the buyer chose to keep it
        await qa_editor(pilot, workspace)
        editor = pilot.app.screen
        assert editor.query_one("#answer", TextArea).text == "Oui, la visite est libre."
        (notice,) = told(pilot, "Réponse retrouvée")
        assert notice.startswith("La réponse gardée le ")
        await pilot.press("ctrl+q")  # nothing new since it was kept: no question asked
        await settle(pilot)
        assert pilot.app.return_code == 0


async def test_a_hang_up_in_the_qa_editor_keeps_the_answer_until_it_is_left(workspace):
    question = questions(workspace)
    async with started(workspace).run_test(size=SIZE) as pilot:
        await answer_typed(pilot, workspace, "Les cartons de six sont acceptés.")
        await hang_up_on(pilot, signal.SIGHUP)
        assert pilot.app.return_code == 128 + signal.SIGHUP
    kept = kept_answer(workspace, question.id, actor=ACTOR)
    assert kept is not None and kept.at_hang_up
    async with started(workspace).run_test(size=SIZE) as pilot:
        await settle(pilot)
        (notice,) = told(pilot, HANG_UP_TITLE)
        assert "la réponse à tous en cours a été gardée : 2025VINS, question n° " in notice
        await qa_editor(pilot, workspace)
        editor = pilot.app.screen
        assert editor.query_one("#answer", TextArea).text == "Les cartons de six sont acceptés."
        assert "à la coupure de la connexion" in told(pilot, "Réponse retrouvée")[0]
        await pilot.press("escape")  # « Quitter la réponse »
        await settle(pilot)
        assert "la réponse à la question n° " in asked(pilot)
        await pilot.press("q")  # « Ne pas enregistrer »
        await settle(pilot)
        assert not isinstance(pilot.app.screen, QaEditorScreen)
    assert kept_answer(workspace, question.id, actor=ACTOR) is None
    async with started(workspace).run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert told(pilot, HANG_UP_TITLE) == []


async def test_a_register_line_being_typed_is_named_and_only_quitting_without_it_is_offered(
    workspace, workspace_app
):
    async with workspace_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pilot.app.open_registers(wines_id(workspace), RegisterKind.WITHDRAWAL)
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, EntryForm)
        text = await typed_then(pilot, form, "#company_name", "Les Vergers", "ctrl+q")
        assert "la nouvelle ligne du registre des retraits — 2025VINS" in text
        assert "(impossible à enregistrer d'ici)" in text
        assert "Pour garder la ligne : Annuler (Échap), puis Enregistrer (^s)." in text
        assert [b.id for b in pilot.app.screen.query(Button)] == ["drop", "stay"]
        await pilot.press("e", "ctrl+q")  # nothing to keep: neither quits
        await settle(pilot)
        assert pilot.app.return_code is None
        await pilot.press("escape")
        await settle(pilot)
        assert form.query_one("#company_name", Input).value == "Les Vergers"
        # Échap in the form (« Annuler ») asks too, then closes it without the line.
        await pilot.press("escape")
        await settle(pilot)
        assert "la nouvelle ligne du registre des retraits" in asked(pilot)
        assert pilot.app.screen.title_text == "Quitter la ligne du registre"
        await pilot.press("escape")  # back to the typing
        await settle(pilot)
        assert pilot.app.screen is form
        await pilot.press("escape", "q")
        await settle(pilot)
        assert isinstance(pilot.app.screen, RegisterScreen)


async def test_escape_in_the_dce_says_how_to_keep_the_changes_and_q_leaves_without_them(
    workspace, workspace_app, tmp_path
):
    cid = wines_id(workspace)
    before = current_dce(workspace, cid, actor=ACTOR)
    added = tmp_path / "CCTP_v2.pdf"
    added.write_bytes(b"%PDF-1.4\n% CCTP\n%%EOF\n")
    async with workspace_app.run_test(size=SIZE) as pilot:
        dce = await over_its_consultation(pilot, cid, pilot.app.open_dce)
        assert isinstance(dce, DceScreen)
        await pilot.press("a")
        await pick_path(pilot, added)
        await pilot.press("escape")
        await settle(pilot)
        text = asked(pilot)
        assert pilot.app.screen.title_text == "Quitter la modification du DCE"
        assert "les modifications du DCE — 2025VINS (impossible à enregistrer d'ici)" in text
        assert "Pour les garder : Annuler (Échap), puis Enregistrer (^s)" in text
        assert [b.id for b in pilot.app.screen.query(Button)] == ["drop", "stay"]
        await pilot.press("escape")  # « Annuler »: the change is still there
        await settle(pilot)
        assert pilot.app.screen is dce and dce.unsaved() is not None
        await dropped(pilot)
        assert isinstance(pilot.app.screen, ConsultationScreen)
    assert current_dce(workspace, cid, actor=ACTOR) == before  # nothing published


async def test_an_account_being_added_is_named_at_ctrl_q_and_escape_asks_before_dropping_it(
    workspace, workspace_app
):
    async with workspace_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pilot.app.open_accounts()
        await settle(pilot)
        accounts = pilot.app.screen
        await pilot.press("a")  # « Ajouter un compte »
        await settle(pilot)
        form = pilot.app.screen
        text = await typed_then(pilot, form, "#name", "Léa Roth", "ctrl+q")
        assert "• le nouveau compte (impossible à enregistrer d'ici)" in text
        assert "Pour le garder : Annuler (Échap), puis Enregistrer (^s)." in text
        await pilot.press("escape", "escape")  # back to the form, then its « Annuler »
        await settle(pilot)
        assert pilot.app.screen.title_text == "Quitter le compte"
        await pilot.press("escape")
        await settle(pilot)
        assert form.query_one("#name", Input).value == "Léa Roth"
        await dropped(pilot)
        assert pilot.app.screen is accounts


async def test_a_suite_being_prepared_asks_before_it_is_dropped(workspace, workspace_app):
    cid, reference = deposits_consultation(workspace)
    async with workspace_app.run_test(size=SIZE) as pilot:
        await over_its_consultation(pilot, cid, pilot.app.open_suite_creation)
        await pilot.press("escape")  # nothing chosen yet: back at once
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConsultationScreen)
        pilot.app.open_suite_creation(cid)
        await settle(pilot)
        suite = pilot.app.screen
        text = await typed_then(pilot, suite, "#deadline", "15/01/2027 12:00", "escape")
        assert pilot.app.screen.title_text == "Quitter la création de la suite"
        assert f"• la suite en préparation — {reference}" in text
        assert "Pour la créer : Annuler (Échap), puis Créer la suite (^s)." in text
        await pilot.press("escape")
        await settle(pilot)
        assert suite.query_one("#deadline", Input).value == "15/01/2027 12:00"
        await dropped(pilot)
        assert isinstance(pilot.app.screen, ConsultationScreen)


async def test_escape_in_the_form_offers_to_keep_the_letter_and_goes_back(workspace, workspace_app):
    cid, reference = deposits_consultation(workspace)
    async with workspace_app.run_test(size=SIZE) as pilot:
        await letter_typed(pilot, cid)
        await pilot.press("escape")
        await settle(pilot)
        assert f"le message « Précision sur le calendrier » — {reference}" in asked(pilot)
        assert pilot.app.screen.title_text == "Quitter la messagerie"
        await pilot.press("ctrl+q")  # the app's question takes its place
        await settle(pilot)
        assert asked(pilot) and pilot.app.screen.title_text == "Quitter l'application"
        assert len([s for s in pilot.app.screen_stack if isinstance(s, QuitDialog)]) == 1
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConsultationScreen)  # the app goes on
        assert workspace_app.return_code is None
    (draft,) = list_drafts(workspace, cid, actor=ACTOR)
    assert draft.subject == "Précision sur le calendrier"


async def test_escape_in_the_qa_editor_offers_to_keep_the_answer(workspace, workspace_app):
    question = questions(workspace)
    async with workspace_app.run_test(size=SIZE) as pilot:
        editor = await answer_typed(pilot, workspace, "Oui, la visite est libre.")
        await pilot.press("escape")
        await settle(pilot)
        assert f"la réponse à la question n° {question.number}" in asked(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert pilot.app.screen is not editor and workspace_app.return_code is None
    kept = kept_answer(workspace, question.id, actor=ACTOR)
    assert kept is not None and kept.answer == "Oui, la visite est libre."
