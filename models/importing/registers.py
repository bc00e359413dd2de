"""`messagerie import FILE`: consultations, lots, companies and registers from JSON or CSV.

All or nothing: the whole file is read and checked first, touching nothing, and every fault
is reported with its place (CSV line, or JSON record) and field; only a clean file is then
written, in one transaction. Importing the same file again changes nothing: consultations
are matched by reference, lots by number, companies by SIRET, organisations and purchasing
entities by name, and register entries by (kind, SIRET, e-mail, time, question text).
The formats are documented in README.md, "Importing registers (messagerie import)".
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any, TypeGuard, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from messagerie.models.clock import utc_now
from messagerie.models.errors import Refusal
from messagerie.models.rules.validation import (
    RegisterEntryInput,
    ValidationFailed,
    ValidEntry,
    check_email,
    parse_lot_numbers,
    parse_paris_datetime,
    validate_entry,
)
from messagerie.models.store import audit
from messagerie.models.store.database import Store
from messagerie.models.store.enums import ConsultationStatus, LabelledEnum, Procedure, RegisterKind
from messagerie.models.store.tables import (
    company,
    consultation,
    lot,
    organisation,
    purchasing_entity,
    register_entry,
    register_entry_lot,
)
from messagerie.models.text import control_character_problem, fold, search_text

E = TypeVar("E", bound=LabelledEnum)
T = TypeVar("T")


MAX_SHOWN_ERRORS = 20
LOT_TITLE_LENGTH = 300
IN_CHUNK = 500  # values per IN (...) list, well under both backends' parameter limits

# Consultation fields: name → longest text (None: no limit); the first eight are required.
CONSULTATION_FIELDS: dict[str, int | None] = {
    "reference": 60,
    "title": 300,
    "object": None,
    "procedure": None,
    "status": None,
    "bid_deadline": None,
    "organisation": 200,
    "purchasing_entity": 200,
    "sender_email": 254,
    "postal_address": 400,
}
REQUIRED_CONSULTATION_FIELDS = tuple(CONSULTATION_FIELDS)[:8]
# Fields that may hold several lines; in every other field a line break is refused.
MULTILINE_FIELDS = ("object", "postal_address")
ENTRY_FIELDS = (
    "company",
    "siret",
    "contact_name",
    "contact_email",
    "at",
    "question",
    "address",
    "postal_code",
    "city",
)
CSV_REQUIRED_COLUMNS = (*REQUIRED_CONSULTATION_FIELDS, "register", *ENTRY_FIELDS[:5])
CSV_COLUMNS = (
    *CONSULTATION_FIELDS,
    "lots",
    "register",
    *ENTRY_FIELDS,
    "entry_lots",
)
# Where the file's name of an entry field differs from the form's (models.validation).
ENTRY_FIELD_NAMES = {"company_name": "company", "question_text": "question"}
# Names of the registers in the files: the French words, singular or plural, or the code's.
REGISTER_NAMES = {
    RegisterKind.WITHDRAWAL: ("retrait", "retraits", "withdrawal"),
    RegisterKind.QUESTION: ("question", "questions"),
    RegisterKind.DEPOSIT: ("depot", "depots", "deposit"),
}
ENUM_NAMES = {Procedure: "une procédure connue", ConsultationStatus: "un statut connu"}


# --- Results and refusals ------------------------------------------------------------------


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
            f"{self.companies_updated} mise(s) à jour ; "
            f"inscriptions aux registres : {self.entries_created} créée(s), "
            f"{self.entries_unchanged} déjà présente(s)."
        )


class ImportRefused(Refusal):
    """The file was refused and nothing was written; `errors` says where and what, in French."""

    def __init__(self, file_name: str, errors: Sequence[str]) -> None:
        self.errors = tuple(errors)
        shown = list(self.errors[:MAX_SHOWN_ERRORS])
        if len(self.errors) > MAX_SHOWN_ERRORS:
            shown.append(f"… et {len(self.errors) - MAX_SHOWN_ERRORS} autre(s) erreur(s).")
        super().__init__(
            f"Import de « {file_name} » refusé, rien n'a été écrit :\n" + "\n".join(shown)
        )


# --- Entry point -----------------------------------------------------------------------------


def import_file(
    store: Store, path: Path, *, actor: str, now: datetime | None = None
) -> ImportReport:
    """Check the whole file, then write it in one transaction; ImportRefused on any fault."""
    now = now or utc_now()
    consultations = read_file(path, now=now)
    try:
        with store.engine.begin() as connection:
            report = _write(connection, consultations, now=now)
            if report.changed:
                _audit(connection, path.name, consultations, report, actor=actor, now=now)
    except DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise ImportRefused(
            path.name, [f"la base de données a refusé l'écriture ({reason})."]
        ) from error
    return report


# --- _Reading: what the file says, checked -------------------------------------------------


@dataclass(frozen=True)
class ConsultationFields:
    reference: str
    title: str
    object: str
    procedure: Procedure
    status: ConsultationStatus
    bid_deadline: datetime
    organisation: str
    purchasing_entity: str
    sender_email: str | None
    postal_address: str | None


@dataclass(frozen=True)
class ImportedConsultation:
    """One consultation of a checked file, with its lots and register entries."""

    fields: ConsultationFields
    lots: dict[int, str]
    entries: tuple[ValidEntry, ...]


@dataclass
class _Group:
    """A consultation while the file is read; `fields` is None when one was wrong."""

    where: str
    fields: ConsultationFields | None
    lots: dict[int, str] = field(default_factory=dict)
    lots_readable: bool = True  # False: a lot was wrong, so entries' lots are not checked
    entries: list[ValidEntry] = field(default_factory=list)


class _Reading:
    """The reading of one file: the time no entry may pass, and the faults found so far,
    each as "place, champ « name » : what to fix"."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.messages: list[str] = []

    def __len__(self) -> int:
        return len(self.messages)

    def add(self, where: str, name: str | None, message: str) -> None:
        place = f"{where}, champ « {name} »" if name else where
        self.messages.append(f"{place} : {message}")

    def run(
        self,
        where: str,
        check: Callable[[], T],
        *,
        name: str | None = None,
        names: Mapping[str, str] | None = None,
    ) -> T | None:
        """`check()`, or None with its field errors recorded under `name` (or `names`)."""
        try:
            return check()
        except ValidationFailed as failed:
            for error in failed.errors:
                self.add(where, name or (names or {}).get(error.field, error.field), error.message)
            return None

    def text(self, where: str, values: Mapping[str, str], name: str) -> str:
        """A consultation's text field, reported when missing (if required) or too long."""
        value = values.get(name, "")
        limit = CONSULTATION_FIELDS[name]
        problem = control_character_problem(value, multiline=name in MULTILINE_FIELDS)
        if not value and name in REQUIRED_CONSULTATION_FIELDS:
            self.add(where, name, "ce champ est obligatoire.")
        elif problem:
            self.add(where, name, f"ce champ {problem}")
        elif limit and len(value) > limit:
            self.add(where, name, f"{len(value)} caractères, au plus {limit}.")
        return value


