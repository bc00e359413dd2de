"""The proof bundle of one consultation, on the store's side: what goes into the zip, in order.

`bundle_items` yields the bundle's entries one at a time (one message after the other), so
that a consultation with thousands of messages never sits in memory at once. Each entry is a
JSON document ready to be written, a stored file named by its SHA-256, or a recipient whose
AR may be drawn up; `letters.bundle` turns them into bytes and writes the zip. Each
recipient of a message.json carries its events with their hashes and its chain's head
(models/store/chain.py), so that `verify` can recompute the chain from the bundle alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from messagerie.models.consultations.dce import PieceView, dce_versions, deadline_changes
from messagerie.models.consultations.detail import consultation_detail
from messagerie.models.consultations.registers import RegisterRow, register_page
from messagerie.models.formatting import as_utc
from messagerie.models.messages.ar import ArFile
from messagerie.models.messages.detail import ReplyDetail, load_message_detail
from messagerie.models.store.accounts import (
    Account,
    ConsultationAmbiguous,
    ConsultationNotFound,
    require,
    visible_consultations,
)
from messagerie.models.store.database import Store, store_identity
from messagerie.models.store.documents import DocumentInfo
from messagerie.models.store.enums import (
    DeliveryState,
    MessageState,
    RegisterKind,
    Right,
    SendMode,
)
from messagerie.models.store.tables import (
    attachment,
    audit_entry,
    consultation,
    event,
    message,
    recipient,
)
from messagerie.models.store.tables import organisation as organisation_table
from messagerie.models.timestamp import Stamp

REGISTER_PAGE = 500  # rows read per query when copying a register
_File = TypeVar("_File", ArFile, DocumentInfo)


@dataclass(frozen=True)
class JsonItem:
    path: str
    content: Any  # dicts, lists, str, int, bool, None only: json.dumps takes it as it is


@dataclass(frozen=True)
class StoredFileItem:
    path: str
    sha256: str  # the blob in the store's documents folder


@dataclass(frozen=True)
class ArItem:
    """A recipient of a message sent "avec AR": its AR is written only if `ar_data` has one."""

    path: str
    recipient_id: int


BundleItem = JsonItem | StoredFileItem | ArItem


@dataclass(frozen=True)
class ManifestSignature:
    """What the manifest's signature says, as `verify` reports it (letters/pdf/bundle.py
    checks it): who signed, which certificate exactly, when, and whether it is the
    platform's."""

    signer: str  # the certificate's subject, "CN=…,O=…"
    fingerprint: str  # SHA-256 of the signer's certificate, "AB:CD:…"
    signed_at: datetime | None  # the signer's own clock
    intact: bool  # the manifest is the one that was signed
    expected: str | None  # fingerprint of the platform's certificate; None: none to compare
    stamp: Stamp | None = None  # its RFC 3161 timestamp

    @property
    def authentic(self) -> bool:
        return self.intact and self.expected == self.fingerprint


def find_consultation(
    store: Store,
    reference: str,
    account: Account | None = None,
    *,
    organisation: str | None = None,
    right: Right = Right.EXPORT,
) -> int:
    """The id of the consultation named `reference` (in `organisation`, when given: a
    reference is unique in its organisation only), for `account` (None: a store without
    accounts) with `right` (to export, by default); a French refusal naming it otherwise,
    the same for a consultation `account` does not see as for one that does not exist, and
    ConsultationAmbiguous naming the organisations (among those it sees) to choose from."""
    require(account, right)
    query = (
        sa.select(consultation.c.id, organisation_table.c.name)
        .join(organisation_table, organisation_table.c.id == consultation.c.organisation_id)
        .where(consultation.c.reference == reference, visible_consultations(account))
    )
    if organisation is not None:
        query = query.where(organisation_table.c.name == organisation)
    with store.engine.connect() as connection:
        found = connection.execute(query.order_by(organisation_table.c.name)).all()
    if not found:
        where = f" dans l'organisation « {organisation} »" if organisation is not None else ""
        raise ConsultationNotFound(f"Aucune consultation n'a la référence « {reference} »{where}.")
    if len(found) > 1:
        names = " ; ".join(f"« {name} »" for _, name in found)
        raise ConsultationAmbiguous(
            f"La référence « {reference} » est celle d'une consultation de chacune de ces "
            f"organisations : {names}. Précisez laquelle (--organisation NOM)."
        )
    return found[0].id


