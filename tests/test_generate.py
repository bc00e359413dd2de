""" "Générer le courrier": one letter per recipient from the form's mentions, stored, attached
to that recipient's copy alone, kept in drafts, and read back from the PDF."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from io import BytesIO

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from messagerie.letters.pdf.documents import LetterRefused
from messagerie.letters.pdf.generate import generate_letters
from messagerie.models.clock import paris_today
from messagerie.models.errors import Refusal
from messagerie.models.messages.drafts import DraftRecipient
from messagerie.models.messages.form import LetterBasis, check_form, load_context
from messagerie.models.messages.portal import find_view
from messagerie.models.messages.presets import preset_form
from messagerie.models.messages.queue import load_form, queue_message, save_draft
from messagerie.models.store.enums import MessageType, Procedure, SendMode
from messagerie.models.store.tables import Attachment, Recipient, consultation, table_of
from messagerie.screens.message_form import MessageFormScreen
from tests.helpers.message_form import deposit_emails, deposits_consultation, open_form, type_into
from tests.helpers.pilot import send_form, settle

attachment, recipient = table_of(Attachment), table_of(Recipient)
TODAY = date(2026, 11, 27)


def rejection_form(store, cid, emails, reasons="Offre classée 3e sur le critère du prix."):
    form = preset_form(load_context(store, cid), MessageType.REJECTION)
    return replace(
        form,
        recipients=tuple(DraftRecipient(e) for e in emails),
        body="Bonjour,\n\nVeuillez trouver ci-joint notre courrier.",
        mentions={"reasons": reasons},
    )


def drawn_from(form, letters):
    """`form` with `letters`, drawn from it as it stands, today."""
    return replace(form, letters=letters, letters_basis=LetterBasis.of(form, dated=paris_today()))


def pdf_text(store, document) -> str:
    reader = PdfReader(BytesIO(store.blobs.read(document.sha256)))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def two_letters(store, cid, context):
    """A rejection to two of the dépôts, and its letters."""
    form = rejection_form(store, cid, deposit_emails(store, cid)[:2])
    letters = generate_letters(
        store, context, form, dated=TODAY, platform_url="https://x", actor="marie.dupont"
    )
    return form, letters


def test_one_letter_per_recipient_then_attached_to_that_copy_alone(workspace):
    cid, reference = deposits_consultation(workspace)
    emails = deposit_emails(workspace, cid)[:2]
    context = load_context(workspace, cid)
    form, letters = two_letters(workspace, cid, context)
    assert [letter.email for letter in letters] == emails
    first = pdf_text(workspace, letters[0].document)
    assert reference in first and "Offre classée 3e sur le critère du prix." in first
    assert letters[0].document.sha256 != letters[1].document.sha256  # each its own company

    drawn = tuple((one.email, one.document.id) for one in letters)
    form = drawn_from(form, drawn)
    saved = save_draft(workspace, form, actor="marie.dupont")
    assert (
        load_form(workspace, saved.draft_id, actor="marie.dupont").letters == form.letters
    )  # kept in the draft
    queued = queue_message(workspace, saved, actor="marie.dupont")
    with workspace.engine.connect() as connection:
        rows = connection.execute(
            sa.select(recipient.c.email, recipient.c.token, attachment.c.document_id)
            .join(attachment, attachment.c.recipient_id == recipient.c.id)
            .where(recipient.c.message_id == queued.message_id)
        ).all()
    by_email = {row.email: row for row in rows}
    assert {e: by_email[e].document_id for e in emails} == dict(form.letters)
    view = find_view(workspace, by_email[emails[0]].token)
    assert view is not None and [f.filename for f in view.files] == [letters[0].document.filename]


def test_a_missing_mention_refuses_every_letter_naming_it(workspace):
    cid, _ = deposits_consultation(workspace)
    form = rejection_form(workspace, cid, deposit_emails(workspace, cid)[:2], reasons="")
    with pytest.raises(LetterRefused, match="Motifs du rejet") as refused:
        generate_letters(
            workspace, load_context(workspace, cid), form, dated=TODAY, platform_url="x",
            actor="marie.dupont",
        )  # fmt: skip
    assert refused.value.field == "reasons"
    with pytest.raises(Refusal, match="pas de modèle de courrier"):
        generate_letters(
            workspace, load_context(workspace, cid), replace(form, type=MessageType.FREE),
            dated=TODAY, platform_url="x", actor="marie.dupont",
        )  # fmt: skip


def test_a_restricted_procedure_rejects_candidatures_and_its_suite_offers(workspace):
    """Before its suite, a restricted procedure's dépôts are candidatures (R2181-1): its
    rejection letter says so; the suite's letters reject offers."""
    restricted = [p.value for p in Procedure if p.restricted]
    parent = consultation.alias()
    with workspace.engine.connect() as connection:
        first_stage, suite = connection.execute(
            sa.select(parent.c.id, consultation.c.id)
            .join(parent, parent.c.id == consultation.c.parent_id)
            .where(parent.c.procedure.in_(restricted))
        ).first()
    for cid, rejected, other in (
        (first_stage, "candidature", "offre"),
        (suite, "offre", "candidature"),
    ):
        form = rejection_form(workspace, cid, ["candidat@example.org"])
        (letter,) = generate_letters(
            workspace, load_context(workspace, cid), form, dated=TODAY, platform_url="x",
            actor="marie.dupont",
        )  # fmt: skip
        text = pdf_text(workspace, letter.document)
        assert f"votre {rejected} n'a pas été retenue" in text
        assert f"Motifs du rejet de votre {rejected}" in text
        assert f"votre {other}" not in text


