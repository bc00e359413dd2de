""" "La loupe": one message with everything the buyer may have to prove — its content and
lots, its attachments (size, SHA-256, antivirus verdict), every recipient with the full event
timeline, the replies with their files, and the overrides recorded for it.

Also the two actions taken from the tracking table: "Renvoyer" a non-delivered recipient,
and the CSV export of the filtered table.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from messagerie.models.atomic_write import write_whole, writing_beside
from messagerie.models.clock import utc_now
from messagerie.models.errors import Refusal, write_problem
from messagerie.models.formatting import paris_seconds
from messagerie.models.messages.ar import (
    ArEvent,
    ArFile,
    ArOverride,
    events_of,
    files_of,
    lots_of,
    overrides_of,
)
from messagerie.models.messages.drafts import sender_domain
from messagerie.models.messages.inbound import DkimCheck
from messagerie.models.messages.outbox import OutgoingMessage, load_outgoing
from messagerie.models.messages.queue import authorize_sending
from messagerie.models.messages.rows import recipient_row
from messagerie.models.messages.tracking import (
    PAGE,
    MessageNotFound,
    TrackingQuery,
    TrackingRow,
    message_consultation,
    replies_select,
    tracking_page,
)
from messagerie.models.rules.validation import ValidationFailed, check_email
from messagerie.models.store import audit
from messagerie.models.store.accounts import ConsultationNotFound, authorize_reading
from messagerie.models.store.chain import append_events
from messagerie.models.store.database import Store
from messagerie.models.store.documents import DocumentInfo, stored_documents
from messagerie.models.store.enums import (
    DeliveryState,
    DkimResult,
    EventKind,
    MessageType,
    RecipientStatus,
    ReplyDisposition,
)
from messagerie.models.store.locking import lock_rows
from messagerie.models.store.rows import from_row
from messagerie.models.store.tables import (
    account,
    company,
    message,
    recipient,
    reply,
    reply_attachment,
)
from messagerie.models.text import spreadsheet_cell


class ResendRefused(Refusal):
    """Why a recipient cannot be sent again (French)."""


@dataclass(frozen=True)
class RecipientDetail:
    id: int
    email: str
    company: str | None
    status: RecipientStatus
    resent_from_id: int | None
    events: tuple[ArEvent, ...]


@dataclass(frozen=True)
class ReplyDetail:
    id: int
    recipient_id: int
    received_at: datetime
    disposition: ReplyDisposition
    body: str
    read_at: datetime | None
    files: tuple[DocumentInfo, ...]
    sender: str | None = None  # the address an e-mailed reply says it is from
    dkim: DkimCheck | None = None  # its signature, checked at its arrival (e-mail)


def reply_detail(row: Any, files: tuple[DocumentInfo, ...]) -> ReplyDetail:
    """A reply row (its table's columns) as the screens and the bundle read it."""
    dkim = DkimCheck(DkimResult(row.dkim), row.dkim_domain) if row.dkim is not None else None
    disposition = ReplyDisposition(row.disposition)
    return from_row(ReplyDetail, row, disposition=disposition, files=files, dkim=dkim)


@dataclass(frozen=True)
class MessageDetail:
    message: OutgoingMessage
    author: str
    queued_at: datetime | None
    lots: tuple[str, ...]
    files: tuple[ArFile, ...]
    recipients: tuple[RecipientDetail, ...]
    replies: tuple[ReplyDetail, ...]
    overrides: tuple[ArOverride, ...]


def message_detail(store: Store, message_id: int, *, actor: str) -> MessageDetail:
    """The message, for an `actor` who sees its consultation: MessageNotFound otherwise, as
    for a message that does not exist."""
    with store.engine.connect() as connection:
        authorize_reading(connection, actor, message_consultation(message_id),
                          missing=MessageNotFound.numbered(message_id))  # fmt: skip
    return load_message_detail(store, message_id)


def load_message_detail(store: Store, message_id: int) -> MessageDetail:
    """`message_detail` for a caller that checked the account already (the proof bundle)."""
    outgoing = load_outgoing(store, message_id)
    with store.engine.connect() as connection:
        author, queued_at = connection.execute(
            sa.select(message.c.author, message.c.queued_at).where(message.c.id == message_id)
        ).one()
        lots = lots_of(connection, message_id)
        rows = connection.execute(
            sa.select(
                recipient.c.id,
                recipient.c.email,
                company.c.name.label("company"),
                recipient.c.status,
                recipient.c.resent_from_id,
            )
            .outerjoin(company, company.c.id == recipient.c.company_id)
            .where(
                recipient.c.message_id == message_id,
                recipient.c.delivery_state != DeliveryState.HELD,
            )
            .order_by(recipient.c.id)
        ).all()
        recipients = tuple(
            from_row(
                RecipientDetail,
                row,
                status=RecipientStatus(row.status),
                events=events_of(connection, row.id),
            )
            for row in rows
        )
        replies = connection.execute(replies_select([r.id for r in recipients])).all()
        reply_files: dict[int, list[int]] = {}
        for reply_id, document_id in connection.execute(
            sa.select(reply_attachment.c.reply_id, reply_attachment.c.document_id).where(
                reply_attachment.c.reply_id.in_([r.id for r in replies])
            )
        ):
            reply_files.setdefault(reply_id, []).append(document_id)
        reply_documents = {
            reply_id: stored_documents(connection, ids) for reply_id, ids in reply_files.items()
        }
        files = files_of(connection, message_id)
        overrides = overrides_of(connection, message_id)
    return MessageDetail(
        message=outgoing,
        author=author,
        queued_at=queued_at,
        lots=lots,
        files=files,
        recipients=recipients,
        replies=tuple(reply_detail(r, reply_documents.get(r.id, ())) for r in replies),
        overrides=overrides,
    )


@dataclass(frozen=True)
class ReplyView:
    reply: ReplyDetail
    email: str
    company: str | None
    subject: str


def open_reply(store: Store, reply_id: int, *, actor: str) -> ReplyView:
    """A reply as the buyer opens it: marked read ("Réponse lue" once all are read). A
    support account reads every organisation's without a trace on their status: its buyers
    would take the reply for read by one of them."""
    from messagerie.models.messages.tracking import mark_reply_read

    its_consultation = (
        sa.select(message.c.consultation_id)
        .join(recipient, recipient.c.message_id == message.c.id)
        .join(reply, reply.c.recipient_id == recipient.c.id)
        .where(reply.c.id == reply_id)
        .scalar_subquery()
    )
    with store.engine.connect() as connection:  # only a reply of a consultation it sees
        # Another organisation's reply reads as a missing one (not naming its consultation).
        missing = Refusal(f"La réponse n°{reply_id} est introuvable.")
        authorize_reading(connection, actor, its_consultation, missing=missing)
        support = connection.execute(
            sa.select(account.c.support).where(account.c.login == actor)
        ).scalar()
    if not support:
        mark_reply_read(store, reply_id)
    with store.engine.connect() as connection:
        row = connection.execute(
            sa.select(reply, recipient.c.email, company.c.name, message.c.subject)
            .join(recipient, recipient.c.id == reply.c.recipient_id)
            .join(message, message.c.id == recipient.c.message_id)
            .outerjoin(company, company.c.id == recipient.c.company_id)
            .where(reply.c.id == reply_id)
        ).one()
        document_ids = list(
            connection.execute(
                sa.select(reply_attachment.c.document_id).where(
                    reply_attachment.c.reply_id == reply_id
                )
            ).scalars()
        )
        documents = stored_documents(connection, document_ids)  # its consultation: checked
    return ReplyView(reply_detail(row, documents), row.email, row.name, row.subject)


def save_files(store: Store, files: tuple[DocumentInfo, ...], folder: Path) -> list[Path]:
    """Copy documents out of the store into `folder`, each whole, never over an existing
    file: « nom (2).pdf » when « nom.pdf » is there."""
    if not folder.is_dir():
        raise Refusal(f"Le dossier « {folder} » n'existe pas.")
    return [_save_new_file(folder, info.filename, store.blobs.read(info.sha256)) for info in files]


def _save_new_file(folder: Path, filename: str, data: bytes) -> Path:
    first = folder / Path(filename).name
    target, number = first, 1
    while True:
        try:
            write_whole(target, data, overwrite=False)
            return target
        except FileExistsError:
            number += 1
            target = folder / f"{first.stem} ({number}){first.suffix}"
        except OSError as error:
            raise Refusal(write_problem(target, error)) from error


# --- Renvoyer ---------------------------------------------------------------------------------


def resend(store: Store, recipient_id: int, *, actor: str, email: str | None = None) -> int:
    """Send a non-delivered recipient again, to the same address or to a corrected one.

    The failure is kept: the same address is queued again on its own row (its events keep
    every attempt); a corrected address gets a new row linked to the failed one. Returns the
    id of the row that will be sent."""
    now = utc_now()
    with store.engine.begin() as connection:
        lock_rows(connection, recipient, recipient.c.id == recipient_id)  # one Renvoi at a time
        failed = connection.execute(
            sa.select(recipient, message.c.consultation_id, message.c.type)
            .join(message, message.c.id == recipient.c.message_id)
            .where(recipient.c.id == recipient_id)
        ).first()
        missing = ResendRefused(f"Destinataire n° {recipient_id} introuvable.")
        if failed is None:
            raise missing
        try:
            authorize_sending(connection, actor, failed.consultation_id, MessageType(failed.type))
        except ConsultationNotFound:  # another organisation's: as one that does not exist
            raise missing from None
        if failed.status != RecipientStatus.NOT_DELIVERED:
            raise ResendRefused(
                f"« {failed.email} » est au statut « {RecipientStatus(failed.status).label} » : "
                "seul un message non délivré peut être renvoyé."
            )
        corrected = _corrected(email, failed.email)
        if corrected is None:
            connection.execute(
                sa.update(recipient)
                .where(recipient.c.id == recipient_id)
                .values(
                    delivery_state=DeliveryState.QUEUED,
                    status=RecipientStatus.PENDING,
                    attempts=0,
                    next_attempt_at=None,
                    updated_at=now,
                )
            )
            target = recipient_id
        else:
            taken = connection.execute(
                sa.select(recipient.c.id).where(
                    recipient.c.message_id == failed.message_id,
                    sa.func.lower(recipient.c.email) == corrected.lower(),
                )
            ).first()
            if taken is not None:
                raise ResendRefused(f"« {corrected} » est déjà destinataire de ce message.")
            copy = recipient_row(
                failed.message_id,
                corrected,
                failed.company_id,
                failed.contact_name,
                domain=sender_domain(connection, failed.consultation_id),
                updated_at=now,
                delivery_state=DeliveryState.QUEUED,
            )
            target = connection.execute(
                sa.insert(recipient)
                .values(**copy, resent_from_id=recipient_id)
                .returning(recipient.c.id)
            ).scalar_one()
        detail = f"Renvoi demandé par {actor}" + (f" à « {corrected} »" if corrected else "")
        append_events(
            connection,
            [{"recipient_id": recipient_id, "kind": EventKind.RETRY, "at": now, "detail": detail}],
        )
        audit.append(
            connection,
            action="message.resend",
            actor=actor,
            at=now,
            consultation_id=failed.consultation_id,
            message_id=failed.message_id,
            detail=detail,
        )
    return target


def _corrected(typed: str | None, failed: str) -> str | None:
    """The corrected address, or None to resend to the same one."""
    if typed is None or typed.strip().lower() == failed.lower():
        return None
    try:
        return check_email(typed, field="email")
    except ValidationFailed as problem:
        raise ResendRefused(str(problem)) from None


# --- Exporter (CSV) ---------------------------------------------------------------------------

CSV_HEADER = (
    "Référence",
    "Type de message",
    "Objet",
    "Destinataire",
    "Entreprise",
    "Statut",
    "E",
    "D",
    "Non délivré",
    "L",
    "R",
    "Date limite de réponse",
)


def csv_lines(row: TrackingRow) -> list[str]:
    def when(moment: datetime | None) -> str:
        return paris_seconds(moment) if moment else ""

    return [
        spreadsheet_cell(row.reference),
        row.type.label,
        spreadsheet_cell(row.subject),
        spreadsheet_cell(row.email),
        spreadsheet_cell(row.company or ""),
        row.status.label,
        when(row.sent_at),
        when(row.delivered_at),
        when(row.not_delivered_at),
        when(row.read_at),
        when(row.replied_at),
        when(row.reply_deadline),
    ]


def matching_rows(store: Store, query: TrackingQuery) -> Iterator[TrackingRow]:
    """Every row the filters keep, newest first, read page by page."""
    before = None
    while page := tracking_page(store, query, before=before, limit=PAGE * 10):
        yield from page
        before = page[-1].recipient_id


def export_csv(store: Store, query: TrackingQuery, path: Path) -> int:
    """Write the filtered table to `path` (UTF-8 with BOM and ";" for spreadsheet software
    set to French); returns the number of rows. Written whole or not at all."""
    count = 0
    try:
        with (
            writing_beside(path) as partial,
            partial.open("w", encoding="utf-8-sig", newline="") as handle,
        ):
            writer = csv.writer(handle, delimiter=";")
            writer.writerow(CSV_HEADER)
            for row in matching_rows(store, query):
                writer.writerow(csv_lines(row))
                count += 1
    except OSError as error:
        raise Refusal(write_problem(path, error)) from error
    return count
