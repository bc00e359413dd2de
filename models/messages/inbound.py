"""What comes back: delivery reports (D, Non délivré) and replies (R), recorded per recipient.

A reply is always kept, even late, to a message that allows none, automatic (an
out-of-office) or empty: its disposition says so and the buyer sees it under the message; R
(event and status) is only for a reply allowed and on time (ARCHITECTURE.md). What one e-mail
brings is recorded in one transaction (record_inbound): all of it, or nothing. A delivery
report is kept too, but a failure changes a status only before any sign of delivery (D, L,
R), and one that does not name the e-mail it is about is set aside (letters/mail/inbound.py
decides which).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from messagerie.models.clock import utc_now
from messagerie.models.messages.recipient_secrets import envelope_id
from messagerie.models.store.chain import append_events
from messagerie.models.store.database import Store
from messagerie.models.store.documents import NewDocument, StoredBytes, insert_documents
from messagerie.models.store.enums import (
    AntivirusVerdict,
    DeliveryState,
    DkimResult,
    DocumentOrigin,
    EventKind,
    RecipientStatus,
    ReplyChannel,
    ReplyDisposition,
)
from messagerie.models.store.locking import lock_rows
from messagerie.models.store.seal import reply_seals, sealed_reply_detail
from messagerie.models.store.tables import (
    message,
    recipient,
    reply,
    reply_attachment,
)

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList


@dataclass(frozen=True)
class InboundRecipient:
    id: int
    email: str
    consultation_id: int
    reply_allowed: bool
    reply_deadline: datetime | None
    message_id_header: str = ""  # known when found by an address (a report is checked on it)

    @property
    def envelope_id(self) -> str:
        return envelope_id(self.message_id_header) if self.message_id_header else ""


def _address_token(column: sa.Column[str | None], token: str) -> sa.ColumnElement[bool]:
    """The row whose address token is `token`; a row written before migration 0005 has
    none, and its addresses carry the page's token instead."""
    return sa.or_(column == token, sa.and_(column.is_(None), recipient.c.token == token))


def find_recipient(
    store: Store,
    *,
    reply_token: str | None = None,
    bounce_token: str | None = None,
    message_id_header: str | None = None,
    token: str | None = None,
) -> InboundRecipient | None:
    """The recipient a reply address (reply+TOKEN@), a bounce address (bounce+TOKEN@) or an
    In-Reply-To header names; `token`, the page's, is for callers that hold the row already
    (the listener never looks a page token up)."""
    if reply_token:
        condition = _address_token(recipient.c.reply_token, reply_token)
    elif bounce_token:
        condition = _address_token(recipient.c.bounce_token, bounce_token)
    elif message_id_header:
        condition = recipient.c.message_id_header == message_id_header.strip()
    elif token:
        condition = recipient.c.token == token
    else:
        return None
    with store.engine.connect() as connection:
        row = connection.execute(
            sa.select(
                recipient.c.id,
                recipient.c.email,
                message.c.consultation_id,
                message.c.reply_allowed,
                message.c.reply_deadline,
                recipient.c.message_id_header,
            )
            .join(message, message.c.id == recipient.c.message_id)
            .where(condition, recipient.c.delivery_state != DeliveryState.HELD)
        ).first()
    return InboundRecipient(*row) if row else None


# A failure report is news only before any sign of delivery: after D (the report of the final
# mailbox), L or R it contradicts what happened, whoever sent it.
FAILURE_APPLIES = (RecipientStatus.PENDING, RecipientStatus.SENT, RecipientStatus.NOT_DELIVERED)


class ReportKind(Enum):
    """What a delivery report that came to a bounce address does."""

    DELIVERED = "delivered"  # D
    FAILED = "failed"  # Non délivré, unless contradicted (Rapport de non-remise ignoré)
    DELAYED = "delayed"  # a delay notice, kept for the tracking
    SET_ASIDE = "set_aside"  # names neither the Message-ID nor the ENVID sent: no effect


@dataclass(frozen=True)
class IncomingReport:
    recipient_id: int
    kind: ReportKind
    detail: str


