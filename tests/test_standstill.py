"""The standstill's one truth (LEGAL.md rules 7 and 8, R2182-1): the rejection letters, the
send checks and the generated notification letter agree, in a formalised procedure (by law)
and in a MAPA (only when the buyer announced a signature date)."""

import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pypdf
import pytest
import sqlalchemy as sa

from messagerie.letters.pdf.ar import render_ar
from messagerie.letters.pdf.documents import LetterRefused, check_letter
from messagerie.letters.pdf.generate import letter_for
from messagerie.models.consultations.registers import add_entry
from messagerie.models.messages.ar import ar_data
from messagerie.models.messages.detail import resend
from messagerie.models.messages.drafts import DraftRecipient
from messagerie.models.messages.form import check_form, load_context
from messagerie.models.messages.portal import record_opening
from messagerie.models.messages.presets import preset_form
from messagerie.models.messages.queue import FormRefused, queue_message
from messagerie.models.rules.standstill import (
    RejectionSent,
    lot_standstill,
    signing_from,
)
from messagerie.models.rules.validation import RegisterEntryInput, validate_entry
from messagerie.models.store.enums import ConsultationStatus, MessageType, Procedure, RegisterKind
from messagerie.models.store.tables import Consultation, Recipient, table_of
from tests.helpers.factories import add_consultations, add_lot, add_register_entries, paris
from tests.helpers.messages import relay_answers

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tuesday 01/12/2026 10:00 in Paris
REJECTED = NOW - timedelta(days=3)  # 28/11: the contract may be signed from 09/12
AWARDEE = DraftRecipient("jeanne.martin@nbc.example")
AWARDED = {"awarded": "oui", "awardee": "Domaine Müller", "award_reasons": "Meilleur prix"}


# --- The rule, computed with the clock passed in ---------------------------------------------


def test_the_signature_date_is_11_days_after_electronic_letters_and_16_after_paper():
    sent = paris(2026, 11, 28, 16)
    assert signing_from(sent) == date(2026, 12, 9)
    assert signing_from(sent, electronic=False) == date(2026, 12, 14)
    # LEGAL.md counts calendar days: an end on a Saturday stays on the Saturday.
    assert signing_from(paris(2026, 12, 1)) == date(2026, 12, 12)


def test_a_formalised_lot_waits_for_its_latest_rejection_a_mapa_only_for_an_announced_one():
    earlier, later = paris(2026, 11, 20), paris(2026, 11, 28)
    sent = [RejectionSent(earlier, announced=True), RejectionSent(later)]
    formalised = lot_standstill(sent, formalised=True)
    assert formalised.first_day == date(2026, 12, 9) and formalised.last_rejection == later
    mapa = lot_standstill(sent, formalised=False)
    assert mapa.first_day == date(2026, 12, 1)  # only the announced letter of 20/11
    assert lot_standstill([RejectionSent(later)], formalised=False).first_day is None
    paper = lot_standstill([RejectionSent(later, electronic=False)], formalised=True)
    assert (paper.first_day, paper.days) == (date(2026, 12, 14), 16)


def test_the_standstill_runs_until_the_eve_of_its_first_day_in_paris():
    standstill = lot_standstill([RejectionSent(paris(2026, 11, 28))], formalised=True)
    assert standstill.running(paris(2026, 12, 8, 23, 59))
    assert not standstill.running(datetime(2026, 12, 8, 23, 0, tzinfo=UTC))  # 09/12 00:00
    assert not lot_standstill([], formalised=True).running(NOW)


# --- Letters, send checks and generated letters agree -------------------------------------


@pytest.fixture
def consultation(store):
    def make(procedure: Procedure) -> int:
        (cid,) = add_consultations(
            store, [("2025VINS", "Vins", ConsultationStatus.DECISION, paris(2026, 11, 2))]
        )
        with store.engine.begin() as connection:
            table = table_of(Consultation)
            connection.execute(
                sa.update(table).where(table.c.id == cid).values(procedure=procedure)
            )
        add_lot(store, cid, 1, "Pinot gris")
        add_register_entries(store, cid, [RegisterKind.DEPOSIT], paris(2026, 10, 20))
        return cid

    return make


def send_rejection(store, cid, *, signature_date: str) -> None:
    form = preset_form(load_context(store, cid), MessageType.REJECTION)
    mentions = {"reasons": "Prix supérieur"}
    if signature_date:  # after the award (rule 7 asks a formalised letter for all three)
        mentions |= AWARDED | {"signature_date": signature_date}
    form = replace(
        form, recipients=(DraftRecipient("autre@example.org"),), lot_numbers=(1,), mentions=mentions
    )
    queue_message(store, form, actor="m.d", now=REJECTED)
    relay_answers(store, at=REJECTED)


def notification(store, cid):
    form = preset_form(load_context(store, cid), MessageType.NOTIFICATION)
    body = "Bonjour,\n\nNous vous notifions le marché.\n\nCordialement."
    return replace(form, recipients=(AWARDEE,), lot_numbers=(1,), body=body)