def check_verifiable(
    store: Store,
    reference: str | None,
    origin: str | None,
    account: Account | None,
    organisation: str | None = None,
) -> None:
    """Refuse to verify, for `account`, a bundle this store exported (its manifest names this
    store: `origin`) of a consultation the account does not see — another organisation's, or
    one that is not here: « introuvable », both alike, as `export` says. A bundle of another
    store (another platform, or exported before bundles named their store) proves itself by
    its file alone, and this store is not consulted about it: whatever its reference, the
    answer tells nothing of this store's consultations."""
    if account is None or origin is None or origin != store_identity(store):
        return
    try:
        find_consultation(
            store, reference or "", account, organisation=organisation, right=Right.CONSULT
        )
    except ConsultationAmbiguous:
        return  # one it sees at least


def bundle_items(store: Store, consultation_id: int) -> Iterator[BundleItem]:
    """Every entry of the bundle but the manifest, in a stable order."""
    yield JsonItem("consultation.json", consultation_record(store, consultation_id))
    for message_id in sent_message_ids(store, consultation_id):
        yield from message_items(store, message_id)
    yield from dce_items(store, consultation_id)
    yield JsonItem("registers.json", registers_record(store, consultation_id))
    yield JsonItem("audit.json", audit_record(store, consultation_id))


def utc_iso(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment else None


# --- The consultation ----------------------------------------------------------------------


def consultation_record(store: Store, consultation_id: int) -> dict[str, Any]:
    detail = consultation_detail(store, consultation_id)  # find_consultation checked the account
    with store.engine.connect() as connection:
        changes = deadline_changes(connection, consultation_id)
    identity = detail.identity
    return {
        "reference": identity.reference,
        "title": identity.title,
        "object": identity.object,
        "procedure": detail.procedure,
        "status": detail.status,
        "bid_deadline": utc_iso(detail.bid_deadline),
        "urgent": detail.urgent,
        "organisation": identity.organisation,
        "entity": identity.entity,
        "sender_email": detail.sender_email,
        "lots": [{"number": number, "title": title} for number, title in detail.lots],
        "parent": detail.parent.reference if detail.parent else None,
        "suites": [suite.reference for suite in detail.suites],
        "bid_deadline_changes": [
            {
                "previous_deadline": utc_iso(change.previous_deadline),
                "new_deadline": utc_iso(change.new_deadline),
                "reason": change.reason,
                "at": utc_iso(change.at),
                "author": change.author,
            }
            for change in reversed(changes)
        ],
    }


# --- Messages ------------------------------------------------------------------------------


def sent_message_ids(store: Store, consultation_id: int) -> list[int]:
    """The consultation's messages that left the buyer's hands (drafts prove nothing)."""
    with store.engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(message.c.id)
                .where(
                    message.c.consultation_id == consultation_id,
                    message.c.state != MessageState.DRAFT,
                )
                .order_by(message.c.id)
            ).scalars()
        )


def ar_count(store: Store, consultation_id: int) -> int:
    """How many ARs the bundle holds: the recipients who opened (L) a message of the
    consultation sent "avec AR" (`ar_data`'s conditions), so that an export can tell how far
    it has got."""
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count())
            .select_from(recipient)
            .join(message, message.c.id == recipient.c.message_id)
            .where(
                message.c.consultation_id == consultation_id,
                message.c.state != MessageState.DRAFT,
                message.c.send_mode == SendMode.WITH_AR,
                recipient.c.delivery_state != DeliveryState.HELD,
                recipient.c.read_at.is_not(None),
            )
        ).scalar_one()


