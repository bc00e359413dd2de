"""One consultation as the "Détails" screen shows it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from messagerie.models.consultations.identity import ConsultationIdentity
from messagerie.models.consultations.identity_query import identity_of, with_publisher
from messagerie.models.store.accounts import (
    Account,
    ConsultationNotFound,
    visible_consultations,
)
from messagerie.models.store.database import Store
from messagerie.models.store.enums import ConsultationStatus, Procedure, RegisterKind
from messagerie.models.store.locking import lock_rows
from messagerie.models.store.tables import (
    consultation,
    lot,
    purchasing_entity,
    register_entry,
    suite_candidate,
)


def lock_consultation(connection: sa.Connection, consultation_id: int) -> None:
    """Hold the consultation's row until the transaction ends, so that concurrent changes to
    it (question numbers, DCE versions, deadline, letters queued) queue instead of colliding."""
    if not lock_rows(connection, consultation, consultation.c.id == consultation_id):
        raise ConsultationNotFound.numbered(consultation_id)


def register_counts(connection: sa.Connection, consultation_id: int) -> dict[RegisterKind, int]:
    """How many retraits, questions and dépôts the consultation has."""
    counts = dict.fromkeys(RegisterKind, 0)
    for kind, number in connection.execute(
        sa.select(register_entry.c.kind, sa.func.count())
        .where(register_entry.c.consultation_id == consultation_id)
        .group_by(register_entry.c.kind)
    ):
        counts[RegisterKind(kind)] = number
    return counts


@dataclass(frozen=True)
class ConsultationRef:
    id: int
    reference: str
    title: str


@dataclass(frozen=True)
class ConsultationDetail:
    id: int
    identity: ConsultationIdentity  # reference, title, object, organisation, entity
    procedure: Procedure
    status: ConsultationStatus
    bid_deadline: datetime
    urgent: bool
    sender_email: str
    lots: tuple[tuple[int, str], ...]
    counts: dict[RegisterKind, int]
    parent: ConsultationRef | None
    suites: tuple[ConsultationRef, ...]
    access_code: str | None
    candidates: int  # suites only: candidates admitted

    @property
    def candidatures(self) -> bool:
        """A restricted procedure's first stage: its dépôts are candidatures (its suite
        receives the offers), and its rejection letters reject candidatures."""
        return self.procedure.restricted and self.parent is None

    @property
    def restricted(self) -> bool:
        """Restricted consultations and suites: the only ones invited to tender."""
        return self.procedure.restricted or self.parent is not None


def consultation_detail(
    store: Store, consultation_id: int, account: Account | None = None
) -> ConsultationDetail:
    """The consultation as `account` may see it (None: a store without accounts);
    ConsultationNotFound when it does not exist or belongs to what `account` does not see."""
    visible = visible_consultations(account)
    with store.engine.connect() as connection:
        row = connection.execute(
            with_publisher(purchasing_entity.c.sender_email).where(
                consultation.c.id == consultation_id, visible
            )
        ).first()
        if row is None:
            raise ConsultationNotFound.numbered(consultation_id)
        lots = tuple(
            (row.number, row.title)
            for row in connection.execute(
                sa.select(lot.c.number, lot.c.title)
                .where(lot.c.consultation_id == consultation_id)
                .order_by(lot.c.number)
            )
        )
        counts = register_counts(connection, consultation_id)
        references = sa.select(
            consultation.c.id, consultation.c.reference, consultation.c.title
        ).where(visible)
        parent = (
            connection.execute(references.where(consultation.c.id == row.parent_id)).first()
            if row.parent_id
            else None
        )
        suites = connection.execute(
            references.where(consultation.c.parent_id == consultation_id).order_by(
                consultation.c.id
            )
        ).all()
        candidates = connection.execute(
            sa.select(sa.func.count()).where(suite_candidate.c.consultation_id == consultation_id)
        ).scalar_one()
    return ConsultationDetail(
        id=row.id,
        identity=identity_of(row),
        procedure=Procedure(row.procedure),
        status=ConsultationStatus(row.status),
        bid_deadline=row.bid_deadline,
        urgent=row.urgent,
        sender_email=row.sender_email,
        lots=lots,
        counts=counts,
        parent=ConsultationRef(*parent) if parent else None,
        suites=tuple(ConsultationRef(*suite) for suite in suites),
        access_code=row.access_code,
        candidates=candidates,
    )
