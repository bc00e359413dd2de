"""The outbox: claim queued recipients, render each one's e-mail, hand it to the relay, record.

Every recipient gets its own e-mail: its Message-ID (stable, stored when the message was
queued), a Reply-To `reply+TOKEN@domain` and an envelope sender `bounce+TOKEN@domain`, so that
replies and bounces come back to the right recipient.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from letters.mail import (
    MailAttachment,
    MailContent,
    MailRecipient,
    personal_link,
    render_bytes,
)
from letters.preview import context_block, mention_lines
from letters.transport import Envelope, Outcome, Relay, connect, send_batch
from models.enums import SendMode
from models.errors import Refusal
from models.outbox import (
    LEASE,
    Claimed,
    OutgoingMessage,
    OutgoingRecipient,
    claim,
    record_accepted,
    record_failure,
    release,
    renew,
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
    mail = render_bytes(
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
    return Envelope(one.id, f"bounce+{one.token}@{domain}", one.email, mail)


async def send_claimed(
    store: Store, relay: Relay, claimed: tuple[Claimed, ...], public_url: str, lease: timedelta
) -> Report:
    """Send the claimed recipients, committing each answer as soon as the relay gives it.

    The claim's lease is renewed every third of its length; a recipient whose lease was lost
    meanwhile (another worker took it over) is skipped, never handed over twice."""
    attempts = {one.id: one.attempts for batch in claimed for one in batch.recipients}
    tally = {"sent": 0, "retried": 0, "refused": 0}
    held = {"lease": claimed[0].lease_until, "renewed": datetime.now(UTC)}
    owned = set(attempts)
    pending = set(attempts)

    def still_ours(recipient_id: int) -> bool:
        now = datetime.now(UTC)
        if now - held["renewed"] > lease / 3:
            owned.intersection_update(renew(store, sorted(pending), held["lease"], now + lease))
            held.update(lease=now + lease, renewed=now)
        return recipient_id in owned

    def envelopes() -> Iterator[Envelope]:  # rendered one by one, just before its hand-off
        for batch in claimed:
            try:
                content = mail_content(store, batch.message)
            except (Refusal, OSError) as problem:  # an attachment missing from the store
                for one in batch.recipients:
                    record(Outcome(one.id, False, False, f"Message illisible : {problem}"))
                continue
            for one in batch.recipients:
                if still_ours(one.id):
                    yield envelope(content, batch.message, one, public_url)

    def record(outcome: Outcome) -> None:
        pending.discard(outcome.key)
        if outcome.accepted:
            record_accepted(
                store, outcome.key, answer=outcome.answer, final_mailbox=relay.final_mailbox
            )
            tally["sent"] += 1
        elif record_failure(
            store,
            outcome.key,
            answer=outcome.answer,
            permanent=outcome.permanent,
            attempts=attempts[outcome.key],
        ):
            tally["retried"] += 1
        else:
            tally["refused"] += 1

    await send_batch(relay, envelopes(), record)
    return Report(**tally)


async def run_once(
    store: Store, relay: Relay, *, public_url: str, batch: int = 100, lease: timedelta = LEASE
) -> Report:
    """Send everything that is due now, batch by batch. The relay is tried first: when it
    cannot be used, RelayProblem says why and every message stays queued."""
    client = await connect(relay)
    await client.quit()
    report = Report()
    while claimed := claim(store, limit=batch, lease=lease):
        try:
            report += await send_claimed(store, relay, claimed, public_url, lease)
        except BaseException:
            release(store, [one.id for c in claimed for one in c.recipients])
            raise
    return report


def run_once_blocking(
    store: Store, relay: Relay, *, public_url: str, lease: timedelta = LEASE
) -> Report:
    return asyncio.run(run_once(store, relay, public_url=public_url, lease=lease))
