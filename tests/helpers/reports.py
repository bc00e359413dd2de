"""Delivery reports as relays send them to a recipient's bounce address: an RFC 3464 report
(Postfix's shape, with the returned headers of RET=HDRS and, when given, the ENVID) and an
Exim-style plain bounce quoting the message's headers; a recipient's addresses and status."""

from __future__ import annotations

import sqlalchemy as sa

from messagerie.models.store.enums import RecipientStatus
from messagerie.models.store.tables import Document, Recipient, ReplyAttachment, table_of

DSN = """\
From: MAILER-DAEMON@relais.example (Mail Delivery System)
To: {bounce}
Subject: {subject}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

{text}

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; relais.example
{envid}Arrival-Date: Fri, 27 Nov 2026 10:00:00 +0100

Final-Recipient: rfc822; {rcpt}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {diagnostic}

--B
Content-Type: text/rfc822-headers

{returned}

--B--
"""

RETURNED = """\
From: Direction de la commande publique <marches@alsace.example>
Subject: Demande de complement
Message-ID: {message_id}"""

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

------ This is a copy of the message's headers. ------

Return-path: <{bounce}>
From: marches@alsace.example
Message-ID: {message_id}
Subject: Demande de complement
"""


def dsn(row, action: str, status: str, diagnostic: str, *, message_id=None, envid="") -> str:
    """The report a relay (Postfix, RET=HDRS) sends to `row`'s bounce address: it names the
    e-mail by its returned headers' Message-ID (`row`'s unless told) and, when given, the
    ENVID (Original-Envelope-Id)."""
    message_id = row.message_id_header if message_id is None else message_id
    return DSN.format(
        bounce=bounce_of(row),
        rcpt=row.email,
        subject=f"Delivery status: {action}",
        text="This is the mail system at host relais.example.",
        action=action,
        status=status,
        diagnostic=diagnostic,
        returned=RETURNED.format(message_id=message_id),
        envid=f"Original-Envelope-Id: {envid}\n" if envid else "",
    )


def bounce_of(row) -> str:
    return f"bounce+{row.bounce_token}@alsace.example"


FAILED = ("failed", "5.1.1", "550 5.1.1 User unknown")


def reply_to(row) -> str:
    return f"reply+{row.reply_token}@alsace.example"


def status_of(store, recipient_id) -> RecipientStatus:
    recipient = table_of(Recipient)
    with store.engine.connect() as connection:
        return RecipientStatus(
            connection.execute(
                sa.select(recipient.c.status).where(recipient.c.id == recipient_id)
            ).scalar_one()
        )


def files_of(store, reply_id):
    """(name, antivirus verdict, size) of each file kept with a reply, in the order kept."""
    document, reply_attachment = table_of(Document), table_of(ReplyAttachment)
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(document.c.filename, document.c.antivirus, document.c.size)
            .join(reply_attachment, reply_attachment.c.document_id == document.c.id)
            .where(reply_attachment.c.reply_id == reply_id)
            .order_by(document.c.id)
        ).all()
