"""Small, explicit datasets for unit tests (the demo is for screens and end-to-end tests)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from models.enums import ConsultationStatus, Procedure, RegisterKind
from models.store import Store
from models.tables import (
    Company,
    Consultation,
    Lot,
    Organisation,
    PurchasingEntity,
    RegisterEntry,
)
from models.text import search_text

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
            ids.append(
                connection.execute(
                    insert(Consultation)
                    .values(
                        reference=reference,
                        title=title,
                        object=title,
                        procedure=Procedure.OPEN_TENDER,
                        status=status,
                        bid_deadline=deadline,
                        entity_id=entity_id,
                        search_text=search_text(
                            reference, title, title, entity_name, organisation_name
                        ),
                    )
                    .returning(Consultation.id)
                ).scalar_one()
            )
    return ids


def add_lot(store: Store, consultation_id: int, number: int, title: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(
            insert(Lot).values(consultation_id=consultation_id, number=number, title=title)
        )


def add_register_entries(
    store: Store, consultation_id: int, kinds: list[RegisterKind], at: datetime
) -> None:
    with store.engine.begin() as connection:
        company_id = connection.execute(
            insert(Company)
            .values(
                name="N.B.C. FR",
                siret="47646011800047",
                address="2 rue du Vignoble",
                postal_code="68000",
                city="Colmar",
            )
            .returning(Company.id)
        ).scalar_one()
        connection.execute(
            insert(RegisterEntry),
            [
                dict(
                    consultation_id=consultation_id,
                    kind=kind,
                    company_id=company_id,
                    contact_name="Jeanne Martin",
                    contact_email="jeanne.martin@nbc.example",
                    at=at,
                )
                for kind in kinds
            ],
        )
