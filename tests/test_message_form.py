"""Pilot tests of the message form ("Messagerie sécurisée") on a private copy of today's demo:
the guide's cases D to I and the cancellation (A, B and C are in test_workspace_flows.py),
type changes that keep typed text, attachments through the real clamd, overrides, preview,
drafts, and the bad input of the form."""

import os
import re
import signal
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from markupsafe import escape
from textual.widgets import Input, Select
from weasyprint import HTML

from messagerie.models.clock import PARIS, paris_today
from messagerie.models.consultations.registers import register_addresses
from messagerie.models.consultations.suites import SuiteRequest, candidate_choices, create_suite
from messagerie.models.messages.drafts import DraftRecipient, Override, list_drafts
from messagerie.models.messages.form import load_context
from messagerie.models.messages.presets import preset_form
from messagerie.models.messages.queue import load_form, queue_message
from messagerie.models.rules.presets import PRESETS
from messagerie.models.store.enums import MessageType, Procedure, RegisterKind, SendMode
from messagerie.models.store.tables import AuditEntry, consultation, table_of
from messagerie.screens import message_form
from messagerie.screens.consultation import ConsultationScreen
from messagerie.screens.message_form import MessageFormScreen
from messagerie.screens.preview import PreviewScreen
from messagerie.screens.quit import QuitDialog
from messagerie.screens.recipients import OverrideDialog, RecipientPicker
from messagerie.tui.app import MessagerieApp
from messagerie.tui.settings import Settings
from tests.helpers.antivirus import EICAR
from tests.helpers.factories import queued_messages
from tests.helpers.message_form import deposit_emails, deposits_consultation, open_form, type_into
from tests.helpers.pilot import (
    checks_done,
    fill_body,
    hang_up_on,
    pick_path,
    run_command,
    send_form,
    settle,
    wait_until,
)
from tests.helpers.screens import footer_line, pressed, screen_lines, wines_id

KEPT_TITLE = "Message non envoyé retrouvé"

pytestmark = pytest.mark.services  # attachments through the real clamd


async def choose_type(pilot, form: MessageFormScreen, kind: MessageType) -> None:
    """Pick the type in "Type de message" with the keyboard."""
    select = form.query_one("#type", Select)
    select.focus()
    steps = list(MessageType).index(kind) - list(MessageType).index(select.value)
    await pilot.press("enter", *(["down"] * steps if steps > 0 else ["up"] * -steps), "enter")
    await settle(pilot)
    assert select.value is kind


def shown(form, widget_id: str) -> str:
    """The text of a message widget of the form, or "" when it, or what holds it, is hidden."""
    widget = form.query_one(f"#{widget_id}")
    return str(widget.render()) if all(n.display for n in widget.ancestors_with_self) else ""


def problem(form, field: str) -> str:
    """What the live checks say next to `field`."""
    return shown(form, f"problem-{field}")


# --- The guide's cases D to I, and the cancellation -------------------------------------------


async def test_case_d_complement_request_to_the_deposits_with_a_deadline(workspace, workspace_app):
    cid, _ = deposits_consultation(workspace)
    async with workspace_app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, cid)
        assert form.query_one("#type", Select).value is MessageType.FREE
        await choose_type(pilot, form, MessageType.COMPLEMENT_REQUEST)
        await fill_body(pilot)
        await pressed(pilot, "ctrl+e")
        assert isinstance(pilot.app.screen, MessageFormScreen)  # rule 5: no deadline yet
        assert "Indiquez la date limite de réponse" in problem(form, "reply_deadline")
        deadline = (datetime.now(UTC) + timedelta(days=8)).strftime("%d/%m/%Y 12:00")
        await type_into(pilot, form, "#reply-deadline", deadline)
        assert problem(form, "reply_deadline") == ""
        await send_form(pilot, body=None)
        assert isinstance(pilot.app.screen, ConsultationScreen)
    (sent,) = queued_messages(workspace, cid)
    assert sent.type is MessageType.COMPLEMENT_REQUEST
    assert list(sent.recipients) == deposit_emails(workspace, cid)
    assert sent.reply_allowed and sent.reply_deadline is not None


