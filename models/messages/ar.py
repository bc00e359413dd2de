"""The acknowledgement of receipt (AR) of one recipient, on the store's side: everything the
PDF proves, gathered in one read.

An AR only exists for a message sent "avec accusé de réception" once its recipient has
pressed « Prendre connaissance du message » on the page of the personal link (L): before that,
or for a simple e-mail, there is nothing to prove, and a document saying otherwise would
mislead whoever reads it. A mere visit of the link (a mail gateway fetches every link) is
listed among the events, never taken for the opening. The AR says how the opening was made.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from messagerie.models.clock import utc_now
from messagerie.models.consultations.identity import ConsultationIdentity
from messagerie.models.consultations.identity_query import (
    IDENTITY_COLUMNS,
    identity_of,
    joined_to_publisher,
)
from messagerie.models.errors import Refusal
from messagerie.models.formatting import lot_label
from messagerie.models.store.accounts import Account, require, visible_consultations
from messagerie.models.store.anchor import Anchor
from messagerie.models.store.chain import verify_chains
from messagerie.models.store.database import Store
from messagerie.models.store.enums import (
    AntivirusVerdict,
    DeliveryState,
    EventKind,
    MessageType,
    Right,
    SendMode,
)
from messagerie.models.store.tables import (
    attachment,
    audit_entry,
    company,
    consultation,
    document,
    event,
    lot,
    message,
    message_lot,
    recipient,
)
from messagerie.models.store.tables import purchasing_entity as entity

PLATFORM = "Messagerie sécurisée"
BUTTON = "Prendre connaissance du message"
# The detail of an L recorded by the page's button (models.messages.portal.record_opening).
OPENED_BY_BUTTON = f"Bouton « {BUTTON} »"


class ArRefused(Refusal):
    """No AR can be produced for this recipient; str() says why, in French."""


@dataclass(frozen=True)
class ArSender:
    organisation: str
    entity: str
    postal_address: str
    email: str


@dataclass(frozen=True)
class ArMessage:
    id: int
    type: MessageType
    subject: str
    sent_at: datetime  # when the buyer sent it (queued_at)
    author: str
    send_mode: SendMode
    reply_allowed: bool
    reply_deadline: datetime | None
    body_sha256: str


@dataclass(frozen=True)
class AnchoredHistory:
    at: datetime  # when the anchor was taken
    head: str  # the history's head then, which the anchor's file lists


@dataclass(frozen=True)
class ArRecipient:
    id: int
    email: str
    company: str | None  # None: an address typed by hand, not a known company
    siret: str | None
    address: str | None
    read_at: datetime
    # The hash of the last event of this copy's history (models/store/chain.py) when the AR
    # was drawn up: `messagerie verify-store` proves the history has not changed since.
    chain_head: str | None
    # Why the history no longer matches its chain (models/store/chain.py), when it does not:
    # an AR drawn on an altered history says so instead of signing it as whole.
    chain_problem: str | None = None
    # The platform's last anchor, when it holds this history and the history still holds
    # what the anchor saw (kept off the server: a rewrite since shows).
    anchored: AnchoredHistory | None = None


@dataclass(frozen=True)
class ArEvent:
    kind: EventKind
    at: datetime
    detail: str | None
    client_address: str | None  # evidence of an opening
    user_agent: str | None


@dataclass(frozen=True)
class ArOpening:
    """How the recipient opened the message (L): the act, its time and its evidence."""

    at: datetime
    by_button: bool  # False: an L recorded by a visit of the link, before the button existed
    client_address: str | None
    user_agent: str | None

    @property
    def method(self) -> str:
        """The act, as the AR names it."""
        if self.by_button:
            return f"bouton « {BUTTON} »"
        return "consultation du lien personnel"


@dataclass(frozen=True)
class ArFile:
    filename: str
    size: int
    sha256: str
    antivirus: AntivirusVerdict
    personal: bool  # attached to this recipient's copy alone
    id: int = 0  # the attachment row: the recipients' page names it in download links
    media_type: str = "application/octet-stream"


STANDSTILL_RULE = 8  # LEGAL.md: no notification before the standstill has run


@dataclass(frozen=True)
class ArOverride:
    at: datetime
    actor: str
    action: str
    rule: int | None
    reason: str


@dataclass(frozen=True)
class ArData:
    platform: str
    sender: ArSender
    consultation: ConsultationIdentity
    bid_deadline: datetime  # the consultation's, when the AR was drawn up
    message: ArMessage
    recipient: ArRecipient
    events: tuple[ArEvent, ...]  # in time order
    opening: ArOpening
    files: tuple[ArFile, ...]
    overrides: tuple[ArOverride, ...]
    issued_at: datetime  # when the AR was drawn up


# What an AR reads of its recipient, the message, the consultation, its publisher and the
# recipient's company.
_AR_ROWS = joined_to_publisher(
    sa.select(
        recipient.c.email,
        recipient.c.delivery_state,
        recipient.c.read_at,
        recipient.c.chain_head,
        message.c.id.label("message_id"),
        message.c.type,
        message.c.subject,
        message.c.body,
        message.c.queued_at,
        message.c.author,
        message.c.send_mode,
        message.c.reply_allowed,
        message.c.reply_deadline,
        *IDENTITY_COLUMNS,
        consultation.c.bid_deadline,
        entity.c.postal_address,
        entity.c.sender_email,
        company.c.name.label("company"),
        company.c.siret,
        company.c.address.label("street"),
        company.c.postal_code,
        company.c.city,
    )
    .join(message, message.c.id == recipient.c.message_id)
    .join(consultation, consultation.c.id == message.c.consultation_id)
).outerjoin(company, company.c.id == recipient.c.company_id)


def ar_data(
    store: Store,
    recipient_id: int,
    *,
    account: Account | None = None,
    now: datetime | None = None,
    anchor: Anchor | None = None,
) -> ArData:
    """What the AR of `recipient_id` shows, to `account` (None: a store without accounts),
    which needs the `export` right; `ArRefused` when there is no AR to show — « introuvable »
    alike for a recipient of a consultation `account` does not see. Against `anchor` (the
    platform's last, read and checked by the caller), when given."""
    require(account, Right.EXPORT)
    with store.snapshot() as connection:  # the history and its head as of one moment
        found = connection.execute(
            _AR_ROWS.where(recipient.c.id == recipient_id, visible_consultations(account))
        ).first()
        row = _row_with_ar(found, recipient_id)
        events = events_of(connection, recipient_id)
        # Only its part of the anchor: a bundle draws thousands of ARs against one anchor.
        own = anchor.about(recipient_id) if anchor else None
        altered = verify_chains(connection, [recipient_id], [own] if own else ())[1]
        files = files_of(connection, row.message_id, recipient_id)
        overrides = overrides_of(connection, row.message_id)
    return ArData(
        platform=PLATFORM,
        sender=ArSender(row.organisation, row.entity, row.postal_address, row.sender_email),
        consultation=identity_of(row),
        bid_deadline=row.bid_deadline,
        message=ArMessage(
            id=row.message_id,
            type=MessageType(row.type),
            subject=row.subject,
            sent_at=row.queued_at,
            author=row.author,
            send_mode=SendMode(row.send_mode),
            reply_allowed=row.reply_allowed,
            reply_deadline=row.reply_deadline,
            body_sha256=hashlib.sha256(row.body.encode("utf-8")).hexdigest(),
        ),
        recipient=ArRecipient(
            id=recipient_id,
            email=row.email,
            company=row.company,
            siret=row.siret,
            address=f"{row.street}, {row.postal_code} {row.city}" if row.company else None,
            read_at=row.read_at,
            chain_head=row.chain_head,
            chain_problem=altered[0].reason if altered else None,
            anchored=AnchoredHistory(own.at, own.heads[recipient_id])
            if own and not altered
            else None,
        ),
        events=events,
        opening=opening_of(events, row.read_at),
        files=files,
        overrides=overrides,
        issued_at=now or utc_now(),
    )


def events_of(connection: sa.Connection, recipient_id: int) -> tuple[ArEvent, ...]:
    """Every event of one recipient, in time order (each attempt, each server answer)."""
    rows = connection.execute(
        sa.select(
            event.c.kind, event.c.at, event.c.detail, event.c.client_address, event.c.user_agent
        )
        .where(event.c.recipient_id == recipient_id)
        .order_by(event.c.at, event.c.id)
    )
    return tuple(
        ArEvent(EventKind(kind), at, detail, address, agent)
        for kind, at, detail, address, agent in rows
    )


def opening_of(events: tuple[ArEvent, ...], read_at: datetime) -> ArOpening:
    """The opening that is the AR: its L event (the demo writes L without detail, as the
    button records it), or the recipient's read date alone should no L event be found."""
    read = next((e for e in events if e.kind is EventKind.READ), None)
    if read is None:
        return ArOpening(read_at, False, None, None)
    by_button = read.detail in (OPENED_BY_BUTTON, None)
    return ArOpening(read_at, by_button, read.client_address, read.user_agent)


def files_of(
    connection: sa.Connection, message_id: int, recipient_id: int | None = None
) -> tuple[ArFile, ...]:
    """The message's attachments, and those of one recipient's copy (all of them when
    `recipient_id` is None), with size, SHA-256 and antivirus verdict."""
    shown = attachment.c.message_id == message_id
    if recipient_id is not None:
        shown &= sa.or_(
            attachment.c.recipient_id.is_(None), attachment.c.recipient_id == recipient_id
        )
    rows = connection.execute(
        sa.select(
            document.c.filename,
            document.c.size,
            document.c.sha256,
            document.c.antivirus,
            attachment.c.recipient_id.is_not(None),
            attachment.c.id,
            document.c.media_type,
        )
        .join(document, document.c.id == attachment.c.document_id)
        .where(shown)
        .order_by(attachment.c.id)
    )
    return tuple(
        ArFile(name, size, sha256, AntivirusVerdict(verdict), bool(own), id_, media_type)
        for name, size, sha256, verdict, own, id_, media_type in rows
    )


def lots_of(connection: sa.Connection, message_id: int) -> tuple[str, ...]:
    """The labels of the lots a message concerns ("Lot n°2 - Vins"); () for all lots."""
    rows = connection.execute(
        sa.select(lot.c.number, lot.c.title)
        .join(message_lot, message_lot.c.lot_id == lot.c.id)
        .where(message_lot.c.message_id == message_id)
        .order_by(lot.c.number)
    )
    return tuple(lot_label(number, title) for number, title in rows)


def overrides_of(connection: sa.Connection, message_id: int) -> tuple[ArOverride, ...]:
    """The rules passed for this message, with the buyer's written reasons: the overrides of
    the audit log, and a notification's exemption from the standstill (rule 8), which the
    form records as a mention rather than as an override."""
    rows = connection.execute(
        sa.select(
            audit_entry.c.at,
            audit_entry.c.actor,
            audit_entry.c.action,
            audit_entry.c.rule,
            audit_entry.c.override_reason,
        )
        .where(audit_entry.c.message_id == message_id, audit_entry.c.override_reason.is_not(None))
        .order_by(audit_entry.c.at, audit_entry.c.id)
    )
    overrides = [ArOverride(*override) for override in rows]
    exemption = _standstill_exemption(connection, message_id)
    if exemption is not None and all(o.rule != exemption.rule for o in overrides):
        overrides.append(exemption)
    return tuple(sorted(overrides, key=lambda o: o.at))


def _standstill_exemption(connection: sa.Connection, message_id: int) -> ArOverride | None:
    """The « Motif de dispense du délai de suspension » a queued notification was sent with."""
    found = connection.execute(
        sa.select(message.c.queued_at, message.c.author, message.c.mentions).where(
            message.c.id == message_id,
            message.c.type == MessageType.NOTIFICATION,
            message.c.queued_at.is_not(None),
        )
    ).first()
    if found is None:
        return None
    reason = str((found.mentions or {}).get("exemption_reason") or "").strip()
    if not reason:
        return None
    return ArOverride(
        found.queued_at,
        found.author,
        "message.queue",
        STANDSTILL_RULE,
        f"Dispense du délai de suspension (article R2182-1) : {reason}",
    )


def _row_with_ar(row: sa.Row | None, recipient_id: int) -> sa.Row:
    """The recipient's row when it has an AR; otherwise `ArRefused` says why not."""
    if row is None:
        raise ArRefused(f"Destinataire n° {recipient_id} introuvable.")
    if row.send_mode == SendMode.SIMPLE:
        raise ArRefused(
            "Ce message a été envoyé en courrier électronique simple, sans accusé de réception : "
            "il n'y a pas d'AR pour ce destinataire."
        )
    if row.delivery_state == DeliveryState.HELD:
        raise ArRefused("Ce message est un brouillon : il n'a pas été envoyé, il n'a pas d'AR.")
    if row.read_at is None:
        raise ArRefused(
            "Le destinataire n'a pas encore ouvert ce message : il n'y a pas encore d'accusé de "
            "réception (L)."
        )
    return row