def read_file(path: Path, *, now: datetime) -> list[ImportedConsultation]:
    """The consultations of the file, checked; ImportRefused listing every fault."""
    suffix = path.suffix.lower()
    if suffix not in {".json", ".csv"}:
        raise ImportRefused(
            path.name,
            [f"« {path.name} » : format non reconnu, l'import lit un fichier .json ou .csv."],
        )
    text = _read_text(path)
    reading = _Reading(now)
    groups = _read_json(text, reading) if suffix == ".json" else _read_csv(text, reading)
    if not reading and not groups:
        reading.add(path.name, None, "le fichier ne contient aucune consultation.")
    if reading:
        raise ImportRefused(path.name, reading.messages)
    return [
        ImportedConsultation(group.fields, group.lots, tuple(group.entries))
        for group in groups
        if group.fields  # always: a group without fields was reported
    ]


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as error:
        reason = {
            FileNotFoundError: "fichier introuvable",
            IsADirectoryError: "c'est un dossier",
            PermissionError: "lecture non autorisée",
        }.get(type(error), error.strerror or str(error))
        raise ImportRefused(path.name, [f"« {path} » : {reason}."]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ImportRefused(
            path.name,
            [
                f"ligne {line} : le fichier n'est pas encodé en UTF-8 (octet "
                f"0x{data[error.start]:02X}) ; enregistrez-le en UTF-8 et recommencez."
            ],
        ) from None
    if not text.strip():
        raise ImportRefused(path.name, [f"« {path.name} » est vide."])
    return text


def _read_consultation(
    values: Mapping[str, str], where: str, reading: _Reading
) -> ConsultationFields | None:
    """The consultation's fields from their texts; None when one is wrong (reported)."""
    before = len(reading)
    texts = {name: reading.text(where, values, name) for name in CONSULTATION_FIELDS}

    def checked(name: str, check: Callable[[str], T]) -> T | None:
        """The field's value by `check`, unless it is empty (reported above if required)."""
        text = texts[name]
        return reading.run(where, lambda: check(text), name=name) if text else None

    procedure = checked("procedure", lambda text: _choice(Procedure, text))
    status = checked("status", lambda text: _choice(ConsultationStatus, text))
    deadline = checked("bid_deadline", parse_paris_datetime)
    sender = checked("sender_email", check_email)
    if len(reading) > before or procedure is None or status is None or deadline is None:
        return None
    return ConsultationFields(
        reference=texts["reference"],
        title=texts["title"],
        object=texts["object"],
        procedure=procedure,
        status=status,
        bid_deadline=deadline,
        organisation=texts["organisation"],
        purchasing_entity=texts["purchasing_entity"],
        sender_email=sender or None,
        postal_address=texts["postal_address"] or None,
    )


def _choice(enum: type[E], text: str) -> E:
    """The member named by its code value or its French label, case and accents ignored."""
    wanted = fold(text)
    for member in enum:
        if wanted in {fold(member.value), fold(member.label)}:
            return member
    known = ", ".join(f"« {member.label} » ({member.value})" for member in enum)
    what = ENUM_NAMES.get(enum, "une valeur connue")
    raise ValidationFailed.one(
        "choice", f"« {text} » n'est pas {what} ; valeurs possibles : {known}."
    )


def _register_kind(text: str) -> RegisterKind | None:
    wanted = fold(text)
    return next((kind for kind, names in REGISTER_NAMES.items() if wanted in names), None)


def _add_lot(group: _Group, number: int, title: str, where: str, reading: _Reading) -> None:
    if number < 0:
        reading.add(where, "number", f"{number} : un numéro de lot est positif ou nul.")
    elif number in group.lots:
        reading.add(where, "number", f"le lot n°{number} est décrit deux fois.")
    elif not title:
        reading.add(where, "title", f"l'intitulé du lot n°{number} est obligatoire.")
    elif problem := control_character_problem(title):
        reading.add(where, "title", f"ce champ {problem}")
    elif len(title) > LOT_TITLE_LENGTH:
        reading.add(where, "title", f"{len(title)} caractères, au plus {LOT_TITLE_LENGTH}.")
    else:
        group.lots[number] = title


def _add_entry(
    group: _Group,
    kind: RegisterKind,
    values: Mapping[str, str],
    where: str,
    reading: _Reading,
    *,
    lots: str,
    lots_name: str,
) -> None:
    """Check one register entry against its consultation and keep it when valid."""
    typed = RegisterEntryInput(
        kind=kind,
        company_name=values.get("company", ""),
        siret=values.get("siret", ""),
        contact_name=values.get("contact_name", ""),
        contact_email=values.get("contact_email", ""),
        at=values.get("at", ""),
        lots=lots,
        question_text=values.get("question", ""),
        address=values.get("address", ""),
        postal_code=values.get("postal_code", ""),
        city=values.get("city", ""),
    )
    deadline = group.fields.bid_deadline if group.fields else None
    known_lots = group.lots if group.lots_readable else _lot_numbers(lots)
    valid = reading.run(
        where,
        lambda: validate_entry(typed, lot_numbers=known_lots, deadline=deadline, now=reading.now),
        names={**ENTRY_FIELD_NAMES, "lots": lots_name},
    )
    if valid is not None:
        group.entries.append(valid)


def _lot_numbers(text: str) -> tuple[int, ...]:
    """The lot numbers an entry names, when they can be read (else its lots are reported)."""
    try:
        return parse_lot_numbers(text)
    except ValidationFailed:
        return ()


# --- JSON ------------------------------------------------------------------------------------

_JSON_REASONS = {
    "Expecting value": "valeur attendue",
    "Expecting ',' delimiter": "virgule attendue",
    "Expecting ':' delimiter": "deux-points attendus",
    "Expecting property name enclosed in double quotes": "nom de champ entre guillemets attendu",
    "Unterminated string starting at": "texte sans guillemet fermant",
    "Invalid control character at": "caractère de contrôle dans un texte",
    "Invalid \\escape": "séquence d'échappement invalide",
    "Extra data": "contenu après la fin du document",
}


def _read_json(text: str, reading: _Reading) -> list[_Group]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        reason = _JSON_REASONS.get(error.msg, "syntaxe invalide")
        reading.add(
            f"ligne {error.lineno}, colonne {error.colno}", None, f"JSON mal formé ({reason})."
        )
        return []
    if not isinstance(document, dict) or not isinstance(document.get("consultations"), list):
        reading.add(
            "document", None, 'le fichier JSON doit contenir un objet {"consultations": [ … ]}.'
        )
        return []
    _unknown_keys(document, ("consultations",), "document", reading)
    groups: dict[str, _Group] = {}
    for index, record in enumerate(document["consultations"], start=1):
        group = _json_consultation(record, f"consultation n°{index}", reading)
        if group is None or group.fields is None:
            continue
        reference = group.fields.reference
        if reference in groups:
            reading.add(
                group.where,
                "reference",
                f"« {reference} » est déjà décrite par {groups[reference].where}.",
            )
        else:
            groups[reference] = group
    return list(groups.values())


def _json_consultation(record: Any, where: str, reading: _Reading) -> _Group | None:
    if not isinstance(record, dict):
        reading.add(where, None, "un objet { … } est attendu.")
        return None
    if isinstance(record.get("reference"), str) and record["reference"].strip():
        where += f" (« {record['reference'].strip()} »)"
    _unknown_keys(record, (*CONSULTATION_FIELDS, "lots", "registers"), where, reading)
    values = _json_texts(record, CONSULTATION_FIELDS, where, reading)
    group = _Group(where, _read_consultation(values, where, reading))
    before = len(reading)
    for item_where, item in _json_list(record, "lots", where, reading):
        _json_lot(group, item, item_where, reading)
    group.lots_readable = len(reading) == before
    registers = record.get("registers", {})
    if not isinstance(registers, dict):
        reading.add(where, "registers", 'un objet {"retraits": [ … ], …} est attendu.')
        return group
    for name in registers:
        kind = _register_kind(name)
        if kind is None:
            reading.add(
                where, "registers", f"registre inconnu « {name} » (retraits, questions, depots)."
            )
            continue
        for item_where, item in _json_list(registers, name, where, reading):
            _json_entry(group, kind, item, item_where, reading)
    return group


def _json_list(
    record: dict, name: str, where: str, reading: _Reading
) -> Iterator[tuple[str, dict]]:
    """The objects of the list `record[name]` (absent: none), each with its place."""
    items = record.get(name, [])
    if not isinstance(items, list):
        reading.add(where, name, "une liste [ … ] est attendue.")
        return
    for index, item in enumerate(items, start=1):
        item_where = f"{where}, {name}, élément n°{index}"
        if isinstance(item, dict):
            yield item_where, item
        else:
            reading.add(item_where, None, "un objet { … } est attendu.")


def _is_integer(value: Any) -> TypeGuard[int]:
    """A JSON integer (JSON's true and false are Python ints too)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _json_lot(group: _Group, item: dict, where: str, reading: _Reading) -> None:
    _unknown_keys(item, ("number", "title"), where, reading)
    number = item.get("number")
    title = _json_texts(item, ("title",), where, reading)["title"]
    if _is_integer(number):
        _add_lot(group, number, title, where, reading)
    else:
        reading.add(where, "number", "un numéro entier est attendu, par exemple 1.")


def _json_entry(
    group: _Group, kind: RegisterKind, item: dict, where: str, reading: _Reading
) -> None:
    _unknown_keys(item, (*ENTRY_FIELDS, "lots"), where, reading)
    numbers = item.get("lots") or []
    if not isinstance(numbers, list) or not all(_is_integer(n) for n in numbers):
        reading.add(where, "lots", "une liste de numéros de lots est attendue, par exemple [1, 2].")
        numbers = []
    values = _json_texts(item, ENTRY_FIELDS, where, reading)
    lots = ", ".join(map(str, numbers))
    _add_entry(group, kind, values, where, reading, lots=lots, lots_name="lots")


def _json_texts(
    record: dict, names: Iterable[str], where: str, reading: _Reading
) -> dict[str, str]:
    """The text fields of a JSON object, trimmed; absent or null ones are empty."""
    texts = {}
    for name in names:
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            reading.add(
                where, name, f"un texte entre guillemets est attendu, pas {json.dumps(value)}."
            )
        texts[name] = "" if value is None else str(value).strip()
    return texts


def _unknown_keys(record: dict, known: Sequence[str], where: str, reading: _Reading) -> None:
    for key in record:
        if key not in known:
            reading.add(
                where, None, f"champ inconnu « {key} » (champs permis : {', '.join(known)})."
            )


# --- CSV -------------------------------------------------------------------------------------


@dataclass
class _CsvConsultation:
    """A consultation of the CSV file: its group, and the line and columns that defined it."""

    group: _Group
    line: int
    values: dict[str, str]
    disagreeing: set[str] = field(default_factory=set)  # columns reported already


def _read_csv(text: str, reading: _Reading) -> list[_Group]:
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip().lower() for name in next(rows)]
    if not _csv_header(header, reading):
        return []
    consultations: dict[str, _CsvConsultation] = {}
    try:
        for line, values in _csv_lines(rows):
            if len(values) == len(header):
                row = {name: value.strip() for name, value in zip(header, values, strict=True)}
                _csv_row(row, line, consultations, reading)
            else:
                reading.add(
                    f"ligne {line}",
                    None,
                    f"{len(values)} valeurs pour {len(header)} colonnes (séparateur "
                    f"« {delimiter} » ; mettez entre guillemets un texte qui le contient).",
                )
    except csv.Error as error:
        reading.add(f"ligne {rows.line_num}", None, f"CSV illisible ({error}).")
    return [consultation.group for consultation in consultations.values()]


def _csv_header(header: list[str], reading: _Reading) -> bool:
    """Whether the header names every required column, once, and no unknown one."""
    where = "ligne 1 (en-tête)"
    before = len(reading)
    missing = [name for name in CSV_REQUIRED_COLUMNS if name not in header]
    if missing:
        reading.add(where, None, f"colonne(s) manquante(s) : {', '.join(missing)}.")
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        reading.add(
            where,
            None,
            f"colonne(s) inconnue(s) : {', '.join(unknown)} "
            f"(colonnes permises : {', '.join(CSV_COLUMNS)}).",
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        reading.add(where, None, f"colonne(s) en double : {', '.join(repeated)}.")
    return len(reading) == before


def _csv_lines(rows: Any) -> Iterator[tuple[int, list[str]]]:
    """The non-empty rows after the header, each with the line it starts on."""
    previous = rows.line_num
    for values in rows:
        if any(value.strip() for value in values):
            yield previous + 1, values
        previous = rows.line_num


def _csv_row(
    row: dict[str, str], line: int, consultations: dict[str, _CsvConsultation], reading: _Reading
) -> None:
    """One line: its consultation (new, or the same as on its first line) and its entry."""
    where = f"ligne {line}"
    reference = row["reference"]
    if not reference:
        reading.add(where, "reference", "ce champ est obligatoire.")
        return
    values = {name: row.get(name, "") for name in (*CONSULTATION_FIELDS, "lots")}
    if reference not in consultations:
        group = _Group(where, _read_consultation(row, where, reading))
        before = len(reading)
        _csv_lots(group, values["lots"], where, reading)
        group.lots_readable = len(reading) == before
        consultations[reference] = _CsvConsultation(group, line, values)
    first = consultations[reference]
    for name, value in values.items():
        if value != first.values[name] and name not in first.disagreeing:
            first.disagreeing.add(name)
            reading.add(
                where,
                name,
                f"« {value} » diffère de la ligne {first.line} (« {first.values[name]} ») : "
                f"les colonnes de la consultation « {reference} » doivent être identiques "
                "sur chacune de ses lignes.",
            )
    kind = _register_kind(row["register"])
    if kind is None:
        reading.add(
            where, "register", f"« {row['register']} » : écrivez retrait, question ou depot."
        )
        return
    lots = row.get("entry_lots", "")
    _add_entry(first.group, kind, row, where, reading, lots=lots, lots_name="entry_lots")


def _csv_lots(group: _Group, text: str, where: str, reading: _Reading) -> None:
    """Lots written "1:Chocolat au lait|2:Chocolat noir"."""
    for part in filter(None, (part.strip() for part in text.split("|"))):
        number, colon, title = part.partition(":")
        if colon and number.strip().isdigit():
            _add_lot(group, int(number), title.strip(), where, reading)
        else:
            reading.add(
                where,
                "lots",
                f"« {part} » : écrivez numéro:intitulé, les lots séparés par | "
                "(par exemple 1:Chocolat au lait|2:Chocolat noir).",
            )


# --- Writing: one transaction --------------------------------------------------------------


def _write(
    connection: Connection, consultations: list[ImportedConsultation], *, now: datetime
) -> ImportReport:
    tally: Counter[str] = Counter()
    ids = _write_consultations(connection, consultations, now, tally)
    lot_ids = _write_lots(connection, consultations, ids, tally)
    company_ids = _write_companies(connection, consultations, tally)
    _write_entries(connection, consultations, ids, lot_ids, company_ids, tally)
    return ImportReport(**tally)


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


def _entity_id(connection: Connection, fields: ConsultationFields) -> int:
    """The purchasing entity, found by name in its organisation (found by name) or created."""
    organisation_id = connection.execute(
        sa.select(organisation.c.id).where(organisation.c.name == fields.organisation)
    ).scalar()
    if organisation_id is None:
        organisation_id = connection.execute(
            sa.insert(organisation).values(name=fields.organisation).returning(organisation.c.id)
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
            purchasing_entity.c.name == fields.purchasing_entity,
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
                    "name": fields.purchasing_entity,
                }
            )
            .returning(purchasing_entity.c.id)
        ).scalar_one()
    changes = _changes(found, given)
    if changes:
        connection.execute(
            sa.update(purchasing_entity).where(purchasing_entity.c.id == found.id).values(changes)
        )
    return found.id


def _write_consultations(
    connection: Connection,
    consultations: list[ImportedConsultation],
    now: datetime,
    tally: Counter[str],
) -> dict[str, int]:
    """Create or update the consultations (and their entities); their ids by reference."""
    entity_ids: dict[tuple[str, str], int] = {}
    references = [imported.fields.reference for imported in consultations]
    existing = {
        row.reference: row
        for row in _select_in(
            connection, sa.select(consultation), consultation.c.reference, references
        )
    }
    created = []
    for imported in consultations:
        fields = imported.fields
        entity = (fields.organisation, fields.purchasing_entity)
        if entity not in entity_ids:
            entity_ids[entity] = _entity_id(connection, fields)
        values = _consultation_values(fields, entity_ids[entity])
        row = existing.get(fields.reference)
        if row is None:
            created.append({**values, "created_at": now})
            continue
        changes = _changes(row, values)
        if changes:
            connection.execute(
                sa.update(consultation).where(consultation.c.id == row.id).values(changes)
            )
        tally["consultations_updated" if changes else "consultations_unchanged"] += 1
    if created:
        connection.execute(sa.insert(consultation), created)
        tally["consultations_created"] += len(created)
    query = sa.select(consultation.c.reference, consultation.c.id)
    return dict(_select_in(connection, query, consultation.c.reference, references))


def _consultation_values(fields: ConsultationFields, entity_id: int) -> dict[str, Any]:
    return {
        "reference": fields.reference,
        "title": fields.title,
        "object": fields.object,
        "procedure": fields.procedure,
        "status": fields.status,
        "bid_deadline": fields.bid_deadline,
        "entity_id": entity_id,
        "search_text": search_text(
            fields.reference,
            fields.title,
            fields.object,
            fields.purchasing_entity,
            fields.organisation,
        ),
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
        consultation_id = ids[imported.fields.reference]
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
    connection: Connection, consultations: list[ImportedConsultation], tally: Counter[str]
) -> dict[str, int]:
    """Create or update the companies; their ids by SIRET.

    The first entry of a SIRET in the file names the company; each address field comes from
    the first entry that gives it, and an empty one leaves the stored one alone.
    """
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
    created = []
    for siret, given in wanted.items():
        row = existing.get(siret)
        if row is None:
            created.append({"address": "", "postal_code": "", "city": "", **given, "siret": siret})
        elif changes := _changes(row, given):
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
    known = _known_entries(connection, ids.values())
    numbers = _highest_question_numbers(connection, ids.values())
    rows, links = [], []
    for imported in consultations:
        consultation_id = ids[imported.fields.reference]
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
            rows.append(_entry_row(consultation_id, entry, company_ids[entry.siret], number))
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


def _entry_row(
    consultation_id: int, entry: ValidEntry, company_id: int, number: int | None
) -> dict[str, Any]:
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


def _audit(
    connection: Connection,
    file_name: str,
    consultations: list[ImportedConsultation],
    report: ImportReport,
    *,
    actor: str,
    now: datetime,
) -> None:
    references = ", ".join(imported.fields.reference for imported in consultations)
    audit.append(
        connection,
        action="import",
        actor=actor,
        at=now,
        detail=f"Import de « {file_name} » ({references}) : {report.summary()}",
    )