async def test_case_e_negotiation_is_a_free_letter_with_its_subject_adapted(
    workspace, workspace_app
):
    cid, _ = deposits_consultation(workspace)
    async with workspace_app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        pilot.app.push_screen(ConsultationScreen(cid))
        await settle(pilot)
        await run_command(pilot, "Négociation simple")
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, MessageFormScreen)
        assert form.query_one("#type", Select).value is MessageType.FREE  # not "négociation"
        await pilot.press("f3")  # the dépôts register, whole
        await settle(pilot)
        assert isinstance(pilot.app.screen, RecipientPicker)
        await pressed(pilot, "p")
        await fill_body(pilot)
        await pressed(pilot, "ctrl+e")
        assert "Adaptez l'objet" in problem(form, "subject")
        await type_into(pilot, form, "#subject", "Négociation sur le prix du lot unique")
        await send_form(pilot, body=None)
    (sent,) = queued_messages(workspace, cid)
    assert sent.type is MessageType.FREE and sent.subject.startswith("Négociation sur le prix")
    assert list(sent.recipients) == deposit_emails(workspace, cid) and sent.reply_allowed


async def test_case_f_invitation_with_the_access_code_to_the_candidates(workspace, workspace_app):
    parent_id, _ = deposits_consultation(workspace)
    choices = candidate_choices(workspace, parent_id)[:2]
    with workspace.engine.connect() as connection:
        lots = tuple(
            connection.execute(
                sa.text("select number from lot where consultation_id = :c"), {"c": parent_id}
            ).scalars()
        )
    suite = create_suite(
        workspace,
        SuiteRequest(
            parent_id=parent_id,
            procedure=Procedure.RESTRICTED_TENDER,
            lot_numbers=lots,
            candidate_entry_ids=tuple(c.entry_id for c in choices),
            bid_deadline=datetime.now(UTC) + timedelta(days=40),
        ),
        actor="marie.dupont",
    )
    async with workspace_app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        pilot.app.push_screen(ConsultationScreen(suite.consultation_id))
        await settle(pilot)
        await pilot.press("i")  # "Envoyer une invitation à concourir"
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, MessageFormScreen)
        assert form.query_one("#type", Select).value is MessageType.INVITATION
        assert suite.access_code in form.query_one("#body").text
        await pressed(pilot, "ctrl+e")
        assert "référence de l'avis publié" in problem(form, "notice_reference")  # rule 6
        for key, text in (
            ("notice_reference", "BOAMP 26-123456"),
            ("submission", "Sur la plateforme, avec le code d'accès"),
            ("documents", "DC1, DC2, mémoire technique, BPU"),
        ):
            await type_into(pilot, form, f"#input-{key}", text)
        await send_form(pilot, body=None)
        assert isinstance(pilot.app.screen, ConsultationScreen)
    (sent,) = queued_messages(workspace, suite.consultation_id)
    assert sent.type is MessageType.INVITATION
    assert sorted(sent.recipients) == sorted(c.contact_email for c in choices)
    assert sent.mentions["notice_reference"] == "BOAMP 26-123456"


async def test_cases_g_h_i_rejection_award_notification_with_the_standstill(
    workspace, workspace_app
):
    cid, _ = deposits_consultation(workspace, formalised=True, undecided=True)
    deposits = deposit_emails(workspace, cid)
    awardee, rejected = deposits[0], deposits[1:]
    async with workspace_app.run_test(size=(100, 40)) as pilot:
        # G: the rejection to the dépôts, less the awardee (removed with Suppr).
        form = await open_form(pilot, cid, message_type=MessageType.REJECTION)
        recipients = form.query_one("#recipients")
        recipients.focus()
        recipients.highlighted = [r.email for r in form.recipients].index(awardee)
        await pilot.press("delete")
        await type_into(pilot, form, "#input-reasons", "Offre moins bien classée sur le prix")
        await send_form(pilot)
        # H: the award to the awardee, picked in the registers with Entrée.
        form = await open_form(pilot, cid, message_type=MessageType.AWARD)
        assert form.recipients == ()
        await pressed(pilot, "f3")
        picker = pilot.app.screen
        assert isinstance(picker, RecipientPicker)
        emails = [a.email for a in picker.context.addresses]
        picker.query_one("#addresses").highlighted = emails.index(awardee)
        await pressed(pilot, "enter")
        await send_form(pilot)
        # I: the notification is preset to the awardee; it waits for the standstill (rule 8),
        # which has not begun (the rejections have not left: no outbox here), unless overridden.
        form = await open_form(pilot, cid, message_type=MessageType.NOTIFICATION)
        assert [r.email for r in form.recipients] == [awardee]
        await fill_body(pilot)
        await pressed(pilot, "ctrl+e")
        assert isinstance(pilot.app.screen, MessageFormScreen)
        assert "Délai de suspension pas encore commencé" in problem(form, "exemption_reason")
        await pressed(pilot, "f8")
        assert isinstance(pilot.app.screen, OverrideDialog)
        footer = footer_line(pilot)  # the dialog's keys, not the form's underneath
        assert "Échap Annuler" in footer and "Envoyer" not in footer
        assert any("Entrée : valider le motif" in line for line in screen_lines(pilot))
        await pilot.press(*"Une seule offre reçue pour ce lot", "enter")
        await settle(pilot)
        assert "Règle 8 levée" in problem(form, "exemption_reason")
        await send_form(pilot, body=None)
        assert isinstance(pilot.app.screen, ConsultationScreen)
    rejection, award, notification = queued_messages(workspace, cid)
    assert rejection.type is MessageType.REJECTION and list(rejection.recipients) == rejected
    assert rejection.mentions == {"reasons": "Offre moins bien classée sur le prix"}
    assert award.type is MessageType.AWARD and award.recipients == (awardee,)
    assert notification.type is MessageType.NOTIFICATION and notification.recipients == (awardee,)
    assert {m.send_mode for m in (rejection, award, notification)} == {SendMode.WITH_AR}
    audit = table_of(AuditEntry)
    with workspace.engine.connect() as connection:
        overrides = connection.execute(
            sa.select(audit.c.rule, audit.c.override_reason, audit.c.actor).where(
                audit.c.action == "rule.override", audit.c.consultation_id == cid
            )
        ).all()
    assert overrides == [(8, "Une seule offre reçue pour ce lot", "marie.dupont")]


