"""The outbox: claim queued recipients, render each one's e-mail, hand it to the relay, record.

Every recipient gets its own e-mail: its Message-ID (stable, stored when the message was
queued), a Reply-To `reply+REPLY_TOKEN@domain` and an envelope sender
`bounce+BOUNCE_TOKEN@domain`, so that replies and bounces come back to the right recipient.
The page's token is in none of them (models/messages/recipient_secrets.py); the ENVID, when
the relay offers DSN, is the Message-ID's random part. With a DKIM key, each e-mail is signed
for its sender's domain once its bytes are final (letters/mail/dkim.py).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from messagerie.letters.mail.content import content_of, recipient_of
from messagerie.letters.mail.dkim import DkimKey
from messagerie.letters.mail.mime import MailContent, render_bytes
from messagerie.letters.mail.transport import Envelope, Outcome, Relay, connect, send_batch
from messagerie.models.clock import utc_now
from messagerie.models.errors import Refusal
from messagerie.models.messages.outbox import (
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
from messagerie.models.messages.recipient_secrets import envelope_id
from messagerie.models.rules.validation import address_domain, relay_address
from messagerie.models.store.database import Store

STOP_POLL = 0.1  # seconds between two looks at a blocking pass's stop event


@dataclass(frozen=True)
class Report:
    """What one pass of the outbox did."""

    sent: int = 0
    retried: int = 0
    refused: int = 0

    def __str__(self) -> str:
        return f"{self.sent} envoyé(s), {self.retried} à réessayer, {self.refused} non délivré(s)."


def envelope(
    content: MailContent,
    outgoing: OutgoingMessage,
    one: OutgoingRecipient,
    public_url: str,
    dkim: DkimKey | None = None,
) -> Envelope:
    address = relay_address(one.email)  # None: only a relay offering SMTPUTF8 carries it
    recipient = recipient_of(
        outgoing,
        address or one.email,
        one.contact_name,
        public_url=public_url,
        token=one.token,
        reply_token=one.reply_token,
        message_id_header=one.message_id_header,
    )
    domain = address_domain(content.sender_email)
    mail = render_bytes(content, recipient)
    if dkim is not None:
        mail = dkim.sign(mail, domain)
    sender = f"bounce+{one.bounce_token}@{domain}"
    return Envelope(
        one.id,
        sender,
        address or one.email,
        mail,
        envelope_id(one.message_id_header),
        smtputf8=address is None,
    )


class Pass:
    """One pass of the outbox: claims batch after batch, renders each e-mail just before its
    hand-off, and records each answer as soon as the relay gives it.

    Every claim's lease is renewed every third of its length; a recipient whose lease was
    lost meanwhile (another worker took it over) is skipped, never handed over twice."""

    def __init__(
        self,
        store: Store,
        relay: Relay,
        public_url: str,
        lease: timedelta,
        dkim: DkimKey | None = None,
    ) -> None:
        self.store, self.relay, self.public_url, self.lease = store, relay, public_url, lease
        self.dkim = dkim
        self.tally = {"sent": 0, "retried": 0, "refused": 0}
        self.attempts: dict[int, int] = {}
        self.held: dict[int, datetime] = {}  # claimed and not answered yet → its lease
        self.seals: dict[int, str] = {}  # claimed → what its copy carries, for its E
        self.renewed = utc_now()
        self.marks: list[datetime] = []  # lease_until of each claim: the claim's mark

    def claim(self, batch: int) -> tuple[Claimed, ...]:
        """The next batch; its mark is kept before the claim commits, so that a stop before
        the claim answers still finds what it took (run_once releases by mark too)."""
        now = utc_now()
        self.marks.append(now + self.lease)
        return claim(self.store, limit=batch, now=now, lease=self.lease)

    def envelopes(self, batch: int) -> Iterator[Envelope]:
        while claimed := self.claim(batch):
            for part in claimed:
                for one in part.recipients:
                    self.attempts[one.id] = one.attempts
                    self.held[one.id] = part.lease_until
                    self.seals[one.id] = one.seal
            for part in claimed:
                try:
                    content = content_of(part.message, self.store.blobs.read)
                except (Refusal, OSError) as problem:  # an attachment missing from the store
                    for one in part.recipients:
                        self.record(Outcome(one.id, False, False, f"Message illisible : {problem}"))
                    continue
                for one in part.recipients:
                    if not self.still_ours(one.id):
                        continue
                    try:
                        mail = envelope(content, part.message, one, self.public_url, self.dkim)
                    except ValueError as problem:  # this recipient's alone: the others go on
                        why = f"Courriel impossible : {problem}"
                        self.record(Outcome(one.id, False, True, why))
                        continue
                    yield mail

    def still_ours(self, recipient_id: int) -> bool:
        self.renew_when_due()
        return recipient_id in self.held

    def renew_when_due(self) -> None:
        """Every lease/3, extend the lease of every copy held; those another worker took
        meanwhile go."""
        now = utc_now()
        if now - self.renewed <= self.lease / 3:
            return
        self.renewed = now
        by_lease: dict[datetime, list[int]] = {}
        for held_id, lease_until in self.held.items():
            by_lease.setdefault(lease_until, []).append(held_id)
        self.held = {
            kept: now + self.lease
            for lease_until, ids in by_lease.items()
            for kept in renew(self.store, ids, lease_until, now + self.lease)
        }

    async def keep_leases(self) -> None:
        """Renew the leases while the relay takes its time: every connection may be waiting
        for an answer (up to Relay.reply_timeout, longer than a lease), and no envelope is
        pulled meanwhile to renew them; a lease run out, another worker sent the copy again."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            self.renew_when_due()

    def record(self, outcome: Outcome) -> None:
        seal = self.seals.pop(outcome.key, None)
        held_until = self.held.pop(outcome.key, None)
        if held_until is None:  # its lease was lost: the worker that took it answers for it
            return
        if outcome.accepted:
            record_accepted(
                self.store,
                outcome.key,
                answer=outcome.answer,
                final_mailbox=self.relay.final_mailbox,
                seal=seal,
                held_until=held_until,
            )
            self.tally["sent"] += 1
        elif record_failure(
            self.store,
            outcome.key,
            answer=outcome.answer,
            permanent=outcome.permanent,
            attempts=self.attempts[outcome.key],
            held_until=held_until,
        ):
            self.tally["retried"] += 1
        else:
            self.tally["refused"] += 1


