"""The tables of the whole domain, in SQLAlchemy Core (see ARCHITECTURE.md, "The store").

Every time is timezone-aware UTC (`UTCDateTime`). Enumerations are stored as their short
English values in VARCHAR columns, never as native database enums, so that adding a member
needs no type migration.

Plain Core, no ORM and no SQLModel: opening the TUI loads this module before its first page,
and SQLModel with pydantic cost as much as the rest of SQLAlchemy (issue 18). Every query
reaches a table through its lower-case name (`consultation.c.status`); the mapped classes
(`Consultation`…) are made on first use only, for the tests that build rows with the ORM
(models/store/mapped.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from messagerie.models.clock import utc_now
from messagerie.models.store.enums import (
    AntivirusVerdict,
    ConsultationStatus,
    DeliveryState,
    DkimResult,
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

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

__all__ = ["table_of", "utc_now"]  # utc_now: models/store/documents.py takes it from here

# Stable constraint names, so that migrations (and SQLite batch operations) can address them.
metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Aware datetimes stored in UTC and read back in UTC (SQLite keeps no offset): the
    type SQLModel gave every `datetime` field, which the migrations were written with."""

    impl = sa.DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def __repr__(self) -> str:
        return "UTCDateTime()"

    def coerce_compared_value(self, op: Any, value: Any) -> sa.types.TypeEngine[Any]:
        return sa.Interval() if isinstance(value, timedelta) else self

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("Datetime values must have timezone information.")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# --- Column makers: NOT NULL unless said otherwise, like the models the schema came from.


def key() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True)


def string(name: str, length: int, *, nullable: bool = False, **options: Any) -> sa.Column:
    return sa.Column(name, sa.String(length), nullable=nullable, **options)


def text(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=nullable)


def integer(name: str, *, nullable: bool = False, **options: Any) -> sa.Column:
    return sa.Column(name, sa.Integer, nullable=nullable, **options)


def flag(name: str, default: bool) -> sa.Column:
    return sa.Column(name, sa.Boolean, nullable=False, default=default)


def moment(name: str, *, nullable: bool = False, **options: Any) -> sa.Column:
    """A time; `default=utc_now` for the time the row is written."""
    return sa.Column(name, UTCDateTime(), nullable=nullable, **options)


def reference(
    name: str, target: str, *, nullable: bool = False, index: bool = False, **options: Any
) -> sa.Column:
    """A foreign key to `target` ("table.id")."""
    return sa.Column(
        name, sa.Integer, sa.ForeignKey(target), nullable=nullable, index=index, **options
    )


def table(name: str, *items: sa.Column | sa.Constraint | sa.Index) -> sa.Table:
    """A table keyed by an integer `id`: every table but the links, `store_meta` and
    `account_right`."""
    return sa.Table(name, metadata, key(), *items)


def link(name: str, first: tuple[str, str], second: tuple[str, str], *, back: bool) -> sa.Table:
    """A many-to-many table: one row per pair, keyed by both references (column, "table.id");
    `back`: the second is indexed too, for the way from it to the first."""
    return sa.Table(
        name,
        metadata,
        reference(*first, primary_key=True),
        reference(*second, primary_key=True, index=back),
    )


def choice(name: str, enum: type[Enum], *, nullable: bool = False, **options: Any) -> sa.Column:
    """One member of `enum`, stored as its value."""
    kind = sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
    )
    return sa.Column(name, kind, nullable=nullable, **options)


def table_of(model: Any) -> sa.Table:
    """The Core table of a mapped class (`table_of(Recipient)` is `recipient`); a table
    itself is returned as is."""
    return model if isinstance(model, sa.Table) else model.__table__


# Organisme: the public body.
organisation = table(
    "organisation",
    string("name", 200, unique=True),
)

# Entité d'achat: the purchasing service that sends the messages.
purchasing_entity = table(
    "purchasing_entity",
    reference("organisation_id", "organisation.id", index=True),
    string("name", 200),
    string("sender_email", 254),
    string("postal_address", 400),
    # The target of consultation's (entity_id, organisation_id): its organisation is its
    # entity's, and the database says so.
    sa.UniqueConstraint("id", "organisation_id"),
)

REFERENCE_LENGTH = 60  # a consultation's (an import's limit, a suite's « -S2 » included)