async def test_a_rejection_to_bidders_rejected_before_asks_before_a_second_letter(
    workspace, workspace_app
):
    """A second rejection letter to the same company restarts the lot's standstill (rule 8
    counts from the latest): the first Ctrl+E names whom and when, the second sends."""
    cid, _ = deposits_consultation(workspace, formalised=True, undecided=True)
    deposits = deposit_emails(workspace, cid)
    async with workspace_app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, cid, message_type=MessageType.REJECTION)
        recipients = form.query_one("#recipients")
        recipients.focus()
        recipients.highlighted = [r.email for r in form.recipients].index(deposits[0])
        await pilot.press("delete")  # the first letter spares one bidder
        await type_into(pilot, form, "#input-reasons", "Offre moins bien classée sur le prix")
        await send_form(pilot)  # nobody rejected yet: one Ctrl+E sends
        assert len(queued_messages(workspace, cid)) == 1

        form = await open_form(pilot, cid, message_type=MessageType.REJECTION)
        await type_into(pilot, form, "#input-reasons", "Offre moins bien classée sur le prix")
        await send_form(pilot)
        assert pilot.app.screen is form and len(queued_messages(workspace, cid)) == 1
        (warning,) = [n.message for n in pilot.app._notifications if n.title == "Courrier de rejet"]
        assert warning.startswith("Déjà rejetées pour cette consultation : ")
        assert warning.endswith("Ctrl+E de nouveau pour leur en envoyer un second.")
        names = {a.email: a.company_name for a in load_context(workspace, cid).addresses}
        assert names[deposits[1]][:20] in warning and names[deposits[0]] not in warning
        await pilot.press("ctrl+e")  # asked and answered: the second letter goes
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConsultationScreen)
    first, second = queued_messages(workspace, cid)
    assert list(second.recipients) == deposits and list(first.recipients) == deposits[1:]


async def test_cancellation_goes_to_all_registers_with_its_reasons(workspace, workspace_app):
    cid, _ = deposits_consultation(workspace)
    everyone = sorted(
        a.email
        for a in register_addresses(workspace, cid, tuple(RegisterKind), actor="marie.dupont")
    )
    async with workspace_app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, cid)
        await choose_type(pilot, form, MessageType.CANCELLATION)
        await fill_body(pilot)
        await pressed(pilot, "ctrl+e")
        assert "Indiquez les motifs" in problem(form, "reasons")  # rule 10
        await type_into(pilot, form, "#input-reasons", "Besoin disparu (article R2185-1)")
        await send_form(pilot, body=None)
    (sent,) = queued_messages(workspace, cid)
    assert sent.type is MessageType.CANCELLATION and list(sent.recipients) == everyone


async def test_lots_chosen_are_kept_with_the_message(workspace, workspace_app):
    cid, _ = deposits_consultation(workspace, lots=True)
    async with workspace_app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, cid)
        assert "Tous les lots" in str(form.query_one("#field-lots Label").render())
        lots = form.query_one("#lots")
        lots.focus()
        lots.highlighted = 0
        await pilot.press("space")  # the first lot only
        await pilot.press("f3", "p")
        await settle(pilot)
        await send_form(pilot)
    (sent,) = queued_messages(workspace, cid)
    first_lot = load_context(workspace, cid).detail.lots[0][0]
    assert sent.lots == (first_lot,)