def same_organisation(domain: str | None, sender: str | None) -> bool:
    """The signing domain and the sender's address belong to one organisation: the same
    domain under its public suffix (DMARC's relaxed alignment, RFC 7489: mail.x.fr and x.fr
    either way round; not x.fr and y.fr, nor x.fr and fr, nor two sites under gouv.fr)."""
    if domain is None or sender is None:
        return False
    try:  # d= is ASCII: an internationalised From domain is compared in its punycode
        own = sender.rpartition("@")[2].strip().rstrip(".").lower().encode("idna").decode()
    except UnicodeError:
        return False
    organisation = _public_suffixes().privatesuffix(domain.lower())
    return organisation is not None and organisation == _public_suffixes().privatesuffix(own)


@functools.cache
def _public_suffixes() -> PublicSuffixList:
    """The Public Suffix List the package ships (read once, 40 ms: not at start-up)."""
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


@dataclass(frozen=True)
class DkimCheck:
    """What an e-mailed reply's DKIM signatures say (letters/mail/dkim.py checks them)."""

    result: DkimResult
    domain: str | None  # d= of the signature that passed, else of the first one tried

    def vouches_for(self, sender: str | None) -> bool:
        """A valid signature of the sender's organisation: one by another says nothing of
        who wrote the From."""
        return self.result is DkimResult.PASS and same_organisation(self.domain, sender)

    def said(self, sender: str | None) -> str:
        """In French, for the R event's detail and the reply's screen."""
        if self.result is DkimResult.PASS:
            said = f"signature DKIM valide du domaine {self.domain}"
            if same_organisation(self.domain, sender):
                return said
            return f"{said}, qui n'est pas celui de l'expéditeur"
        if self.result is DkimResult.FAIL:
            return f"signature DKIM invalide ({self.domain or 'domaine illisible'})"
        if self.result is DkimResult.PARTIAL:
            return (
                f"signature DKIM du domaine {self.domain}, qui ne couvre que le début du texte "
                "(l=) : la suite a pu être ajoutée en chemin"
            )
        if self.result is DkimResult.TEMPERROR:
            return f"signature DKIM invérifiable ({self.domain or '?'} : DNS sans réponse)"
        return "non signée (DKIM)"


@dataclass(frozen=True)
class IncomingReply:
    """A reply and its files (already scanned and in the blob store)."""

    target: InboundRecipient
    body: str
    files: Sequence[tuple[str, StoredBytes, AntivirusVerdict]]
    automatic: bool = False  # an out-of-office or other automatic reply: never R
    # Kept once: the page's form (letters/portal), or an e-mail a relay that lost our 250
    # delivers again (letters/mail/inbound.delivery_key).
    submission_key: str | None = None
    sender: str | None = None  # the address an e-mailed reply says it is from
    dkim: DkimCheck | None = None  # an e-mailed reply's signature, checked at its arrival

    @property
    def from_elsewhere(self) -> str | None:
        """The sender, when it is not the recipient's own address."""
        return other_sender(self.sender, self.target.email)


def other_sender(sender: str | None, email: str) -> str | None:
    """`sender` when a reply came from another address than the recipient's (case aside)."""
    return sender if sender and sender.casefold() != email.casefold() else None


def record_inbound(
    store: Store,
    items: Sequence[IncomingReport | IncomingReply],
    *,
    channel: ReplyChannel = ReplyChannel.EMAIL,
    at: datetime | None = None,
) -> list[EventKind | ReplyDisposition]:
    """Record what one e-mail brought (a report or a reply per address it came to) in one
    transaction: all of it or, on any error, nothing. Returns, per item, the event recorded
    (reports) or the reply's disposition."""
    at = at or utc_now()
    with store.engine.begin() as connection:
        return [
            _insert_reply(connection, item, channel, at)
            if isinstance(item, IncomingReply)
            else _insert_report(connection, item, at)
            for item in items
        ]


