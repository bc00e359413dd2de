"""What an import file says, checked: the consultation fields, lots and register entries
shared by the JSON and CSV readers, and the faults found, each with its place and field."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from messagerie.models.consultations.identity import ConsultationIdentity
from messagerie.models.errors import Refusal
from messagerie.models.rules.validation import (
    MAX_LOT_NUMBER,
    RegisterEntryInput,
    ValidationFailed,
    ValidEntry,
    check_sender_email,
    lot_number_problem,
    parse_lot_numbers,
    parse_paris_datetime,
    validate_entry,
)
from messagerie.models.store.enums import ConsultationStatus, LabelledEnum, Procedure, RegisterKind
from messagerie.models.store.tables import REFERENCE_LENGTH
from messagerie.models.text import control_character_problem, fold

E = TypeVar("E", bound=LabelledEnum)
T = TypeVar("T")


MAX_SHOWN_ERRORS = 20
LOT_TITLE_LENGTH = 300

# Consultation fields: name → longest text (None: no limit); the first eight are required.
CONSULTATION_FIELDS: dict[str, int | None] = {
    "reference": REFERENCE_LENGTH,
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
# Where the file's name of an entry field differs from the form's (models.validation).
ENTRY_FIELD_NAMES = {"company_name": "company", "question_text": "question"}
# Names of the registers in the files: the French words, singular or plural, or the code's.
REGISTER_NAMES = {
    RegisterKind.WITHDRAWAL: ("retrait", "retraits", "withdrawal"),
    RegisterKind.QUESTION: ("question", "questions"),
    RegisterKind.DEPOSIT: ("depot", "depots", "deposit"),
}
ENUM_NAMES = {Procedure: "une procédure connue", ConsultationStatus: "un statut connu"}


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


@dataclass(frozen=True)
class ConsultationFields:
    """A consultation as a file describes it: its identity (the file's "purchasing_entity"
    is the identity's `entity`) and what the import writes besides."""

    identity: ConsultationIdentity
    procedure: Procedure
    status: ConsultationStatus
    bid_deadline: datetime
    sender_email: str | None
    postal_address: str | None


@dataclass(frozen=True)
class ImportedConsultation:
    """One consultation of a checked file, with its lots and register entries."""

    fields: ConsultationFields
    lots: dict[int, str]
    entries: tuple[ValidEntry, ...]


@dataclass
class Group:
    """A consultation while the file is read; `fields` is None when one was wrong."""

    where: str
    fields: ConsultationFields | None
    lots: dict[int, str] = field(default_factory=dict)
    lots_readable: bool = True  # False: a lot was wrong, so entries' lots are not checked
    entries: list[ValidEntry] = field(default_factory=list)


class Reading:
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

    def group(
        self, values: Mapping[str, str], where: str, read_lots: Callable[[Group], object]
    ) -> Group:
        """A consultation of the file from its texts, then its lots (`read_lots`): its entries'
        lots are checked against them only when every lot could be read."""
        group = Group(where, read_consultation(values, where, self))
        before = len(self)
        read_lots(group)
        group.lots_readable = len(self) == before
        return group

    def add_lot(self, group: Group, number: int, title: str, where: str) -> None:
        if not 0 <= number <= MAX_LOT_NUMBER:
            self.add(where, "number", lot_number_problem(number))
        elif number in group.lots:
            self.add(where, "number", f"le lot n°{number} est décrit deux fois.")
        elif not title:
            self.add(where, "title", f"l'intitulé du lot n°{number} est obligatoire.")
        elif problem := control_character_problem(title):
            self.add(where, "title", f"ce champ {problem}")
        elif len(title) > LOT_TITLE_LENGTH:
            self.add(where, "title", f"{len(title)} caractères, au plus {LOT_TITLE_LENGTH}.")
        else:
            group.lots[number] = title

    def add_entry(
        self,
        group: Group,
        kind: RegisterKind,
        values: Mapping[str, str],
        where: str,
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
        valid = self.run(
            where,
            lambda: validate_entry(typed, lot_numbers=known_lots, deadline=deadline, now=self.now),
            names={**ENTRY_FIELD_NAMES, "lots": lots_name},
        )
        if valid is not None:
            group.entries.append(valid)


def read_consultation(
    values: Mapping[str, str], where: str, reading: Reading
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
    sender = checked("sender_email", check_sender_email)
    if len(reading) > before or procedure is None or status is None or deadline is None:
        return None
    return ConsultationFields(
        identity=ConsultationIdentity(
            reference=texts["reference"],
            title=texts["title"],
            object=texts["object"],
            organisation=texts["organisation"],
            entity=texts["purchasing_entity"],
        ),
        procedure=procedure,
        status=status,
        bid_deadline=deadline,
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


def register_kind(text: str) -> RegisterKind | None:
    wanted = fold(text)
    return next((kind for kind, names in REGISTER_NAMES.items() if wanted in names), None)


def _lot_numbers(text: str) -> tuple[int, ...]:
    """The lot numbers an entry names, when they can be read (else its lots are reported)."""
    try:
        return parse_lot_numbers(text)
    except ValidationFailed:
        return ()