async def test_an_answer_in_time_shows_its_countdown_until_it_is_late(
    workspace, workspace_app, monkeypatch
):
    """Rule 2 (LEGAL.md: « show the countdown in the form »): an answer in a formalised
    procedure says how long is left before the 6-day limit, and turns to the warning once
    the limit passes while the form stays open."""
    monkeypatch.setattr(message_form, "CLOCK_RECHECK", 0.2)  # imported there
    cid, _ = deposits_consultation(workspace, formalised=True)
    # On the clocks of Paris, as the code counts: the limit is 2 days and 3 hours away.
    deadline = (datetime.now(PARIS) + timedelta(days=8, hours=3, minutes=30)).replace(second=0)
    limit = deadline - timedelta(days=6)
    with workspace.engine.begin() as connection:
        connection.execute(
            sa.update(consultation)
            .where(consultation.c.id == cid)
            .values(bid_deadline=deadline, urgent=False)
        )
    async with workspace_app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, cid)
        assert "Règle 2" not in problem(form, "type")  # a free letter has no countdown
        await choose_type(pilot, form, MessageType.ANSWER)
        await checks_done(pilot)
        shown_now = problem(form, "type")
        # 3 hours, or 2 or 4 across a change of time
        assert re.search(r"Règle 2 : Il reste 2 jours et [234] heures pour répondre", shown_now)
        assert f"au plus tard le {limit.strftime('%d/%m/%Y %H:%M')}" in shown_now
        assert "Attention" not in shown_now
        with time_machine.travel(limit + timedelta(hours=5), tick=True):
            await wait_until(pilot, lambda: "Attention" in problem(form, "type"), "rule 2")
            late = problem(form, "type")
        assert "Le délai de réponse est dépassé de 5 heures" in late
        assert "Il reste" not in late.partition("dépassé")[0]


# --- Type change, recipients, bad input --------------------------------------------------------


async def test_type_change_keeps_typed_text(workspace, workspace_app):
    cid, _ = deposits_consultation(workspace)
    async with workspace_app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, cid)
        await type_into(pilot, form, "#subject", "Visite du site le 3 décembre")
        await type_into(pilot, form, "#new-address", "visite@example.org")
        await pilot.press("enter")
        await choose_type(pilot, form, MessageType.COMPLEMENT_REQUEST)
        assert form.query_one("#subject", Input).value == "Visite du site le 3 décembre"
        assert [r.email for r in form.recipients] == ["visite@example.org"]  # kept, not preset
        # Untouched: the body and the reply option take the new type's presets.
        assert form.query_one("#body").text == PRESETS[MessageType.COMPLEMENT_REQUEST].body
        assert form.form().reply_allowed
        await fill_body(pilot, "Mon texte à moi.")
        await choose_type(pilot, form, MessageType.FREE)
        assert form.query_one("#body").text == "Mon texte à moi."


async def test_bad_addresses_are_named_and_kept(workspace, workspace_app):
    cid, _ = deposits_consultation(workspace)
    async with workspace_app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, cid)
        await type_into(pilot, form, "#new-address", "jean.dupont@@exemple")
        await pilot.press("enter")
        await pilot.pause()
        assert "n'est pas une adresse e-mail valide" in shown(form, "address-error")
        assert form.query_one("#new-address", Input).value == "jean.dupont@@exemple"
        await type_into(pilot, form, "#new-address", "Jean.Dupont@Exemple.fr")
        await pilot.press("enter")
        await type_into(pilot, form, "#new-address", "jean.dupont@exemple.fr")
        await pilot.press("enter")
        await pilot.pause()
        assert "est déjà destinataire" in shown(form, "address-error")
        assert len(form.recipients) == 1
        await send_form(pilot, body="")  # an empty body: nothing is queued
        assert isinstance(pilot.app.screen, MessageFormScreen)
        assert "obligatoire" in problem(form, "body")
    assert queued_messages(workspace, cid) == []


async def test_a_second_press_never_queues_twice(workspace, workspace_app):
    cid, _ = deposits_consultation(workspace)
    async with workspace_app.run_test(size=(100, 40)) as pilot:
        await open_form(pilot, cid, message_type=MessageType.COMPLEMENT_REQUEST)
        deadline = (datetime.now(UTC) + timedelta(days=8)).strftime("%d/%m/%Y 12:00")
        await type_into(pilot, pilot.app.screen, "#reply-deadline", deadline)
        await fill_body(pilot)
        await pilot.press("ctrl+e", "ctrl+e", "ctrl+e")
        await settle(pilot)
    assert len(queued_messages(workspace, cid)) == 1


