"""The message form's model on both stores: checks, type presets, drafts and the queue."""

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from weasyprint import HTML

from messagerie.models.messages.drafts import (
    DraftRecipient,
    Override,
    kept_at_hang_up,
    kept_notice,
)
from messagerie.models.messages.files import read_attachments
from messagerie.models.messages.form import check_form, load_context
from messagerie.models.messages.presets import change_type, preset_form
from messagerie.models.messages.queue import (
    FormRefused,
    keep_typing,
    load_form,
    queue_message,
    save_draft,
)
from messagerie.models.messages.rejections import rejected_before
from messagerie.models.rules.validation import ValidationFailed
from messagerie.models.store.documents import store_document
from messagerie.models.store.enums import (
    DeliveryState,
    DocumentOrigin,
    MessageState,
    MessageType,
    Procedure,
    RegisterKind,
    SendMode,
)
from messagerie.models.store.tables import (
    AuditEntry,
    Consultation,
    Message,
    MessageLot,
    Recipient,
    table_of,
)
from tests.helpers.factories import add_open_consultation, add_register_entries, paris
from tests.helpers.interleave import right_after

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
message = table_of(Message)
recipient = table_of(Recipient)
audit = table_of(AuditEntry)


@pytest.fixture
def cid(store) -> int:
    """An open tender 30 days from NOW, two lots, one company in the three registers."""
    lots = {1: "Papier", 2: "Encre"}
    identity = ("2026FORM", "Fournitures")
    return add_open_consultation(store, identity, paris(2026, 12, 27), lots, paris(2026, 11, 20))


def filled(store, cid, kind=MessageType.FREE, **changes):
    form = preset_form(load_context(store, cid), kind)
    defaults = dict(
        body="Bonjour,\n\nVoici notre message.\n\nCordialement.",
        recipients=(DraftRecipient("jeanne.martin@nbc.example"),),
    )
    return replace(form, **{**defaults, **changes})


def errors(store, cid, form):
    return {(e.field, e.message) for e in check_form(form, load_context(store, cid), NOW).errors}


def error_fields(store, cid, form):
    return {field for field, _ in errors(store, cid, form)}


def test_a_complete_form_is_ready(store, cid):
    check = check_form(filled(store, cid), load_context(store, cid), NOW)
    assert check.errors == () and check.ready


@pytest.mark.parametrize(
    "subject, fragment",
    [
        ("", "obligatoire"),
        ("Objet\r\nBcc: victime@example.org", "retour à la ligne"),
        ("Objet\x07", "caractère de contrôle"),
        ("Facture \u202efdp.exe", "caractère de contrôle"),
        ("Objet\x85suite", "caractère de contrôle"),
        ("Négociation : [objet à adapter]", "Adaptez l'objet"),
        ("x" * 301, "300 caractères"),
    ],
)
def test_bad_subjects_are_named(store, cid, subject, fragment):
    (problem,) = errors(store, cid, filled(store, cid, subject=subject))
    assert problem[0] == "subject" and fragment in problem[1]


@pytest.mark.parametrize("body", ["Bonjour \u202eLIVE,\n\nMerci.", "Bonjour\x1b[2J", "A\rB"])
def test_a_body_with_a_control_character_is_refused(store, cid, body):
    assert errors(store, cid, filled(store, cid, body=body)) == {
        ("body", "Le corps du message contient un caractère de contrôle : retirez-le.")
    }


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        (MessageType.REJECTION, "Motifs du rejet"),
        (MessageType.CANCELLATION, "Motifs de la déclaration sans suite"),
    ],
)
def test_a_mention_is_named_as_its_own_type_names_it(store, cid, kind, label):
    """Rejections and cancellations both have « reasons »: a rejection's were named after
    the cancellation's."""
    form = filled(store, cid, kind, mentions={"reasons": "Prix\x07 trop élevé."})
    check = check_form(form, load_context(store, cid), NOW)
    assert [(e.label, e.message) for e in check.errors if e.field == "reasons"] == [
        (label, f"« {label} » contient un caractère de contrôle.")
    ]


def test_a_body_keeps_its_lines_and_tabs(store, cid):
    assert error_fields(store, cid, filled(store, cid, body="Bonjour,\n\n\tMerci.")) == set()


