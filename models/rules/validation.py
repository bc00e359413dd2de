"""Field checks shared by the TUI forms and the import: e-mail, SIRET, Paris times, entries.

Every check either returns the cleaned value or raises `ValidationFailed` carrying one
`FieldError` per wrong field, each with its French label and a message saying what to fix.
`validate_entry` runs every check of a register entry and reports all the wrong fields at once.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TypeVar

from email_validator import EmailNotValidError, validate_email

from messagerie.models.clock import utc_now
from messagerie.models.errors import Refusal
from messagerie.models.formatting import (
    LOCALE,
    PARIS,
    SUMMER_TIME,
    WINTER_TIME,
    paris_as_typed,
)
from messagerie.models.rules.siret import luhn_valid, normalise_siret
from messagerie.models.store.enums import RegisterKind
from messagerie.models.text import ascii_digits, control_character_problem, cut, whole_number

T = TypeVar("T")

# The French label of every field of a register entry, as the form shows it.
LABELS = {
    "kind": "Registre",
    "company_name": "Entreprise",
    "siret": "SIRET",
    "contact_name": "Contact",
    "contact_email": "Adresse e-mail",
    "at": "Date et heure",
    "lots": "Lots",
    "question_text": "Question",
    "address": "Adresse",
    "postal_code": "Code postal",
    "city": "Ville",
    "bid_deadline": "Date limite de remise des plis",
    "sender_email": "Adresse d'envoi",
}
# The text fields of RegisterEntryInput.
ENTRY_TEXTS = (
    "company_name",
    "siret",
    "contact_name",
    "contact_email",
    "at",
    "lots",
    "question_text",
    "address",
    "postal_code",
    "city",
)
# Longest text each column holds (models/tables.py).
MAX_LENGTHS = {
    "company_name": 200,
    "contact_name": 200,
    "contact_email": 254,
    "address": 300,
    "postal_code": 10,
    "city": 100,
}
REQUIRED = ("company_name", "siret", "contact_name", "contact_email", "at")

# Which of the hour Paris lives twice in October, as formatting.in_paris says it: « heure
# d'hiver », the zone before it (« heure de Paris, heure d'été »), or the zone alone, in
# parentheses or without, never with one of the two alone; possessive: spaces that lead
# nowhere are not tried again and again.
_SEASON = r"heure\s++d['’]\s*+(?P<{name}>été|ete|hiver)"
_ZONE = r"(?:heure\s++de\s++)?paris"
_PARIS_FORMAT = re.compile(
    r"(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4})"
    r"(?:\s*(?:-|à)\s*|\s+)"
    r"(?P<hour>\d{1,2})[:h](?P<minute>\d{2})(?::(?P<second>\d{2}))?"
    r"(?:\s*+(?P<open>\()?\s*+(?i:"
    + _ZONE
    + r"(?:\s*+,\s*+"
    + _SEASON.format(name="season_after_zone")
    + r")?|"
    + _SEASON.format(name="season")
    + r")\s*+(?(open)\)))?"
)
_LOT_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class FieldError:
    """One wrong field: its key, its French label and what to fix (in French)."""

    field: str
    label: str
    message: str


class ValidationFailed(Refusal):
    """One or more wrong fields; `str()` gives their messages, one per line."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(error.message for error in self.errors))

    @classmethod
    def one(cls, field: str, message: str) -> ValidationFailed:
        return cls([FieldError(field, LABELS.get(field, field), message)])


# --- Single fields ---------------------------------------------------------------------------


def check_email(text: str, *, field: str = "contact_email") -> str:
    """The address, its domain normalised, or ValidationFailed (syntax only, no DNS)."""
    address = text.strip()
    if not address:
        raise ValidationFailed.one(field, "L'adresse e-mail est obligatoire.")
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValidationFailed.one(
            field, f"« {address} » n'est pas une adresse e-mail valide."
        ) from None


def check_sender_email(text: str, *, field: str = "sender_email") -> str:
    """A purchasing entity's address: every one of its e-mails goes from it, so it must be
    one that any relay carries (an accented domain is, in IDNA)."""
    address = check_email(text, field=field)
    if relay_address(address) is None:
        raise ValidationFailed.one(
            field,
            f"« {address} » : l'adresse d'envoi doit s'écrire sans accent avant l'@ (tous les "
            "relais SMTP ne transmettent pas une telle adresse).",
        )
    return address