def message_items(store: Store, message_id: int) -> Iterator[BundleItem]:
    """messages/<id>/: message.json, then the attachments, the replies' files and the ARs."""
    detail = load_message_detail(store, message_id)  # find_consultation checked the account
    folder = f"messages/{message_id}"
    owners = _personal_attachment_owners(store, message_id)
    attachments = _placed(f"{folder}/attachments", detail.files)
    replies = [
        (reply, _placed(f"{folder}/replies/{reply.id}", reply.files)) for reply in detail.replies
    ]
    outgoing = detail.message
    chains = chained_events(store, message_id)
    yield JsonItem(
        f"{folder}/message.json",
        {
            "id": message_id,
            "type": outgoing.type,
            "subject": outgoing.subject,
            "body": outgoing.body,
            "send_mode": outgoing.send_mode,
            "reply_allowed": outgoing.reply_allowed,
            "reply_deadline": utc_iso(outgoing.reply_deadline),
            "mentions": outgoing.mentions,
            "lots": list(detail.lots),
            "author": detail.author,
            "queued_at": utc_iso(detail.queued_at),
            "attachments": [
                {**_file_record(file, path), "recipient_id": owners.get(file.id)}
                for file, path in attachments
            ],
            "recipients": [
                {
                    "id": recipient.id,
                    "email": recipient.email,
                    "company": recipient.company,
                    "status": recipient.status,
                    "resent_from_id": recipient.resent_from_id,
                    # The chain (models/store/chain.py): `verify` recomputes it up to this head.
                    "chain_head": chains.get(recipient.id, (None, []))[0],
                    "events": chains.get(recipient.id, (None, []))[1],
                }
                for recipient in detail.recipients
            ],
            "replies": [_reply_record(reply, files) for reply, files in replies],
            "overrides": [
                {
                    "at": utc_iso(override.at),
                    "actor": override.actor,
                    "action": override.action,
                    "rule": override.rule,
                    "reason": override.reason,
                }
                for override in detail.overrides
            ],
        },
    )
    for file, path in attachments:
        yield StoredFileItem(path, file.sha256)
    for _, files in replies:
        for document, path in files:
            yield StoredFileItem(path, document.sha256)
    if outgoing.send_mode is SendMode.WITH_AR:
        for recipient in detail.recipients:
            yield ArItem(f"{folder}/ar/AR-{recipient.id}.pdf", recipient.id)


def _personal_attachment_owners(store: Store, message_id: int) -> dict[int, int]:
    """Attachment id → the recipient whose copy alone carries it (a personalised letter)."""
    with store.engine.connect() as connection:
        return dict(
            connection.execute(
                sa.select(attachment.c.id, attachment.c.recipient_id).where(
                    attachment.c.message_id == message_id, attachment.c.recipient_id.is_not(None)
                )
            ).all()
        )


def chained_events(store: Store, message_id: int) -> dict[int, tuple[str | None, list[Any]]]:
    """Recipient id → its chain's head and its events, in time order as the AR lists them,
    each with the hash of the one before it in the chain and its own."""
    with store.snapshot() as connection:  # the heads and the events as of one moment
        heads = connection.execute(
            sa.select(recipient.c.id, recipient.c.chain_head).where(
                recipient.c.message_id == message_id
            )
        ).all()
        rows = connection.execute(
            sa.select(event)
            .join(recipient, recipient.c.id == event.c.recipient_id)
            .where(recipient.c.message_id == message_id)
            .order_by(event.c.recipient_id, event.c.at, event.c.id)
        ).all()
    chains: dict[int, tuple[str | None, list[Any]]] = {rid: (head, []) for rid, head in heads}
    for row in rows:
        chains[row.recipient_id][1].append(_event_record(row))
    return chains


def _event_record(row: sa.Row) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "at": utc_iso(row.at),
        "detail": row.detail,
        "client_address": row.client_address,
        "user_agent": row.user_agent,
        "previous_hash": row.previous_hash,
        "hash": row.hash,
    }


def _reply_record(reply: ReplyDetail, files: list[tuple[DocumentInfo, str]]) -> dict[str, Any]:
    return {
        "id": reply.id,
        "recipient_id": reply.recipient_id,
        "received_at": utc_iso(reply.received_at),
        "disposition": reply.disposition,
        "body": reply.body,
        "read_at": utc_iso(reply.read_at),
        "sender": reply.sender,
        "dkim": reply.dkim.result if reply.dkim else None,
        "dkim_domain": reply.dkim.domain if reply.dkim else None,
        "files": [_file_record(document, path) for document, path in files],
    }


def _file_record(file: ArFile | DocumentInfo, path: str) -> dict[str, Any]:
    return {
        "filename": file.filename,
        "path": path,
        "size": file.size,
        "sha256": file.sha256,
        "media_type": file.media_type,
        "antivirus": file.antivirus,
    }


