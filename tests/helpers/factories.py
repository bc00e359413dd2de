"""Small, explicit datasets for unit tests (the demo is for screens and end-to-end tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from messagerie.models.consultations.identity import ConsultationIdentity
from messagerie.models.consultations.identity_query import search_text_of
from messagerie.models.store.database import Store
from messagerie.models.store.enums import (
    ConsultationStatus,
    MessageType,
    Procedure,
    RegisterKind,
    SendMode,
)
from messagerie.models.store.tables import (
    Attachment,
    Company,
    Consultation,
    Document,
    Lot,
    Message,
    MessageLot,
    Organisation,
    PurchasingEntity,
    Recipient,
    RegisterEntry,
    table_of,
)

PARIS = ZoneInfo("Europe/Paris")


def paris(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def add_consultations(
    store: Store,
    rows: list[tuple[str, str, ConsultationStatus, datetime]],
    *,
    entity_name: str = "Direction de la commande publique",
    organisation_name: str = "Collectivité européenne d'Alsace",
) -> list[int]:
    """Insert consultations (reference, title, status, deadline) of one entity; return ids."""
    with store.engine.begin() as connection:
        organisation_id = connection.execute(
            insert(Organisation).values(name=organisation_name).returning(Organisation.id)
        ).scalar_one()
        entity_id = connection.execute(
            insert(PurchasingEntity)
            .values(
                organisation_id=organisation_id,
                name=entity_name,
                sender_email="marches@alsace.example",
                postal_address="1 place du Quartier Blanc, 67000 Strasbourg",
            )
            .returning(PurchasingEntity.id)
        ).scalar_one()
        ids = []
        for reference, title, status, deadline in rows:
            # The title is the object too.
            identity = ConsultationIdentity(reference, title, title, organisation_name, entity_name)
            values = {
                "reference": reference,
                "title": title,
                "object": title,
                "procedure": Procedure.OPEN_TENDER,
                "status": status,
                "bid_deadline": deadline,
                "entity_id": entity_id,
                "organisation_id": organisation_id,
                "search_text": search_text_of(identity),
            }
            ids.append(
                connection.execute(
                    insert(Consultation).values(values).returning(Consultation.id)
                ).scalar_one()
            )
    return ids


def add_lot(store: Store, consultation_id: int, number: int, title: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            insert(Lot).values(consultation_id=consultation_id, number=number, title=title)
        )


def add_register_entries(
    store: Store,
    consultation_id: int,
    kinds: list[RegisterKind],
    at: datetime,
    *,
    email: str = "jeanne.martin@nbc.example",
    company: tuple[str, str] = ("N.B.C. FR", "47646011800047"),
) -> None:
    """Entries of one company (name, SIRET) and contact address in the given registers."""
    with store.engine.begin() as connection:
        company_id = connection.execute(
            insert(Company)
            .values(
                name=company[0],
                siret=company[1],
                address="2 rue du Vignoble",
                postal_code="68000",
                city="Colmar",
            )
            .returning(Company.id)
        ).scalar_one()
        connection.execute(
            insert(RegisterEntry),
            [
                {
                    "consultation_id": consultation_id,
                    "kind": kind,
                    "company_id": company_id,
                    "contact_name": "Jeanne Martin",
                    "contact_email": email,
                    "at": at,
                }
                for kind in kinds
            ],
        )


def add_open_consultation(
    store: Store,
    identity: tuple[str, str],
    deadline: datetime,
    lots: dict[int, str],
    registered_at: datetime,
) -> int:
    """An open consultation (reference, title) with its lots (number → title), and N.B.C. FR
    in its three registers since `registered_at`; return its id."""
    reference, title = identity
    (consultation_id,) = add_consultations(
        store, [(reference, title, ConsultationStatus.OPEN, deadline)]
    )
    for number, lot_title in lots.items():
        add_lot(store, consultation_id, number, lot_title)
    add_register_entries(store, consultation_id, list(RegisterKind), registered_at)
    return consultation_id


@dataclass(frozen=True)
class QueuedView:
    """A queued message: what it says, to whom and with what, and how it goes."""

    type: MessageType
    subject: str
    mentions: dict[str, str]
    recipients: tuple[str, ...]
    lots: tuple[int, ...]
    attachments: tuple[str, ...]
    send_mode: SendMode
    reply_allowed: bool
    reply_deadline: datetime | None


def queued_messages(
    store: Store, consultation_id: int, author: str = "marie.dupont"
) -> list[QueuedView]:
    """The consultation's queued messages by `author` (the test's buyer; the demo has others),
    oldest first, as the outbox will see them."""
    message, recipient = table_of(Message), table_of(Recipient)
    message_lot, lot = table_of(MessageLot), table_of(Lot)
    attachment, document = table_of(Attachment), table_of(Document)
    views = []
    with store.engine.connect() as connection:
        for row in connection.execute(
            select(message)
            .where(
                message.c.consultation_id == consultation_id,
                message.c.state == "queued",
                message.c.author == author,
            )
            .order_by(message.c.id)
        ):

            def column(query, key, message_id=row.id):  # type: ignore[no-untyped-def]
                return tuple(connection.execute(query.where(key == message_id)).scalars())

            views.append(
                QueuedView(
                    type=MessageType(row.type),
                    subject=row.subject,
                    mentions=row.mentions or {},
                    recipients=column(
                        select(recipient.c.email)
                        .where(recipient.c.delivery_state == "queued")
                        .order_by(recipient.c.email),
                        recipient.c.message_id,
                    ),
                    lots=column(
                        select(lot.c.number).join(message_lot).order_by(lot.c.number),
                        message_lot.c.message_id,
                    ),
                    attachments=column(
                        select(document.c.filename).join(attachment), attachment.c.message_id
                    ),
                    send_mode=SendMode(row.send_mode),
                    reply_allowed=row.reply_allowed,
                    reply_deadline=row.reply_deadline,
                )
            )
    return views
