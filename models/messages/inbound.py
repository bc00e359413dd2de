"""What comes back: delivery reports (D, Non délivré) and replies (R), recorded per recipient.

A reply is always kept, even late or to a message that allows none: its disposition says so
and the buyer sees it under the message; R (event and status) is only for a reply allowed and
on time (ARCHITECTURE.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from messagerie.models.clock import utc_now
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


def find_recipient(
    store: Store, *, token: str | None = None, message_id_header: str | None = None
) -> InboundRecipient | None:
    """The recipient a token (reply+TOKEN@, bounce+TOKEN@) or an In-Reply-To header names."""
    if token:
        condition = recipient.c.token == token
    elif message_id_header:
        condition = recipient.c.message_id_header == message_id_header.strip()
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
            )
            .join(message, message.c.id == recipient.c.message_id)
            .where(condition, recipient.c.delivery_state != DeliveryState.HELD)
        ).first()
    return InboundRecipient(*row) if row else None


def record_delivery_report(
    store: Store, recipient_id: int, *, delivered: bool, detail: str, at: datetime | None = None
) -> None:
    """D, or "Non délivré" with the report's reason. A later read or reply keeps its status:
    only the event and the time are added then."""
    at = at or utc_now()
    kind = EventKind.DELIVERED if delivered else EventKind.NOT_DELIVERED
    status = RecipientStatus.DELIVERED if delivered else RecipientStatus.NOT_DELIVERED
    time_column = "delivered_at" if delivered else "not_delivered_at"
    with store.engine.begin() as connection:
        connection.execute(
            sa.insert(event).values(recipient_id=recipient_id, kind=kind, at=at, detail=detail)
        )
        connection.execute(
            sa.update(recipient)
            .where(recipient.c.id == recipient_id)
            .values({time_column: at, "updated_at": at})
        )
        connection.execute(
            sa.update(recipient)
            .where(
                recipient.c.id == recipient_id,
                recipient.c.status.in_(
                    [RecipientStatus.PENDING, RecipientStatus.SENT, RecipientStatus.DELIVERED]
                ),
            )
            .values(status=status)
        )


def record_note(store: Store, recipient_id: int, detail: str, at: datetime | None = None) -> None:
    """A report that changes nothing (a delay notice): kept as an event for the tracking."""
    with store.engine.begin() as connection:
        connection.execute(
            sa.insert(event).values(
                recipient_id=recipient_id,
                kind=EventKind.RETRY,
                at=at or utc_now(),
                detail=detail,
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
