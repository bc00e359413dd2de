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
from messagerie.models.messages.ar import ar_data
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
from messagerie.models.store.enums import ConsultationStatus, MessageType, Procedure, RegisterKind
from messagerie.models.store.tables import Consultation, Recipient, table_of
from tests.helpers.factories import add_consultations, add_lot, add_register_entries, paris

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
