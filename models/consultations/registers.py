"""The three registers of a consultation (retraits, questions, dépôts): read, add, correct.

Reading pages in SQL, with a text filter blind to case and accents; writing is one
transaction per entry that finds or creates the company by SIRET, numbers the questions,
links the lots and appends an audit row.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from messagerie.models.consultations.detail import lock_consultation, register_counts
from messagerie.models.errors import Refusal
from messagerie.models.formatting import lot_label, paris_seconds
from messagerie.models.rules.siret import format_siret
from messagerie.models.rules.validation import (
    LABELS,
    FieldError,
    ValidationFailed,
    ValidEntry,
    check_lots,
)
from messagerie.models.store import audit
from messagerie.models.store.accounts import ConsultationNotFound, authorize, authorize_reading
from messagerie.models.store.database import Store
from messagerie.models.store.enums import RegisterKind, Right
from messagerie.models.store.rows import from_row
from messagerie.models.store.tables import (
    company,
    lot,
    register_entry,
    register_entry_lot,
)
from messagerie.models.store.upsert import insert_or_keep
from messagerie.models.text import LIGATURES, fold, search_words

# How PostgreSQL folds text like `models.text.fold`: translate() drops the accents of both
# cases (its lower() under the C locale leaves "É" alone, and `unaccent` is not always
# installed), replace() opens the ligatures, then lower() folds the ASCII case. SQLite calls
# `fold` itself, registered on the connection: it has no translate(), and its parser refuses
# the sixty nested replace() calls that would do instead.
_ACCENTED = "àâäáãåçéèêëíìîïñóòôöõúùûüýÿ"
_ACCENTED = _ACCENTED + _ACCENTED.upper()
_UNACCENTED = "".join(fold(letter) for letter in _ACCENTED)
SQLITE_FOLD = "messagerie_fold"
# What a correction writes of a line, and its label (the company's own fields are only ever
# filled in where blank: another line's correction of them is no conflict).
CORRECTED = ("kind", "at", "siret", "contact_name", "contact_email", "lot_numbers", "question_text")


class EntryNotFound(Refusal):
    """The entry or consultation asked for no longer exists (the message says which)."""


class EntryChanged(Refusal):
    """The line was corrected by someone else since the form showed it; str() says so."""


@dataclass(frozen=True)
class RegisterRow:
    """One line of a register, as the register tables and the edit form show it."""

    id: int
    kind: RegisterKind
    number: int | None  # questions only: "Question n°N"
    at: datetime  # aware UTC
    company_id: int
    company_name: str
    siret: str
    contact_name: str
    contact_email: str
    lots: tuple[str, ...]  # "Lot n°1 - Chocolat au lait"
    lot_numbers: tuple[int, ...]
    question_text: str | None
    consultation_id: int
    address: str  # the company's address, to fill the edit form
    postal_code: str
    city: str


@dataclass(frozen=True)
class RegisterPage:
    rows: tuple[RegisterRow, ...]
    total: int  # rows matching the filter
    page: int
    page_count: int
    counts: dict[RegisterKind, int]  # the three registers of the consultation, unfiltered


@dataclass(frozen=True)
class RegisterAddress:
    """One recipient address of the registers, with where it appears."""

    company_id: int
    company_name: str
    contact_name: str
    email: str
    kinds: frozenset[RegisterKind]


# --- Reading ---------------------------------------------------------------------------------


def list_register(
    store: Store,
    consultation_id: int,
    kind: RegisterKind,
    *,
    actor: str,
    text: str = "",
    page: int = 1,
    per_page: int = 50,
) -> RegisterPage:
    """One page of a register, filtered by `text` (every word, case and accents ignored),
    once `actor` sees the consultation (ConsultationNotFound otherwise, as a missing one).

    Questions come by number, the other registers by time; counts cover the 3 registers.
    """
    with store.engine.connect() as connection:
        authorize_reading(connection, actor, consultation_id)
        return register_page(connection, consultation_id, kind, text=text, page=page,
                             per_page=per_page)  # fmt: skip


def register_page(
    connection: Connection,
    consultation_id: int,
    kind: RegisterKind,
    *,
    page: int,
    per_page: int,
    text: str = "",
) -> RegisterPage:
    """`list_register` for a caller that checked the account already (the proof bundle)."""
    per_page = max(1, per_page)
    condition = sa.and_(
        register_entry.c.consultation_id == consultation_id,
        register_entry.c.kind == kind,
        _text_condition(connection, text),
    )
    counts = register_counts(connection, consultation_id)
    total = (
        connection.execute(
            sa.select(sa.func.count()).select_from(register_entry.join(company)).where(condition)
        ).scalar_one()
        if text.strip()
        else counts[kind]
    )
    page_count = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), page_count)
    rows = connection.execute(
        _entry_select()
        .where(condition)
        .order_by(*_register_order(kind))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return RegisterPage(
        rows=_register_rows(connection, rows),
        total=total,
        page=page,
        page_count=page_count,
        counts=counts,
    )


def get_entry(store: Store, entry_id: int, *, actor: str) -> RegisterRow:
    """One entry by id; EntryNotFound when it no longer exists or is of a consultation
    `actor` does not see (the same words: another organisation's entries cannot be probed)."""
    its_consultation = (
        sa.select(register_entry.c.consultation_id)
        .where(register_entry.c.id == entry_id)
        .scalar_subquery()
    )
    with store.engine.connect() as connection:
        authorize_reading(connection, actor, its_consultation, missing=entry_not_found(entry_id))
        return _load_row(connection, entry_id)


def consultation_lots(
    store: Store, consultation_id: int, *, actor: str
) -> tuple[tuple[int, str], ...]:
    """The consultation's lots as (number, title), by number; empty when not allotted."""
    with store.engine.connect() as connection:
        authorize_reading(connection, actor, consultation_id)
        return tuple(
            (row.number, row.title)
            for row in connection.execute(
                sa.select(lot.c.number, lot.c.title)
                .where(lot.c.consultation_id == consultation_id)
                .order_by(lot.c.number)
            )
        )


def register_addresses(
    store: Store, consultation_id: int, kinds: Collection[RegisterKind], *, actor: str
) -> tuple[RegisterAddress, ...]:
    """The contact addresses of the given registers, one per address whatever its case,
    once `actor` sees the consultation (`addresses_of`)."""
    with store.engine.connect() as connection:
        authorize_reading(connection, actor, consultation_id)
        return addresses_of(connection, consultation_id, kinds)


def addresses_of(
    connection: Connection, consultation_id: int, kinds: Collection[RegisterKind]
) -> tuple[RegisterAddress, ...]:
    """The contact addresses of the given registers, one per address whatever its case; for
    a caller that checked the account already (the message form's context).

    In order of first appearance (time, then entry); that first entry names the company and
    the contact; `kinds` tells every register the address appears in (LEGAL.md rule 1).
    """
    if not kinds:
        return ()
    rows = connection.execute(
        sa.select(
            register_entry.c.company_id,
            company.c.name.label("company_name"),
            register_entry.c.contact_name,
            register_entry.c.contact_email.label("email"),
            register_entry.c.kind,
        )
        .join(company, company.c.id == register_entry.c.company_id)
        .where(
            register_entry.c.consultation_id == consultation_id,
            register_entry.c.kind.in_([RegisterKind(kind) for kind in kinds]),
        )
        .order_by(register_entry.c.at, register_entry.c.id)
    ).all()
    first: dict[str, Row] = {}
    seen_in: dict[str, set[RegisterKind]] = {}
    for row in rows:
        key = row.email.casefold()
        first.setdefault(key, row)
        seen_in.setdefault(key, set()).add(RegisterKind(row.kind))
    return tuple(
        from_row(RegisterAddress, row, kinds=frozenset(seen_in[key])) for key, row in first.items()
    )


def folded(connection: Connection, expression: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """`expression` without accents nor case, computed by the database."""
    if connection.dialect.name == "sqlite":
        raw: Any = connection.connection.driver_connection
        raw.create_function(SQLITE_FOLD, 1, fold, deterministic=True)
        return getattr(sa.func, SQLITE_FOLD)(expression)
    for ligature, letters in LIGATURES:
        expression = sa.func.replace(expression, ligature, letters)
    return sa.func.lower(sa.func.translate(expression, _ACCENTED, _UNACCENTED))


def _text_condition(connection: Connection, text: str) -> sa.ColumnElement[bool]:
    """Every search word appears in the company, SIRET, contact, e-mail or question."""
    words = search_words(text)
    if not words:
        return sa.true()
    searched = folded(
        connection,
        company.c.name
        + " "
        + company.c.siret
        + " "
        + register_entry.c.contact_name
        + " "
        + register_entry.c.contact_email
        + " "
        + sa.func.coalesce(register_entry.c.question_text, ""),
    )
    return sa.and_(*(searched.contains(word, autoescape=True) for word in words))


def _register_order(kind: RegisterKind) -> tuple[sa.ColumnElement, ...]:
    by_time = (register_entry.c.at, register_entry.c.id)
    return (register_entry.c.number, *by_time) if kind is RegisterKind.QUESTION else by_time


def _entry_select() -> sa.Select:
    return sa.select(
        register_entry.c.id,
        register_entry.c.consultation_id,
        register_entry.c.kind,
        register_entry.c.number,
        register_entry.c.at,
        register_entry.c.company_id,
        company.c.name.label("company_name"),
        company.c.siret,
        company.c.address,
        company.c.postal_code,
        company.c.city,
        register_entry.c.contact_name,
        register_entry.c.contact_email,
        register_entry.c.question_text,
    ).join(company, company.c.id == register_entry.c.company_id)


def _register_rows(connection: Connection, rows: Sequence[Row]) -> tuple[RegisterRow, ...]:
    """The rows with their lots (one query for the whole page)."""
    lots: dict[int, list[tuple[int, str]]] = {row.id: [] for row in rows}
    if lots:
        for link in connection.execute(
            sa.select(register_entry_lot.c.register_entry_id, lot.c.number, lot.c.title)
            .join(lot, lot.c.id == register_entry_lot.c.lot_id)
            .where(register_entry_lot.c.register_entry_id.in_(lots))
            .order_by(lot.c.number)
        ):
            lots[link.register_entry_id].append((link.number, link.title))
    return tuple(
        from_row(
            RegisterRow,
            row,
            kind=RegisterKind(row.kind),
            lots=tuple(lot_label(number, title) for number, title in lots[row.id]),
            lot_numbers=tuple(number for number, _ in lots[row.id]),
        )
        for row in rows
    )


def _load_row(connection: Connection, entry_id: int) -> RegisterRow:
    row = connection.execute(_entry_select().where(register_entry.c.id == entry_id)).first()
    if row is None:
        raise entry_not_found(entry_id)
    return _register_rows(connection, [row])[0]


def entry_not_found(entry_id: int) -> EntryNotFound:
    return EntryNotFound(
        f"L'inscription n°{entry_id} n'existe plus dans les registres : actualisez le registre."
    )


ALREADY_REGISTERED = (
    "cette ligne figure déjà au registre (même entreprise, même adresse e-mail, même date et "
    "heure) : elle n'est pas ajoutée une seconde fois."
)


# --- Writing ---------------------------------------------------------------------------------


def add_entry(store: Store, consultation_id: int, entry: ValidEntry, *, actor: str) -> RegisterRow:
    """Add `entry` to the consultation's register of its kind, in one transaction."""
    with store.engine.begin() as connection:
        authorize(connection, actor, Right.IMPORT, consultation_id)
        lock_consultation(connection, consultation_id)
        _refuse_a_second_time(connection, consultation_id, entry)
        number = _question_number(connection, consultation_id, entry.kind)
        values = entry_row(
            consultation_id, entry, company_id=_company_id(connection, entry), number=number
        )
        entry_id = connection.execute(
            sa.insert(register_entry).values(values).returning(register_entry.c.id)
        ).scalar_one()
        _link_lots(connection, consultation_id, entry_id, entry.lot_numbers)
        row = _load_row(connection, entry_id)
        _audit(connection, row, actor=actor, action="register.add")
    return row


def update_entry(
    store: Store,
    entry_id: int,
    entry: ValidEntry,
    *,
    actor: str,
    expected: RegisterRow | None = None,
) -> RegisterRow:
    """Correct an entry in one transaction; a question keeps its number. With `expected`,
    the line as the form showed it: a line someone corrected since is refused, not
    overwritten (EntryChanged)."""
    with store.engine.begin() as connection:
        current = _load_row(connection, entry_id)
        try:
            authorize(connection, actor, Right.IMPORT, current.consultation_id)
        except ConsultationNotFound:  # another organisation's: as an entry that does not exist
            raise entry_not_found(entry_id) from None
        lock_consultation(connection, current.consultation_id)
        current = _load_row(connection, entry_id)  # as it stands, now that it is held
        if expected is not None:
            _refuse_a_lost_correction(expected, current)
        _refuse_a_second_time(connection, current.consultation_id, entry, other_than=entry_id)
        number = (
            current.number
            if current.kind is RegisterKind.QUESTION and entry.kind is RegisterKind.QUESTION
            else _question_number(connection, current.consultation_id, entry.kind)
        )
        values = entry_row(
            current.consultation_id, entry, company_id=_company_id(connection, entry), number=number
        )
        connection.execute(
            sa.update(register_entry).where(register_entry.c.id == entry_id).values(values)
        )
        connection.execute(
            sa.delete(register_entry_lot).where(register_entry_lot.c.register_entry_id == entry_id)
        )
        _link_lots(connection, current.consultation_id, entry_id, entry.lot_numbers)
        row = _load_row(connection, entry_id)
        _audit(connection, row, actor=actor, action="register.update")
    return row


def _refuse_a_lost_correction(expected: RegisterRow, current: RegisterRow) -> None:
    """Two buyers correcting one line: the second saved over the first's correction."""
    changed = [
        LABELS["lots" if name == "lot_numbers" else name]
        for name in CORRECTED
        if getattr(expected, name) != getattr(current, name)
    ]
    if changed:
        raise EntryChanged(
            "Cette inscription a été corrigée par un autre acheteur depuis que vous l'avez "
            f"ouverte ({', '.join(changed)}). Rien n'a été enregistré et votre saisie reste "
            "dans le formulaire : notez-la, puis fermez-le (Échap) et rouvrez l'inscription "
            "pour partir de la version enregistrée."
        )


def _question_number(
    connection: Connection, consultation_id: int, kind: RegisterKind
) -> int | None:
    """The next number of the consultation's question register; None for other registers."""
    if kind is not RegisterKind.QUESTION:
        return None
    highest = connection.execute(
        sa.select(sa.func.max(register_entry.c.number)).where(
            register_entry.c.consultation_id == consultation_id,
            register_entry.c.kind == RegisterKind.QUESTION,
        )
    ).scalar()
    return (highest or 0) + 1


def entry_row(
    consultation_id: int, entry: ValidEntry, *, company_id: int, number: int | None
) -> dict[str, Any]:
    """The register_entry row of `entry`: one shape for an entry typed in, an import and the
    demo (each inserts it its own way)."""
    return {
        "consultation_id": consultation_id,
        "kind": entry.kind,
        "company_id": company_id,
        "contact_name": entry.contact_name,
        "contact_email": entry.contact_email,
        "at": entry.at,
        "number": number,
        "question_text": entry.question_text,
    }


def _refuse_a_second_time(
    connection: Connection, consultation_id: int, entry: ValidEntry, *, other_than: int = 0
) -> None:
    """The same line twice (the import's notion: register, SIRET, e-mail case aside, time,
    and a question's text) is refused: the import skips it as « déjà présente »."""
    query = (
        sa.select(register_entry.c.id)
        .join(company, company.c.id == register_entry.c.company_id)
        .where(
            register_entry.c.consultation_id == consultation_id,
            register_entry.c.kind == entry.kind,
            register_entry.c.id != other_than,
            company.c.siret == entry.siret,
            sa.func.lower(register_entry.c.contact_email) == entry.contact_email.lower(),
            register_entry.c.at == entry.at,
        )
    )
    if entry.kind is RegisterKind.QUESTION:
        query = query.where(register_entry.c.question_text == entry.question_text)
    if connection.execute(query.limit(1)).first() is not None:
        raise ValidationFailed([FieldError("at", "Date et heure", ALREADY_REGISTERED)])


def _company_id(connection: Connection, entry: ValidEntry) -> int:
    """The id of the company with the entry's SIRET: created, or its blanks filled in."""
    given = {"name": entry.company_name, **_given_address(entry)}
    by_siret = sa.select(company).where(company.c.siret == entry.siret)
    found = connection.execute(by_siret).first()
    if found is None:
        # Another buyer may be registering the same new company in another consultation.
        blank_address = {"address": "", "postal_code": "", "city": ""}
        new = {**blank_address, **given, "siret": entry.siret}
        insert_or_keep(connection, company, new, key=["siret"])
        found = connection.execute(by_siret).one()  # ours, or the other's: compared below
    if problem := name_conflict(found.siret, found.name, entry.company_name):
        raise ValidationFailed([FieldError("company_name", "Entreprise", problem)])
    if changes := blanks_filled(found, given):
        connection.execute(sa.update(company).where(company.c.id == found.id).values(changes))
    return found.id


def name_conflict(siret: str, known: str, given: str) -> str | None:
    """Why a register line may not give a known SIRET another name (French), or None.

    Companies are shared by every organisation: a name typed or imported in one register
    renamed the company in every other organisation's registers, and in ARs already signed.
    Case, accents and spaces aside, the name must be the known one."""
    if fold(" ".join(known.split())) == fold(" ".join(given.split())):
        return None
    return (
        f"le SIRET {format_siret(siret)} est celui de « {known} », pas de « {given} » : "
        "reprenez ce nom, ou vérifiez le SIRET (un nom connu n'est pas changé par un registre)."
    )


def blanks_filled(found: sa.Row, given: Mapping[str, str]) -> dict[str, str]:
    """The address fields the company lacks and the entry gives; a known one is kept."""
    return {
        name: value for name, value in given.items() if name != "name" and not getattr(found, name)
    }


def _given_address(entry: ValidEntry) -> dict[str, str]:
    """The address fields the entry gives (an empty field leaves the known one alone)."""
    fields = {"address": entry.address, "postal_code": entry.postal_code, "city": entry.city}
    return {name: value for name, value in fields.items() if value}


def _link_lots(
    connection: Connection, consultation_id: int, entry_id: int, numbers: tuple[int, ...]
) -> None:
    if not numbers:
        return
    ids = dict(
        connection.execute(
            sa.select(lot.c.number, lot.c.id).where(
                lot.c.consultation_id == consultation_id, lot.c.number.in_(numbers)
            )
        ).all()
    )
    check_lots(numbers, ids)
    connection.execute(
        sa.insert(register_entry_lot),
        [{"register_entry_id": entry_id, "lot_id": ids[number]} for number in numbers],
    )


def entry_description(row: RegisterRow) -> str:
    """The entry as the audit log names it (French)."""
    number = f", question n°{row.number}" if row.number else ""
    return (
        f"Registre des {row.kind.label.lower()}, inscription n°{row.id}{number} : "
        f"{row.company_name} (SIRET {format_siret(row.siret)}), {row.contact_email}, "
        f"{paris_seconds(row.at)}"
    )


def _audit(connection: Connection, row: RegisterRow, *, actor: str, action: str) -> None:
    audit.append(
        connection,
        action=action,
        actor=actor,
        consultation_id=row.consultation_id,
        detail=entry_description(row),
    )
