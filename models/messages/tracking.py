"""The "Suivi des messages" table: one row per recipient of a message, newest first, read in
pages over indexed queries (never every row), and what changed since the last look.

The badges' times live on the recipient row itself (sent_at, delivered_at, read_at,
replied_at): the table reads one row per line, the event log stays for the detail.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from messagerie.models.clock import utc_now
from messagerie.models.consultations.registers import folded
from messagerie.models.errors import Refusal
from messagerie.models.formatting import PARIS
from messagerie.models.store.accounts import (
    Account,
    access_columns,
    check_access,
    visible_consultations,
)
from messagerie.models.store.database import Store
from messagerie.models.store.enums import (
    DeliveryState,
    MessageType,
    RecipientStatus,
    ReplyDisposition,
    Right,
)
from messagerie.models.store.locking import lock_rows
from messagerie.models.store.rows import from_row
from messagerie.models.store.tables import (
    company,
    consultation,
    lot,
    message,
    message_lot,
    recipient,
    reply,
)
from messagerie.models.text import fold, words_condition

PAGE = 100
# Two writers' clocks and commit order may differ slightly: look back a little further.
CHANGE_OVERLAP = timedelta(seconds=5)


@dataclass(frozen=True)
class TrackingQuery:
    """The table's scope and its filters; every filter is optional and they combine."""

    consultation_id: int | None = None  # None: every consultation
    message_type: MessageType | None = None
    status: RecipientStatus | None = None
    company: str = ""  # part of the company's name or of the address
    lot_number: int | None = None  # within the consultation
    sent_from: date | None = None  # Paris days, inclusive
    sent_to: date | None = None
    text: str = ""  # words of the subject or the body
    # Whose table it is: only the consultations it sees (None: a store without accounts).
    account: Account | None = None

    def check_days(self) -> None:
        """ValueError (French) for days no row can match: the buyer is told so, rather than
        shown an empty table."""
        if self.sent_from and self.sent_to and self.sent_from > self.sent_to:
            raise ValueError(
                f"La date « Du » ({self.sent_from:%d/%m/%Y}) est postérieure à la date « Au » "
                f"({self.sent_to:%d/%m/%Y}) : aucun message ne peut correspondre."
            )

    def filtered(self) -> bool:
        scope = {"consultation_id", "account"}
        return any(
            getattr(self, f.name) not in (None, "") for f in fields(self) if f.name not in scope
        )

    def cleared(self) -> TrackingQuery:
        return TrackingQuery(self.consultation_id, account=self.account)


@dataclass(frozen=True)
class TrackingRow:
    recipient_id: int
    message_id: int
    reference: str
    type: MessageType
    subject: str
    email: str
    company: str | None
    status: RecipientStatus
    sent_at: datetime | None
    delivered_at: datetime | None
    not_delivered_at: datetime | None
    read_at: datetime | None
    replied_at: datetime | None
    reply_deadline: datetime | None
    updated_at: datetime

    def badges(self) -> tuple[tuple[str, datetime], ...]:
        """("E", time), ("D", time)… in time order, the platform's order at equal times;
        "Non délivré" in place of D. A recipient sent again after a failure keeps the
        failure's time, older than the new E and D."""
        marks = (
            ("E", self.sent_at),
            ("D", self.delivered_at),
            ("Non délivré", self.not_delivered_at),
            ("L", self.read_at),
            ("R", self.replied_at),
        )
        return tuple(sorted(((m, at) for m, at in marks if at is not None), key=lambda b: b[1]))


@dataclass(frozen=True)
class MessageSummary:
    recipients: int
    sent: int
    delivered: int
    read: int
    replied: int
    not_delivered: int

    def text(self) -> str:
        """ "80 E · 78 D · 41 L · 3 R · 2 Non délivré" for 80 recipients."""
        return (
            f"{self.sent} E · {self.delivered} D · {self.read} L · {self.replied} R · "
            f"{self.not_delivered} Non délivré"
        )


_COLUMNS = (
    recipient.c.id,
    recipient.c.message_id,
    consultation.c.reference,
    message.c.type,
    message.c.subject,
    recipient.c.email,
    company.c.name,
    recipient.c.status,
    recipient.c.sent_at,
    recipient.c.delivered_at,
    recipient.c.not_delivered_at,
    recipient.c.read_at,
    recipient.c.replied_at,
    message.c.reply_deadline,
    recipient.c.updated_at,
)


