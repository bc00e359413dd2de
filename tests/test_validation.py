"""Field checks of the register forms and the import: French messages naming what to fix."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from messagerie.models.rules.validation import (
    FieldError,
    RegisterEntryInput,
    ValidationFailed,
    check_email,
    check_lots,
    check_siret,
    parse_lot_numbers,
    parse_paris_datetime,
    parse_paris_day,
    validate_entry,
)
from messagerie.models.store.enums import RegisterKind

NOW = datetime(2025, 9, 1, 10, 0, tzinfo=UTC)
QUESTION = RegisterEntryInput(
    kind=RegisterKind.QUESTION,
    company_name=" N.B.C. FR ",
    siret="476 460 118 00047",
    contact_name="Jeanne Martin",
    contact_email="jeanne.martin@NBC-FR.example",
    at="22/08/2025 09:31",
    lots="2, 1 2",
    question_text="Le lot 2 accepte-t-il les variantes ?",
)


def only_error(raised: pytest.ExceptionInfo[ValidationFailed]) -> FieldError:
    (error,) = raised.value.errors
    return error


# --- E-mail ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jeanne.martin@nbc.example", "jeanne.martin@nbc.example"),
        ("  Jeanne.Martin@NBC.Example ", "Jeanne.Martin@nbc.example"),
        ("marches+dce@alsace.fr", "marches+dce@alsace.fr"),
    ],
)
def test_good_emails_are_normalised(text, expected):
    assert check_email(text) == expected


@pytest.mark.parametrize(
    "text", ["jean@", "jean", "@nbc.fr", "jean@nbc", "jean @nbc.fr", "a@b..fr"]
)
def test_bad_emails_say_which_address_is_wrong(text):
    with pytest.raises(ValidationFailed) as raised:
        check_email(text)
    error = only_error(raised)
    assert error == FieldError(
        "contact_email",
        "Adresse e-mail",
        f"« {text.strip()} » n'est pas une adresse e-mail valide.",
    )
    assert str(raised.value) == error.message


def test_an_empty_email_is_required():
    with pytest.raises(ValidationFailed, match="L'adresse e-mail est obligatoire"):
        check_email("   ")


# --- SIRET -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["47646011800047", "476 460 118 00047", "732.829.320.00074"])
def test_good_sirets_give_their_digits(text):
    assert check_siret(text) in {"47646011800047", "73282932000074"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("47646011000047", "« 47646011000047 » n'est pas un SIRET valide (clé de contrôle)."),
        ("4764601180004", "« 4764601180004 » compte 13 chiffres : un SIRET en compte 14."),
        ("476460118000470", "« 476460118000470 » compte 15 chiffres : un SIRET en compte 14."),
        ("4764601180004A", "ne doit contenir que des chiffres"),
        ("", "Le SIRET est obligatoire."),
    ],
)
def test_bad_sirets(text, message):
    with pytest.raises(ValidationFailed) as raised:
        check_siret(text)
    error = only_error(raised)
    assert (error.field, error.label) == ("siret", "SIRET")
    assert message in error.message


# --- Dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("22/08/2025 09:31", datetime(2025, 8, 22, 7, 31, tzinfo=UTC)),  # summer: UTC+2
        ("22/08/2025 09:31:05", datetime(2025, 8, 22, 7, 31, 5, tzinfo=UTC)),
        ("14/02/2026 12:00", datetime(2026, 2, 14, 11, 0, tzinfo=UTC)),  # winter: UTC+1
        ("10/02/2026 - 16:41:11", datetime(2026, 2, 10, 15, 41, 11, tzinfo=UTC)),
        ("14/02/2026 à 12h00", datetime(2026, 2, 14, 11, 0, tzinfo=UTC)),
        ("2026-02-14T12:00", datetime(2026, 2, 14, 11, 0, tzinfo=UTC)),
        ("2026-02-14 12:00:30", datetime(2026, 2, 14, 11, 0, 30, tzinfo=UTC)),
        ("2026-02-14T12:00:00+01:00", datetime(2026, 2, 14, 11, 0, tzinfo=UTC)),
        ("2026-02-14T11:00:00Z", datetime(2026, 2, 14, 11, 0, tzinfo=UTC)),
    ],
)
def test_dates_in_paris_or_iso_become_aware_utc(text, expected):
    parsed = parse_paris_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("text", ["14/02/2026", "2026-02-14", "demain", "14/02/26 12:00"])
def test_unreadable_dates_show_the_expected_format(text):
    with pytest.raises(ValidationFailed) as raised:
        parse_paris_datetime(text)
    error = only_error(raised)
    assert (error.field, error.label) == ("at", "Date et heure")
    assert error.message.startswith(f"« {text} » n'est pas une date valide")
    assert "JJ/MM/AAAA HH:MM" in error.message


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("32/01/2026 12:00", "janvier 2026 compte 31 jours ; vérifiez le jour (32)."),
        ("29/02/2027 09:00", "février 2027 compte 28 jours ; vérifiez le jour (29)."),
        ("00/03/2026 09:00", "mars 2026 compte 31 jours ; vérifiez le jour (00)."),
        ("15/13/2026 09:00", "il n'y a pas de mois 13 ; le mois va de 01 à 12."),
    ],
)
def test_a_day_the_calendar_does_not_have_is_named_as_such(text, said):
    for parse in (parse_paris_datetime, parse_paris_day):
        with pytest.raises(ValidationFailed) as raised:
            parse(text if parse is parse_paris_datetime else text.split()[0])
        assert only_error(raised).message.endswith(f" : {said}")
    assert parse_paris_day("29/02/2028") == date(2028, 2, 29)  # a leap year's


def test_a_date_check_can_name_another_field():
    with pytest.raises(ValidationFailed) as raised:
        parse_paris_datetime("bientôt", field="bid_deadline")
    assert only_error(raised).label == "Date limite de remise des plis"


# --- Lots ------------------------------------------------------------------------------------


def test_lot_numbers_are_read_sorted_and_unique():
    assert parse_lot_numbers("2, 1 2;3") == (1, 2, 3)
    assert parse_lot_numbers("  ") == ()


def test_a_lot_that_is_not_a_number():
    with pytest.raises(ValidationFailed, match="« deux » n'est pas un numéro de lot"):
        parse_lot_numbers("1, deux")


def test_unknown_lots_name_the_existing_ones():
    with pytest.raises(ValidationFailed, match=r"Lot n°3 inconnu .*\(lots existants : 1, 2\)"):
        check_lots([1, 3], {1, 2})
    with pytest.raises(ValidationFailed, match="Lots n°3, n°4 inconnus"):
        check_lots([3, 4], {1, 2})
    with pytest.raises(ValidationFailed, match="n'est pas allotie"):
        check_lots([1], set())


# --- A whole entry ---------------------------------------------------------------------------


def test_a_valid_question():
    valid = validate_entry(QUESTION, lot_numbers={1, 2}, now=NOW)
    assert valid.company_name == "N.B.C. FR"
    assert valid.siret == "47646011800047"
    assert valid.contact_email == "jeanne.martin@nbc-fr.example"
    assert valid.at == datetime(2025, 8, 22, 7, 31, tzinfo=UTC)
    assert valid.lot_numbers == (1, 2)
    assert valid.question_text == "Le lot 2 accepte-t-il les variantes ?"


def test_a_retrait_has_no_question_text():
    retrait = replace(QUESTION, kind=RegisterKind.WITHDRAWAL, question_text="", lots="")
    assert validate_entry(retrait, lot_numbers=(), now=NOW).question_text is None
    with pytest.raises(ValidationFailed) as raised:
        validate_entry(replace(retrait, question_text="Pourquoi ?"), lot_numbers=(), now=NOW)
    assert only_error(raised).field == "question_text"


def test_a_question_without_text():
    with pytest.raises(ValidationFailed) as raised:
        validate_entry(replace(QUESTION, question_text="  "), lot_numbers={1, 2}, now=NOW)
    assert only_error(raised) == FieldError(
        "question_text", "Question", "Le texte de la question est obligatoire."
    )


def test_an_unknown_lot():
    with pytest.raises(ValidationFailed) as raised:
        validate_entry(replace(QUESTION, lots="1, 3"), lot_numbers={1, 2}, now=NOW)
    error = only_error(raised)
    assert (error.field, error.label) == ("lots", "Lots")
    assert "Lot n°3 inconnu" in error.message


def test_a_time_in_the_future():
    with pytest.raises(ValidationFailed) as raised:
        validate_entry(replace(QUESTION, at="01/09/2025 12:01"), lot_numbers={1, 2}, now=NOW)
    error = only_error(raised)
    assert error.field == "at"
    assert error.message == (
        "Le 01/09/2025 12:01 est dans le futur : indiquez une date passée "
        "(nous sommes le 01/09/2025 12:00)."
    )


def test_now_defaults_to_the_clock():
    with pytest.raises(ValidationFailed, match="dans le futur"):
        validate_entry(replace(QUESTION, at="31/12/2099 00:00"), lot_numbers={1, 2})


def test_a_deposit_after_the_bid_deadline():
    deposit = replace(QUESTION, kind=RegisterKind.DEPOSIT, question_text="")
    deadline = datetime(2025, 8, 22, 7, 0, tzinfo=UTC)
    with pytest.raises(ValidationFailed, match="postérieur à la date limite"):
        validate_entry(deposit, lot_numbers={1, 2}, deadline=deadline, now=NOW)
    # Retraits and questions may come later: only dépôts close at the deadline.
    validate_entry(QUESTION, lot_numbers={1, 2}, deadline=deadline, now=NOW)


def test_every_wrong_field_is_reported_at_once():
    wrong_values = {  # every field of the question but its kind
        "company_name": "",
        "siret": "4764601180004",
        "contact_name": "  ",
        "contact_email": "jean@",
        "at": "31/02/2025 10:00",
        "lots": "9",
        "question_text": "",
        "postal_code": "67000-STRASBOURG",
    }
    with pytest.raises(ValidationFailed) as raised:
        validate_entry(replace(QUESTION, **wrong_values), lot_numbers={1, 2}, now=NOW)
    errors = raised.value.errors
    assert [(error.field, error.label) for error in errors] == [
        ("company_name", "Entreprise"),
        ("contact_name", "Contact"),
        ("postal_code", "Code postal"),
        ("siret", "SIRET"),
        ("contact_email", "Adresse e-mail"),
        ("at", "Date et heure"),
        ("lots", "Lots"),
        ("question_text", "Question"),
    ]
    assert errors[0].message == "Le champ « Entreprise » est obligatoire."
    assert errors[2].message == "Le champ « Code postal » compte 16 caractères (au plus 10)."
    assert str(raised.value) == "\n".join(error.message for error in errors)


def test_validation_failures_are_refusals_the_screens_show():
    from messagerie.models.errors import Refusal

    assert issubclass(ValidationFailed, Refusal)