def test_the_body_template_must_be_filled_in(store, cid):
    form = preset_form(load_context(store, cid), MessageType.FREE)
    assert "[Contenu du message à renseigner]" in form.body
    form = replace(form, recipients=filled(store, cid).recipients)
    assert "body" in error_fields(store, cid, form)


def test_invalid_address_and_no_recipient(store, cid):
    bad = filled(store, cid, recipients=(DraftRecipient("pas-une-adresse"),))
    assert any("pas-une-adresse" in text for _, text in errors(store, cid, bad))
    assert "recipients" in error_fields(store, cid, filled(store, cid, recipients=()))


@pytest.mark.parametrize(
    "allowed, deadline, fragment",
    [
        (True, "01/01/2020 10:00", "déjà passée"),
        (True, "31/02/2026 10:00", "février 2026 compte 28 jours ; vérifiez le jour (31)"),
        (True, "01/01/0001 10:00", "l'année 0001 est hors de la période possible"),  # OverflowError
        (False, "01/12/2026 10:00", "choisissez « Oui »"),
    ],
)
def test_reply_deadline_problems(store, cid, allowed, deadline, fragment):
    form = filled(store, cid, reply_allowed=allowed, reply_deadline=deadline)
    (problem,) = errors(store, cid, form)
    assert problem[0] == "reply_deadline" and fragment in problem[1]


@pytest.mark.parametrize(
    "kind", [MessageType.ANSWER, MessageType.MODIFICATION, MessageType.INVITATION]
)
def test_reply_deadline_after_the_bid_deadline_is_illogical_while_bids_are_open(store, cid, kind):
    form = filled(store, cid, kind, reply_allowed=True, reply_deadline="05/01/2027 10:00")
    problems = [text for field, text in errors(store, cid, form) if field == "reply_deadline"]
    assert problems == [
        "La date limite de réponse (05/01/2027 10:00) est postérieure à la date limite de "
        "remise des plis (27/12/2026 12:00) : tant que les plis peuvent être remis, fixez une "
        "date au plus tard à cette limite."
    ]
    with pytest.raises(FormRefused, match="postérieure à la date limite de remise des plis"):
        queue_message(store, form, actor="m.d", now=NOW)
    on_the_limit = replace(form, reply_deadline="27/12/2026 12:00")
    assert "reply_deadline" not in error_fields(store, cid, on_the_limit)


def test_once_the_bid_deadline_has_passed_an_answer_may_leave_time_to_reply(store, cid):
    under_analysis = datetime(2026, 12, 28, 9, 0, tzinfo=UTC)  # the day after the bid deadline
    form = filled(
        store, cid, MessageType.ANSWER, reply_allowed=True, reply_deadline="05/01/2027 10:00"
    )
    check = check_form(form, load_context(store, cid), under_analysis)
    assert check.errors == ()
    queued = queue_message(store, form, actor="m.d", now=under_analysis)
    with store.engine.connect() as connection:
        row = connection.execute(sa.select(message).where(message.c.id == queued.message_id))
        assert row.one().reply_deadline.astimezone(UTC) == datetime(2027, 1, 5, 9, tzinfo=UTC)


def test_type_change_keeps_what_the_buyer_touched(store, cid):
    context = load_context(store, cid)
    form = replace(preset_form(context, MessageType.FREE), subject="Mon objet à moi")
    changed = change_type(form, context, MessageType.CANCELLATION, frozenset({"subject"}))
    assert changed.type is MessageType.CANCELLATION
    assert changed.subject == "Mon objet à moi"
    # Untouched fields take the new type's presets: all the registers for a cancellation.
    assert [r.email for r in changed.recipients] == ["jeanne.martin@nbc.example"]
    untouched = change_type(form, context, MessageType.COMPLEMENT_REQUEST, frozenset())
    assert untouched.subject == "Demande de complément" and untouched.reply_allowed