def record_delivery_report(
    store: Store, recipient_id: int, *, delivered: bool, detail: str, at: datetime | None = None
) -> EventKind:
    """D, or "Non délivré" with the report's reason; returns the event recorded.

    A later read or reply keeps its status after a D: only the event and the time are added.
    A failure after D, L or R changes nothing but is kept ("Rapport de non-remise ignoré")."""
    kind = ReportKind.DELIVERED if delivered else ReportKind.FAILED
    (recorded,) = record_inbound(store, [IncomingReport(recipient_id, kind, detail)], at=at)
    assert isinstance(recorded, EventKind)
    return recorded


def record_note(store: Store, recipient_id: int, detail: str, at: datetime | None = None) -> None:
    """A report that changes nothing (a delay notice): kept as an event for the tracking."""
    record_inbound(store, [IncomingReport(recipient_id, ReportKind.DELAYED, detail)], at=at)


def record_set_aside(
    store: Store, recipient_id: int, detail: str, at: datetime | None = None
) -> None:
    """A report that came to the recipient's bounce address without naming the e-mail sent
    to it (its Message-ID or ENVID): kept for the tracking, no status changed."""
    record_inbound(store, [IncomingReport(recipient_id, ReportKind.SET_ASIDE, detail)], at=at)


def _insert_report(connection: Connection, report: IncomingReport, at: datetime) -> EventKind:
    if report.kind is ReportKind.DELIVERED:
        kind = EventKind.DELIVERED
        _mark_delivered(connection, report.recipient_id, at)
    elif report.kind is ReportKind.FAILED:
        failed = _mark_failed(connection, report.recipient_id, at)
        kind = EventKind.NOT_DELIVERED if failed else EventKind.REPORT_IGNORED
    elif report.kind is ReportKind.DELAYED:
        kind = EventKind.RETRY
    else:
        kind = EventKind.REPORT_SET_ASIDE
    append_events(
        connection,
        [{"recipient_id": report.recipient_id, "kind": kind, "at": at, "detail": report.detail}],
    )
    return kind


def _mark_delivered(connection: Connection, recipient_id: int, at: datetime) -> None:
    connection.execute(
        sa.update(recipient)
        .where(recipient.c.id == recipient_id)
        .values(delivered_at=at, updated_at=at)
    )
    connection.execute(
        sa.update(recipient)
        .where(
            recipient.c.id == recipient_id,
            recipient.c.status.in_(
                [RecipientStatus.PENDING, RecipientStatus.SENT, RecipientStatus.DELIVERED]
            ),
        )
        .values(status=RecipientStatus.DELIVERED)
    )


def _mark_failed(connection: Connection, recipient_id: int, at: datetime) -> bool:
    """Non délivré, unless the recipient was delivered, has read or replied (one statement,
    so that an opening committed meanwhile is seen). False when the report is contradicted."""
    return bool(
        connection.execute(
            sa.update(recipient)
            .where(
                recipient.c.id == recipient_id,
                recipient.c.status.in_(FAILURE_APPLIES),
                recipient.c.delivered_at.is_(None),
                recipient.c.read_at.is_(None),
                recipient.c.replied_at.is_(None),
            )
            .values(status=RecipientStatus.NOT_DELIVERED, not_delivered_at=at, updated_at=at)
        ).rowcount
    )


def record_reply(
    store: Store,
    target: InboundRecipient,
    *,
    body: str,
    files: Sequence[tuple[str, StoredBytes, AntivirusVerdict]],
    channel: ReplyChannel,
    at: datetime | None = None,
    automatic: bool = False,
    submission_key: str | None = None,
) -> ReplyDisposition:
    """Keep the reply and its files (already scanned and in the blob store); R when allowed.
    `submission_key` (the page's) is unique: the same form sent twice is an IntegrityError."""
    (disposition,) = record_inbound(
        store,
        [IncomingReply(target, body, files, automatic, submission_key)],
        channel=channel,
        at=at,
    )
    assert isinstance(disposition, ReplyDisposition)
    return disposition


def reply_disposition(
    target: InboundRecipient, at: datetime, *, automatic: bool = False, empty: bool = False
) -> ReplyDisposition:
    """How a reply received at `at` is kept; only ON_TIME gives R."""
    if automatic:
        return ReplyDisposition.AUTOMATIC
    if empty:
        return ReplyDisposition.EMPTY
    if not target.reply_allowed:
        return ReplyDisposition.NOT_ALLOWED
    if target.reply_deadline is not None and at > target.reply_deadline:
        return ReplyDisposition.LATE
    return ReplyDisposition.ON_TIME


