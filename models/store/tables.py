"""SQLModel tables of the whole domain (see ARCHITECTURE.md, "The store").

Every time is timezone-aware UTC (sqlmodel's UTCDateTime). Enumerations are stored as their
short English values in VARCHAR columns, never as native database enums, so that adding a
member needs no type migration.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from messagerie.models.clock import utc_now
from messagerie.models.store.enums import (
    AntivirusVerdict,
    ConsultationStatus,
    DeliveryState,
    DocumentOrigin,
    EventKind,
    MessageState,
    MessageType,
    Procedure,
    RecipientStatus,
    RegisterKind,
    ReplyChannel,
    ReplyDisposition,
    Right,
    SendMode,
)

# Stable constraint names, so that migrations (and SQLite batch operations) can address them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def enum_type(enum: type[Enum]) -> sa.Enum:
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
    )


def text_column(nullable: bool = False) -> sa.Column:
    return sa.Column(sa.Text, nullable=nullable)


class Organisation(SQLModel, table=True):
    """Organisme: the public body."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)


class PurchasingEntity(SQLModel, table=True):
    """Entité d'achat: the purchasing service that sends the messages."""

    __tablename__ = "purchasing_entity"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    name: str = Field(max_length=200)
    sender_email: str = Field(max_length=254)
    postal_address: str = Field(max_length=400)


class Consultation(SQLModel, table=True):
    __table_args__ = (
        sa.Index("ix_consultation_deadline_order", "bid_deadline", "id"),
        sa.Index("ix_consultation_status_deadline", "status", "bid_deadline"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=60, unique=True)
    title: str = Field(max_length=300)
    object: str = Field(sa_column=text_column())
    procedure: Procedure = Field(sa_type=enum_type(Procedure))
    status: ConsultationStatus = Field(sa_type=enum_type(ConsultationStatus))
    bid_deadline: datetime
    urgent: bool = False
    entity_id: int = Field(foreign_key="purchasing_entity.id", index=True)
    # A "suite" (restricted phase, complex negotiation) points to its parent consultation.
    parent_id: int | None = Field(default=None, foreign_key="consultation.id", index=True)
    access_code: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utc_now)
    # Reference, title, object and entity folded to lower case without accents, for search.
    search_text: str = Field(sa_column=text_column())


