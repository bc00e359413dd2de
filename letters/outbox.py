"""The outbox: claim queued recipients, render each one's e-mail, hand it to the relay, record.

Every recipient gets its own e-mail: its Message-ID (stable, stored when the message was
queued), a Reply-To `reply+TOKEN@domain` and an envelope sender `bounce+TOKEN@domain`, so that
replies and bounces come back to the right recipient.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from letters.mail import MailAttachment, MailContent, MailRecipient, render_email
from letters.preview import context_block, mention_lines
from letters.transport import Envelope, Relay, connect, send_batch
from models.enums import SendMode
from models.outbox import (
    Claimed,
    OutgoingMessage,
    OutgoingRecipient,
    claim,
    record_accepted,
    record_failure,
    release,
)
from models.store import Store


@dataclass(frozen=True)
class Report:
    """What one pass of the outbox did."""

    sent: int = 0
    retried: int = 0
    refused: int = 0

    def __add__(self, other: Report) -> Report:
        return Report(
            self.sent + other.sent, self.retried + other.retried, self.refused + other.refused
        )

    def __str__(self) -> str:
        return f"{self.sent} envoyé(s), {self.retried} à réessayer, {self.refused} non délivré(s)."


def domain_of(address: str) -> str:
    return address.rpartition("@")[2] or "messagerie.invalid"


def personal_link(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/m/{token}"


def mail_content(store: Store, outgoing: OutgoingMessage) -> MailContent:
    detail = outgoing.consultation
    simple = outgoing.send_mode is SendMode.SIMPLE
    return MailContent(
        subject=outgoing.subject,
        body=outgoing.body,
        type_label=outgoing.type.label,
        send_mode=outgoing.send_mode,
        reply_allowed=outgoing.reply_allowed,
        reply_deadline=outgoing.reply_deadline,
        context=context_block(detail),
        sender_name=detail.entity,
        sender_email=detail.sender_email,
        mentions=mention_lines(outgoing.type, outgoing.mentions),
        attachments=tuple(
            MailAttachment(
                d.filename,
                d.media_type,
                d.size,
                d.antivirus,
                store.blobs.read(d.sha256) if simple else None,  # "avec AR": on the web page
            )
            for d in outgoing.attachments
        ),
    )


def envelope(
    content: MailContent, outgoing: OutgoingMessage, one: OutgoingRecipient, public_url: str
) -> Envelope:
    domain = domain_of(content.sender_email)
    mail = render_email(
        content,
        MailRecipient(
            email=one.email,
            name=one.contact_name,
            link=personal_link(public_url, one.token)
            if outgoing.send_mode is SendMode.WITH_AR
            else None,
            message_id_header=one.message_id_header,
            reply_to=f"reply+{one.token}@{domain}",
        ),
    )
    return Envelope(one.id, f"bounce+{one.token}@{domain}", one.email, bytes(mail))


async def send_claimed(
    store: Store, relay: Relay, claimed: tuple[Claimed, ...], public_url: str
) -> Report:
    envelopes: list[Envelope] = []
    attempts: dict[int, int] = {}
    for batch in claimed:
        content = mail_content(store, batch.message)
        for one in batch.recipients:
            envelopes.append(envelope(content, batch.message, one, public_url))
            attempts[one.id] = one.attempts
    report = Report()
    for outcome in await send_batch(relay, envelopes):
        if outcome.accepted:
            record_accepted(
                store, outcome.key, answer=outcome.answer, final_mailbox=relay.final_mailbox
            )
            report += Report(sent=1)
        elif record_failure(
            store,
            outcome.key,
            answer=outcome.answer,
            permanent=outcome.permanent,
            attempts=attempts[outcome.key],
        ):
            report += Report(retried=1)
        else:
            report += Report(refused=1)
    return report


async def run_once(store: Store, relay: Relay, *, public_url: str, batch: int = 100) -> Report:
    """Send everything that is due now, batch by batch. The relay is tried first: when it
    cannot be used, RelayProblem says why and every message stays queued."""
    client = await connect(relay)
    await client.quit()
    report = Report()
    while claimed := claim(store, limit=batch):
        try:
            report += await send_claimed(store, relay, claimed, public_url)
        except BaseException:
            release(store, [one.id for c in claimed for one in c.recipients])
            raise
    return report


def run_once_blocking(store: Store, relay: Relay, *, public_url: str) -> Report:
    return asyncio.run(run_once(store, relay, public_url=public_url))