def _insert_reply(
    connection: Connection, item: IncomingReply, channel: ReplyChannel, at: datetime
) -> ReplyDisposition:
    target = item.target
    body = item.body.replace("\x00", "")  # PostgreSQL refuses NUL in text
    disposition = reply_disposition(
        target, at, automatic=item.automatic, empty=not body.strip() and not item.files
    )
    values = {"recipient_id": target.id, "received_at": at, "channel": channel,
              "disposition": disposition, "body": body}  # fmt: skip
    if item.submission_key is not None:
        values["submission_key"] = item.submission_key
    if item.sender is not None:
        values["sender"] = item.sender
    if item.dkim is not None:
        values["dkim"], values["dkim_domain"] = item.dkim.result, item.dkim.domain
    # The copy held before its reply is written: the reply's reference to it shares the
    # row, and two replies at once, each sharing and then holding it (its events), deadlocked.
    lock_rows(connection, recipient, recipient.c.id == target.id)
    if item.submission_key is not None and (
        kept := connection.execute(
            sa.select(reply.c.disposition).where(
                reply.c.submission_key == item.submission_key, reply.c.recipient_id == target.id
            )
        ).scalar_one_or_none()
    ):  # the same form, or the same e-mail a relay delivered again: kept once
        return ReplyDisposition(kept)
    reply_id = connection.execute(
        sa.insert(reply).values(values).returning(reply.c.id)
    ).scalar_one()
    documents = insert_documents(
        connection,
        [
            NewDocument(
                stored=stored,
                filename=filename,
                origin=DocumentOrigin.REPLY,
                consultation_id=target.consultation_id,
                actor=target.email,
                antivirus=verdict,
            )
            for filename, stored, verdict in item.files
        ],
    )
    if documents:
        connection.execute(
            sa.insert(reply_attachment),
            [{"reply_id": reply_id, "document_id": d.id} for d in documents],
        )
    how = reply_origin(channel, item.from_elsewhere, item.dkim, item.sender)
    seal = reply_seals(connection, [reply_id])[reply_id]  # what came, in its history
    if disposition is ReplyDisposition.ON_TIME:
        _mark_replied(connection, target.id, sealed_reply_detail(how, reply_id, seal), at)
    else:  # no R, but sealed all the same: a late reply edited unseen is a harm too
        detail = sealed_reply_detail(f"{disposition.label} — {how}", reply_id, seal)
        kept = {"recipient_id": target.id, "kind": EventKind.REPLY_KEPT, "at": at, "detail": detail}
        append_events(connection, [kept])
        # The row's status stays; its reply lines change: the tracking tables follow it.
        connection.execute(
            sa.update(recipient).where(recipient.c.id == target.id).values(updated_at=at)
        )
    return disposition


def reply_origin(
    channel: ReplyChannel, elsewhere: str | None, dkim: DkimCheck | None, sender: str | None
) -> str:
    """How a reply came, for its R: the channel, the other address it was sent from, and
    what its DKIM signature said (of the `sender`'s domain) when it has one."""
    said = [channel.label]
    if elsewhere:
        said.append(f"envoyée depuis {elsewhere}")
    if dkim is not None and dkim.result is not DkimResult.NONE:
        said.append(dkim.said(sender))
    return ", ".join(said)


def _mark_replied(connection: Connection, recipient_id: int, how: str, at: datetime) -> None:
    append_events(
        connection,
        [{"recipient_id": recipient_id, "kind": EventKind.REPLIED, "at": at, "detail": how}],
    )
    connection.execute(
        sa.update(recipient)
        .where(recipient.c.id == recipient_id)
        .values(
            status=RecipientStatus.REPLY_UNREAD,
            replied_at=sa.func.coalesce(recipient.c.replied_at, at),  # R: the first reply, as L
            updated_at=at,
        )
    )