def letter_refusal(store, cid, form, *, dated: date) -> str | None:
    letter = letter_for(
        load_context(store, cid), form, AWARDEE.email, dated=dated, platform_url="https://x"
    )
    try:
        check_letter(letter)
    except LetterRefused as refused:
        return str(refused)
    return None


@pytest.mark.parametrize(
    ("procedure", "announced"),
    [(Procedure.OPEN_TENDER, "09/12/2026"), (Procedure.OPEN_TENDER, ""),
     (Procedure.ADAPTED, "09/12/2026")],
)  # fmt: skip
def test_a_standstill_blocks_the_send_and_the_letter_alike(
    store, consultation, procedure, announced
):
    cid = consultation(procedure)
    send_rejection(store, cid, signature_date=announced)
    form = notification(store, cid)
    check = check_form(form, load_context(store, cid), NOW)
    assert [v.rule for v in check.blocks] == [8]
    assert "à partir du 09/12/2026" in check.blocks[0].message
    with pytest.raises(FormRefused, match="à partir du 09/12/2026"):
        queue_message(store, form, actor="m.d", now=NOW)
    refusal = letter_refusal(store, cid, form, dated=NOW.date())
    assert refusal is not None and "à partir du 09/12/2026" in refusal
    # From its first day, both let the notification go.
    on_time = NOW + timedelta(days=8)
    assert check_form(form, load_context(store, cid), on_time).ready
    assert letter_refusal(store, cid, form, dated=on_time.date()) is None
    queue_message(store, form, actor="m.d", now=on_time)


def test_the_standstill_runs_from_when_the_rejection_left_and_not_before_it_is_delivered(
    store, consultation
):
    """Validated on 28/11, the letter is refused by the relay on 30/11 and leaves again to a
    corrected address on 01/12: the notification waits for it, then counts from 01/12."""
    cid = consultation(Procedure.OPEN_TENDER)
    form = preset_form(load_context(store, cid), MessageType.REJECTION)
    rejection = replace(form, recipients=(DraftRecipient("autre@example.org"),),
                        lot_numbers=(1,), mentions={"reasons": "Prix supérieur"})  # fmt: skip
    queue_message(store, rejection, actor="m.d", now=REJECTED)
    notifying = notification(store, cid)

    def refusals(now: datetime) -> tuple[str, str | None]:
        (block,) = check_form(notifying, load_context(store, cid), now).blocks
        return block.message, letter_refusal(store, cid, notifying, dated=now.date())

    not_gone = "1 courrier(s) de rejet de ce lot ne sont pas encore partis"
    check, letter = refusals(NOW)
    assert "Délai de suspension pas encore commencé (11 jours)" in check and not_gone in check
    assert letter is not None and not_gone in letter

    relay_answers(store, at=NOW - timedelta(days=1), refused=True)
    assert not_gone in refusals(NOW + timedelta(days=20))[0]  # not delivered: not begun

    with store.engine.connect() as connection:
        (copy,) = connection.execute(sa.select(table_of(Recipient).c.id)).scalars()
    resend(store, copy, actor="m.d", email="autre.adresse@example.org")
    relay_answers(store, at=NOW)
    check, letter = refusals(NOW + timedelta(days=10))
    assert "envoyés le 01/12/2026" in check and "à partir du 12/12/2026" in check
    assert letter is not None and "à partir du 12/12/2026" in letter
    assert check_form(notifying, load_context(store, cid), NOW + timedelta(days=11)).ready


def test_a_letter_not_gone_is_counted_once_whatever_it_announced(store, consultation):
    """A formalised lot counts every rejection letter, and those announcing a signature date
    among them: one copy waiting was said to be two."""
    cid = consultation(Procedure.OPEN_TENDER)
    form = preset_form(load_context(store, cid), MessageType.REJECTION)
    mentions = {"reasons": "Prix supérieur", **AWARDED, "signature_date": "09/12/2026"}
    rejection = replace(form, recipients=(DraftRecipient("autre@example.org"),),
                        lot_numbers=(1,), mentions=mentions)  # fmt: skip
    queue_message(store, rejection, actor="m.d", now=REJECTED)
    (block,) = check_form(notification(store, cid), load_context(store, cid), NOW).blocks
    assert ": 1 courrier(s) de rejet de ce lot ne sont pas encore partis" in block.message