def test_letters_need_avec_ar_and_the_same_recipients(workspace):
    cid, _ = deposits_consultation(workspace)
    emails = deposit_emails(workspace, cid)[:2]
    context = load_context(workspace, cid)
    form = drawn_from(rejection_form(workspace, cid, emails), ((emails[0], 1), (emails[1], 2)))
    now = datetime.now(UTC)
    assert not [e for e in check_form(form, context, now).errors if e.field == "attachments"]
    simple = check_form(replace(form, send_mode=SendMode.SIMPLE), context, now)
    assert any("avec accusé de réception" in e.message for e in simple.errors)
    fewer = check_form(replace(form, recipients=form.recipients[:1]), context, now)
    assert any("générez-les de nouveau" in e.message for e in fewer.errors)


def attachment_errors(form, context, now: datetime | None = None) -> list[str]:
    return [e.message for e in check_form(form, context, now or datetime.now(UTC)).errors
            if e.field == "attachments"]  # fmt: skip


def test_letters_drawn_before_a_mention_lots_or_files_changed_are_not_sent(workspace):
    """A letter generated, then the reasons corrected: the letter still gave the old ones.
    Every input of the letters is compared, and the refusal names what changed."""
    cid, _ = deposits_consultation(workspace)
    emails = deposit_emails(workspace, cid)[:2]
    context = load_context(workspace, cid)
    form = drawn_from(rejection_form(workspace, cid, emails), ((emails[0], 1), (emails[1], 2)))
    assert attachment_errors(form, context) == []
    spaced = {"reasons": "  Offre classée 3e sur le critère du prix.  "}
    assert attachment_errors(replace(form, mentions=spaced), context) == []

    corrected = replace(form, mentions={"reasons": "Offre classée 2e sur le critère du prix."})
    assert attachment_errors(corrected, context) == [
        "Modifié depuis la génération des courriers : « Motifs du rejet ». Les courriers ne le "
        "disent pas : générez-les de nouveau (Ctrl+G)."
    ]
    awarded = replace(form, mentions={**form.mentions, "awardee": "Data du Sundgau SARL"},
                      lot_numbers=(1,), attachment_ids=(7,))  # fmt: skip
    (changed,) = attachment_errors(awarded, context)
    assert changed.startswith(
        "Modifié depuis la génération des courriers : les lots, les pièces jointes, "
        "« Attributaire »."
    )
    with pytest.raises(Refusal, match="« Motifs du rejet »"):
        queue_message(workspace, corrected, actor="marie.dupont")


