"""The dashboard ("tableau de bord") query: search, status counts and one page of results."""

from __future__ import annotations

import math

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from messagerie.models.consultations.identity_query import (
    IDENTITY_COLUMNS,
    identity_of,
    joined_to_publisher,
)
from messagerie.models.consultations.views import ConsultationSummary, DashboardPage, DashboardQuery
from messagerie.models.formatting import lot_label
from messagerie.models.store.accounts import Account, visible_consultations
from messagerie.models.store.database import Store
from messagerie.models.store.enums import ConsultationStatus, Procedure, RegisterKind
from messagerie.models.store.tables import consultation, lot, register_entry
from messagerie.models.text import words_condition


def dashboard_page(
    store: Store, query: DashboardQuery, account: Account | None = None
) -> DashboardPage:
    """One page of the tableau de bord, with the status counts of the search, among the
    consultations `account` sees (None: every one, a store without accounts)."""
    with store.engine.connect() as connection:
        return load_dashboard(connection, query, account)


def load_dashboard(
    connection: Connection, query: DashboardQuery, account: Account | None = None
) -> DashboardPage:
    text_condition = sa.and_(
        visible_consultations(account), words_condition(consultation.c.search_text, query.text)
    )
    counts = dict.fromkeys(ConsultationStatus, 0)
    for status, number in connection.execute(
        sa.select(consultation.c.status, sa.func.count())
        .where(text_condition)
        .group_by(consultation.c.status)
    ):
        counts[ConsultationStatus(status)] = number
    total = counts[query.status] if query.status else sum(counts.values())
    page_count = max(1, math.ceil(total / query.per_page))
    query = query.but(page=min(max(query.page, 1), page_count))

    condition = text_condition
    if query.status:
        condition = sa.and_(condition, consultation.c.status == query.status.value)
    columns = (consultation.c.status, consultation.c.procedure, consultation.c.bid_deadline)
    rows = connection.execute(
        joined_to_publisher(sa.select(consultation.c.id, *IDENTITY_COLUMNS, *columns))
        .where(condition)
        .order_by(consultation.c.bid_deadline.desc(), consultation.c.id.desc())
        .limit(query.per_page)
        .offset((query.page - 1) * query.per_page)
    ).all()
    ids = [row.id for row in rows]
    lots = _lots_of(connection, ids)
    registers = _register_counts(connection, ids)
    items = tuple(
        ConsultationSummary(
            id=row.id,
            identity=identity_of(row),
            status=ConsultationStatus(row.status),
            procedure=Procedure(row.procedure),
            bid_deadline=row.bid_deadline,
            lots=tuple(lots.get(row.id, ())),
            withdrawals=registers.get((row.id, RegisterKind.WITHDRAWAL), 0),
            questions=registers.get((row.id, RegisterKind.QUESTION), 0),
            deposits=registers.get((row.id, RegisterKind.DEPOSIT), 0),
        )
        for row in rows
    )
    return DashboardPage(query=query, total=total, status_counts=counts, items=items)


def _lots_of(connection: Connection, ids: list[int]) -> dict[int, list[str]]:
    lots: dict[int, list[str]] = {}
    if not ids:
        return lots
    for row in connection.execute(
        sa.select(lot.c.consultation_id, lot.c.number, lot.c.title)
        .where(lot.c.consultation_id.in_(ids))
        .order_by(lot.c.consultation_id, lot.c.number)
    ):
        lots.setdefault(row.consultation_id, []).append(lot_label(row.number, row.title))
    return lots


def _register_counts(connection: Connection, ids: list[int]) -> dict[tuple[int, RegisterKind], int]:
    if not ids:
        return {}
    return {
        (row.consultation_id, RegisterKind(row.kind)): row.number
        for row in connection.execute(
            sa.select(
                register_entry.c.consultation_id,
                register_entry.c.kind,
                sa.func.count().label("number"),
            )
            .where(register_entry.c.consultation_id.in_(ids))
            .group_by(register_entry.c.consultation_id, register_entry.c.kind)
        )
    }