# --- Drafts, leaving, preview ------------------------------------------------------------------


@pytest.mark.parametrize("hang_up", [signal.SIGHUP, signal.SIGTERM])
async def test_a_dropped_connection_keeps_the_letter_being_typed_as_a_draft(
    workspace, workspace_app, hang_up
):
    """An SSH connection that drops sends the app SIGHUP (a session stopped, SIGTERM): the
    process ended at once, and the letter being typed with it. The real signal, sent to this
    process: the form is now kept as a draft, and the audit says why."""
    cid, _ = deposits_consultation(workspace)
    async with workspace_app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, cid)
        await type_into(pilot, form, "#subject", "Précision sur le calendrier")
        await fill_body(pilot, "Bonjour,\n\nLa visite du site est avancée au 12.")
        typed = form.form()
        await hang_up_on(pilot, hang_up)
    assert workspace_app.return_code == 128 + hang_up
    (draft,) = list_drafts(workspace, cid, actor="marie.dupont")
    kept = load_form(workspace, draft.id, actor="marie.dupont")
    assert (kept.subject, kept.body, kept.type) == (typed.subject, typed.body, typed.type)
    assert kept.recipients == typed.recipients and kept.lot_numbers == typed.lot_numbers
    audit = table_of(AuditEntry)
    with workspace.engine.connect() as connection:
        said = connection.execute(
            sa.select(audit.c.actor, audit.c.detail).where(audit.c.message_id == draft.id)
        ).all()
    assert said == [("marie.dupont", "brouillon enregistré à la coupure de la connexion")]


async def test_a_hang_up_with_nothing_typed_keeps_no_draft(workspace, workspace_app):
    cid, _ = deposits_consultation(workspace)
    async with workspace_app.run_test(size=(100, 40)) as pilot:
        await open_form(pilot, cid)  # the presets, untouched
        await hang_up_on(pilot, signal.SIGHUP)
    assert workspace_app.return_code == 128 + signal.SIGHUP
    assert list_drafts(workspace, cid, actor="marie.dupont") == ()


async def test_the_next_start_tells_of_the_kept_draft_until_it_is_saved_again(workspace):
    cid, reference = deposits_consultation(workspace)

    def started() -> MessagerieApp:
        return MessagerieApp(open_store=lambda: workspace, actor="marie.dupont")

    def told(pilot) -> list[str]:
        return [n.message for n in pilot.app._notifications if n.title == KEPT_TITLE]

    async with started().run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, cid)
        await type_into(pilot, form, "#subject", "Précision sur le calendrier")
        await hang_up_on(pilot, signal.SIGHUP)
    async with started().run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        (notice,) = told(pilot)
        assert notice.startswith("À la coupure de la connexion, le message en cours a été ")
        assert f"{reference} — « Précision sur le calendrier » (" in notice
        assert "Reprenez-le dans « Brouillons de messages » (b)" in notice
        pilot.app.push_screen(ConsultationScreen(cid))
        await settle(pilot)
        await pilot.press("b", "enter")  # the draft, resumed
        await settle(pilot)
        assert pilot.app.screen.query_one("#subject", Input).value == (
            "Précision sur le calendrier"
        )
        await pressed(pilot, "ctrl+s")  # saved by the buyer: nothing more to tell
    async with started().run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        assert told(pilot) == []


async def test_leaving_asks_then_a_saved_draft_is_resumed(workspace, workspace_app):
    cid, _ = deposits_consultation(workspace)
    async with workspace_app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, cid)
        await type_into(pilot, form, "#subject", "Précision sur le calendrier")
        await pressed(pilot, "escape")
        assert isinstance(pilot.app.screen, QuitDialog)  # « Quitter la messagerie »
        await pilot.press("escape")  # stay: nothing typed is lost
        await pressed(pilot, "ctrl+s")
        await pilot.press("escape")  # saved: leaves without asking
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ConsultationScreen)
        (draft,) = list_drafts(workspace, cid, actor="marie.dupont")
        assert draft.subject == "Précision sur le calendrier"
        await pilot.press("b", "enter")
        await settle(pilot)
        resumed = pilot.app.screen
        assert isinstance(resumed, MessageFormScreen) and resumed.draft_id == draft.id
        assert resumed.query_one("#subject", Input).value == "Précision sur le calendrier"
        await pilot.press("f3", "p")
        await settle(pilot)
        await send_form(pilot)
    assert list_drafts(workspace, cid, actor="marie.dupont") == ()
    (sent,) = queued_messages(workspace, cid)
    assert sent.subject == "Précision sur le calendrier"