def relay_address(address: str) -> str | None:
    """`address` as any relay and any header carries it: its domain in IDNA (« contact@
    société.fr » → « contact@xn--socit-esab.fr »); None when its local part is not ASCII
    (« élodie@… »), which only a relay offering SMTPUTF8 carries, as it is."""
    if address.isascii():
        return address
    try:
        return validate_email(address, check_deliverability=False).ascii_email
    except EmailNotValidError:
        return None


def address_domain(address: str) -> str:
    """The domain of a sender's address in IDNA, as its bounce and reply addresses and its
    Message-IDs carry it (IDNA 2008, as email-validator: « ß » stays itself, not « ss »)."""
    domain = address.rpartition("@")[2]
    if not domain:
        return "messagerie.invalid"
    if domain.isascii():
        return domain
    try:
        return validate_email(f"x@{domain}", check_deliverability=False).ascii_domain
    except EmailNotValidError:  # stored before it was checked: sent as it is, or refused
        return domain


def check_siret(text: str, *, field: str = "siret") -> str:
    """The 14 digits of a SIRET typed with or without spaces and dots, Luhn key checked."""
    digits = normalise_siret(text)
    shown = cut(text.strip(), 40)  # quoted in the message: a pasted page stays a line
    if not digits:
        raise ValidationFailed.one(field, "Le SIRET est obligatoire.")
    if not ascii_digits(digits):
        message = f"« {shown} » n'est pas un SIRET : il ne doit contenir que des chiffres."
    elif len(digits) != 14:
        message = f"« {shown} » compte {len(digits)} chiffres : un SIRET en compte 14."
    elif not luhn_valid(digits):
        message = f"« {shown} » n'est pas un SIRET valide (clé de contrôle)."
    else:
        return digits
    raise ValidationFailed.one(field, message)


# The years a date of a consultation can fall in. Outside them, a typo (« 01/01/0025 ») and a
# date that no conversion can hold (year 1 in UTC is before year 1 in Paris) alike.
FIRST_YEAR, LAST_YEAR = 2000, 2099


LONGEST_DATE = 80  # « 25/10/2026 - 02:30:00 (heure de Paris, heure d'hiver) » is 54


def parse_paris_datetime(text: str, *, field: str = "at") -> datetime:
    """An aware UTC time from "22/08/2025 09:31[:05]" or ISO 8601 (no offset means Paris)."""
    shown = text.strip()
    if not shown:
        raise ValidationFailed.one(field, "La date et l'heure sont obligatoires.")
    try:
        if len(shown) > LONGEST_DATE:  # a whole cell pasted: quoted short, never parsed
            raise ValueError("longer than any date")
        moment, season = _parse_moment(shown)
    except ValueError:
        raise ValidationFailed.one(
            field,
            no_such_day(quoted := cut(shown, LONGEST_DATE))
            or f"« {quoted} » n'est pas une date valide : écrivez "
            "JJ/MM/AAAA HH:MM (heure de Paris), par exemple 22/08/2025 09:31.",
        ) from None
    if problem := year_problem(shown, moment.year):
        raise ValidationFailed.one(field, problem)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS, fold=int(season == WINTER_TIME))
        if problem := _paris_hour_problem(shown, moment, season):
            raise ValidationFailed.one(field, problem)
    return moment.astimezone(UTC)


def _paris_hour_problem(shown: str, moment: datetime, season: str | None) -> str | None:
    """Why the Paris wall time `moment` (in `season`, when the text says which) names no
    single instant, or None."""
    back = moment.astimezone(UTC).astimezone(PARIS)
    if back.replace(tzinfo=None) != moment.replace(tzinfo=None):
        # The hour summer time skips: zoneinfo reads it an hour later, and a deadline
        # typed 02:30 would be kept, and shown, as 03:30.
        return (
            f"« {shown} » : cette heure n'existe pas à Paris, où l'on passe ce jour-là de "
            "02:00 à 03:00 (heure d'été) ; indiquez une autre heure."
        )
    if season is not None and season != (SUMMER_TIME if moment.dst() else WINTER_TIME):
        return f"« {shown} » : Paris n'est pas à l'{season} à cette heure-là ; retirez la mention."
    if season is None and moment.utcoffset() != moment.replace(fold=1).utcoffset():
        # The hour winter time repeats: a deadline at 02:30 would fall at two instants an
        # hour apart, and the letter could not say which one the store keeps.
        return (
            f"« {shown} » : cette heure existe deux fois à Paris, où l'on revient ce jour-là "
            f"de 03:00 à 02:00 (heure d'hiver) ; indiquez une autre heure, ou ajoutez « "
            f"({SUMMER_TIME}) » pour la première, « ({WINTER_TIME}) » pour la seconde."
        )
    return None


