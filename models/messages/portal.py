"""The recipients' web page, on the store's side: what a personal link shows, the opening that
is the acknowledgement of receipt (L), and the attachments a recipient may download.

A link is only good for its own recipient of a message sent "avec AR": a simple e-mail
carries no link, and a held (draft) recipient has received nothing.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from messagerie.models.clock import utc_now
from messagerie.models.messages.ar import ArFile, files_of, lots_of
from messagerie.models.messages.inbound import InboundRecipient
from messagerie.models.messages.outbox import OutgoingMessage, load_outgoing
from messagerie.models.store.database import Store
from messagerie.models.store.enums import (
    DeliveryState,
    EventKind,
    RecipientStatus,
    ReplyDisposition,
    SendMode,
)
from messagerie.models.store.tables import (
    company,
    event,
    message,
    recipient,
    reply,
    store_meta,
)

TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{22,64}")  # token_urlsafe of 16 to 48 bytes
SECRET_KEY = "portal_secret"
# A first opening moves these statuses to "Lu"; a reply already received keeps its own.
READABLE = (
    RecipientStatus.PENDING,
    RecipientStatus.SENT,
    RecipientStatus.DELIVERED,
    RecipientStatus.NOT_DELIVERED,
)


@dataclass(frozen=True)
class PortalReply:
    received_at: datetime
    body: str
    disposition: ReplyDisposition


@dataclass(frozen=True)
class PortalView:
    recipient_id: int
    email: str
    company: str | None
    message: OutgoingMessage
    lots: tuple[str, ...]
    files: tuple[ArFile, ...]
    read_at: datetime | None
    replies: tuple[PortalReply, ...]

    def accepts_reply(self, now: datetime) -> bool:
        deadline = self.message.reply_deadline
        return self.message.reply_allowed and (deadline is None or now <= deadline)

    def inbound(self) -> InboundRecipient:
        """The recipient as `models.inbound.record_reply` keeps a reply for it."""
        return InboundRecipient(
            self.recipient_id,
            self.email,
            self.message.consultation.id,
            self.message.reply_allowed,
            self.message.reply_deadline,
        )


def _recipient_row(connection: sa.Connection, token: str) -> sa.Row | None:
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    return connection.execute(
        sa.select(
            recipient.c.id,
            recipient.c.email,
            recipient.c.message_id,
            recipient.c.read_at,
            company.c.name.label("company"),
        )
        .join(message, message.c.id == recipient.c.message_id)
        .outerjoin(company, company.c.id == recipient.c.company_id)
        .where(
            recipient.c.token == token,
            recipient.c.delivery_state != DeliveryState.HELD,
            message.c.send_mode == SendMode.WITH_AR,
        )
    ).first()


def find_view(store: Store, token: str) -> PortalView | None:
    """What the link shows; None for a token that names nothing reachable."""
    with store.engine.connect() as connection:
        row = _recipient_row(connection, token)
        if row is None:
            return None
        lots = lots_of(connection, row.message_id)
        files = files_of(connection, row.message_id, row.id)
        replies = connection.execute(
            sa.select(reply.c.received_at, reply.c.body, reply.c.disposition)
            .where(reply.c.recipient_id == row.id)
            .order_by(reply.c.received_at)
        ).all()
    return PortalView(
        recipient_id=row.id,
        email=row.email,
        company=row.company,
        message=load_outgoing(store, row.message_id),
        lots=lots,
        files=files,
        read_at=row.read_at,
        replies=tuple(PortalReply(at, body, ReplyDisposition(kind)) for at, body, kind in replies),
    )


def find_file(store: Store, token: str, attachment_id: int) -> ArFile | None:
    """One attachment, only when it belongs to this link's message (and recipient)."""
    with store.engine.connect() as connection:
        row = _recipient_row(connection, token)
        if row is None:
            return None
        files = files_of(connection, row.message_id, row.id)
    return next((f for f in files if f.id == attachment_id), None)


def record_opening(
    store: Store,
    recipient_id: int,
    *,
    client_address: str | None,
    user_agent: str | None,
    at: datetime | None = None,
) -> bool:
    """L on the first opening, with the client's address and user agent as evidence; later
    openings are kept as events and change no date. True when this was the first."""
    at = at or utc_now()
    with store.engine.begin() as connection:
        first = connection.execute(  # one conditional UPDATE: two openings at once give one L
            sa.update(recipient)
            .where(recipient.c.id == recipient_id, recipient.c.read_at.is_(None))
            .values(
                read_at=at,
                updated_at=at,
                status=sa.case(
                    (recipient.c.status.in_(READABLE), RecipientStatus.READ),
                    else_=recipient.c.status,
                ),
            )
        ).rowcount
        connection.execute(
            sa.insert(event).values(
                recipient_id=recipient_id,
                kind=EventKind.READ if first else EventKind.OPENED_AGAIN,
                at=at,
                detail="Ouverture par le lien personnel",
                client_address=(client_address or "")[:64] or None,
                user_agent=(user_agent or "")[:500] or None,
            )
        )
    return bool(first)


def portal_secret(store: Store) -> bytes:
    """The key behind the reply form's anti-forgery field, shared by every server of a store
    (the first one to start draws it; one starting at the same moment reads the winner's)."""
    read = sa.select(store_meta.c.value).where(store_meta.c.key == SECRET_KEY)
    with store.engine.connect() as connection:
        found = connection.execute(read).scalar_one_or_none()
    if found is None:
        try:
            with store.engine.begin() as connection:
                connection.execute(
                    sa.insert(store_meta).values(key=SECRET_KEY, value=secrets.token_hex(32))
                )
        except sa.exc.IntegrityError:
            pass  # another server drew it first
        with store.engine.connect() as connection:
            found = connection.execute(read).scalar_one()
    return bytes.fromhex(found)