def test_a_draft_keeps_what_its_letters_were_drawn_from(workspace):
    cid, _ = deposits_consultation(workspace)
    context = load_context(workspace, cid)
    form, letters = two_letters(workspace, cid, context)
    form = drawn_from(form, tuple((one.email, one.document.id) for one in letters))
    saved = save_draft(workspace, form, actor="marie.dupont")
    again = load_form(workspace, saved.draft_id, actor="marie.dupont")
    assert again.letters_basis == LetterBasis.of(form, dated=paris_today())
    corrected = replace(again, mentions={"reasons": "Offre hors délai."})
    resaved = save_draft(workspace, corrected, actor="marie.dupont")
    reopened = load_form(workspace, resaved.draft_id, actor="marie.dupont")
    assert "« Motifs du rejet »" in attachment_errors(reopened, context)[0]
    legacy = replace(reopened, letters_basis=None)  # a draft saved before migration 0012
    assert attachment_errors(legacy, context) == [
        "Ces courriers viennent d'un brouillon qui ne dit pas d'après quel formulaire ils ont "
        "été générés : générez-les de nouveau (Ctrl+G)."
    ]


def test_letters_go_on_the_day_they_bear_and_say_the_signature_date_announced(workspace):
    """Drawn on Friday, sent on Monday, a rejection would announce a signature date three
    days early: the letters must be drawn again. One announcing a later date than the
    standstill's end prints that date, as the e-mail's mention does."""
    cid, _ = deposits_consultation(workspace, formalised=True)
    emails = deposit_emails(workspace, cid)[:2]
    context = load_context(workspace, cid)
    form = rejection_form(workspace, cid, emails)
    drawn = replace(form, letters=((emails[0], 1), (emails[1], 2)),
                    letters_basis=LetterBasis.of(form, dated=TODAY))  # fmt: skip
    monday = datetime(2026, 11, 30, 9, tzinfo=UTC)
    assert attachment_errors(drawn, context, monday) == [
        "Les courriers sont datés du 27/11/2026 et comptent leurs délais de ce jour ; le "
        "message part le 30/11/2026 : générez-les de nouveau (Ctrl+G)."
    ]
    assert attachment_errors(drawn, context, datetime(2026, 11, 27, 16, tzinfo=UTC)) == []
    undated = replace(drawn, letters_basis=LetterBasis.of(form))  # drawn before they said
    assert attachment_errors(undated, context, monday) == [
        "Ces courriers ne disent pas de quel jour ils sont datés : générez-les de nouveau (Ctrl+G)."
    ]
    with pytest.raises(Refusal, match="datés du 27/11/2026"):
        queue_message(workspace, drawn, actor="marie.dupont", now=monday)

    awarded = {"awarded": "oui", "awardee": "Domaine Müller", "award_reasons": "Prix"}
    for announced, printed in (("15/12/2026", "15/12/2026"), ("", "08/12/2026")):
        mentions = {**form.mentions, **awarded, "signature_date": announced}
        (letter, *_) = generate_letters(
            workspace, context, replace(form, mentions=mentions), dated=TODAY,
            platform_url="https://x", actor="marie.dupont",
        )  # fmt: skip
        assert f"Date à partir de laquelle le marché peut être signé : {printed}" in pdf_text(
            workspace, letter.document
        )