async def test_preview_shows_both_send_modes(workspace, workspace_app):
    cid, _ = deposits_consultation(workspace)
    async with workspace_app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, cid)
        await pilot.press("f3", "p")
        await settle(pilot)
        await fill_body(pilot, "Le texte confidentiel.")
        await pressed(pilot, "f2")
        preview = pilot.app.screen
        assert isinstance(preview, PreviewScreen)
        shown = str(preview.query_one("#preview-text").render())
        link = f"{Settings().link_base.rstrip('/')}/m/[jeton-personnel-créé-à-l-envoi]"
        assert link in shown  # the link's form; its token is drawn when the message is queued
        assert "Le texte confidentiel." not in shown
        assert "Consultation concernée par cet échange" in shown
        await pilot.press("m")  # "simple sans accusé de réception": the content is in the mail
        shown = str(preview.query_one("#preview-text").render())
        assert "Le texte confidentiel." in shown
        await pilot.press("h")
        html = str(preview.query_one("#preview-text").render())
        assert html.startswith("<!DOCTYPE html>") and "Le texte confidentiel.</p>" in html
        await pilot.press("escape")
        assert pilot.app.screen is form


async def test_the_preview_scrolls_to_the_end_of_the_e_mail_in_80x24(workspace, workspace_app):
    cid, _ = deposits_consultation(workspace)
    async with workspace_app.run_test(size=(80, 24)) as pilot:
        await open_form(pilot, cid)
        await pilot.press("f3", "p")
        await settle(pilot)
        await fill_body(pilot, "Bonjour,\n\n" + "Une ligne de la lettre.\n" * 30)
        await pressed(pilot, "f2")
        assert isinstance(pilot.app.screen, PreviewScreen)
        last = "Consultation concernée par cet échange"  # the context block ends the e-mail
        assert not any(last in line for line in screen_lines(pilot))
        await pilot.press("m")  # simple mode: the whole letter is in the e-mail
        await pilot.press("end")
        await settle(pilot)
        assert any(last in line for line in screen_lines(pilot))
        await pilot.press("home", "pagedown")
        await settle(pilot)
        assert any("Une ligne de la lettre." in line for line in screen_lines(pilot))


# --- Attachments through the real clamd --------------------------------------------------------


@pytest.fixture
def clamd_app(workspace):
    address = os.environ.get("MESSAGERIE_TEST_CLAMD")
    if not address:
        pytest.fail("MESSAGERIE_TEST_CLAMD is not set: run the tests with scripts/test.")

    def app(clamd: str = address) -> MessagerieApp:
        return MessagerieApp(
            open_store=lambda: workspace,
            actor="marie.dupont",
            settings=lambda: Settings(clamd=clamd, attachment_max_mb=0.01),
        )

    return app


async def pick_local_file(pilot, path) -> None:
    await pilot.press("f4")
    await pick_path(pilot, path)


async def test_attachments_are_scanned_and_infected_files_refused(workspace, clamd_app, tmp_path):
    cid, _ = deposits_consultation(workspace)
    infected = tmp_path / "facture.pdf"
    infected.write_bytes(b"%PDF-1.4\n" + EICAR)
    clean = tmp_path / "annexe.txt"  # a PDF, whatever its name says
    clean.write_bytes(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
    big = tmp_path / "gros.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * 20_000)
    async with clamd_app().run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, cid)
        await pick_local_file(pilot, infected)
        assert "« facture.pdf » est infecté (Eicar-Test-Signature" in shown(
            form, "attachment-error"
        )
        await pick_local_file(pilot, big)
        assert "la limite est de" in shown(form, "attachment-error")
        await pick_local_file(pilot, clean)
        assert shown(form, "attachment-error") == ""
        (attached,) = form.attachments
        assert attached.filename == "annexe.txt" and attached.media_type == "application/pdf"
        await pilot.press("f3", "p")
        await settle(pilot)
        await send_form(pilot)
    (sent,) = queued_messages(workspace, cid)
    assert sent.attachments == ("annexe.txt",)