def test_queue_commits_everything_once(store, cid):
    form = filled(
        store,
        cid,
        MessageType.COMPLEMENT_REQUEST,
        lot_numbers=(2,),
        reply_allowed=True,
        reply_deadline="10/12/2026 12:00",
        recipients=(
            DraftRecipient("jeanne.martin@nbc.example"),
            DraftRecipient("JEANNE.MARTIN@nbc.example"),  # the same address: merged
            DraftRecipient("autre@example.org"),
        ),
    )
    queued = queue_message(store, form, actor="marie.dupont", now=NOW)
    assert queued.recipients == 2
    with store.engine.connect() as connection:
        row = connection.execute(sa.select(message).where(message.c.id == queued.message_id)).one()
        rows = connection.execute(
            sa.select(recipient.c.email, recipient.c.delivery_state, recipient.c.token).where(
                recipient.c.message_id == queued.message_id
            )
        ).all()
        lots = connection.execute(
            sa.select(sa.func.count()).where(table_of(MessageLot).c.message_id == queued.message_id)
        ).scalar_one()
    assert row.state == MessageState.QUEUED and row.type == MessageType.COMPLEMENT_REQUEST
    assert row.reply_allowed and row.reply_deadline.astimezone(UTC) == datetime(
        2026, 12, 10, 11, 0, tzinfo=UTC
    )
    assert not row.all_lots and lots == 1
    assert {r.email for r in rows} == {"jeanne.martin@nbc.example", "autre@example.org"}
    assert {r.delivery_state for r in rows} == {DeliveryState.QUEUED}
    assert len({r.token for r in rows}) == 2


def test_a_blocking_rule_refuses_the_queue_until_overridden(store, cid):
    # Rule 5: a request for complements needs a reply deadline.
    form = filled(store, cid, MessageType.COMPLEMENT_REQUEST, reply_allowed=True)
    with pytest.raises(FormRefused, match="date limite de réponse"):
        queue_message(store, form, actor="marie.dupont", now=NOW)
    with store.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(message)).scalar() == 0
    reason = Override(5, "Délai fixé par téléphone avec chaque candidat")
    queued = queue_message(store, replace(form, overrides=(reason,)), actor="m.d", now=NOW)
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(audit.c.action, audit.c.rule, audit.c.override_reason).where(
                audit.c.message_id == queued.message_id
            )
        ).all()
    assert ("rule.override", 5, reason.reason) in rows


def test_draft_saved_resumed_then_queued_only_once(store, cid):
    form = filled(store, cid, MessageType.CANCELLATION, mentions={"reasons": "Besoin disparu"})
    saved = save_draft(store, form, actor="marie.dupont")
    again = save_draft(store, replace(saved, subject="Annulation"), actor="marie.dupont")
    assert again.draft_id == saved.draft_id
    resumed = load_form(store, saved.draft_id, actor="marie.dupont")
    assert resumed.subject == "Annulation" and resumed.mention("reasons") == "Besoin disparu"
    assert resumed.type is MessageType.CANCELLATION
    queue_message(store, resumed, actor="marie.dupont", now=NOW)
    with pytest.raises(FormRefused, match="déjà été envoyé"):
        queue_message(store, resumed, actor="marie.dupont", now=NOW)
    with store.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(message)).scalar() == 1


def test_two_buyers_on_one_draft_never_overwrite_each_other(store, cid):
    form = filled(store, cid, MessageType.CANCELLATION, mentions={"reasons": "Besoin disparu"})
    draft_id = save_draft(store, form, actor="marie.dupont").draft_id
    mine, theirs = (
        load_form(store, draft_id, actor="marie.dupont"),
        load_form(store, draft_id, actor="marie.dupont"),
    )
    saved = save_draft(store, replace(mine, subject="Annulation (Marie)"), actor="marie.dupont")
    with pytest.raises(FormRefused, match="modifié entre-temps depuis un autre poste"):
        save_draft(store, replace(theirs, subject="Annulation (Paul)"), actor="paul.martin")
    with pytest.raises(FormRefused, match="modifié entre-temps"):
        queue_message(store, replace(theirs, subject="Annulation (Paul)"), actor="p.m", now=NOW)
    assert load_form(store, draft_id, actor="marie.dupont").subject == "Annulation (Marie)"
    again = save_draft(store, replace(saved, body=saved.body + "\nPS"), actor="marie.dupont")
    assert (
        again.revision == load_form(store, draft_id, actor="marie.dupont").revision
    )  # her own saves go on


