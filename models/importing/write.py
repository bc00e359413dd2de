"""Writing a checked import in one transaction: consultations, lots, companies, entries."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from messagerie.models.consultations.detail import lock_consultation
from messagerie.models.consultations.identity_query import search_text_of
from messagerie.models.consultations.registers import blanks_filled, entry_row, name_conflict
from messagerie.models.importing.reading import (
    ConsultationFields,
    ImportedConsultation,
    ImportRefused,
)
from messagerie.models.store import audit
from messagerie.models.store.enums import RegisterKind
from messagerie.models.store.tables import (
    company,
    consultation,
    lot,
    organisation,
    purchasing_entity,
    register_entry,
    register_entry_lot,
)

IN_CHUNK = 500  # values per IN (...) list, well under both backends' parameter limits


@dataclass(frozen=True)
class ImportReport:
    """What an import created, changed or found already there."""

    consultations_created: int = 0
    consultations_updated: int = 0
    consultations_unchanged: int = 0
    lots_created: int = 0
    lots_updated: int = 0
    companies_created: int = 0
    companies_updated: int = 0
    entries_created: int = 0
    entries_unchanged: int = 0

    @property
    def changed(self) -> bool:
        return any(
            getattr(self, count.name)
            for count in fields(self)
            if not count.name.endswith("_unchanged")
        )

    def summary(self) -> str:
        """The report in French, one line."""
        return (
            f"consultations : {self.consultations_created} créée(s), "
            f"{self.consultations_updated} mise(s) à jour, "
            f"{self.consultations_unchanged} inchangée(s) ; "
            f"lots : {self.lots_created} créé(s), {self.lots_updated} renommé(s) ; "
            f"entreprises : {self.companies_created} créée(s), "
            f"{self.companies_updated} complétée(s) ; "
            f"inscriptions aux registres : {self.entries_created} créée(s), "
            f"{self.entries_unchanged} déjà présente(s)."
        )


def write_import(
    connection: Connection,
    file_name: str,
    consultations: list[ImportedConsultation],
    *,
    actor: str,
    now: datetime,
) -> ImportReport:
    """Write the checked consultations; the audit journal names the file when it changed
    anything."""
    tally: Counter[str] = Counter()
    ids = _write_consultations(connection, consultations, now, tally)
    lot_ids = _write_lots(connection, consultations, ids, tally)
    company_ids = _write_companies(connection, file_name, consultations, tally)
    _write_entries(connection, consultations, ids, lot_ids, company_ids, tally)
    report = ImportReport(**tally)
    if report.changed:
        _audit(connection, file_name, consultations, report, actor=actor, now=now)
    return report


def _select_in(
    connection: Connection, query: sa.Select, column: sa.ColumnElement, values: Iterable[Any]
) -> list[sa.Row]:
    """`query` for every value of `column` in `values`, a few hundred values at a time."""
    unique = list(dict.fromkeys(values))
    rows: list[sa.Row] = []
    for start in range(0, len(unique), IN_CHUNK):
        rows += connection.execute(query.where(column.in_(unique[start : start + IN_CHUNK]))).all()
    return rows


def _changes(row: sa.Row, wanted: Mapping[str, Any]) -> dict[str, Any]:
    """The wanted values that differ from the row's."""
    return {name: value for name, value in wanted.items() if getattr(row, name) != value}


def _entity_id(connection: Connection, fields: ConsultationFields) -> tuple[int, int]:
    """The purchasing entity, found by name in its organisation (found by name) or created:
    its id and its organisation's."""
    identity = fields.identity
    organisation_id = connection.execute(
        sa.select(organisation.c.id).where(organisation.c.name == identity.organisation)
    ).scalar()
    if organisation_id is None:
        organisation_id = connection.execute(
            sa.insert(organisation).values(name=identity.organisation).returning(organisation.c.id)
        ).scalar_one()
    given = {
        name: value
        for name, value in (
            ("sender_email", fields.sender_email),
            ("postal_address", fields.postal_address),
        )
        if value
    }
    found = connection.execute(
        sa.select(purchasing_entity)
        .where(
            purchasing_entity.c.organisation_id == organisation_id,
            purchasing_entity.c.name == identity.entity,
        )
        .order_by(purchasing_entity.c.id)
    ).first()
    if found is None:
        blank = {"sender_email": "", "postal_address": ""}
        return connection.execute(
            sa.insert(purchasing_entity)
            .values(
                {
                    **blank,
                    **given,
                    "organisation_id": organisation_id,
                    "name": identity.entity,
                }
            )
            .returning(purchasing_entity.c.id)
        ).scalar_one(), organisation_id
    changes = _changes(found, given)
    if changes:
        connection.execute(
            sa.update(purchasing_entity).where(purchasing_entity.c.id == found.id).values(changes)
        )
    return found.id, organisation_id