async def test_a_file_naming_the_asker_sent_to_all_warns_once_read(workspace, clamd_app, tmp_path):
    """Rule 4 in a Q/A document attached by hand: the form reads the PDF once it is
    attached and says it names a company that asked; the warning read, the message goes."""
    cid = wines_id(workspace)
    company, _, _, _ = load_context(workspace, cid).askers[0]
    qa = tmp_path / "questions-reponses.pdf"
    qa.write_bytes(HTML(string=f"<p>Question de la société {escape(company)}.</p>").write_pdf())
    async with clamd_app().run_test(size=(120, 40)) as pilot:
        form = await open_form(pilot, cid)
        await pilot.press("f3", "a")  # every company of the three registers
        await settle(pilot)
        await fill_body(pilot)
        await checks_done(pilot)
        assert len(form.recipients) > 1 and "posé la question" not in problem(form, "attachments")
        await pick_local_file(pilot, qa)
        await settle(pilot)
        await checks_done(pilot)
        warning = problem(form, "attachments")
        assert "Attention : Une pièce jointe envoyée à plusieurs entreprises semble" in warning
        assert "dans « questions-reponses.pdf », le nom de l'entreprise" in warning
        await pressed(pilot, "ctrl+e")
        assert isinstance(pilot.app.screen, ConsultationScreen)
    (sent,) = queued_messages(workspace, cid)[-1:]
    assert sent.attachments == ("questions-reponses.pdf",)


async def test_unreachable_antivirus_refuses_and_off_marks_not_scanned(
    workspace, clamd_app, tmp_path
):
    cid, _ = deposits_consultation(workspace)
    document = tmp_path / "note.pdf"
    document.write_bytes(b"%PDF-1.4\n%%EOF\n")
    async with clamd_app(f"unix://{tmp_path}/absent.sock").run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, cid)
        await pick_local_file(pilot, document)
        assert "L'antivirus est injoignable" in shown(form, "attachment-error")
        assert form.attachments == ()
    async with clamd_app("off").run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, cid)
        await pick_local_file(pilot, document)
        assert "non analysé" in str(form.query_one("#attachment-list").render_line(0).text)
        # The espace documentaire offers it to the next message, still "non analysé".
        await pressed(pilot, "f5")
        picker = pilot.app.screen
        assert "note.pdf" in str(picker.query_one("#documents").get_option_at_index(0).prompt)
        assert "non analysé" in str(picker.query_one("#documents").get_option_at_index(0).prompt)


async def test_an_award_letter_takes_the_pieces_to_provide_and_their_day(workspace, workspace_app):
    """R2144-7: « Pièces à fournir » and their due day, under « Mentions obligatoires »."""
    cid, _ = deposits_consultation(workspace, formalised=True, undecided=True)
    async with workspace_app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, cid)
        assert not form.query_one("#mention-pieces").display
        await choose_type(pilot, form, MessageType.AWARD)
        assert form.query_one("#mention-pieces").display
        assert str(form.query_one("#label-pieces").render()) == (
            "Pièces à fournir (séparées par « ; »)"
        )  # the hint in the form only: the e-mail prints « Pièces à fournir »
        label = str(form.query_one("#label-pieces_deadline").render())
        assert label == "Date limite de remise des pièces (JJ/MM/AAAA)"
        await type_into(pilot, form, "#input-pieces", "Attestation URSSAF ; Extrait Kbis")
        assert "Indiquez la date limite de remise des pièces" in problem(form, "pieces_deadline")
        next_week = (paris_today() + timedelta(days=7)).strftime("%d/%m/%Y")
        await type_into(pilot, form, "#input-pieces_deadline", next_week)
        assert problem(form, "pieces_deadline") == ""
        assert form.form().mentions["pieces_deadline"] == next_week