def test_notification_waits_for_the_standstill_of_the_same_lot(store, cid):
    with store.engine.begin() as connection:
        connection.execute(
            sa.update(table_of(Consultation))
            .where(table_of(Consultation).c.id == cid)
            .values(procedure=Procedure.OPEN_TENDER)
        )
    rejection = filled(
        store, cid, MessageType.REJECTION, lot_numbers=(1,), mentions={"reasons": "Prix"}
    )
    queue_message(store, rejection, actor="m.d", now=NOW - timedelta(days=3))
    context = load_context(store, cid)
    lot_1 = filled(store, cid, MessageType.NOTIFICATION, lot_numbers=(1,))
    assert [v.rule for v in check_form(lot_1, context, NOW).blocks] == [8]
    lot_2 = filled(store, cid, MessageType.NOTIFICATION, lot_numbers=(2,))
    assert check_form(lot_2, context, NOW).ready


def test_a_rejection_of_all_lots_concerns_each_lot_and_one_of_a_lot_only_its_own(store, cid):
    """Whom a rejection already went to, by the lots a new one names (none: any lot)."""
    add_second_deposit(store, cid)
    lot_1, everything = paris(2026, 11, 23), paris(2026, 11, 24)
    rejection = filled(store, cid, MessageType.REJECTION, mentions={"reasons": "Prix"})
    queue_message(store, replace(rejection, lot_numbers=(1,)), actor="m.d", now=lot_1)
    to_autre = replace(rejection, recipients=(DraftRecipient("Autre@Example.org"),))
    queue_message(store, to_autre, actor="m.d", now=everything)
    emails = ["jeanne.martin@nbc.example", "autre@example.org", "personne@example.org"]

    def found(lots):
        return rejected_before(store, cid, lots, emails, actor="m.d")

    assert found((2,)) == {"autre@example.org": everything}
    assert found((1,)) == {"jeanne.martin@nbc.example": lot_1, "autre@example.org": everything}
    assert found((1, 2)) == found(()) == found((1,))
    assert rejected_before(store, cid, (), [], actor="m.d") == {}


def test_a_form_kept_at_hang_up_never_overwrites_a_draft_saved_meanwhile(store, cid):
    """The terminal went away while the form was open on a draft another window saved
    since: that draft stays as the other window left it, and this form's text becomes a
    draft of its own."""
    mine = save_draft(store, filled(store, cid, subject="Calendrier"), actor="marie.dupont")
    theirs = save_draft(store, replace(mine, subject="Calendrier (Paul)"), actor="paul.martin")
    kept = keep_typing(store, replace(mine, body="Texte tapé avant la coupure."),
                           actor="marie.dupont")  # fmt: skip
    assert kept.draft_id != mine.draft_id
    assert load_form(store, theirs.draft_id, actor="marie.dupont").subject == "Calendrier (Paul)"
    assert (
        load_form(store, kept.draft_id, actor="marie.dupont").body == "Texte tapé avant la coupure."
    )
    again = keep_typing(store, replace(kept, body="Suite."), actor="marie.dupont")
    assert again.draft_id == kept.draft_id  # its own draft, still current: saved over


def test_a_kept_draft_is_told_to_whom_typed_it_until_it_is_saved_or_sent(store, cid):
    with_reason = filled(store, cid, subject="Calendrier", overrides=(Override(8, "Urgence"),))
    kept = keep_typing(store, with_reason, actor="marie.dupont")  # its override row last
    assert [k.subject for k in kept_at_hang_up(store, actor="marie.dupont")] == ["Calendrier"]
    assert kept_at_hang_up(store, actor="paul.martin") == ()  # not theirs to be told
    save_draft(store, kept, actor="marie.dupont")
    assert kept_at_hang_up(store, actor="marie.dupont") == ()
    kept = keep_typing(store, filled(store, cid, subject="Visite"), actor="marie.dupont")
    assert [k.subject for k in kept_at_hang_up(store, actor="marie.dupont")] == ["Visite"]
    queue_message(store, kept, actor="marie.dupont", now=NOW)
    assert kept_at_hang_up(store, actor="marie.dupont") == ()


def test_a_hang_up_keeps_the_letter_without_a_deadline_that_cannot_be_read(store, cid):
    typed = filled(store, cid, MessageType.COMPLEMENT_REQUEST, subject="Pièces manquantes",
                   reply_deadline="31/02/2027 10:00")  # fmt: skip
    with pytest.raises(ValidationFailed):  # asked (Ctrl+Q), the buyer is shown why
        keep_typing(store, typed, actor="marie.dupont", at_hang_up=False)
    kept = keep_typing(store, typed, actor="marie.dupont")
    back = load_form(store, kept.draft_id, actor="marie.dupont")
    assert (back.subject, back.body, back.reply_deadline) == (typed.subject, typed.body, "")
    (told,) = kept_at_hang_up(store, actor="marie.dupont")
    assert told.dropped == "la date limite de réponse « 31/02/2027 10:00 », illisible"
    assert ", sans la date limite de réponse « 31/02/2027 10:00 », illisible" in kept_notice([told])