def _write_consultations(
    connection: Connection,
    consultations: list[ImportedConsultation],
    now: datetime,
    tally: Counter[str],
) -> dict[str, int]:
    """Create or update the consultations (and their entities); their ids by reference. A
    reference is its organisation's: another organisation's of the same name is not this
    one (a file names each reference once)."""
    entities: dict[tuple[str, str], tuple[int, int]] = {}
    for imported in consultations:
        identity = imported.fields.identity
        if (identity.organisation, identity.entity) not in entities:
            entities[identity.organisation, identity.entity] = _entity_id(
                connection, imported.fields
            )
    existing = _consultations_of(connection, consultations, entities)
    # Held before any is changed, in id order, as a buyer adding a question holds one: two
    # imports at once then queue, where one holding what it updated waited for the other's.
    for consultation_id in sorted(row.id for row in existing.values()):
        lock_consultation(connection, consultation_id)
    created = []
    for imported in consultations:
        fields = imported.fields
        identity = fields.identity
        values = _consultation_values(fields, *entities[identity.organisation, identity.entity])
        row = existing.get(identity.reference)
        if row is None:
            created.append({**values, "created_at": now})
            continue
        changes = _changes(row, values)
        if changes:
            connection.execute(
                sa.update(consultation).where(consultation.c.id == row.id).values(changes)
            )
        tally["consultations_updated" if changes else "consultations_unchanged"] += 1
    ids = {reference: row.id for reference, row in existing.items()}
    if created:
        inserted = sa.insert(consultation).returning(consultation.c.reference, consultation.c.id)
        ids.update(connection.execute(inserted, created).all())
        tally["consultations_created"] += len(created)
    return ids


def _consultations_of(
    connection: Connection,
    consultations: list[ImportedConsultation],
    entities: Mapping[tuple[str, str], tuple[int, int]],
) -> dict[str, sa.Row]:
    """The store's consultations the file names, by reference: each in the organisation
    the file gives it."""
    wanted = {
        imported.fields.identity.reference: entities[
            imported.fields.identity.organisation, imported.fields.identity.entity
        ][1]
        for imported in consultations
    }
    rows = _select_in(connection, sa.select(consultation), consultation.c.reference, wanted)
    return {row.reference: row for row in rows if wanted[row.reference] == row.organisation_id}


def _consultation_values(
    fields: ConsultationFields, entity_id: int, organisation_id: int
) -> dict[str, Any]:
    """The consultation's columns: those the file gives bear the same names in `fields`."""
    return {
        **{name: getattr(fields.identity, name) for name in ("reference", "title", "object")},
        **{name: getattr(fields, name) for name in ("procedure", "status", "bid_deadline")},
        "entity_id": entity_id,
        "organisation_id": organisation_id,
        "search_text": search_text_of(fields.identity),
    }


def _write_lots(
    connection: Connection,
    consultations: list[ImportedConsultation],
    ids: dict[str, int],
    tally: Counter[str],
) -> dict[tuple[int, int], int]:
    """Add the missing lots, rename the others; lot ids by (consultation id, number)."""
    query = sa.select(lot.c.consultation_id, lot.c.number, lot.c.id, lot.c.title)
    existing = {
        (row.consultation_id, row.number): row
        for row in _select_in(connection, query, lot.c.consultation_id, ids.values())
    }
    created = []
    for imported in consultations:
        consultation_id = ids[imported.fields.identity.reference]
        for number, title in imported.lots.items():
            row = existing.get((consultation_id, number))
            if row is None:
                created.append(
                    {"consultation_id": consultation_id, "number": number, "title": title}
                )
            elif row.title != title:
                connection.execute(sa.update(lot).where(lot.c.id == row.id).values(title=title))
                tally["lots_updated"] += 1
    if created:
        connection.execute(sa.insert(lot), created)
        tally["lots_created"] += len(created)
    return {
        (row.consultation_id, row.number): row.id
        for row in _select_in(connection, query, lot.c.consultation_id, ids.values())
    }