class Lot(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("consultation_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    number: int
    title: str = Field(max_length=300)


class Company(SQLModel, table=True):
    """Entreprise, identified by its SIRET (14 digits, Luhn checksum)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    siret: str = Field(max_length=14, unique=True)
    address: str = Field(max_length=300)
    postal_code: str = Field(max_length=10)
    city: str = Field(max_length=100)


class RegisterEntry(SQLModel, table=True):
    """One line of a register: retrait, question or dépôt."""

    __tablename__ = "register_entry"
    __table_args__ = (
        sa.Index("ix_register_entry_consultation_kind_at", "consultation_id", "kind", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id")
    kind: RegisterKind = Field(sa_type=enum_type(RegisterKind))
    company_id: int = Field(foreign_key="company.id", index=True)
    contact_name: str = Field(max_length=200)
    contact_email: str = Field(max_length=254)
    at: datetime
    # Questions only: their number in the register and their text.
    number: int | None = None
    question_text: str | None = Field(default=None, sa_column=text_column(nullable=True))


class RegisterEntryLot(SQLModel, table=True):
    __tablename__ = "register_entry_lot"

    register_entry_id: int = Field(foreign_key="register_entry.id", primary_key=True)
    lot_id: int = Field(foreign_key="lot.id", primary_key=True, index=True)


class SuiteCandidate(SQLModel, table=True):
    """A candidate admitted to a suite (restricted phase), chosen from the parent's dépôts."""

    __tablename__ = "suite_candidate"
    __table_args__ = (sa.UniqueConstraint("consultation_id", "contact_email"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    contact_name: str = Field(max_length=200)
    contact_email: str = Field(max_length=254)
    source_entry_id: int | None = Field(default=None, foreign_key="register_entry.id")


class QaItem(SQLModel, table=True):
    """One question and its answer in the consultation's "Questions / réponses" document."""

    __tablename__ = "qa_item"
    __table_args__ = (sa.UniqueConstraint("consultation_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    number: int
    # The register's question it answers; the text below is the buyer's anonymised copy.
    question_entry_id: int | None = Field(default=None, foreign_key="register_entry.id")
    question: str = Field(sa_column=text_column())
    answer: str = Field(sa_column=text_column())
    created_at: datetime = Field(default_factory=utc_now)
    author: str = Field(max_length=100)


class Document(SQLModel, table=True):
    """A file of the document space; its bytes live content-addressed under the data folder."""

    id: int | None = Field(default=None, primary_key=True)
    filename: str = Field(max_length=255)
    sha256: str = Field(max_length=64, index=True)
    size: int
    media_type: str = Field(max_length=120)
    origin: DocumentOrigin = Field(sa_type=enum_type(DocumentOrigin))
    antivirus: AntivirusVerdict = Field(sa_type=enum_type(AntivirusVerdict))
    antivirus_detail: str | None = Field(default=None, max_length=300)
    consultation_id: int | None = Field(default=None, foreign_key="consultation.id", index=True)
    created_at: datetime = Field(default_factory=utc_now)
    created_by: str = Field(max_length=100)


class DceVersion(SQLModel, table=True):
    """One validated state of the DCE; versions are only ever added."""

    __tablename__ = "dce_version"
    __table_args__ = (sa.UniqueConstraint("consultation_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    number: int
    created_at: datetime = Field(default_factory=utc_now)
    author: str = Field(max_length=100)
    comment: str | None = Field(default=None, sa_column=text_column(nullable=True))


class DcePiece(SQLModel, table=True):
    """A piece of one DCE version; files inside a DCE zip point to the zip's piece."""

    __tablename__ = "dce_piece"

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="dce_version.id", index=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="dce_piece.id", index=True)
    path: str = Field(max_length=500)
    position: int = 0


class DeadlineChange(SQLModel, table=True):
    """A change of the bid deadline, with its reason (LEGAL.md rule 3)."""

    __tablename__ = "deadline_change"

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", index=True)
    previous_deadline: datetime
    new_deadline: datetime
    reason: str = Field(sa_column=text_column())
    at: datetime = Field(default_factory=utc_now)
    author: str = Field(max_length=100)


class Message(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_message_consultation_created", "consultation_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id")
    type: MessageType = Field(sa_type=enum_type(MessageType), index=True)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=text_column())
    send_mode: SendMode = Field(sa_type=enum_type(SendMode))
    reply_allowed: bool = False
    reply_deadline: datetime | None = None
    all_lots: bool = True
    state: MessageState = Field(sa_type=enum_type(MessageState), index=True)
    author: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utc_now)
    queued_at: datetime | None = None
    # The type's mandatory mentions (motifs, attributaire…), by key (messages/form.py MENTIONS).
    mentions: dict[str, str] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    # Subject and body folded without case or accents, for the tracking table's text filter.
    search_text: str = Field(sa_column=text_column())
    # A draft's version: a save from a form opened on an older one is refused, not merged.
    revision: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class MessageLot(SQLModel, table=True):
    __tablename__ = "message_lot"

    message_id: int = Field(foreign_key="message.id", primary_key=True)
    lot_id: int = Field(foreign_key="lot.id", primary_key=True, index=True)


class Recipient(SQLModel, table=True):
    """One copy of a message for one address: its outbox state and its E/D/L/R times.

    The latest status and the badge times are kept here, next to the event log, so that the
    tracking table reads one indexed row per recipient.
    """

    __table_args__ = (
        sa.UniqueConstraint("message_id", "email"),
        sa.Index("ix_recipient_outbox", "delivery_state", "next_attempt_at"),
        sa.Index("ix_recipient_message_status", "message_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id")
    email: str = Field(max_length=254)
    company_id: int | None = Field(default=None, foreign_key="company.id", index=True)
    contact_name: str | None = Field(default=None, max_length=200)
    # One secret per purpose (models/messages/recipient_secrets.py), each >= 128 random bits:
    # the personal page's (never in a header), the reply address's and the bounce address's.
    token: str = Field(max_length=64, unique=True)
    # NULL on rows written before migration 0005: their addresses carry `token`.
    reply_token: str | None = Field(default=None, max_length=64, unique=True, index=True)
    bounce_token: str | None = Field(default=None, max_length=64, unique=True, index=True)
    message_id_header: str = Field(max_length=255, unique=True)
    delivery_state: DeliveryState = Field(sa_type=enum_type(DeliveryState))
    lease_until: datetime | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    status: RecipientStatus = Field(sa_type=enum_type(RecipientStatus), index=True)
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    not_delivered_at: datetime | None = None
    read_at: datetime | None = None
    replied_at: datetime | None = None
    # The hash of the last event of this copy's history (models/store/chain.py).
    chain_head: str | None = Field(default=None, max_length=64)
    # "Renvoyer" to a corrected address creates a new row pointing to the failed one.
    resent_from_id: int | None = Field(default=None, foreign_key="recipient.id", index=True)
    updated_at: datetime = Field(default_factory=utc_now, index=True)


class Attachment(SQLModel, table=True):
    """A document attached to a message, or to one recipient's copy (personalised letter)."""

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    recipient_id: int | None = Field(default=None, foreign_key="recipient.id", index=True)


class Event(SQLModel, table=True):
    """One step of a recipient's life: each attempt, each server answer, each opening."""

    __table_args__ = (sa.Index("ix_event_recipient_at", "recipient_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    recipient_id: int = Field(foreign_key="recipient.id")
    kind: EventKind = Field(sa_type=enum_type(EventKind))
    at: datetime
    detail: str | None = Field(default=None, sa_column=text_column(nullable=True))
    # Evidence of an opening (L): the client's address and user agent.
    client_address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=500)
    # The recipient's chain (models/store/chain.py): the previous event's hash and this one's.
    previous_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)


class Reply(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_reply_recipient_received", "recipient_id", "received_at"),)

    id: int | None = Field(default=None, primary_key=True)
    recipient_id: int = Field(foreign_key="recipient.id")
    received_at: datetime
    channel: ReplyChannel = Field(sa_type=enum_type(ReplyChannel))
    disposition: ReplyDisposition = Field(sa_type=enum_type(ReplyDisposition))
    body: str = Field(sa_column=text_column())
    read_at: datetime | None = None
    # The random key of the page's reply form that sent it (migration 0006): a second POST
    # of the same form records nothing. NULL for e-mailed replies and older ones.
    submission_key: str | None = Field(default=None, max_length=64, unique=True, index=True)


class ReplyAttachment(SQLModel, table=True):
    __tablename__ = "reply_attachment"

    reply_id: int = Field(foreign_key="reply.id", primary_key=True)
    document_id: int = Field(foreign_key="document.id", primary_key=True)


class AuditEntry(SQLModel, table=True):
    """Append-only journal: who did what, when, and the written reason of any override."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utc_now, index=True)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=100)
    consultation_id: int | None = Field(default=None, foreign_key="consultation.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="message.id", index=True)
    rule: int | None = None
    override_reason: str | None = Field(default=None, sa_column=text_column(nullable=True))
    detail: str | None = Field(default=None, sa_column=text_column(nullable=True))


class StoreMeta(SQLModel, table=True):
    """Facts about the store itself, such as which demo built it."""

    __tablename__ = "store_meta"

    key: str = Field(max_length=60, primary_key=True)
    value: str = Field(sa_column=text_column())


class AccountRecord(SQLModel, table=True):
    """A person who uses the messagerie, known by their system login (accounts, issue 19).

    A `support` account sees every organisation, read only; the others see their own."""

    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=254)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    support: bool = False
    created_at: datetime = Field(default_factory=utc_now)


class AccountEntity(SQLModel, table=True):
    """A purchasing entity an account works for; none at all = every entity of its
    organisation."""

    __tablename__ = "account_entity"

    account_id: int = Field(foreign_key="account.id", primary_key=True)
    entity_id: int = Field(foreign_key="purchasing_entity.id", primary_key=True, index=True)


class AccountRight(SQLModel, table=True):
    """One right of an account (enums.Right)."""

    __tablename__ = "account_right"

    account_id: int = Field(foreign_key="account.id", primary_key=True)
    right: Right = Field(sa_type=enum_type(Right), primary_key=True)


def table_of(model: type[SQLModel]) -> sa.Table:
    """The Core table of a model: its `.c` columns are typed, unlike the class attributes."""
    return model.__table__  # type: ignore[attr-defined]


# --- The Core tables, typed (`.c` columns are typed, unlike the models' class attributes):
# every query reaches a table through one of these names.

organisation = table_of(Organisation)
purchasing_entity = table_of(PurchasingEntity)
consultation = table_of(Consultation)
lot = table_of(Lot)
company = table_of(Company)
register_entry = table_of(RegisterEntry)
register_entry_lot = table_of(RegisterEntryLot)
suite_candidate = table_of(SuiteCandidate)
qa_item = table_of(QaItem)
document = table_of(Document)
dce_version = table_of(DceVersion)
dce_piece = table_of(DcePiece)
deadline_change = table_of(DeadlineChange)
message = table_of(Message)
message_lot = table_of(MessageLot)
recipient = table_of(Recipient)
attachment = table_of(Attachment)
event = table_of(Event)
reply = table_of(Reply)
reply_attachment = table_of(ReplyAttachment)
audit_entry = table_of(AuditEntry)
store_meta = table_of(StoreMeta)
account = table_of(AccountRecord)
account_entity = table_of(AccountEntity)
account_right = table_of(AccountRight)
