"""What comes back: delivery reports (D, Non délivré) and replies (R), recorded per recipient.

A reply is always kept, even late or to a message that allows none: its disposition says so
and the buyer sees it under the message; R (event and status) is only for a reply allowed and
on time (ARCHITECTURE.md). A delivery report is kept too, but a failure changes a status only
before any sign of delivery (D, L, R), and one that does not name the e-mail it is about is
set aside (letters/mail/inbound.py decides which).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from messagerie.models.clock import utc_now
from messagerie.models.messages.recipient_secrets import envelope_id
from messagerie.models.store.database import Store
from messagerie.models.store.documents import NewDocument, StoredBytes, insert_documents
from messagerie.models.store.enums import (
    AntivirusVerdict,
    DeliveryState,
    DocumentOrigin,
    EventKind,
    RecipientStatus,
    ReplyChannel,
    ReplyDisposition,
)
from messagerie.models.store.tables import (
    event,
    message,
    recipient,
    reply,
    reply_attachment,
)


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


def record_delivery_report(
    store: Store, recipient_id: int, *, delivered: bool, detail: str, at: datetime | None = None
) -> EventKind:
    """D, or "Non délivré" with the report's reason; returns the event recorded.

    A later read or reply keeps its status after a D: only the event and the time are added.
    A failure after D, L or R changes nothing but is kept ("Rapport de non-remise ignoré")."""
    at = at or utc_now()
    with store.engine.begin() as connection:
        if delivered:
            kind = EventKind.DELIVERED
            _mark_delivered(connection, recipient_id, at)
        elif _mark_failed(connection, recipient_id, at):
            kind = EventKind.NOT_DELIVERED
        else:
            kind = EventKind.REPORT_IGNORED
        connection.execute(
            sa.insert(event).values(recipient_id=recipient_id, kind=kind, at=at, detail=detail)
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


def record_note(store: Store, recipient_id: int, detail: str, at: datetime | None = None) -> None:
    """A report that changes nothing (a delay notice): kept as an event for the tracking."""
    _record_event(store, recipient_id, EventKind.RETRY, detail, at)


def record_set_aside(
    store: Store, recipient_id: int, detail: str, at: datetime | None = None
) -> None:
    """A report that came to the recipient's bounce address without naming the e-mail sent
    to it (its Message-ID or ENVID): kept for the tracking, no status changed."""
    _record_event(store, recipient_id, EventKind.REPORT_SET_ASIDE, detail, at)


def _record_event(
    store: Store, recipient_id: int, kind: EventKind, detail: str, at: datetime | None
) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            sa.insert(event).values(
                recipient_id=recipient_id, kind=kind, at=at or utc_now(), detail=detail
            )
        )


def record_reply(
    store: Store,
    target: InboundRecipient,
    *,
    body: str,
    files: Sequence[tuple[str, StoredBytes, AntivirusVerdict]],
    channel: ReplyChannel,
    at: datetime | None = None,
) -> ReplyDisposition:
    """Keep the reply and its files (already scanned and in the blob store); R when allowed."""
    at = at or utc_now()
    if not target.reply_allowed:
        disposition = ReplyDisposition.NOT_ALLOWED
    elif target.reply_deadline is not None and at > target.reply_deadline:
        disposition = ReplyDisposition.LATE
    else:
        disposition = ReplyDisposition.ON_TIME
    with store.engine.begin() as connection:
        reply_id = connection.execute(
            sa.insert(reply)
            .values(
                recipient_id=target.id,
                received_at=at,
                channel=channel,
                disposition=disposition,
                body=body,
            )
            .returning(reply.c.id)
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
                for filename, stored, verdict in files
            ],
        )
        if documents:
            connection.execute(
                sa.insert(reply_attachment),
                [{"reply_id": reply_id, "document_id": d.id} for d in documents],
            )
        if disposition is ReplyDisposition.ON_TIME:
            connection.execute(
                sa.insert(event).values(
                    recipient_id=target.id, kind=EventKind.REPLIED, at=at, detail=channel.label
                )
            )
            connection.execute(
                sa.update(recipient)
                .where(recipient.c.id == target.id)
                .values(status=RecipientStatus.REPLY_UNREAD, replied_at=at, updated_at=at)
            )
    return disposition