async def run_once(
    store: Store,
    relay: Relay,
    *,
    public_url: str,
    batch: int = 100,
    lease: timedelta = LEASE,
    dkim: DkimKey | None = None,
) -> Report:
    """Send everything that is due now. The relay is tried first: when it cannot be used,
    RelayProblem says why and every message stays queued. The connections stay open from one
    claimed batch to the next."""
    client = await connect(relay)
    await client.quit()
    sending = Pass(store, relay, public_url, lease, dkim)
    renewing = asyncio.create_task(sending.keep_leases())
    try:
        await send_batch(relay, sending.envelopes(batch), sending.record)
    except BaseException:
        release(store, sending.held, marks=sending.marks)
        raise
    finally:
        renewing.cancel()
    return Report(**sending.tally)


def run_once_blocking(
    store: Store,
    relay: Relay,
    *,
    public_url: str,
    lease: timedelta = LEASE,
    dkim: DkimKey | None = None,
    stop: threading.Event | None = None,
) -> Report:
    """`run_once` in its own event loop, from a thread. Setting `stop` (from another thread:
    the app is quitting) cancels it: what it claimed is given back at once, and
    asyncio.CancelledError says it stopped."""
    work = run_once(store, relay, public_url=public_url, lease=lease, dkim=dkim)
    return asyncio.run(_until(stop, work) if stop else work)


async def _until(stop: threading.Event, work: Coroutine[object, object, Report]) -> Report:
    task = asyncio.ensure_future(work)
    while not task.done():
        if stop.is_set():
            task.cancel()
            break
        await asyncio.wait({task}, timeout=STOP_POLL)
    return await task