def _select(connection: sa.Connection, query: TrackingQuery) -> sa.Select:
    select = (
        sa.select(*_COLUMNS)
        .join(message, message.c.id == recipient.c.message_id)
        .join(consultation, consultation.c.id == message.c.consultation_id)
        .outerjoin(company, company.c.id == recipient.c.company_id)
        .where(recipient.c.delivery_state != DeliveryState.HELD)
    )
    return select.where(*_conditions(connection, query))


def _conditions(connection: sa.Connection, query: TrackingQuery) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = [visible_consultations(query.account)]
    if query.consultation_id is not None:
        conditions.append(message.c.consultation_id == query.consultation_id)
    if query.message_type is not None:
        conditions.append(message.c.type == query.message_type)
    if query.status is not None:
        conditions.append(recipient.c.status == query.status)
    if query.company.strip():
        searched = folded(
            connection, recipient.c.email + " " + sa.func.coalesce(company.c.name, "")
        )
        conditions.append(searched.contains(fold(query.company.strip()), autoescape=True))
    if query.lot_number is not None:
        conditions.append(
            sa.exists().where(
                message_lot.c.message_id == message.c.id,
                message_lot.c.lot_id == lot.c.id,
                lot.c.number == query.lot_number,
            )
        )
    # The day each copy left, as its E says (a message queued one evening may leave the next
    # morning, the relay down); a copy not sent yet, the day it was queued.
    sent = sa.func.coalesce(recipient.c.sent_at, message.c.queued_at)
    if query.sent_from is not None:
        conditions.append(sent >= _paris_midnight(query.sent_from))
    if query.sent_to is not None:
        conditions.append(sent < _paris_midnight(query.sent_to + timedelta(days=1)))
    if query.text.strip():
        conditions.append(words_condition(message.c.search_text, query.text))
    return conditions


def _paris_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=PARIS).astimezone(UTC)


def _row(values: sa.Row) -> TrackingRow:
    fields = list(values)
    fields[3], fields[7] = MessageType(fields[3]), RecipientStatus(fields[7])
    return TrackingRow(*fields)


def tracking_page(
    store: Store, query: TrackingQuery, *, before: int | None = None, limit: int = PAGE
) -> tuple[TrackingRow, ...]:
    """Up to `limit` rows, newest first, older than the recipient `before` (keyset paging)."""
    with store.engine.connect() as connection:
        select = _select(connection, query).order_by(recipient.c.id.desc()).limit(limit)
        if before is not None:
            select = select.where(recipient.c.id < before)
        return tuple(_row(r) for r in connection.execute(select))


def tracking_count(store: Store, query: TrackingQuery) -> int:
    """How many rows match: shown above the table."""
    with store.engine.connect() as connection:
        counted = _select(connection, query).with_only_columns(sa.func.count()).order_by(None)
        return connection.execute(counted).scalar_one()


def changed_since(
    store: Store, query: TrackingQuery, since: datetime, *, limit: int = PAGE
) -> tuple[TrackingRow, ...]:
    """Rows updated at `since` or later (with a small overlap), by the index on updated_at:
    what the table polls to follow the outbox, the listener and the web page live."""
    with store.engine.connect() as connection:
        select = (
            _select(connection, query)
            .where(recipient.c.updated_at >= since - CHANGE_OVERLAP)
            .order_by(recipient.c.updated_at.desc())
            .limit(limit)
        )
        return tuple(_row(r) for r in connection.execute(select))


class MessageNotFound(Refusal):
    """A message not (or no longer) in the store, or of a consultation the account does not
    see: both read the same."""

    @classmethod
    def numbered(cls, message_id: int) -> MessageNotFound:
        return cls(f"Le message n°{message_id} est introuvable.")


def message_consultation(message_id: int) -> sa.ScalarSelect[int]:
    """The id of the consultation of the message `message_id`, as a scalar subquery (the
    account's check then costs no query of its own)."""
    return sa.select(message.c.consultation_id).where(message.c.id == message_id).scalar_subquery()