def test_an_award_letter_asks_for_its_pieces_by_the_day_the_form_gives(workspace):
    """R2144-7: the pieces the awardee gives before signing, and by when; the form could not
    say them, so no award letter ever asked for one."""
    cid, _ = deposits_consultation(workspace)
    (awardee, *_) = deposit_emails(workspace, cid)
    context = load_context(workspace, cid)
    form = replace(
        preset_form(context, MessageType.AWARD),
        recipients=(DraftRecipient(awardee),),
        body="Bonjour,\n\nVotre offre est retenue.",
    )
    now = datetime(2026, 11, 27, 9, tzinfo=UTC)

    def errors(**mentions: str) -> list[tuple[str, str]]:
        found = check_form(replace(form, mentions=mentions), context, now).errors
        return [(error.field, error.message) for error in found]

    pieces = "Attestation de régularité fiscale ; Attestation URSSAF\nExtrait Kbis"
    assert errors(pieces=pieces, pieces_deadline="04/12/2026") == []
    assert errors() == []  # no pieces asked: nothing to date
    (only,) = errors(pieces=pieces)
    assert only[0] == "pieces_deadline" and "R2144-7" in only[1]
    assert errors(pieces_deadline="04/12/2026") == [
        ("pieces", "Une date limite (04/12/2026) suppose des pièces à fournir : indiquez-les.")
    ]
    assert errors(pieces=pieces, pieces_deadline="27/11/2026") == [
        ("pieces_deadline", "La date limite (27/11/2026) doit être postérieure à aujourd'hui.")
    ]
    assert errors(pieces=pieces, pieces_deadline="31/11/2026")[0][0] == "pieces_deadline"

    asked = replace(form, mentions={"pieces": pieces, "pieces_deadline": "04/12/2026"})
    (letter,) = generate_letters(
        workspace, context, asked, dated=TODAY, platform_url="https://x", actor="marie.dupont"
    )
    text = pdf_text(workspace, letter.document)
    assert "Pièces à fournir" in text and "au plus tard le 04/12/2026" in text
    for piece in ("Attestation de régularité fiscale", "Attestation URSSAF", "Extrait Kbis"):
        assert piece in text
    assert "votre candidature sera déclarée irrecevable et vous serez éliminé" in text
    (plain,) = generate_letters(
        workspace, context, form, dated=TODAY, platform_url="https://x", actor="marie.dupont"
    )
    assert "Pièces à fournir" not in pdf_text(workspace, plain.document)


async def test_ctrl_g_in_the_form_generates_then_sends_them(workspace, workspace_app):
    # Undecided: a dépôt rejected before would make the first Ctrl+E ask (test_message_form).
    cid, _ = deposits_consultation(workspace, undecided=True)
    async with workspace_app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, cid, message_type=MessageType.REJECTION)
        assert form.recipients, "the rejection is preset to the dépôts"
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert form.letters == () and "Motifs du rejet" in str(
            form.query_one("#attachment-error").render()
        )
        assert form.focused is form.query_one("#input-reasons")
        await type_into(pilot, form, "#input-reasons", "Offre moins bien classée sur le prix")
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert len(form.letters) == len(form.recipients)
        listed = form.query_one("#attachment-list")
        assert listed.option_count == len(form.recipients)
        assert "seulement" in str(listed.get_option_at_index(0).prompt)
        await type_into(pilot, form, "#input-reasons", "Offre classée 2e sur le prix")
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert pilot.app.screen is form
        assert "« Motifs du rejet »" in str(form.query_one("#problem-attachments").render())
        await pilot.press("ctrl+g")
        await settle(pilot)
        await send_form(pilot)
        assert not isinstance(pilot.app.screen, MessageFormScreen)
    with workspace.engine.connect() as connection:
        personal = connection.execute(
            sa.select(sa.func.count()).where(attachment.c.recipient_id.is_not(None))
        ).scalar_one()
    assert personal == len(form.recipients)


async def test_a_documents_folder_that_cannot_be_written_is_told_and_the_form_kept(
    workspace, workspace_app
):
    """The documents folder gone from under the app (here replaced by a file: the real
    filesystem's ENOTDIR, as ENOSPC or EACCES would be for another account than root):
    Ctrl+G ended the app with a traceback, and the letter typed with it. It is now told, and
    once the folder is back, the same Ctrl+G draws the letters."""
    cid, _ = deposits_consultation(workspace, undecided=True)
    root = workspace.blobs.root
    async with workspace_app.run_test(size=(100, 40)) as pilot:
        form = await open_form(pilot, cid, message_type=MessageType.REJECTION)
        await type_into(pilot, form, "#input-reasons", "Offre moins bien classée sur le prix")
        moved = root.rename(root.with_name("documents-moved")) if root.exists() else None
        root.write_text("not a folder")
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert pilot.app.is_running and pilot.app.screen is form
        (told,) = [n.message for n in pilot.app._notifications if n.title == "Impossible"]
        assert told.startswith(f"Le fichier « {root}")
        assert "(un élément du chemin n'est pas un dossier)" in told
        assert form.letters == ()
        assert form.form().mention("reasons") == "Offre moins bien classée sur le prix"

        root.unlink()
        if moved is not None:
            moved.rename(root)
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert len(form.letters) == len(form.recipients)