consultation = table(
    "consultation",
    # Unique in its organisation only (migration 0015): unique in the store, another
    # organisation's reference could not be used, and an import said that it existed.
    string("reference", REFERENCE_LENGTH, index=True),
    string("title", 300),
    text("object"),
    choice("procedure", Procedure),
    choice("status", ConsultationStatus),
    moment("bid_deadline"),
    flag("urgent", False),
    reference("entity_id", "purchasing_entity.id", index=True),
    integer("organisation_id"),  # its entity's, kept here for the constraint below
    sa.ForeignKeyConstraint(
        ["entity_id", "organisation_id"],
        ["purchasing_entity.id", "purchasing_entity.organisation_id"],
        name="fk_consultation_entity_organisation",
    ),
    sa.UniqueConstraint("organisation_id", "reference"),
    # A "suite" (restricted phase, complex negotiation) points to its parent consultation.
    reference("parent_id", "consultation.id", nullable=True, index=True),
    string("access_code", 64, nullable=True),
    moment("created_at", default=utc_now),
    # Reference, title, object and entity folded to lower case without accents, for search.
    text("search_text"),
    sa.Index("ix_consultation_deadline_order", "bid_deadline", "id"),
    sa.Index("ix_consultation_status_deadline", "status", "bid_deadline"),
)

lot = table(
    "lot",
    reference("consultation_id", "consultation.id", index=True),
    integer("number"),
    sa.UniqueConstraint("consultation_id", "number"),
    string("title", 300),
)

# Entreprise, identified by its SIRET (14 digits, Luhn checksum).
company = table(
    "company",
    string("name", 200),
    string("siret", 14, unique=True),
    string("address", 300),
    string("postal_code", 10),
    string("city", 100),
)

# One line of a register: retrait, question or dépôt.
register_entry = table(
    "register_entry",
    reference("consultation_id", "consultation.id"),
    choice("kind", RegisterKind),
    reference("company_id", "company.id", index=True),
    string("contact_name", 200),
    string("contact_email", 254),
    moment("at"),
    # Questions only: their number in the register and their text.
    integer("number", nullable=True),
    text("question_text", nullable=True),
    sa.Index("ix_register_entry_consultation_kind_at", "consultation_id", "kind", "at"),
)

register_entry_lot = link(
    "register_entry_lot",
    ("register_entry_id", "register_entry.id"),
    ("lot_id", "lot.id"),
    back=True,
)

# A candidate admitted to a suite (restricted phase), chosen from the parent's dépôts.
suite_candidate = table(
    "suite_candidate",
    reference("consultation_id", "consultation.id", index=True),
    reference("company_id", "company.id", index=True),
    string("contact_name", 200),
    string("contact_email", 254),
    reference("source_entry_id", "register_entry.id", nullable=True),
    sa.UniqueConstraint("consultation_id", "contact_email"),
)

# One question and its answer in the consultation's "Questions / réponses" document.
qa_item = table(
    "qa_item",
    reference("consultation_id", "consultation.id", index=True),
    integer("number"),
    # The register's question it answers; the text below is the buyer's anonymised copy.
    reference("question_entry_id", "register_entry.id", nullable=True),
    text("question"),
    text("answer"),
    moment("created_at", default=utc_now),
    string("author", 100),
    sa.UniqueConstraint("consultation_id", "number"),
)

# An answer to all being written in the Q/A editor, kept when the app ended before it was
# published (the terminal gone, or Ctrl+Q and « Enregistrer et quitter »): one per question
# and buyer, until they publish it or leave it.
answer_draft = table(
    "answer_draft",
    reference("question_entry_id", "register_entry.id"),
    string("author", 100),
    text("question"),
    text("answer"),
    moment("kept_at"),
    flag("at_hang_up", False),
    sa.UniqueConstraint("question_entry_id", "author"),
)

# A file of the document space; its bytes live content-addressed under the data folder.
document = table(
    "document",
    string("filename", 255),
    string("sha256", 64, index=True),
    integer("size"),
    string("media_type", 120),
    choice("origin", DocumentOrigin),
    choice("antivirus", AntivirusVerdict),
    string("antivirus_detail", 300, nullable=True),
    reference("consultation_id", "consultation.id", nullable=True, index=True),
    moment("created_at", default=utc_now),
    string("created_by", 100),
)