def test_a_notification_before_any_rejection_waits_when_others_bid(store, consultation):
    """With a single bid for the lot there is no one to reject (R2182-1 exempts it); with
    two, notifying before any rejection letter would be before the standstill has begun. A
    bid for another lot does not count."""
    cid = consultation(Procedure.OPEN_TENDER)
    add_lot(store, cid, 2, "Crémant")
    muller = RegisterEntryInput(
        kind=RegisterKind.DEPOSIT, company_name="Domaine Müller", siret="41903984700019",
        contact_name="Luc Muller", contact_email="luc@muller.example", at="21/10/2026 10:00",
        lots="2",
    )  # fmt: skip
    add_entry(store, cid, validate_entry(muller, lot_numbers={1, 2}), actor="m.d")
    form = notification(store, cid)
    assert check_form(form, load_context(store, cid), NOW).ready  # N.B.C. alone bid for lot 1
    second = replace(form, lot_numbers=(2,))
    (block,) = check_form(second, load_context(store, cid), NOW).blocks
    assert block.rule == 8 and block.message.startswith(
        "Délai de suspension pas encore commencé (11 jours) : 2 plis ont été déposés et aucun "
        "courrier de rejet n'est parti. Le délai court de l'envoi des courriers de rejet aux "
        "autres soumissionnaires (article R2182-1)."
    )
    refusal = letter_refusal(store, cid, second, dated=NOW.date())
    assert refusal is not None and "2 plis ont été déposés" in refusal
    exempted = replace(second, mentions={**second.mentions, "exemption_reason": "Une seule "
                                         "offre recevable, l'autre étant hors délai"})  # fmt: skip
    assert check_form(exempted, load_context(store, cid), NOW).ready


def test_after_the_award_letter_a_rejection_is_one_sent_after_award(store, consultation):
    """R2181-3: once the award letter of the lot has gone, a rejection must name the awardee,
    the reasons for its choice and the signature date, even if the buyer did not tick the
    box: the letter would otherwise tell that they come once the award is decided."""
    cid = consultation(Procedure.OPEN_TENDER)
    award = replace(preset_form(load_context(store, cid), MessageType.AWARD),
                    recipients=(AWARDEE,), lot_numbers=(1,))  # fmt: skip
    queue_message(store, award, actor="m.d", now=REJECTED)
    form = preset_form(load_context(store, cid), MessageType.REJECTION)
    rejection = replace(form, recipients=(DraftRecipient("autre@example.org"),),
                        lot_numbers=(1,), mentions={"reasons": "Prix supérieur"})  # fmt: skip
    (block,) = check_form(rejection, load_context(store, cid), NOW).blocks
    assert (block.rule, block.field) == (7, "awarded")
    assert "la lettre d'attribution de ce marché est déjà partie (N.B.C. FR)" in (block.message)
    with pytest.raises(FormRefused, match="Courrier envoyé après attribution"):
        queue_message(store, rejection, actor="m.d", now=NOW)
    complete = replace(rejection, mentions={"reasons": "Prix supérieur", **AWARDED,
                                            "signature_date": "12/12/2026"})  # fmt: skip
    assert check_form(complete, load_context(store, cid), NOW).ready


def test_a_mapa_without_a_chosen_standstill_notifies_at_once_and_announces_no_date(
    store, consultation
):
    cid = consultation(Procedure.ADAPTED)
    send_rejection(store, cid, signature_date="")
    form = notification(store, cid)
    assert check_form(form, load_context(store, cid), NOW).ready
    assert letter_refusal(store, cid, form, dated=NOW.date()) is None
    queue_message(store, form, actor="m.d", now=NOW)
    rejection = replace(
        preset_form(load_context(store, cid), MessageType.REJECTION),
        mentions={"reasons": "Prix"} | AWARDED,
    )
    letter = letter_for(load_context(store, cid), rejection, "autre@example.org",
                        dated=NOW.date(), platform_url="https://x")  # fmt: skip
    assert letter.signing_from is None
    chosen = replace(rejection, mentions={**rejection.mentions, "signature_date": "12/12/2026"})
    letter = letter_for(load_context(store, cid), chosen, "autre@example.org",
                        dated=NOW.date(), platform_url="https://x")  # fmt: skip
    assert letter.signing_from == date(2026, 12, 12)


def test_an_announced_signature_date_may_not_come_before_the_standstill(store, consultation):
    cid = consultation(Procedure.ADAPTED)
    with pytest.raises(FormRefused, match="antérieure au 09/12/2026"):
        send_rejection(store, cid, signature_date="05/12/2026")


def test_the_ar_of_a_notification_sent_with_a_standstill_exemption_names_it(store, consultation):
    cid = consultation(Procedure.OPEN_TENDER)
    send_rejection(store, cid, signature_date="09/12/2026")
    reason = "Une seule offre reçue pour ce lot"
    form = notification(store, cid)
    form = replace(form, mentions={**form.mentions, "exemption_reason": reason})
    queued = queue_message(store, form, actor="m.d", now=NOW)  # the standstill still runs
    recipient = table_of(Recipient)
    with store.engine.connect() as connection:
        recipient_id = connection.execute(
            sa.select(recipient.c.id).where(recipient.c.message_id == queued.message_id)
        ).scalar_one()
    record_opening(store, recipient_id, client_address=None, user_agent=None, at=NOW)
    pdf = pypdf.PdfReader(io.BytesIO(render_ar(ar_data(store, recipient_id, now=NOW))))
    text = " ".join(" ".join(page.extract_text() for page in pdf.pages).split())
    assert "Aucune dérogation" not in text
    assert "Dispense du délai de suspension" in text and reason in text
    assert "n° 8" in text
