"""Delivery reports and e-mailed replies delivered to the real inbound listener (aiosmtpd on
127.0.0.1), on both stores: D, Non délivré, a delay notice, a non-standard bounce, replies on
time, late and not allowed, attachments through the real clamd, unknown tokens refused."""

import os
import smtplib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from messagerie.letters.intake.antivirus import parse_clamd_address
from messagerie.letters.intake.files import IntakeOptions
from messagerie.letters.mail.inbound import MAX_MESSAGE_BYTES, InboundHandler
from messagerie.models.messages.compose import load_context, preset_form, queue_message
from messagerie.models.messages.drafts import DraftRecipient
from messagerie.models.store.enums import (
    AntivirusVerdict,
    ConsultationStatus,
    EventKind,
    MessageType,
    RecipientStatus,
    RegisterKind,
    ReplyDisposition,
)
from messagerie.models.store.tables import (
    Document,
    Event,
    Recipient,
    Reply,
    ReplyAttachment,
    table_of,
)
from messagerie.tui.embedded import free_port
from tests.helpers.antivirus import EICAR
from tests.helpers.factories import add_consultations, add_register_entries, paris
from tests.helpers.smtp import send_out

pytestmark = pytest.mark.services  # aiosmtpd relays and listeners, clamd

recipient, event, reply = table_of(Recipient), table_of(Event), table_of(Reply)

DSN = """\
From: MAILER-DAEMON@relais.example (Mail Delivery System)
To: {bounce}
Subject: {subject}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system at host relais.example.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; relais.example
Arrival-Date: Fri, 27 Nov 2026 10:00:00 +0100

Final-Recipient: rfc822; {rcpt}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {diagnostic}

--B--
"""

EXIM_STYLE_BOUNCE = """\
From: Mail Delivery System <Mailer-Daemon@relais.example>
To: {bounce}
Subject: Mail delivery failed: returning message to sender

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {rcpt}
    SMTP error from remote mail server after RCPT TO:<{rcpt}>:
    550 5.1.1 User unknown
"""


@pytest.fixture
def sent(store):
    """One message sent to two recipients (replies allowed until tomorrow), through a relay."""
    (cid,) = add_consultations(
        store, [("2026BACK", "Retours", ConsultationStatus.OPEN, paris(2026, 12, 27))]
    )
    add_register_entries(store, cid, [RegisterKind.DEPOSIT], paris(2026, 11, 20))
    form = replace(
        preset_form(load_context(store, cid), MessageType.COMPLEMENT_REQUEST),
        body="Bonjour,\n\nMerci de nous adresser votre attestation.",
        recipients=(DraftRecipient("a@entreprise.example"), DraftRecipient("b@entreprise.example")),
        reply_deadline=(datetime.now(UTC) + timedelta(days=1)).strftime("%d/%m/%Y %H:%M"),
    )
    return queue_message(store, form, actor="marie.dupont").message_id


@pytest.fixture
def listener(store):
    clamd = os.environ.get("MESSAGERIE_TEST_CLAMD")
    if not clamd:
        pytest.fail("MESSAGERIE_TEST_CLAMD is not set: run the tests with scripts/test.")
    handler = InboundHandler(store, IntakeOptions(parse_clamd_address(clamd)))
    controller = Controller(
        handler, hostname="127.0.0.1", port=free_port(), data_size_limit=MAX_MESSAGE_BYTES
    )
    controller.start()
    yield controller.port
    controller.stop()


def deliver(port: int, to: str, data: str | bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.sendmail("MAILER-DAEMON@relais.example", [to], data)


def events_of(store, recipient_id):
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(event.c.kind, event.c.detail)
            .where(event.c.recipient_id == recipient_id)
            .order_by(event.c.id)
        ).all()


def status_of(store, recipient_id) -> RecipientStatus:
    with store.engine.connect() as connection:
        return RecipientStatus(
            connection.execute(
                sa.select(recipient.c.status).where(recipient.c.id == recipient_id)
            ).scalar_one()
        )


async def test_delivery_reports_give_d_non_delivre_and_delay(store, sent, listener):
    rows = await send_out(store, sent)
    a, b = rows["a@entreprise.example"], rows["b@entreprise.example"]
    bounce_a, bounce_b = f"bounce+{a.token}@alsace.example", f"bounce+{b.token}@alsace.example"
    deliver(listener, bounce_a, DSN.format(bounce=bounce_a, rcpt=a.email, subject="Delivered",
            action="delivered", status="2.0.0", diagnostic="250 2.0.0 Ok: queued"))  # fmt: skip
    deliver(listener, bounce_b, DSN.format(bounce=bounce_b, rcpt=b.email, subject="Delayed",
            action="delayed", status="4.4.1", diagnostic="Connection timed out"))  # fmt: skip
    assert status_of(store, a.id) is RecipientStatus.DELIVERED
    assert status_of(store, b.id) is RecipientStatus.SENT  # a delay changes nothing yet…
    assert "Connection timed out" in events_of(store, b.id)[-1].detail  # …but is kept
    deliver(listener, bounce_b, DSN.format(bounce=bounce_b, rcpt=b.email, subject="Undelivered",
            action="failed", status="5.1.1", diagnostic="550 5.1.1 User unknown"))  # fmt: skip
    assert status_of(store, b.id) is RecipientStatus.NOT_DELIVERED
    kind, detail = events_of(store, b.id)[-1]
    assert kind == EventKind.NOT_DELIVERED and "5.1.1" in detail and "User unknown" in detail