def test_simple_mode_for_a_notification_warns(store, cid):
    form = filled(store, cid, MessageType.AWARD, send_mode=SendMode.SIMPLE)
    check = check_form(form, load_context(store, cid), NOW)
    assert check.ready and [v.rule for v in check.verdicts] == [9]


def add_second_deposit(store, cid) -> None:
    """A second company, in the dépôts only: autre@example.org."""
    add_register_entries(
        store,
        cid,
        [RegisterKind.DEPOSIT],
        paris(2026, 11, 21),
        email="autre@example.org",
        company=("Autre SARL", "73282932000074"),
    )


def test_after_the_award_notification_and_rejections_know_the_awardee(store, cid):
    add_second_deposit(store, cid)
    award = filled(store, cid, MessageType.AWARD)  # to jeanne.martin@nbc.example
    queue_message(store, award, actor="m.d", now=NOW)
    context = load_context(store, cid)
    notification = preset_form(context, MessageType.NOTIFICATION)
    assert [r.email for r in notification.recipients] == ["jeanne.martin@nbc.example"]
    rejection = preset_form(context, MessageType.REJECTION)
    assert [r.email for r in rejection.recipients] == ["autre@example.org"]


def test_the_notification_presets_the_awardee_of_the_chosen_lots_only(store, cid):
    add_second_deposit(store, cid)
    for lot_number, email in ((1, "jeanne.martin@nbc.example"), (2, "autre@example.org")):
        award = filled(store, cid, MessageType.AWARD, lot_numbers=(lot_number,),
                       recipients=(DraftRecipient(email),))  # fmt: skip
        queue_message(store, award, actor="m.d", now=NOW)
    context = load_context(store, cid)
    lot_2 = preset_form(context, MessageType.NOTIFICATION, (2,))
    assert [r.email for r in lot_2.recipients] == ["autre@example.org"]
    assert lot_2.lot_numbers == (2,)
    every_lot = preset_form(context, MessageType.NOTIFICATION)
    assert len(every_lot.recipients) == 2
    free = replace(preset_form(context, MessageType.FREE), lot_numbers=(1,))
    changed = change_type(free, context, MessageType.NOTIFICATION, frozenset())
    assert [r.email for r in changed.recipients] == ["jeanne.martin@nbc.example"]


def test_a_second_notification_of_the_same_lot_is_a_warning(store, cid):
    contract = store_document(
        store, store.blobs, filename="marche-signe.pdf", data=b"%PDF-1.4\n%%EOF\n",
        origin=DocumentOrigin.ATTACHMENT, consultation_id=cid, actor="m.d",
    )  # fmt: skip
    signed = {"attachment_ids": (contract.id,)}  # or rule 9 would warn too
    first = filled(store, cid, MessageType.NOTIFICATION, lot_numbers=(1,), **signed)
    assert check_form(first, load_context(store, cid), NOW).verdicts == ()
    queue_message(store, first, actor="m.d", now=NOW)
    context = load_context(store, cid)
    again = check_form(first, context, NOW + timedelta(hours=1))
    assert again.ready
    (warning,) = again.verdicts
    assert (warning.level, warning.field) == ("warning", "lots")
    assert warning.message.startswith("Le lot n°1 a déjà été notifié le 27/11/2026")
    other_lot = filled(store, cid, MessageType.NOTIFICATION, lot_numbers=(2,), **signed)
    assert check_form(other_lot, context, NOW).verdicts == ()


def signed_notification(store, cid, **changes):
    """A notification of lot 1 that carries its signed contract (or rule 9 warns)."""
    contract = store_document(
        store, store.blobs, filename="marche-signe.pdf", data=b"%PDF-1.4\n%%EOF\n",
        origin=DocumentOrigin.ATTACHMENT, consultation_id=cid, actor="m.d",
    )  # fmt: skip
    signed = {"lot_numbers": (1,), "attachment_ids": (contract.id,)}
    return filled(store, cid, MessageType.NOTIFICATION, **{**signed, **changes})


