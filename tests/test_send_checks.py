"""LEGAL.md rules 6, 7, 8 and 10 through the store: what queue_message refuses, what it lets
go, and what the audit log keeps of it."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from messagerie.models.consultations.suites import SuiteRequest, candidate_choices, create_suite
from messagerie.models.messages.drafts import DraftRecipient, Override
from messagerie.models.messages.form import FormInput, load_context
from messagerie.models.messages.presets import preset_form
from messagerie.models.messages.queue import FormRefused, queue_message
from messagerie.models.store.enums import MessageType, Procedure, RegisterKind
from messagerie.models.store.tables import AuditEntry, Message, table_of
from tests.helpers.factories import add_open_consultation, add_register_entries, paris
from tests.helpers.messages import relay_answers

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
BODY = "Bonjour,\n\nVeuillez trouver notre courrier.\n\nCordialement."
SUNDGAU = ("contact@sundgau.example", ("Data du Sundgau SARL", "73282932000074"))
VOSGES = ("offres@vosges.example", ("Société Vosgienne Réseaux", "55208131766522"))
audit = table_of(AuditEntry)
message = table_of(Message)


@pytest.fixture
def cid(store) -> int:
    """An open tender (formalised), two lots: N.B.C. FR in the three registers, Data du
    Sundgau in the dépôts, Société Vosgienne Réseaux in the retraits."""
    cid = add_open_consultation(
        store, ("2026SEND", "Serveurs"), paris(2026, 12, 27), {1: "Baies", 2: "Stockage"},
        paris(2026, 11, 20),
    )  # fmt: skip
    for (email, company), kind in (
        (SUNDGAU, RegisterKind.DEPOSIT),
        (VOSGES, RegisterKind.WITHDRAWAL),
    ):
        add_register_entries(store, cid, [kind], paris(2026, 11, 21), email=email, company=company)
    return cid


def form_of(store, cid, kind: MessageType, **changes) -> FormInput:
    return replace(preset_form(load_context(store, cid), kind), body=BODY, **changes)


def notification(store, cid, lot: int, exemption_reason: str) -> FormInput:
    """The notification of `lot` to N.B.C. FR, with this « Motif de dispense »."""
    return form_of(
        store, cid, MessageType.NOTIFICATION, lot_numbers=(lot,),
        recipients=(DraftRecipient("jeanne.martin@nbc.example"),),
        mentions={"exemption_reason": exemption_reason},
    )  # fmt: skip


def queued_count(store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(message)).scalar_one()


def audit_of(store, message_id: int) -> list[tuple[str, int | None, str | None]]:
    with store.engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                sa.select(audit.c.action, audit.c.rule, audit.c.override_reason)
                .where(audit.c.message_id == message_id)
                .order_by(audit.c.id)
            )
        ]


# --- Rule 8: a standstill exemption is a written reason, and it is audited ----------------


def test_a_one_letter_exemption_does_not_lift_the_standstill(store, cid):
    rejection = form_of(store, cid, MessageType.REJECTION, lot_numbers=(1,),
                        mentions={"reasons": "Offre classée 2e sur le prix"})  # fmt: skip
    queue_message(store, rejection, actor="m.d", now=NOW - timedelta(seconds=94))
    with pytest.raises(FormRefused, match="motif de dispense saisi est trop court"):
        queue_message(store, notification(store, cid, 1, "x"), actor="m.d", now=NOW)
    assert queued_count(store) == 1  # the rejection only


def test_a_written_exemption_is_kept_in_the_audit_log_of_the_notification(store, cid):
    rejection = form_of(store, cid, MessageType.REJECTION, lot_numbers=(1,),
                        mentions={"reasons": "Offre classée 2e sur le prix"})  # fmt: skip
    queue_message(store, rejection, actor="m.d", now=NOW - timedelta(days=3))
    reason = "Une seule offre reçue pour ce lot"
    queued = queue_message(store, notification(store, cid, 1, reason), actor="m.d", now=NOW)
    assert audit_of(store, queued.message_id) == [
        ("message.queue", None, None),
        ("rule.exemption", 8, f"Dispense du délai de suspension (article R2182-1) : {reason}"),
    ]
    # Lot 2's two bids have had no rejection letter: its standstill has not begun either.
    queued = queue_message(store, notification(store, cid, 2, reason), actor="m.d", now=NOW)
    assert [action for action, _, _ in audit_of(store, queued.message_id)] == [
        "message.queue",
        "rule.exemption",
    ]
    # Lot 1's letter left three days ago: eleven days on, the reason lifts nothing, and nothing
    # is recorded.
    relay_answers(store, at=NOW - timedelta(days=3))
    later = NOW + timedelta(days=8)
    queued = queue_message(store, notification(store, cid, 1, reason), actor="m.d", now=later)
    assert audit_of(store, queued.message_id) == [("message.queue", None, None)]


# --- Rule 10: every address of the registers, not as many --------------------------------


def test_a_cancellation_that_swaps_a_bidder_for_another_address_is_refused(store, cid):
    form = form_of(store, cid, MessageType.CANCELLATION, mentions={"reasons": "Besoin disparu"})
    assert len(form.recipients) == 3  # the three registers
    swapped = [r for r in form.recipients if r.email != SUNDGAU[0]]
    swapped.append(DraftRecipient("autre@example.org"))
    with pytest.raises(FormRefused, match=f"pas parmi les destinataires : {SUNDGAU[0]}\\."):
        queue_message(store, replace(form, recipients=tuple(swapped)), actor="m.d", now=NOW)
    assert queued_count(store) == 0
    everyone = tuple(DraftRecipient(r.email.upper()) for r in form.recipients)
    more = (*everyone, DraftRecipient("autre@example.org"))
    assert (
        queue_message(store, replace(form, recipients=more), actor="m.d", now=NOW).recipients == 4
    )


# --- Rule 6: every admitted candidate of a suite is invited -----------------------------


def test_an_invitation_that_leaves_out_an_admitted_candidate_is_refused_until_overridden(
    store, cid
):
    choices = candidate_choices(store, cid)
    assert len(choices) == 2  # N.B.C. FR and Data du Sundgau, from the dépôts
    suite = create_suite(
        store,
        SuiteRequest(cid, Procedure.RESTRICTED_TENDER, (), tuple(c.entry_id for c in choices),
                     paris(2027, 1, 15)),
        actor="m.d",
        now=NOW,
    )  # fmt: skip
    mentions = {"notice_reference": "BOAMP 26-123456", "submission": "Sur la plateforme",
                "documents": "DC1, DC2, mémoire technique"}  # fmt: skip
    invitation = replace(
        preset_form(load_context(store, suite.consultation_id), MessageType.INVITATION),
        mentions=mentions,
    )
    assert {r.email for r in invitation.recipients} == {c.contact_email for c in choices}
    alone = replace(invitation, recipients=(DraftRecipient("jeanne.martin@nbc.example"),))
    with pytest.raises(FormRefused, match=r"R2144-8\) : ajoutez aux destinataires Data du "
                       r"Sundgau SARL \(contact@sundgau\.example\)"):  # fmt: skip
        queue_message(store, alone, actor="m.d", now=NOW)
    reason = Override(6, "Data du Sundgau a retiré sa candidature par écrit")
    queued = queue_message(store, replace(alone, overrides=(reason,)), actor="m.d", now=NOW)
    assert ("rule.override", 6, reason.reason) in audit_of(store, queued.message_id)


# --- Rule 7: the awardee is not sent a rejection -----------------------------------------

AFTER_AWARD = {
    "reasons": "Offre classée 2e",
    "awarded": "oui",
    "awardee": "DATA DU  sundgau sarl",
    "award_reasons": "Meilleur rapport qualité-prix",
    "signature_date": "10/12/2026",
}


@pytest.mark.parametrize(
    "awardee",
    [
        DraftRecipient(SUNDGAU[0].upper()),  # typed by hand: its company found by its address
        None,  # as preset from the dépôts, with its company
    ],
)
def test_a_rejection_to_its_own_awardee_is_refused_until_overridden(store, cid, awardee):
    form = form_of(store, cid, MessageType.REJECTION, mentions=AFTER_AWARD)
    if awardee is not None:
        form = replace(form, recipients=(*form.recipients[:1], awardee))
    assert len(form.recipients) == 2
    with pytest.raises(FormRefused, match="« DATA DU sundgau sarl » est destinataire de ce "
                       "courrier de rejet"):  # fmt: skip
        queue_message(store, form, actor="m.d", now=NOW)
    assert queued_count(store) == 0
    others = replace(form, recipients=form.recipients[:1])
    assert queue_message(store, others, actor="m.d", now=NOW).recipients == 1
    reason = Override(7, "Courrier de rejet du lot 2, attribué à un autre candidat")
    queued = queue_message(store, replace(form, overrides=(reason,)), actor="m.d", now=NOW)
    assert ("rule.override", 7, reason.reason) in audit_of(store, queued.message_id)
