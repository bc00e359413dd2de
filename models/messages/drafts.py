"""Draft messages prepared by the flows (answer a question, DCE modified, suite created).

A draft is a stored message in state "draft" whose recipients are held (not queued): the
message form opens it, and sending it queues it for the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from messagerie.models.clock import utc_now
from messagerie.models.formatting import lot_label, paris_minutes
from messagerie.models.messages.rows import message_row, recipient_row
from messagerie.models.rules.presets import PRESETS
from messagerie.models.rules.validation import address_domain
from messagerie.models.store import audit
from messagerie.models.store.accounts import authorize, authorize_reading
from messagerie.models.store.database import Store
from messagerie.models.store.enums import (
    MessageState,
    MessageType,
    Right,
)
from messagerie.models.store.tables import (
    audit_entry,
    consultation,
    lot,
    message,
    message_lot,
    purchasing_entity,
    recipient,
)
from messagerie.models.text import cut, kept_at_hang_up_notice

# What the audit says of a draft saved, and of one the app kept when its terminal went away;
# after DROPPED_NOTE, what it could not keep of the typing.
SAVED = "brouillon enregistré"
KEPT_AT_HANG_UP = "brouillon enregistré à la coupure de la connexion"
DROPPED_NOTE = " ; non gardé : "


def dropped_deadline(typed: str) -> str:
    return f"la date limite de réponse « {cut(typed, 40)} », illisible"


@dataclass(frozen=True)
class KeptDraft:
    """A draft the app kept when the buyer's terminal went away."""

    reference: str  # the consultation's
    subject: str
    kept_at: datetime
    detail: str = KEPT_AT_HANG_UP  # the audit's, with what could not be kept

    @property
    def dropped(self) -> str:
        """What the app could not keep of the typing, in French; empty when all was kept."""
        return self.detail.partition(DROPPED_NOTE)[2]


@dataclass(frozen=True)
class DraftRecipient:
    email: str
    company_id: int | None = None
    contact_name: str | None = None


@dataclass(frozen=True)
class Override:
    """A rule the buyer chose to pass, with the written reason (kept in the audit log)."""

    rule: int
    reason: str


@dataclass(frozen=True)
class DraftRequest:
    consultation_id: int
    type: MessageType
    recipients: tuple[DraftRecipient, ...]
    lot_numbers: tuple[int, ...] = ()  # empty: "Tous les lots"
    subject: str | None = None  # None: the type's preset
    body: str | None = None
    overrides: tuple[Override, ...] = ()
    origin: str = ""  # which flow prepared it, for the audit log


@dataclass(frozen=True)
class DraftView:
    id: int
    type: MessageType
    subject: str
    recipients: tuple[str, ...]
    lots: tuple[str, ...]
    created_at: datetime
    author: str


def unique_recipients(recipients: Sequence[DraftRecipient]) -> tuple[DraftRecipient, ...]:
    """One recipient per address, whatever its case; the first occurrence wins."""
    seen: set[str] = set()
    unique = []
    for one in recipients:
        key = one.email.strip().casefold()
        if key not in seen:
            seen.add(key)
            unique.append(one)
    return tuple(unique)


def create_draft(store: Store, request: DraftRequest, *, actor: str) -> DraftView:
    """Store the draft, its lots, its held recipients and the audit rows, in one transaction."""
    preset = PRESETS[request.type]
    subject = request.subject if request.subject is not None else preset.subject
    body = request.body if request.body is not None else preset.body
    now = utc_now()
    recipients = unique_recipients(request.recipients)
    with store.engine.begin() as connection:
        # A draft is not sent: seeing the consultation is enough (the form's `send` sends it).
        authorize(connection, actor, Right.CONSULT, request.consultation_id)
        row = message_row(
            request.consultation_id,
            request.type,
            subject,
            body,
            send_mode=preset.send_mode,
            reply_allowed=preset.reply_allowed,
            all_lots=not request.lot_numbers,
            state=MessageState.DRAFT,
            reply_deadline=None,  # the form sets them, if the buyer wants one
            queued_at=None,
            mentions=None,
        )
        message_id = connection.execute(
            sa.insert(message).values(**row, author=actor, created_at=now).returning(message.c.id)
        ).scalar_one()
        link_lots(connection, message_id, request.consultation_id, request.lot_numbers)
        insert_recipients(
            connection,
            message_id,
            recipients,
            sender_domain(connection, request.consultation_id),
            now,
        )
        audit.append(
            connection,
            action="draft.create",
            actor=actor,
            at=now,
            consultation_id=request.consultation_id,
            message_id=message_id,
            detail=f"{request.type.label}, {len(recipients)} destinataire(s), {request.origin}",
            overrides=tuple(
                {"rule": o.rule, "override_reason": o.reason} for o in request.overrides
            ),
        )
        return _load_drafts(connection, request.consultation_id, message_id)[0]


def list_drafts(store: Store, consultation_id: int, *, actor: str) -> tuple[DraftView, ...]:
    """The consultation's drafts, for an `actor` who sees it (ConsultationNotFound otherwise,
    as for one that does not exist)."""
    with store.engine.connect() as connection:
        authorize_reading(connection, actor, consultation_id)
        return _load_drafts(connection, consultation_id)


