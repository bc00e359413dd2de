"""A real message to two companies, A and B: queued on the store, its attachment scanned by
the tests' clamd, sent through a real relay; and a recipient's row by address."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from messagerie.letters.intake.files import take_attachment
from messagerie.models.messages.drafts import DraftRecipient
from messagerie.models.messages.form import load_context
from messagerie.models.messages.outbox import claim, record_accepted, record_failure
from messagerie.models.messages.presets import preset_form
from messagerie.models.messages.queue import queue_message
from messagerie.models.store.enums import ConsultationStatus, MessageType, RegisterKind, SendMode
from messagerie.models.store.tables import Recipient, table_of
from tests.helpers.antivirus import intake
from tests.helpers.factories import PARIS, add_consultations, add_register_entries, paris
from tests.helpers.smtp import send_out

recipient = table_of(Recipient)
A, B = "a@entreprise.example", "b@entreprise.example"
DEADLINE = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)


def paris_text(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


async def sent_message(store, *, mode=SendMode.WITH_AR, reply_allowed=True) -> dict[str, str]:
    """A complement request (a letter when no reply is allowed) with one attachment, sent to
    A and B: their tokens."""
    message_id = queued_message(store, mode=mode, reply_allowed=reply_allowed)
    rows = await send_out(store, message_id)
    return {email: row.token for email, row in rows.items()}


def queued_message(store, *, mode=SendMode.WITH_AR, reply_allowed=True) -> int:
    """The same message, queued and not sent yet: its id."""
    cid = consultation_with_deposit(store, "2026WEB", "Page web")
    piece = take_attachment(
        store,
        filename="attestation-modèle.pdf",
        data=b"%PDF-1.4 modele",
        options=intake(),
        consultation_id=cid,
        actor="marie.dupont",
    )
    return queue_preset(
        store,
        cid,
        MessageType.COMPLEMENT_REQUEST if reply_allowed else MessageType.FREE,
        body="Bonjour,\n\nMerci de nous adresser votre attestation d'assurance.",
        recipients=(DraftRecipient(A), DraftRecipient(B)),
        send_mode=mode,
        reply_allowed=reply_allowed,
        reply_deadline=paris_text(DEADLINE) if reply_allowed else "",
        attachment_ids=(piece.id,),
    )


def consultation_with_deposit(store, reference: str, title: str) -> int:
    """A consultation open until 27/12/2026 where one company has made a deposit: its id."""
    (cid,) = add_consultations(
        store, [(reference, title, ConsultationStatus.OPEN, paris(2026, 12, 27))]
    )
    add_register_entries(store, cid, [RegisterKind.DEPOSIT], paris(2026, 11, 20))
    return cid


def queue_preset(store, cid: int, message_type: MessageType, **changes) -> int:
    """The type's preset form for consultation `cid`, with `changes`, queued by the tests'
    buyer: the message's id."""
    form = replace(preset_form(load_context(store, cid), message_type), **changes)
    return queue_message(store, form, actor="marie.dupont").message_id


def row_of(store, email: str):
    with store.engine.connect() as connection:
        return connection.execute(sa.select(recipient).where(recipient.c.email == email)).one()


def relay_answers(store, *, at: datetime, refused: bool = False) -> None:
    """The outbox's pass at `at`, the relay's answers recorded as it would: every copy due
    accepted (its E), or refused for good (« Non délivré »)."""
    for batch in claim(store, limit=1000, now=at):
        for one in batch.recipients:
            if refused:
                record_failure(store, one.id, answer="550 inconnu", permanent=True, attempts=1,
                               at=at)  # fmt: skip
            else:
                record_accepted(store, one.id, answer="250 OK", final_mailbox=False, at=at)