async def test_a_notification_asks_for_the_signed_contract_until_one_is_attached(
    workspace, clamd_app, tmp_path
):
    """R2182-4: notifying is sending the holder a copy of the signed contract."""
    contract = tmp_path / "marche-signe.pdf"
    contract.write_bytes(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
    async with clamd_app().run_test(size=(120, 40)) as pilot:
        form = await open_form(pilot, wines_id(workspace), message_type=MessageType.NOTIFICATION)
        await checks_done(pilot)
        assert "Attention : Aucun fichier n'est joint" in problem(form, "attachments")
        assert "Joignez le marché signé (F4 ou F5)" in problem(form, "attachments")
        await pick_local_file(pilot, contract)
        await checks_done(pilot)
        assert "Aucun fichier" not in problem(form, "attachments")


async def test_a_notification_another_buyer_sent_meanwhile_is_shown_before_this_one_goes(
    workspace, workspace_app
):
    """The form opened on a consultation nobody had notified; another buyer notifies it
    while it is open. The first Ctrl+E sends nothing and the form shows the new warning;
    the second, the warning read, sends."""
    cid, _ = deposits_consultation(workspace, formalised=False, lots=False, undecided=True)
    holder = DraftRecipient(deposit_emails(workspace, cid)[0])
    async with workspace_app.run_test(size=(120, 40), notifications=True) as pilot:
        form = await open_form(pilot, cid, message_type=MessageType.NOTIFICATION)
        form.recipients = (holder,)
        await fill_body(pilot)
        await checks_done(pilot)
        assert "déjà été notifié" not in problem(form, "lots")
        other = preset_form(load_context(workspace, cid), MessageType.NOTIFICATION)
        other = replace(other, recipients=(holder,), body="Le marché vous est notifié.")
        queue_message(workspace, other, actor="marie.dupont")  # the other buyer
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert pilot.app.screen is form and len(queued_messages(workspace, cid)) == 1
        (refusal,) = [n.message for n in pilot.app._notifications if n.title == "Impossible"]
        assert refusal.startswith("Rien n'a été envoyé : ce qui suit est apparu depuis")
        assert "Le marché a déjà été notifié le" in problem(form, "type")  # it has no lots
        await pilot.press("ctrl+e")  # the warning read: the letter goes
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConsultationScreen)
    assert len(queued_messages(workspace, cid)) == 2


async def test_a_lifted_standstill_leaves_the_repeated_notification_warning_shown(
    workspace, workspace_app
):
    """Rule 8 blocks (the standstill) and warns (the lot notified already): lifting the
    block (F8) said « Règle 8 levée » in place of the warning too, and hid it."""
    cid, _ = deposits_consultation(workspace, formalised=True, lots=True, undecided=True)
    context = load_context(workspace, cid)
    lot = context.detail.lots[0][0]
    lifted = (Override(8, "Une seule offre recevable pour ce lot"),)
    holder = DraftRecipient(deposit_emails(workspace, cid)[0])
    earlier = replace(
        preset_form(context, MessageType.NOTIFICATION), recipients=(holder,), lot_numbers=(lot,),
        body="Le marché vous est notifié.", overrides=lifted,
    )  # fmt: skip
    queue_message(workspace, earlier, actor="marie.dupont")
    async with workspace_app.run_test(size=(120, 40)) as pilot:
        form = await open_form(pilot, cid, message_type=MessageType.NOTIFICATION)
        lots = form.query_one("#lots")
        lots.focus()
        lots.highlighted = 0
        await pressed(pilot, "space")
        await checks_done(pilot)
        assert "Bloquant" in problem(form, "exemption_reason")
        form.overrides = lifted
        form.run_checks()
        assert "Règle 8 levée : Une seule offre" in problem(form, "exemption_reason")
        assert problem(form, "lots").startswith("Attention : Le lot n°")
        assert "déjà été notifié" in problem(form, "lots")


async def test_a_notification_goes_to_the_awardee_of_the_lots_chosen(workspace, workspace_app):
    """2025VINS has an awardee per lot, each already notified: choosing a lot presets its
    awardee alone (the recipients as preset are preset again) and warns of the earlier
    notification; recipients the buyer chose stay."""
    cid = wines_id(workspace)
    context = load_context(workspace, cid)
    (first, _), (second, _) = context.detail.lots
    awardees = {lot: context.awardees_of((lot,)) for lot in (first, second)}
    assert len(set(awardees.values())) == 2
    async with workspace_app.run_test(size=(120, 40)) as pilot:
        form = await open_form(pilot, cid, message_type=MessageType.NOTIFICATION)
        assert set(form.recipients) == set(context.awardees)  # "Tous les lots"
        lots = form.query_one("#lots")
        lots.focus()
        lots.highlighted = 0
        await pressed(pilot, "space")
        await checks_done(pilot)  # the live checks wait for a quiet time
        assert form.recipients == awardees[first]
        assert "déjà été notifié" in problem(form, "lots")
        await pilot.press("space", "down", "space")  # the second lot instead
        await settle(pilot)
        await checks_done(pilot)
        assert form.recipients == awardees[second]
        assert "déjà été notifié" in problem(form, "lots")
        form.recipients = (*awardees[second], *awardees[first])  # chosen by the buyer
        await pilot.press("space")  # back to "Tous les lots"
        await settle(pilot)
        await checks_done(pilot)
        assert form.recipients == (*awardees[second], *awardees[first])
