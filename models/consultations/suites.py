"""Suites ("Créer une suite"): a restricted follow-up consultation with its own access code."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa

from messagerie.models.clock import utc_now
from messagerie.models.consultations.identity_query import (
    identity_of,
    search_text_of,
    with_publisher,
)
from messagerie.models.errors import Refusal
from messagerie.models.store import audit
from messagerie.models.store.accounts import authorize
from messagerie.models.store.database import Store
from messagerie.models.store.engine import unique_key_refused
from messagerie.models.store.enums import ConsultationStatus, Procedure, RegisterKind, Right
from messagerie.models.store.rows import from_row
from messagerie.models.store.tables import (
    REFERENCE_LENGTH,
    company,
    consultation,
    lot,
    register_entry,
    suite_candidate,
)

# No 0/O or 1/I: the code is read out and typed by companies.
ACCESS_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ACCESS_CODE_LENGTH = 16  # 16 × 5 = 80 random bits
SUITE_PROCEDURES = (Procedure.RESTRICTED_TENDER, Procedure.NEGOTIATED)
SUITE_ATTEMPTS = 5  # against buyers creating suites of one consultation at the same moment


class SuiteRefused(Refusal):
    """The suite cannot be created as asked; the message (French) says why."""


@dataclass(frozen=True)
class CandidateChoice:
    entry_id: int
    company_name: str
    siret: str
    contact_email: str
    at: datetime


@dataclass(frozen=True)
class SuiteRequest:
    parent_id: int
    procedure: Procedure
    lot_numbers: tuple[int, ...]  # empty: the parent is not allotted
    candidate_entry_ids: tuple[int, ...]
    bid_deadline: datetime
    title: str = ""  # default: the parent's title


@dataclass(frozen=True)
class SuiteCreated:
    consultation_id: int
    reference: str
    access_code: str  # shown once in full to the buyer; stored so that it can be re-sent
    candidates: int


def new_access_code() -> str:
    code = "".join(secrets.choice(ACCESS_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))
    return "-".join(code[i : i + 4] for i in range(0, ACCESS_CODE_LENGTH, 4))


def mask_access_code(code: str) -> str:
    """What screens show after creation: the first group only."""
    first, *rest = code.split("-")
    return "-".join([first, *("••••" for _ in rest)])


def candidate_choices(store: Store, parent_id: int) -> tuple[CandidateChoice, ...]:
    """The parent's dépôts, one per address (the latest deposit of each)."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                register_entry.c.id.label("entry_id"),
                company.c.name.label("company_name"),
                company.c.siret,
                register_entry.c.contact_email,
                register_entry.c.at,
            )
            .join(company, company.c.id == register_entry.c.company_id)
            .where(
                register_entry.c.consultation_id == parent_id,
                register_entry.c.kind == RegisterKind.DEPOSIT,
            )
            .order_by(company.c.name, register_entry.c.at.desc())
        ).all()
    seen: set[str] = set()
    choices = []
    for row in rows:
        if row.contact_email.casefold() not in seen:
            seen.add(row.contact_email.casefold())
            choices.append(from_row(CandidateChoice, row))
    return tuple(choices)


def create_suite(
    store: Store, request: SuiteRequest, *, actor: str, now: datetime | None = None
) -> SuiteCreated:
    """Create the suite, its lots and candidates, and its access code, in one transaction."""
    now = now or utc_now()
    _check(request, now)
    attempts_left = SUITE_ATTEMPTS
    while True:
        try:
            with store.engine.begin() as connection:
                return _insert_suite(connection, request, actor=actor, now=now)
        except sa.exc.IntegrityError as error:
            if not unique_key_refused(error):
                raise
            # Another buyer (or an import) took the same « -S<n> » between our reading and
            # our writing: the next attempt reads it and takes the following number.
            attempts_left -= 1
            if not attempts_left:
                raise SuiteRefused(
                    "D'autres suites de cette consultation se créent en même temps : "
                    "réessayez dans un instant."
                ) from None