def _placed(folder: str, files: tuple[_File, ...]) -> list[tuple[_File, str]]:
    """Each file with its path in `folder`; two files of the same name get "name (2).ext"."""
    taken: set[str] = set()
    placed = []
    for file in files:
        name = safe_name(file.filename)
        stem, dot, suffix = name.rpartition(".")
        if not stem:
            stem, dot, suffix = name, "", ""
        number = 1
        while name.casefold() in taken:  # case-blind: Windows and macOS unpack it too
            number += 1
            name = f"{stem} ({number}){dot}{suffix}"
        taken.add(name.casefold())
        placed.append((file, f"{folder}/{name}"))
    return placed


def safe_name(filename: str) -> str:
    """A file name that stays in its folder when the zip is unpacked."""
    name = filename.replace("/", "_").replace("\\", "_").strip()
    return "fichier" if name in ("", ".", "..") else name


# --- DCE, registers, audit log -------------------------------------------------------------


def dce_items(store: Store, consultation_id: int) -> Iterator[BundleItem]:
    """dce/history.json, then dce/v<n>/<piece> for every version, oldest first."""
    with store.engine.connect() as connection:  # find_consultation checked the account
        versions = tuple(reversed(dce_versions(connection, consultation_id)))
    files = [
        [(piece, f"dce/v{version.number}/{safe_path(piece.path)}") for piece in version.pieces]
        for version in versions
    ]
    yield JsonItem(
        "dce/history.json",
        [
            {
                "number": version.number,
                "created_at": utc_iso(version.created_at),
                "author": version.author,
                "comment": version.comment,
                "pieces": [_piece_record(piece, path) for piece, path in pieces],
            }
            for version, pieces in zip(versions, files, strict=True)
        ],
    )
    for pieces in files:
        for piece, path in pieces:
            yield StoredFileItem(path, piece.sha256)


def _piece_record(piece: PieceView, path: str | None) -> dict[str, Any]:
    """A piece; the files inside a zip piece are listed (with their hashes), not copied."""
    return {
        "path": piece.path,
        "file": path,
        "size": piece.size,
        "sha256": piece.sha256,
        "media_type": piece.media_type,
        "children": [_piece_record(child, None) for child in piece.children],
    }


def safe_path(path: str) -> str:
    """A piece's path without a leading "/" nor ".." parts."""
    parts = [part for part in path.replace("\\", "/").split("/") if part not in ("", ".", "..")]
    return "/".join(parts) or "fichier"


def registers_record(store: Store, consultation_id: int) -> dict[str, list[dict[str, Any]]]:
    return {
        kind.value: [_register_record(row) for row in register_rows(store, consultation_id, kind)]
        for kind in RegisterKind
    }


def register_rows(store: Store, consultation_id: int, kind: RegisterKind) -> Iterator[RegisterRow]:
    """Every row of one register, in the register's order, read page by page."""
    page, page_count = 1, 1
    while page <= page_count:
        with store.engine.connect() as connection:  # find_consultation checked the account
            result = register_page(
                connection, consultation_id, kind, page=page, per_page=REGISTER_PAGE
            )
        yield from result.rows
        page, page_count = page + 1, result.page_count


def _register_record(row: RegisterRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "number": row.number,
        "at": utc_iso(row.at),
        "company": row.company_name,
        "siret": row.siret,
        "contact_name": row.contact_name,
        "contact_email": row.contact_email,
        "lots": list(row.lots),
        "question": row.question_text,
    }


def audit_record(store: Store, consultation_id: int) -> list[dict[str, Any]]:
    """The audit log entries of the consultation and of its messages, in time order."""
    its_messages = sa.select(message.c.id).where(message.c.consultation_id == consultation_id)
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(audit_entry)
            .where(
                sa.or_(
                    audit_entry.c.consultation_id == consultation_id,
                    audit_entry.c.message_id.in_(its_messages),
                )
            )
            .order_by(audit_entry.c.at, audit_entry.c.id)
        ).all()
    return [
        {
            "id": row.id,
            "at": utc_iso(row.at),
            "actor": row.actor,
            "action": row.action,
            "message_id": row.message_id,
            "rule": row.rule,
            "override_reason": row.override_reason,
            "detail": row.detail,
        }
        for row in rows
    ]