def queued_of_type(store, cid, kind) -> list[int]:
    with store.engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(message.c.id)
                .where(message.c.consultation_id == cid, message.c.type == kind)
                .where(message.c.state == MessageState.QUEUED)
                .order_by(message.c.id)
            ).scalars()
        )


def test_a_warning_come_up_since_the_buyer_checked_refuses_the_send(store, cid):
    """Another buyer notifies the lot while this one's form is open: the form showed no
    warning, so the queue refuses the letter until the buyer has been shown it."""
    mine = signed_notification(store, cid)
    shown = check_form(mine, load_context(store, cid), NOW)
    assert shown.ready and shown.warned == frozenset()
    queue_message(store, signed_notification(store, cid), actor="c.l", now=NOW)
    with pytest.raises(FormRefused) as refused:
        queue_message(store, mine, actor="m.d", now=NOW, seen=shown.warned)
    assert str(refused.value).startswith("Rien n'a été envoyé : ce qui suit est apparu depuis")
    assert "Le lot n°1 a déjà été notifié le 27/11/2026" in str(refused.value)
    assert len(queued_of_type(store, cid, MessageType.NOTIFICATION)) == 1
    shown_now = check_form(mine, load_context(store, cid), NOW)
    assert {key[:2] for key in shown_now.warned} == {(8, "lots")}
    queue_message(store, mine, actor="m.d", now=NOW + timedelta(hours=2), seen=shown_now.warned)
    assert len(queued_of_type(store, cid, MessageType.NOTIFICATION)) == 2


def test_a_warning_read_about_one_lot_does_not_cover_another_lot_notified_since(store, cid):
    """The form (lots 1 and 2) warned that lot 1 was notified; another buyer then notifies
    lot 2: the same rule, the same field, another warning."""
    queue_message(store, signed_notification(store, cid), actor="c.l", now=NOW)
    both = signed_notification(store, cid, lot_numbers=(1, 2))
    shown = check_form(both, load_context(store, cid), NOW)
    (warning,) = shown.verdicts
    assert warning.message.startswith("Le lot n°1 a déjà été notifié")
    lot_2 = signed_notification(store, cid, lot_numbers=(2,))
    queue_message(store, lot_2, actor="c.l", now=NOW + timedelta(minutes=1))
    with pytest.raises(FormRefused, match="Le lot n°2 a déjà été notifié"):
        queue_message(store, both, actor="m.d", now=NOW + timedelta(minutes=2), seen=shown.warned)


def test_a_rejection_queued_at_the_same_moment_never_slips_before_a_notification(store, cid):
    """Rule 8 on a store two buyers share: a rejection letter of the lot queued while the
    notification is being checked is either seen by its check (the standstill blocks) or
    written after it; never between the check and the write."""
    with store.engine.begin() as connection:
        consultations = table_of(Consultation)
        connection.execute(
            sa.update(consultations)
            .where(consultations.c.id == cid)
            .values(procedure=Procedure.OPEN_TENDER)
        )
    notification = signed_notification(store, cid)
    rejection = filled(
        store, cid, MessageType.REJECTION, lot_numbers=(1,), mentions={"reasons": "Prix"}
    )

    def another_buyer_rejects() -> None:
        queue_message(store, rejection, actor="c.l", now=NOW)

    # The other buyer's letter comes while this check reads the dépôts: it waits for the
    # notification, which the standstill did not block when it was checked.
    with right_after(store, "register_entry_lot", another_buyer_rejects, head_start=0.5):
        queue_message(store, notification, actor="m.d", now=NOW)
    (rejected,) = queued_of_type(store, cid, MessageType.REJECTION)
    (notified,) = queued_of_type(store, cid, MessageType.NOTIFICATION)
    assert notified < rejected