def _write_companies(
    connection: Connection,
    file_name: str,
    consultations: list[ImportedConsultation],
    tally: Counter[str],
) -> dict[str, int]:
    """Create the companies new to the store, fill in the blanks of known ones; their ids by
    SIRET. The first entry of a SIRET in the file names the company; each address field comes
    from the first entry that gives it. A known SIRET under another name refuses the file:
    the name is every organisation's (registers/name_conflict)."""
    wanted: dict[str, dict[str, str]] = {}
    for imported in consultations:
        for entry in imported.entries:
            given = wanted.setdefault(entry.siret, {"name": entry.company_name})
            for name in ("address", "postal_code", "city"):
                if getattr(entry, name):
                    given.setdefault(name, getattr(entry, name))
    existing = {
        row.siret: row
        for row in _select_in(connection, sa.select(company), company.c.siret, wanted)
    }
    conflicts = [
        problem
        for siret, given in wanted.items()
        if siret in existing
        and (problem := name_conflict(siret, existing[siret].name, given["name"]))
    ]
    if conflicts:
        raise ImportRefused(file_name, [f"Entreprise : {problem}" for problem in conflicts])
    created = []
    for siret, given in wanted.items():
        row = existing.get(siret)
        if row is None:
            created.append({"address": "", "postal_code": "", "city": "", **given, "siret": siret})
        elif changes := blanks_filled(row, given):
            connection.execute(sa.update(company).where(company.c.id == row.id).values(changes))
            tally["companies_updated"] += 1
    if created:
        connection.execute(sa.insert(company), created)
        tally["companies_created"] += len(created)
    query = sa.select(company.c.siret, company.c.id)
    return dict(_select_in(connection, query, company.c.siret, wanted))


def _entry_key(
    consultation_id: int,
    kind: RegisterKind,
    siret: str,
    email: str,
    at: datetime,
    question: str | None,
) -> tuple[Any, ...]:
    """What makes an entry the same one: a question's text counts, e-mail case does not."""
    kind = RegisterKind(kind)
    question = question if kind is RegisterKind.QUESTION else None
    return (consultation_id, kind, siret, email.casefold(), at, question)


def _known_entries(connection: Connection, ids: Iterable[int]) -> set[tuple[Any, ...]]:
    query = sa.select(
        register_entry.c.consultation_id,
        register_entry.c.kind,
        company.c.siret,
        register_entry.c.contact_email,
        register_entry.c.at,
        register_entry.c.question_text,
    ).join(company, company.c.id == register_entry.c.company_id)
    return {
        _entry_key(*row)
        for row in _select_in(connection, query, register_entry.c.consultation_id, ids)
    }


def _highest_question_numbers(connection: Connection, ids: Iterable[int]) -> dict[int, int]:
    query = (
        sa.select(register_entry.c.consultation_id, sa.func.max(register_entry.c.number))
        .where(register_entry.c.kind == RegisterKind.QUESTION)
        .group_by(register_entry.c.consultation_id)
    )
    rows = _select_in(connection, query, register_entry.c.consultation_id, ids)
    return {consultation_id: highest or 0 for consultation_id, highest in rows}


def _write_entries(
    connection: Connection,
    consultations: list[ImportedConsultation],
    ids: dict[str, int],
    lot_ids: dict[tuple[int, int], int],
    company_ids: dict[str, int],
    tally: Counter[str],
) -> None:
    """Add the entries not registered yet; new questions are numbered after the others,
    in time order."""
    known = _known_entries(connection, ids.values())  # their consultations held already
    numbers = _highest_question_numbers(connection, ids.values())
    rows, links = [], []
    for imported in consultations:
        consultation_id = ids[imported.fields.identity.reference]
        for entry in sorted(imported.entries, key=lambda entry: entry.at):
            key = _entry_key(
                consultation_id,
                entry.kind,
                entry.siret,
                entry.contact_email,
                entry.at,
                entry.question_text,
            )
            if key in known:
                tally["entries_unchanged"] += 1
                continue
            known.add(key)
            number = None
            if entry.kind is RegisterKind.QUESTION:
                number = numbers[consultation_id] = numbers.get(consultation_id, 0) + 1
            company_id = company_ids[entry.siret]
            rows.append(entry_row(consultation_id, entry, company_id=company_id, number=number))
            links.append([lot_ids[(consultation_id, n)] for n in entry.lot_numbers])
    if not rows:
        return
    entry_ids = connection.execute(
        sa.insert(register_entry).returning(register_entry.c.id, sort_by_parameter_order=True),
        rows,
    ).scalars()
    lot_rows = [
        {"register_entry_id": entry_id, "lot_id": lot_id}
        for entry_id, entry_lots in zip(entry_ids, links, strict=True)
        for lot_id in entry_lots
    ]
    if lot_rows:
        connection.execute(sa.insert(register_entry_lot), lot_rows)
    tally["entries_created"] += len(rows)


def _audit(
    connection: Connection,
    file_name: str,
    consultations: list[ImportedConsultation],
    report: ImportReport,
    *,
    actor: str,
    now: datetime,
) -> None:
    references = ", ".join(imported.fields.identity.reference for imported in consultations)
    audit.append(
        connection,
        action="import",
        actor=actor,
        at=now,
        detail=f"Import de « {file_name} » ({references}) : {report.summary()}",
    )