def parse_paris_day(text: str, *, field: str = "day") -> date:
    """ "JJ/MM/AAAA" → that day (a Paris day: no time, no zone)."""
    shown = text.strip()
    try:
        day = datetime.strptime(shown, "%d/%m/%Y").date()
    except ValueError:
        raise ValidationFailed.one(
            field, no_such_day(shown) or f"« {shown} » n'est pas une date : écrivez JJ/MM/AAAA."
        ) from None
    if problem := year_problem(shown, day.year):
        raise ValidationFailed.one(field, problem)
    return day


_WRITTEN_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})\b")


def no_such_day(shown: str) -> str | None:
    """Why `shown`, written JJ/MM/AAAA[ …], names no day of the calendar (« 31/02/2026 »);
    None when it is not written so, or when its day exists."""
    written = _WRITTEN_DAY.match(shown)
    if written is None:
        return None
    day, month, year = (int(part) for part in written.groups())
    if problem := year_problem(shown, year):
        return problem
    if not 1 <= month <= 12:
        return f"« {shown} » : il n'y a pas de mois {month:02d} ; le mois va de 01 à 12."
    last = calendar.monthrange(year, month)[1]
    if 1 <= day <= last:
        return None
    from babel.dates import format_date  # only for a refusal: babel stays off the first page

    in_month = format_date(date(year, month, 1), "MMMM yyyy", locale=LOCALE)
    return f"« {shown} » : {in_month} compte {last} jours ; vérifiez le jour ({day:02d})."


def year_problem(shown: str, year: int) -> str | None:
    """Why the date `shown` cannot be a consultation's: its year is out of range."""
    if FIRST_YEAR <= year <= LAST_YEAR:
        return None
    return (
        f"« {shown} » : l'année {year:04d} est hors de la période possible "
        f"({FIRST_YEAR} à {LAST_YEAR}) ; vérifiez-la."
    )


def _parse_moment(text: str) -> tuple[datetime, str | None]:
    """A datetime, naive when the text names no offset, and the season it names for the
    hour Paris lives twice (SUMMER_TIME, WINTER_TIME, None); ValueError when unreadable."""
    french = _PARIS_FORMAT.fullmatch(text)
    if french:
        numbers = ("day", "month", "year", "hour", "minute", "second")
        day, month, year, hour, minute, second = (int(french[name] or 0) for name in numbers)
        season = french["season"] or french["season_after_zone"]
        named = (
            None if season is None else WINTER_TIME if season.casefold() == "hiver" else SUMMER_TIME
        )
        return datetime(year, month, day, hour, minute, second), named
    if len(text) <= len("2025-08-22"):
        raise ValueError("a date without a time")
    return datetime.fromisoformat(text), None


MAX_LOT_NUMBER = 9999  # the lot numbers a consultation can have: 0 to 9999


def parse_lot_numbers(text: str, *, field: str = "lots") -> tuple[int, ...]:
    """Lot numbers typed as "1, 2" or "1 2", sorted, without repeats; empty means none."""
    words = [word for word in _LOT_SEPARATORS.split(text.strip()) if word]
    wrong = [word for word in words if not ascii_digits(word)]
    if wrong:
        raise ValidationFailed.one(
            field,
            f"« {wrong[0]} » n'est pas un numéro de lot : "
            "indiquez des numéros séparés par des virgules (par exemple 1, 2).",
        )
    too_high = [word for word in words if whole_number(word, MAX_LOT_NUMBER) is None]
    if too_high:
        raise ValidationFailed.one(field, lot_number_problem(too_high[0]))
    return tuple(sorted({int(word) for word in words}))


def lot_number_problem(number: object) -> str:
    """Why a lot number is refused: beyond the highest a consultation can have."""
    return f"{cut(str(number), 20)} : un numéro de lot va de 0 à {MAX_LOT_NUMBER}."


def check_lots(numbers: Iterable[int], known: Collection[int], *, field: str = "lots") -> None:
    """Raise ValidationFailed unless every lot number is one of the consultation's."""
    unknown = [number for number in numbers if number not in known]
    if not unknown:
        return
    if not known:
        raise ValidationFailed.one(
            field, "Cette consultation n'est pas allotie : laissez les lots vides."
        )
    names = ", ".join(f"n°{number}" for number in unknown)
    existing = ", ".join(str(number) for number in sorted(known))
    unknown_words = "Lots {} inconnus" if len(unknown) > 1 else "Lot {} inconnu"
    raise ValidationFailed.one(
        field,
        f"{unknown_words.format(names)} de cette consultation (lots existants : {existing}).",
    )