def _insert_suite(
    connection: sa.Connection, request: SuiteRequest, *, actor: str, now: datetime
) -> SuiteCreated:
    # A suite is a new consultation with its own DCE, built from the parent's.
    authorize(connection, actor, Right.DCE, request.parent_id)
    parent = connection.execute(
        with_publisher().where(consultation.c.id == request.parent_id)
    ).one()
    parent_lots = dict(
        connection.execute(
            sa.select(lot.c.number, lot.c.title).where(lot.c.consultation_id == parent.id)
        ).all()
    )
    unknown = set(request.lot_numbers) - set(parent_lots)
    if unknown:
        raise SuiteRefused(f"Lot(s) inconnu(s) dans {parent.reference} : {sorted(unknown)}.")
    reference = _suite_reference(connection, parent)
    title = request.title.strip() or parent.title
    identity = replace(identity_of(parent), reference=reference, title=title)
    suite_id = connection.execute(
        sa.insert(consultation)
        .values(
            reference=reference,
            title=title,
            object=parent.object,
            procedure=request.procedure,
            status=ConsultationStatus.OPEN,
            bid_deadline=request.bid_deadline,
            urgent=False,
            entity_id=parent.entity_id,
            organisation_id=parent.organisation_id,
            parent_id=parent.id,
            access_code=(code := new_access_code()),
            created_at=now,
            search_text=search_text_of(identity),
        )
        .returning(consultation.c.id)
    ).scalar_one()
    if request.lot_numbers:
        connection.execute(
            sa.insert(lot),
            [
                {"consultation_id": suite_id, "number": n, "title": parent_lots[n]}
                for n in sorted(request.lot_numbers)
            ],
        )
    candidates = _chosen_candidates(connection, parent.id, request.candidate_entry_ids)
    connection.execute(
        sa.insert(suite_candidate), [{**c, "consultation_id": suite_id} for c in candidates]
    )
    audit.append(
        connection,
        action="suite.create",
        actor=actor,
        at=now,
        consultation_id=suite_id,
        detail=f"Suite {reference} de {parent.reference}, {len(candidates)} candidat(s)",
    )
    return SuiteCreated(suite_id, reference, code, len(candidates))


def _suite_reference(connection: sa.Connection, parent: sa.Row) -> str:
    """The parent's reference and « -S » with the first number its organisation has not
    given yet (one an import took is passed over: the reference is unique there)."""
    stem = f"{parent.reference}-S"
    taken = set(
        connection.execute(
            sa.select(consultation.c.reference).where(
                consultation.c.organisation_id == parent.organisation_id,
                consultation.c.reference.startswith(stem, autoescape=True),
            )
        ).scalars()
    )
    number = next(n for n in itertools.count(1) if f"{stem}{n}" not in taken)
    reference = f"{stem}{number}"
    if len(reference) > REFERENCE_LENGTH:
        raise SuiteRefused(
            f"La référence de la suite, « {reference} », dépasserait {REFERENCE_LENGTH} "
            "caractères (« -S… » compris) : la référence de cette consultation est trop longue "
            "pour lui donner une suite."
        )
    return reference


def _check(request: SuiteRequest, now: datetime) -> None:
    if request.procedure not in SUITE_PROCEDURES:
        raise SuiteRefused("Une suite est une phase restreinte ou une négociation.")
    if not request.candidate_entry_ids:
        raise SuiteRefused("Choisissez au moins un candidat dans le registre des dépôts.")
    if request.bid_deadline <= now:
        raise SuiteRefused("La date limite de remise des plis de la suite doit être à venir.")


def _chosen_candidates(
    connection: sa.Connection, parent_id: int, entry_ids: Collection[int]
) -> list[dict[str, object]]:
    rows = connection.execute(
        sa.select(register_entry)
        .where(
            register_entry.c.id.in_(entry_ids),
            register_entry.c.consultation_id == parent_id,
            register_entry.c.kind == RegisterKind.DEPOSIT,
        )
        .order_by(register_entry.c.id)
    ).all()
    if len(rows) != len(set(entry_ids)):
        raise SuiteRefused("Un candidat choisi n'est pas dans le registre des dépôts.")
    seen: set[str] = set()
    chosen = []
    for row in rows:
        if row.contact_email.casefold() not in seen:
            seen.add(row.contact_email.casefold())
            chosen.append(
                {
                    "company_id": row.company_id,
                    "contact_name": row.contact_name,
                    "contact_email": row.contact_email,
                    "source_entry_id": row.id,
                }
            )
    return chosen