async def test_a_non_standard_bounce_is_read_by_flufl_bounce(store, sent, listener):
    rows = await send_out(store, sent)
    a = rows["a@entreprise.example"]
    bounce = f"bounce+{a.token}@alsace.example"
    deliver(listener, bounce, EXIM_STYLE_BOUNCE.format(bounce=bounce, rcpt=a.email))
    assert status_of(store, a.id) is RecipientStatus.NOT_DELIVERED


def reply_mail(to: str, body: str, attachment: tuple[str, bytes] | None = None) -> bytes:
    mail = EmailMessage()
    mail["From"] = "a@entreprise.example"
    mail["To"] = to
    mail["Subject"] = "Re: Demande de complément"
    mail.set_content(body)
    if attachment:
        mail.add_attachment(attachment[1], maintype="application", subtype="pdf",
                            filename=attachment[0])  # fmt: skip
    return bytes(mail)


async def test_replies_on_time_with_files_scanned_and_late_ones_kept(store, sent, listener):
    rows = await send_out(store, sent)
    a, b = rows["a@entreprise.example"], rows["b@entreprise.example"]
    to_a = f"reply+{a.token}@alsace.example"
    deliver(
        listener,
        to_a,
        reply_mail(
            to_a, "Voici l'attestation demandée.", ("attestation.pdf", b"%PDF-1.4\n%%EOF\n")
        ),
    )
    assert status_of(store, a.id) is RecipientStatus.REPLY_UNREAD
    assert events_of(store, a.id)[-1].kind == EventKind.REPLIED
    with store.engine.connect() as connection:
        (kept,) = connection.execute(sa.select(reply).where(reply.c.recipient_id == a.id)).all()
        files = connection.execute(
            sa.select(table_of(Document).c.filename, table_of(Document).c.antivirus)
            .join(table_of(ReplyAttachment))
            .where(table_of(ReplyAttachment).c.reply_id == kept.id)
        ).all()
    assert kept.body.strip() == "Voici l'attestation demandée."
    assert kept.disposition == ReplyDisposition.ON_TIME
    assert files == [("attestation.pdf", AntivirusVerdict.CLEAN)]
    # An infected file is set aside (and named); the reply itself is kept.
    to_b = f"reply+{b.token}@alsace.example"
    deliver(listener, to_b, reply_mail(to_b, "Pièce jointe.", ("virus.pdf", EICAR)))
    with store.engine.connect() as connection:
        body = connection.execute(
            sa.select(reply.c.body).where(reply.c.recipient_id == b.id)
        ).scalar_one()
    assert "« virus.pdf » écartée" in body


async def test_late_and_not_allowed_replies_are_kept_without_r(store, sent, listener):
    rows = await send_out(store, sent)
    a = rows["a@entreprise.example"]
    with store.engine.begin() as connection:
        connection.execute(
            sa.text("update message set reply_deadline = :past where id = :id"),
            {"past": datetime.now(UTC) - timedelta(hours=1), "id": sent},
        )
    to_a = f"reply+{a.token}@alsace.example"
    deliver(listener, to_a, reply_mail(to_a, "Réponse tardive."))
    with store.engine.begin() as connection:
        connection.execute(
            sa.text("update message set reply_allowed = :no where id = :id"),
            {"no": False, "id": sent},
        )
    # Matched by In-Reply-To alone, to a message that allows no reply.
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = a.email, "marches@alsace.example", "Re: …"
    mail["In-Reply-To"] = a.message_id_header
    mail.set_content("Une autre réponse.")
    deliver(listener, "marches@alsace.example", bytes(mail))
    with store.engine.connect() as connection:
        kept = connection.execute(
            sa.select(reply.c.body, reply.c.disposition)
            .where(reply.c.recipient_id == a.id)
            .order_by(reply.c.id)
        ).all()
    assert [(body.strip(), ReplyDisposition(d)) for body, d in kept] == [
        ("Réponse tardive.", ReplyDisposition.LATE),
        ("Une autre réponse.", ReplyDisposition.NOT_ALLOWED),
    ]
    assert status_of(store, a.id) is RecipientStatus.SENT  # no R for either
    assert EventKind.REPLIED not in [kind for kind, _ in events_of(store, a.id)]


async def test_unknown_tokens_and_malformed_input_never_crash_the_listener(store, sent, listener):
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        deliver(listener, "reply+AAAAAAAAAAAAAAAAAAAAAAAA@alsace.example", reply_mail("x", "y"))
    rows = await send_out(store, sent)
    a = rows["a@entreprise.example"]
    to_a = f"reply+{a.token}@alsace.example"
    deliver(listener, to_a, b'Content-Type: multipart/mixed; boundary="X"\r\n\r\n--X\r\nbroken')
    deliver(listener, to_a, reply_mail(to_a, "Toujours là."))
    with store.engine.connect() as connection:
        bodies = (
            connection.execute(sa.select(reply.c.body).where(reply.c.recipient_id == a.id))
            .scalars()
            .all()
        )
    assert any("Toujours là." in body for body in bodies)