# --- A register entry ------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterEntryInput:
    """What a buyer types in the add/edit form of a register, as text."""

    kind: RegisterKind
    company_name: str
    siret: str
    contact_name: str
    contact_email: str
    at: str
    lots: str = ""
    question_text: str = ""
    address: str = ""
    postal_code: str = ""
    city: str = ""


@dataclass(frozen=True)
class ValidEntry:
    """A checked register entry: trimmed texts, SIRET digits, aware UTC time, lot numbers."""

    kind: RegisterKind
    company_name: str
    siret: str
    contact_name: str
    contact_email: str
    at: datetime
    lot_numbers: tuple[int, ...] = ()
    question_text: str | None = None
    address: str = ""
    postal_code: str = ""
    city: str = ""


class _Collector:
    """Runs checks, keeping each one's value and every FieldError they raise."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def run(self, check: Callable[[], T]) -> T | None:
        try:
            return check()
        except ValidationFailed as failed:
            self.errors.extend(failed.errors)
            return None

    def add(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, LABELS[field], message))


def validate_entry(
    entry: RegisterEntryInput,
    *,
    lot_numbers: Collection[int],
    deadline: datetime | None = None,
    now: datetime | None = None,
) -> ValidEntry:
    """Check every field of `entry`; raise ValidationFailed listing all wrong fields.

    `lot_numbers` are the consultation's lots; `deadline` its bid deadline, after which no
    dépôt can be registered; `now` (default: the clock) bounds every time from above.
    """
    texts = {name: getattr(entry, name).strip() for name in ENTRY_TEXTS}
    errors = _Collector()
    _check_presence_and_length(texts, errors)
    siret = errors.run(lambda: check_siret(texts["siret"])) if texts["siret"] else None
    email = (
        errors.run(lambda: check_email(texts["contact_email"])) if texts["contact_email"] else None
    )
    at = errors.run(lambda: parse_paris_datetime(texts["at"])) if texts["at"] else None
    if at is not None:
        _check_time(entry.kind, at, deadline, now or utc_now(), errors)
    lots = errors.run(lambda: parse_lot_numbers(texts["lots"]))
    if lots is not None:
        errors.run(lambda: check_lots(lots, lot_numbers))
    _check_question(entry.kind, texts["question_text"], errors)
    if errors.errors:
        raise ValidationFailed(errors.errors)
    assert siret is not None and email is not None and at is not None and lots is not None
    return ValidEntry(
        kind=entry.kind,
        company_name=texts["company_name"],
        siret=siret,
        contact_name=texts["contact_name"],
        contact_email=email,
        at=at,
        lot_numbers=lots,
        question_text=texts["question_text"] or None,
        address=texts["address"],
        postal_code=texts["postal_code"],
        city=texts["city"],
    )


def _check_presence_and_length(texts: dict[str, str], errors: _Collector) -> None:
    for name in REQUIRED:
        if not texts[name]:
            errors.add(name, f"Le champ « {LABELS[name]} » est obligatoire.")
    for name, text in texts.items():
        problem = control_character_problem(text, multiline=name == "question_text")
        if problem:
            errors.add(name, f"Le champ « {LABELS[name]} » {problem}")
    for name, limit in MAX_LENGTHS.items():
        if len(texts[name]) > limit:
            errors.add(
                name,
                f"Le champ « {LABELS[name]} » compte {len(texts[name])} caractères "
                f"(au plus {limit}).",
            )


def _check_time(
    kind: RegisterKind,
    at: datetime,
    deadline: datetime | None,
    now: datetime,
    errors: _Collector,
) -> None:
    if at > now:
        errors.add(
            "at",
            f"Le {paris_as_typed(at)} est dans le futur : indiquez une date passée "
            f"(nous sommes le {paris_as_typed(now)}).",
        )
    elif kind is RegisterKind.DEPOSIT and deadline is not None and at > deadline:
        errors.add(
            "at",
            f"Un dépôt du {paris_as_typed(at)} serait postérieur à la date limite de remise "
            f"des plis ({paris_as_typed(deadline)}).",
        )


def _check_question(kind: RegisterKind, text: str, errors: _Collector) -> None:
    if kind is RegisterKind.QUESTION and not text:
        errors.add("question_text", "Le texte de la question est obligatoire.")
    elif kind is not RegisterKind.QUESTION and text:
        errors.add(
            "question_text",
            f"Seul le registre des questions porte un texte de question "
            f"(registre : {kind.label}) : laissez ce champ vide.",
        )