# One validated state of the DCE; versions are only ever added.
dce_version = table(
    "dce_version",
    reference("consultation_id", "consultation.id", index=True),
    integer("number"),
    moment("created_at", default=utc_now),
    string("author", 100),
    text("comment", nullable=True),
    sa.UniqueConstraint("consultation_id", "number"),
)

# A piece of one DCE version; files inside a DCE zip point to the zip's piece.
dce_piece = table(
    "dce_piece",
    reference("version_id", "dce_version.id", index=True),
    reference("document_id", "document.id", index=True),
    reference("parent_id", "dce_piece.id", nullable=True, index=True),
    string("path", 500),
    integer("position", default=0),
)

# A change of the bid deadline, with its reason (LEGAL.md rule 3).
deadline_change = table(
    "deadline_change",
    reference("consultation_id", "consultation.id", index=True),
    moment("previous_deadline"),
    moment("new_deadline"),
    text("reason"),
    moment("at", default=utc_now),
    string("author", 100),
)

message = table(
    "message",
    reference("consultation_id", "consultation.id"),
    choice("type", MessageType, index=True),
    string("subject", 300),
    text("body"),
    choice("send_mode", SendMode),
    flag("reply_allowed", False),
    moment("reply_deadline", nullable=True),
    flag("all_lots", True),
    choice("state", MessageState, index=True),
    string("author", 100),
    moment("created_at", default=utc_now),
    moment("queued_at", nullable=True),
    # The type's mandatory mentions (motifs, attributaire…), by key (messages/form.py MENTIONS).
    sa.Column("mentions", sa.JSON),
    # What its generated letters were drawn from (messages/form.py LetterBasis; migration 0012).
    sa.Column("letters_basis", sa.JSON, nullable=True),
    # Subject and body folded without case or accents, for the tracking table's text filter.
    text("search_text"),
    # A draft's version: a save from a form opened on an older one is refused, not merged.
    integer("revision", default=0, server_default="0"),
    sa.Index("ix_message_consultation_created", "consultation_id", "created_at"),
    # The form's reads of a consultation's queued letters of one type (migration 0010).
    sa.Index(
        "ix_message_consultation_letters",
        "consultation_id",
        "type",
        "state",
        "all_lots",
        "queued_at",
    ),
)

message_lot = link("message_lot", ("message_id", "message.id"), ("lot_id", "lot.id"), back=True)

# One copy of a message for one address: its outbox state and its E/D/L/R times. The latest
# status and the badge times are kept here, next to the event log, so that the tracking
# table reads one indexed row per recipient.
recipient = table(
    "recipient",
    reference("message_id", "message.id"),
    string("email", 254),
    reference("company_id", "company.id", nullable=True, index=True),
    string("contact_name", 200, nullable=True),
    # One secret per purpose (models/messages/recipient_secrets.py), each >= 128 random bits:
    # the personal page's (never in a header), the reply address's and the bounce address's.
    string("token", 64, unique=True),
    # NULL on rows written before migration 0005: their addresses carry `token`.
    string("reply_token", 64, nullable=True, unique=True, index=True),
    string("bounce_token", 64, nullable=True, unique=True, index=True),
    string("message_id_header", 255, unique=True),
    choice("delivery_state", DeliveryState),
    moment("lease_until", nullable=True),
    integer("attempts", default=0),
    moment("next_attempt_at", nullable=True),
    choice("status", RecipientStatus, index=True),
    moment("sent_at", nullable=True),
    moment("delivered_at", nullable=True),
    moment("not_delivered_at", nullable=True),
    moment("read_at", nullable=True),
    moment("replied_at", nullable=True),
    # The hash of the last event of this copy's history (models/store/chain.py).
    string("chain_head", 64, nullable=True),
    # "Renvoyer" to a corrected address creates a new row pointing to the failed one.
    reference("resent_from_id", "recipient.id", nullable=True, index=True),
    moment("updated_at", default=utc_now, index=True),
    sa.UniqueConstraint("message_id", "email"),
    sa.Index("ix_recipient_outbox", "delivery_state", "next_attempt_at"),
    sa.Index("ix_recipient_message_status", "message_id", "status"),
)

# A document attached to a message, or to one recipient's copy (personalised letter).
attachment = table(
    "attachment",
    reference("message_id", "message.id", index=True),
    reference("document_id", "document.id", index=True),
    reference("recipient_id", "recipient.id", nullable=True, index=True),
)