def test_a_request_for_complements_is_compared_with_those_still_running(store, cid):
    """Rule 5 across messages: the store gives the form the requests already sent."""

    def request(lot: int, deadline: str):
        return filled(
            store, cid, MessageType.COMPLEMENT_REQUEST, lot_numbers=(lot,), reply_allowed=True,
            reply_deadline=deadline,
        )  # fmt: skip

    queue_message(store, request(2, "10/12/2026 12:00"), actor="m.d", now=NOW)
    save_draft(store, request(1, "01/12/2026 12:00"), actor="m.d")  # a draft is not sent
    context, tomorrow = load_context(store, cid), NOW + timedelta(days=1)
    (warning,) = check_form(request(2, "15/12/2026 12:00"), context, tomorrow).verdicts
    assert warning.key[:2] == (5, "reply_deadline") and not warning.blocks
    assert warning.message.startswith(
        "La demande de complément envoyée le 27/11/2026 laisse 13 jours aux candidats "
        "(jusqu'au 10/12/2026 12:00), celle-ci 17 jours"
    )
    assert check_form(request(2, "11/12/2026 12:00"), context, tomorrow).verdicts == ()
    assert check_form(request(1, "15/12/2026 12:00"), context, tomorrow).verdicts == ()


def test_a_file_sent_to_several_companies_naming_the_asker_warns(store, cid):
    """Rule 4 in a Q/A document attached by hand: N.B.C. FR asked (it is in the questions
    register), and the file sent to everyone names it."""
    pdf = HTML(string="<p>Question posée par la société N.B.C. FR (Mme Jeanne Martin).</p>")
    document = store_document(
        store, store.blobs, filename="questions-reponses.pdf", data=pdf.write_pdf(),
        origin=DocumentOrigin.ATTACHMENT, consultation_id=cid, actor="m.d",
    )  # fmt: skip
    everyone = (DraftRecipient("jeanne.martin@nbc.example"), DraftRecipient("autre@example.org"))
    form = filled(store, cid, attachment_ids=(document.id,), recipients=everyone)
    context = load_context(store, cid)
    readings = read_attachments(store, [document], context.askers)
    (warning,) = check_form(form, context, NOW, readings).verdicts
    assert warning.key[:2] == (4, "attachments") and not warning.blocks
    assert warning.message == (
        "Une pièce jointe envoyée à plusieurs entreprises semble identifier qui a posé la "
        "question : dans « questions-reponses.pdf », le nom de l'entreprise « N.B.C. FR » ; "
        "dans « questions-reponses.pdf », le nom de la personne qui a posé la question « "
        "Jeanne Martin ». Anonymisez-la avant diffusion."
    )
    alone = replace(form, recipients=everyone[:1])
    assert check_form(alone, context, NOW, readings).verdicts == ()
    with pytest.raises(FormRefused, match=re.escape("dans « questions-reponses.pdf »")):
        queue_message(store, form, actor="m.d", now=NOW, seen=frozenset())  # the queue reads it
    queue_message(store, form, actor="m.d", now=NOW, seen=frozenset({warning.key}))


def test_the_files_warning_is_the_same_whatever_order_they_were_read_in(store, cid):
    """The form reads a file once attached, the queue in the message's order: a different
    order is no new warning (it was refused at every Ctrl+E)."""

    def question(n: int):
        return store_document(
            store, store.blobs, filename=f"qr-{n}.txt", data=f"{n}. Question de N.B.C. FR".encode(),
            origin=DocumentOrigin.ATTACHMENT, consultation_id=cid, actor="m.d",
        )  # fmt: skip

    files = [question(1), question(2)]
    everyone = (DraftRecipient("jeanne.martin@nbc.example"), DraftRecipient("autre@example.org"))
    form = filled(store, cid, recipients=everyone, attachment_ids=(files[0].id, files[1].id))
    context = load_context(store, cid)
    readings = read_attachments(store, files)
    as_read = check_form(form, context, NOW, readings[::-1] + readings)
    in_order = check_form(
        replace(form, attachment_ids=(files[1].id, files[0].id)), context, NOW, readings
    )
    assert as_read.warned == in_order.warned and len(as_read.warned) == 1
    (warning,) = as_read.verdicts
    assert warning.message.count("dans « qr-") == 2  # each file once, read twice or not


@pytest.mark.parametrize("body", ["Veuillez trouver ci-joint le marché.", "Pièces CI-JOINTES."])
def test_a_body_announcing_a_file_without_one_is_refused(store, cid, body):
    form = filled(store, cid, MessageType.NOTIFICATION, body=body)
    (problem,) = errors(store, cid, form)
    assert problem[0] == "attachments"
    assert "« ci-joint », mais aucun fichier n'est joint" in problem[1]
    with pytest.raises(FormRefused, match="aucun fichier n'est joint"):
        queue_message(store, form, actor="m.d", now=NOW)
    assert errors(store, cid, replace(form, body="Le marché vous est notifié.")) == set()