def message_summary(store: Store, message_id: int, *, actor: str) -> MessageSummary:
    """How many recipients of one message are at E, D, L, R and Non délivré; MessageNotFound
    for a message of a consultation `actor` does not see, as for one that does not exist.
    One query: the account's check rides along (shown at each move in the tracking table)."""
    counted = sa.select(
        sa.func.count(),
        sa.func.count(recipient.c.sent_at),
        sa.func.count(recipient.c.delivered_at),
        sa.func.count(recipient.c.read_at),
        sa.func.count(recipient.c.replied_at),
        sa.func.count(recipient.c.not_delivered_at),
        *access_columns(actor, Right.CONSULT, message_consultation(message_id)),
    ).where(recipient.c.message_id == message_id, recipient.c.delivery_state != DeliveryState.HELD)
    with store.engine.connect() as connection:
        row = connection.execute(counted).one()
    check_access(row, actor, Right.CONSULT, MessageNotFound.numbered(message_id))
    return MessageSummary(*row[:6])


def recipient_token(store: Store, recipient_id: int, *, actor: str) -> str:
    """The personal token of one recipient (for the demo's "open the recipient's page"), for
    an `actor` who sees its consultation; else « introuvable », as a recipient that is not."""
    consultation_id = (
        sa.select(message.c.consultation_id)
        .join(recipient, recipient.c.message_id == message.c.id)
        .where(recipient.c.id == recipient_id)
        .scalar_subquery()
    )
    with store.engine.connect() as connection:
        row = connection.execute(
            sa.select(
                sa.select(recipient.c.token)
                .where(recipient.c.id == recipient_id)
                .scalar_subquery()
                .label("token"),
                *access_columns(actor, Right.CONSULT, consultation_id),
            )
        ).one()
    check_access(row, actor, Right.CONSULT, Refusal(f"Destinataire n° {recipient_id} introuvable."))
    return str(row.token)


@dataclass(frozen=True)
class ReplyLine:
    """A reply, shown under the row of the message it answers."""

    id: int
    recipient_id: int
    received_at: datetime
    disposition: ReplyDisposition
    body: str
    read: bool


def replies_of(store: Store, recipient_ids: list[int]) -> dict[int, tuple[ReplyLine, ...]]:
    """The replies of the shown recipients, oldest first, by recipient."""
    if not recipient_ids:
        return {}
    with store.engine.connect() as connection:
        rows = connection.execute(replies_select(recipient_ids)).all()
    found: dict[int, list[ReplyLine]] = {}
    for row in rows:
        disposition = ReplyDisposition(row.disposition)
        line = from_row(ReplyLine, row, disposition=disposition, read=row.read_at is not None)
        found.setdefault(row.recipient_id, []).append(line)
    return {key: tuple(lines) for key, lines in found.items()}


def replies_select(recipient_ids: list[int]) -> sa.Select:
    """The replies of these recipients, oldest first (the tracking table, the detail)."""
    return (
        sa.select(reply)
        .where(reply.c.recipient_id.in_(recipient_ids))
        .order_by(reply.c.received_at, reply.c.id)
    )


def mark_reply_read(store: Store, reply_id: int, *, at: datetime | None = None) -> None:
    """The buyer opened a reply: "Réponse non lue" becomes "Réponse lue" once every reply of
    that recipient has been read."""
    at = at or utc_now()
    with store.engine.begin() as connection:
        recipient_id = connection.execute(
            sa.select(reply.c.recipient_id).where(reply.c.id == reply_id)
        ).scalar_one()
        # Held first: a reply being recorded for it meanwhile is then seen, and stays unread.
        lock_rows(connection, recipient, recipient.c.id == recipient_id)
        connection.execute(
            sa.update(reply)
            .where(reply.c.id == reply_id)
            .values(read_at=sa.func.coalesce(reply.c.read_at, at))
        )
        unread = sa.exists().where(reply.c.recipient_id == recipient_id, reply.c.read_at.is_(None))
        # Touched even while other replies stay unread: the tracking tables follow each
        # reply line turning read, not only the status.
        all_read = sa.and_(recipient.c.status == RecipientStatus.REPLY_UNREAD, ~unread)
        connection.execute(
            sa.update(recipient)
            .where(recipient.c.id == recipient_id)
            .values(
                status=sa.case(
                    (all_read, sa.literal(RecipientStatus.REPLY_READ, recipient.c.status.type)),
                    else_=recipient.c.status,
                ),
                updated_at=at,
            )
        )