# One step of a recipient's life: each attempt, each server answer, each opening.
event = table(
    "event",
    reference("recipient_id", "recipient.id"),
    choice("kind", EventKind),
    moment("at"),
    text("detail", nullable=True),
    # Evidence of an opening (L): the client's address and user agent.
    string("client_address", 64, nullable=True),
    string("user_agent", 500, nullable=True),
    # The recipient's chain (models/store/chain.py): the previous event's hash and this one's.
    string("previous_hash", 64, nullable=True),
    string("hash", 64, nullable=True),
    sa.Index("ix_event_recipient_at", "recipient_id", "at"),
)

reply = table(
    "reply",
    reference("recipient_id", "recipient.id"),
    moment("received_at"),
    choice("channel", ReplyChannel),
    choice("disposition", ReplyDisposition),
    text("body"),
    moment("read_at", nullable=True),
    # The random key of the page's reply form that sent it (migration 0006): a second POST
    # of the same form records nothing. NULL for e-mailed replies and older ones.
    string("submission_key", 64, nullable=True, unique=True, index=True),
    # The address an e-mailed reply says it is from (migration 0013): its reply address is
    # in every copy of the thread, so anyone holding one can answer. NULL: the page's.
    string("sender", 320, nullable=True),
    # Its DKIM signature, checked at its arrival (migration 0014), and the domain (d=) of the
    # one that passed, else of the first tried. NULL: the page's, or received before 0014.
    choice("dkim", DkimResult, nullable=True),
    string("dkim_domain", 253, nullable=True),
    sa.Index("ix_reply_recipient_received", "recipient_id", "received_at"),
)

reply_attachment = link(
    "reply_attachment", ("reply_id", "reply.id"), ("document_id", "document.id"), back=False
)

# Append-only journal: who did what, when, and the written reason of any override.
audit_entry = table(
    "audit_log",
    moment("at", default=utc_now, index=True),
    string("actor", 100),
    string("action", 100),
    reference("consultation_id", "consultation.id", nullable=True, index=True),
    reference("message_id", "message.id", nullable=True, index=True),
    integer("rule", nullable=True),
    text("override_reason", nullable=True),
    text("detail", nullable=True),
)

# Facts about the store itself, such as which demo built it.
store_meta = sa.Table(
    "store_meta",
    metadata,
    string("key", 60, primary_key=True),
    text("value"),
)

# A person who uses the messagerie, known by their system login (accounts, issue 19). A
# `support` account sees every organisation, read only; the others see their own.
account = table(
    "account",
    string("login", 100, unique=True),
    string("name", 200),
    string("email", 254),
    reference("organisation_id", "organisation.id", index=True),
    flag("support", False),
    moment("created_at", default=utc_now),
)

# A purchasing entity an account works for; none at all = every entity of its organisation.
account_entity = link(
    "account_entity", ("account_id", "account.id"), ("entity_id", "purchasing_entity.id"), back=True
)

# One right of an account (enums.Right).
account_right = sa.Table(
    "account_right",
    metadata,
    reference("account_id", "account.id", primary_key=True),
    choice("right", Right, primary_key=True),
)

# The names of the mapped classes, made on first use (models/store/mapped.py).
MAPPED_CLASSES = {
    "Organisation": organisation,
    "PurchasingEntity": purchasing_entity,
    "Consultation": consultation,
    "Lot": lot,
    "Company": company,
    "RegisterEntry": register_entry,
    "RegisterEntryLot": register_entry_lot,
    "SuiteCandidate": suite_candidate,
    "QaItem": qa_item,
    "AnswerDraft": answer_draft,
    "Document": document,
    "DceVersion": dce_version,
    "DcePiece": dce_piece,
    "DeadlineChange": deadline_change,
    "Message": message,
    "MessageLot": message_lot,
    "Recipient": recipient,
    "Attachment": attachment,
    "Event": event,
    "Reply": reply,
    "ReplyAttachment": reply_attachment,
    "AuditEntry": audit_entry,
    "StoreMeta": store_meta,
    "AccountRecord": account,
    "AccountEntity": account_entity,
    "AccountRight": account_right,
}


def __getattr__(name: str) -> Any:
    """`from messagerie.models.store.tables import Recipient`: the mapped class, made then."""
    if name in MAPPED_CLASSES:
        from messagerie.models.store.mapped import mapped_class

        return mapped_class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