def insert_recipients(
    connection: Connection,
    message_id: int,
    recipients: Sequence[DraftRecipient],
    domain: str,
    now: datetime,
) -> None:
    """Held recipients, each with its own secrets and its own stable Message-ID."""
    if recipients:
        connection.execute(
            sa.insert(recipient),
            [
                recipient_row(
                    message_id, r.email, r.company_id, r.contact_name, domain=domain, updated_at=now
                )
                for r in recipients
            ],
        )


def sender_domain(connection: Connection, consultation_id: int) -> str:
    sender = connection.execute(
        sa.select(purchasing_entity.c.sender_email)
        .join(consultation, consultation.c.entity_id == purchasing_entity.c.id)
        .where(consultation.c.id == consultation_id)
    ).scalar_one()
    return address_domain(sender)


def link_lots(
    connection: Connection, message_id: int, consultation_id: int, numbers: tuple[int, ...]
) -> None:
    """The message's lots, by number (none: "Tous les lots")."""
    if not numbers:
        return
    lot_ids = connection.execute(
        sa.select(lot.c.id).where(
            lot.c.consultation_id == consultation_id, lot.c.number.in_(numbers)
        )
    ).scalars()
    rows = [{"message_id": message_id, "lot_id": lot_id} for lot_id in lot_ids]
    if rows:
        connection.execute(sa.insert(message_lot), rows)


def _load_drafts(
    connection: Connection, consultation_id: int, message_id: int | None = None
) -> tuple[DraftView, ...]:
    query = (
        sa.select(message)
        .where(message.c.consultation_id == consultation_id, message.c.state == MessageState.DRAFT)
        .order_by(message.c.created_at.desc(), message.c.id.desc())
    )
    if message_id is not None:
        query = query.where(message.c.id == message_id)
    messages = connection.execute(query).all()
    ids = [m.id for m in messages]
    recipients: dict[int, list[str]] = {}
    for row in connection.execute(
        sa.select(recipient.c.message_id, recipient.c.email)
        .where(recipient.c.message_id.in_(ids))
        .order_by(recipient.c.id)
    ):
        recipients.setdefault(row.message_id, []).append(row.email)
    lots: dict[int, list[str]] = {}
    for lot_row in connection.execute(
        sa.select(message_lot.c.message_id, lot.c.number, lot.c.title)
        .join(lot, lot.c.id == message_lot.c.lot_id)
        .where(message_lot.c.message_id.in_(ids))
        .order_by(lot.c.number)
    ):
        lots.setdefault(lot_row.message_id, []).append(lot_label(lot_row.number, lot_row.title))
    return tuple(
        DraftView(
            id=m.id,
            type=MessageType(m.type),
            subject=m.subject,
            recipients=tuple(recipients.get(m.id, ())),
            lots=tuple(lots.get(m.id, ())) or ("Tous les lots",),
            created_at=m.created_at,
            author=m.author,
        )
        for m in messages
    )


def kept_at_hang_up(store: Store, *, actor: str) -> tuple[KeptDraft, ...]:
    """The drafts the app kept for `actor` when their terminal went away, and that nobody
    has saved, sent or deleted since (their latest audit entry, overrides aside, is still
    that one): what the next start tells them, oldest first."""
    latest = (
        sa.select(sa.func.max(audit_entry.c.id))
        .join(message, message.c.id == audit_entry.c.message_id)
        .where(message.c.state == MessageState.DRAFT, audit_entry.c.action != audit.OVERRIDE)
        .group_by(audit_entry.c.message_id)
    )
    query = (
        sa.select(
            consultation.c.reference, message.c.subject, audit_entry.c.at, audit_entry.c.detail
        )
        .join(message, message.c.id == audit_entry.c.message_id)
        .join(consultation, consultation.c.id == message.c.consultation_id)
        .where(
            audit_entry.c.id.in_(latest),
            audit_entry.c.actor == actor,
            audit_entry.c.detail.startswith(KEPT_AT_HANG_UP, autoescape=True),
        )
        .order_by(audit_entry.c.at, audit_entry.c.id)
    )
    with store.engine.connect() as connection:
        return tuple(KeptDraft(*row) for row in connection.execute(query))


def kept_notice(kept: Sequence[KeptDraft]) -> str:
    """What the buyer reads at the next start: which consultations, which subjects."""
    return kept_at_hang_up_notice(
        [f"{cut(k.reference, 30)} — « {cut(k.subject, 40)} » ({paris_minutes(k.kept_at)})"
         + (f", sans {k.dropped}" if k.dropped else "") for k in kept],
        ("le message en cours a été enregistré comme brouillon",
         "les messages en cours ont été enregistrés comme brouillons"),
        ("Reprenez-le dans « Brouillons de messages » (b) de la consultation.",
         "Reprenez-les dans « Brouillons de messages » (b) de chaque consultation."),
    )  # fmt: skip
