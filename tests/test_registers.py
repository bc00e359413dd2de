"""The registers in the store (SQLite and PostgreSQL): add, correct, list, addresses."""

from dataclasses import replace
from functools import partial

import pytest
import sqlalchemy as sa

from messagerie.models.consultations.detail import ConsultationNotFound
from messagerie.models.consultations.registers import (
    ALREADY_REGISTERED,
    EntryChanged,
    EntryNotFound,
    add_entry,
    consultation_lots,
    get_entry,
    list_register,
    register_addresses,
    update_entry,
)
from messagerie.models.rules.siret import format_siret, luhn_valid
from messagerie.models.rules.validation import (
    RegisterEntryInput,
    ValidationFailed,
    ValidEntry,
    validate_entry,
)
from messagerie.models.store.enums import ConsultationStatus, RegisterKind
from messagerie.models.store.tables import (
    AuditEntry,
    Company,
    RegisterEntry,
    RegisterEntryLot,
    table_of,
)
from tests.helpers.factories import add_consultations, add_lot, paris
from tests.helpers.interleave import right_after

R, Q, D = RegisterKind.WITHDRAWAL, RegisterKind.QUESTION, RegisterKind.DEPOSIT


def make_siret(seed: int) -> str:
    """A valid SIRET: 13 digits from `seed`, then the Luhn key."""
    base = f"{seed:013d}"
    return next(base + key for key in "0123456789" if luhn_valid(base + key))


def entry(
    kind: RegisterKind = R,
    *,
    company: str = "N.B.C. FR",
    siret: str = "47646011800047",
    contact: str = "Jeanne Martin",
    email: str = "jeanne.martin@nbc.example",
    at: str = "22/08/2025 09:31",
    lots: str = "",
    question: str = "",
    **address: str,
) -> ValidEntry:
    typed = RegisterEntryInput(
        kind=kind,
        company_name=company,
        siret=siret,
        contact_name=contact,
        contact_email=email,
        at=at,
        lots=lots,
        question_text=question or ("Une question ?" if kind is Q else ""),
        **address,
    )
    return validate_entry(typed, lot_numbers={1, 2})


def count_rows(store, model) -> int:
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).select_from(table_of(model))
        ).scalar_one()


def audit_rows(store):
    audit = table_of(AuditEntry)
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(
                audit.c.actor, audit.c.action, audit.c.consultation_id, audit.c.detail
            ).order_by(audit.c.id)
        ).all()


@pytest.fixture
def chocolates(store):
    """Two consultations; the first has two lots."""
    first, second = add_consultations(
        store,
        [
            ("202601", "Achat de chocolats", ConsultationStatus.OPEN, paris(2026, 2, 14)),
            ("2025VINS", "Achat de vins d'Alsace", ConsultationStatus.OPEN, paris(2026, 3, 1)),
        ],
    )
    add_lot(store, first, 2, "Chocolat noir")
    add_lot(store, first, 1, "Chocolat au lait")
    return first, second


def test_lots_of_a_consultation(store, chocolates):
    first, second = chocolates
    assert consultation_lots(store, first, actor="a") == (
        (1, "Chocolat au lait"),
        (2, "Chocolat noir"),
    )
    assert consultation_lots(store, second, actor="a") == ()


def test_add_entry_returns_the_row_with_its_lots(store, chocolates):
    first, _ = chocolates
    row = add_entry(
        store,
        first,
        entry(D, lots="2, 1", address="2 rue du Vignoble", postal_code="68000", city="Colmar"),
        actor="acheteur",
    )
    assert row == get_entry(store, row.id, actor="acheteur")
    assert row.kind is D
    assert row.number is None
    assert row.at == paris(2025, 8, 22, 9, 31)
    assert row.company_name == "N.B.C. FR"
    assert row.siret == "47646011800047"
    assert row.lots == ("Lot n°1 - Chocolat au lait", "Lot n°2 - Chocolat noir")
    assert row.lot_numbers == (1, 2)
    assert (row.address, row.postal_code, row.city) == ("2 rue du Vignoble", "68000", "Colmar")
    assert row.consultation_id == first


def test_questions_are_numbered_per_consultation(store, chocolates):
    first, second = chocolates
    numbers = [
        add_entry(store, first, entry(Q), actor="a").number,
        add_entry(store, first, entry(R), actor="a").number,
        add_entry(store, first, entry(Q, at="20/08/2025 08:00"), actor="a").number,
        add_entry(store, second, entry(Q), actor="a").number,
    ]
    assert numbers == [1, None, 2, 1]
    # The register of questions reads by number, even when times disagree.
    page = list_register(store, first, Q, actor="a")
    assert [row.number for row in page.rows] == [1, 2]


def test_a_company_is_found_by_siret_and_its_blanks_filled_in(store, chocolates):
    first, _ = chocolates
    add_entry(store, first, entry(R, city="Colmar"), actor="a")
    moved = entry(D, company=" n.b.c.  fr ", address="2 rue du Vignoble", city="Mulhouse")
    row = add_entry(store, first, moved, actor="a")  # the same name, case and spaces aside
    assert count_rows(store, Company) == 1
    assert row.company_name == "N.B.C. FR"
    assert (row.address, row.city) == ("2 rue du Vignoble", "Colmar")  # a blank filled in only
    other = add_entry(store, first, entry(R, siret=make_siret(1)), actor="a")
    assert other.company_id != row.company_id
    assert count_rows(store, Company) == 2


def test_a_new_company_typed_in_two_registers_at_once_is_made_once(store, chocolates):
    """Two buyers type the same new SIRET in two consultations' registers at once: each found
    no such company, and the second one's line was refused by the unique SIRET."""
    first, second = chocolates
    other_buyer = partial(add_entry, store, first, entry(R, city="Colmar"), actor="b")
    with right_after(store, "FROM company", other_buyer, head_start=0.5):
        row = add_entry(store, second, entry(D), actor="a")
    assert count_rows(store, Company) == 1
    assert row.company_name == "N.B.C. FR" and count_rows(store, RegisterEntry) == 2


def test_a_register_line_never_renames_a_known_company(store, chocolates):
    """A company is every organisation's: « Acme SAS » typed with N.B.C. FR's SIRET renamed it
    in every register, and in the ARs already signed. The line is refused, naming both."""
    first, second = chocolates
    add_entry(store, second, entry(R), actor="a")
    before = audit_rows(store)
    with pytest.raises(ValidationFailed) as refused:
        add_entry(store, first, entry(D, company="Acme SAS"), actor="a")
    ((field, message),) = [(e.field, e.message) for e in refused.value.errors]
    assert (field, message) == (
        "company_name",
        f"le SIRET {format_siret('47646011800047')} est celui de « N.B.C. FR », pas de « Acme "
        "SAS » : reprenez ce nom, ou vérifiez le SIRET (un nom connu n'est pas changé par un "
        "registre).",
    )
    assert [r.company_name for r in list_register(store, second, R, actor="a").rows] == [
        "N.B.C. FR"
    ]
    assert count_rows(store, RegisterEntry) == 1 and audit_rows(store) == before


def test_the_same_line_twice_is_refused_as_the_import_skips_it(store, chocolates):
    """An exact copy of a line, typed again, made two identical rows (the import says
    « déjà présente »). Another time, or another question's text, is another line."""
    first, _ = chocolates
    add_entry(store, first, entry(R), actor="a")
    with pytest.raises(ValidationFailed) as refused:
        add_entry(store, first, entry(R, email="JEANNE.MARTIN@nbc.example"), actor="a")
    assert [(e.field, e.message) for e in refused.value.errors] == [("at", ALREADY_REGISTERED)]
    later = add_entry(store, first, entry(R, at="22/08/2025 09:32"), actor="a")
    add_entry(store, first, entry(Q), actor="a")
    add_entry(store, first, entry(Q, question="Une autre question ?"), actor="a")
    assert count_rows(store, RegisterEntry) == 4
    with pytest.raises(ValidationFailed):  # corrected into a copy of the first line
        update_entry(store, later.id, entry(R), actor="a")
    update_entry(store, later.id, entry(R, at="22/08/2025 09:33"), actor="a")  # itself: fine


def test_a_correction_made_since_the_form_opened_is_not_overwritten(store, chocolates):
    """Two buyers correct one line: the second saved over the first's correction, and it
    was lost without a word."""
    first, _ = chocolates
    saturday, sunday = "Livrez-vous le samedi ?", "Livrez-vous le dimanche ?"
    shown = add_entry(store, first, entry(Q, question=saturday), actor="a")
    update_entry(store, shown.id, entry(Q, contact="Jeanne Roth", question=saturday), actor="b")
    with pytest.raises(EntryChanged, match=r"corrigée par un autre acheteur .*\(Contact\)"):
        update_entry(store, shown.id, entry(Q, question=sunday), actor="a", expected=shown)
    (kept,) = list_register(store, first, Q, actor="a").rows
    assert (kept.contact_name, kept.question_text) == ("Jeanne Roth", saturday)
    # From the line as it stands, the correction goes.
    corrected = entry(Q, contact="Jeanne Roth", question=sunday)
    again = update_entry(store, shown.id, corrected, actor="a", expected=kept)
    assert again.question_text == sunday


def test_update_entry_keeps_the_question_number(store, chocolates):
    first, _ = chocolates
    add_entry(store, first, entry(Q), actor="a")
    row = add_entry(store, first, entry(Q, lots="1", at="22/08/2025 10:00"), actor="a")
    corrected = update_entry(
        store,
        row.id,
        entry(Q, contact="Paul Durand", email="paul@nbc.example", lots="2", question="Délai ?"),
        actor="b",
    )
    assert corrected.id == row.id
    assert corrected.number == 2
    assert (corrected.contact_name, corrected.contact_email) == ("Paul Durand", "paul@nbc.example")
    assert corrected.lot_numbers == (2,)
    assert corrected.question_text == "Délai ?"
    assert count_rows(store, RegisterEntryLot) == 1


def test_moving_an_entry_between_registers_renumbers_it(store, chocolates):
    first, _ = chocolates
    add_entry(store, first, entry(Q), actor="a")
    later = "22/08/2025 10:00"  # the same question at the same time would be the first one
    retrait = add_entry(store, first, entry(R, at=later), actor="a")
    assert update_entry(store, retrait.id, entry(Q, at=later), actor="a").number == 2
    assert update_entry(store, retrait.id, entry(R, at=later), actor="a").number is None


def test_every_change_is_audited(store, chocolates):
    first, _ = chocolates
    row = add_entry(store, first, entry(Q), actor="jeanne")
    update_entry(store, row.id, entry(Q, question="Autre ?"), actor="paul")
    (added, updated) = audit_rows(store)
    assert added.actor == "jeanne"
    assert added.action == "register.add"
    assert added.consultation_id == first
    assert added.detail == (
        f"Registre des questions, inscription n°{row.id}, question n°1 : N.B.C. FR "
        "(SIRET 476460118 00047), jeanne.martin@nbc.example, 22/08/2025 - 09:31:00"
    )
    assert (updated.actor, updated.action) == ("paul", "register.update")


def test_a_lot_gone_since_validation_writes_nothing(store, chocolates):
    _, second = chocolates  # has no lot
    with pytest.raises(ValidationFailed, match="n'est pas allotie"):
        add_entry(store, second, entry(D, lots="1"), actor="a")
    assert count_rows(store, RegisterEntry) == 0
    assert count_rows(store, Company) == 0
    assert audit_rows(store) == []


def test_missing_entries_and_consultations(store, chocolates):
    with pytest.raises(EntryNotFound, match="n°999 n'existe plus"):
        get_entry(store, 999, actor="acheteur")
    with pytest.raises(ConsultationNotFound, match="La consultation n°999 est introuvable"):
        add_entry(store, 999, entry(R), actor="a")
    with pytest.raises(EntryNotFound):
        update_entry(store, 999, entry(R), actor="a")


@pytest.fixture
def register(store, chocolates):
    """A register of retraits with accents, a question and a dépôt."""
    first, _ = chocolates
    companies = [
        ("Équipements Dupont", "Élodie Noël", "elodie.noel@dupont.example"),
        ("Chocolaterie Schaal", "Marc Œhler", "marc@schaal.example"),
        ("Café 100% Arabica", "Luc Petit", "luc_petit@cafe.example"),
        ("N.B.C. FR", "Jeanne Martin", "jeanne.martin@nbc.example"),
    ]
    for day, (name, contact, email) in enumerate(companies, start=1):
        add_entry(
            store,
            first,
            entry(
                R,
                company=name,
                siret=make_siret(day * 1_111_111_110_000),
                contact=contact,
                email=email,
                at=f"0{day}/08/2025 10:00",
            ),
            actor="a",
        )
    add_entry(store, first, entry(Q, question="Les fèves sont-elles équitables ?"), actor="a")
    add_entry(store, first, entry(D), actor="a")
    return first


@pytest.mark.parametrize(
    ("text", "companies"),
    [
        ("equipement", ["Équipements Dupont"]),
        ("ÉQUIPEMENTS dupont", ["Équipements Dupont"]),
        ("elodie", ["Équipements Dupont"]),
        ("oehler", ["Chocolaterie Schaal"]),
        ("SCHAAL.EXAMPLE", ["Chocolaterie Schaal"]),
        ("cafe", ["Café 100% Arabica"]),
        ("100%", ["Café 100% Arabica"]),
        ("%", ["Café 100% Arabica"]),  # wildcards are text
        ("_", ["Café 100% Arabica"]),
        (format_siret(make_siret(2_222_222_220_000)), ["Chocolaterie Schaal"]),
        ("", ["Équipements Dupont", "Chocolaterie Schaal", "Café 100% Arabica", "N.B.C. FR"]),
        ("introuvable", []),
    ],
)
def test_the_filter_is_blind_to_case_and_accents(store, register, text, companies):
    page = list_register(store, register, R, text=text, actor="a")
    assert [row.company_name for row in page.rows] == companies
    assert page.total == len(companies)
    assert page.counts == {R: 4, Q: 1, D: 1}


def test_the_filter_reads_question_texts(store, register):
    page = list_register(store, register, Q, text="feves equitable", actor="a")
    assert [row.question_text for row in page.rows] == ["Les fèves sont-elles équitables ?"]
    assert list_register(store, register, R, text="feves", actor="a").total == 0


def test_pages_are_cut_in_sql_and_clamped(store, chocolates):
    first, _ = chocolates
    for n in range(7):
        add_entry(
            store,
            first,
            entry(R, siret=make_siret(n), email=f"c{n}@nbc.example", at=f"1{n}/08/2025 10:00"),
            actor="a",
        )
    pages = [list_register(store, first, R, page=n, per_page=3, actor="a") for n in (1, 2, 3)]
    assert [len(page.rows) for page in pages] == [3, 3, 1]
    assert [page.page_count for page in pages] == [3, 3, 3]
    emails = [row.contact_email for page in pages for row in page.rows]
    assert emails == [f"c{n}@nbc.example" for n in range(7)]  # by time
    last = list_register(store, first, R, page=99, per_page=3, actor="a")
    assert (last.page, last.total, len(last.rows)) == (3, 7, 1)
    empty = list_register(store, first, D, page=5, actor="a")
    assert (empty.page, empty.page_count, empty.total, empty.rows) == (1, 1, 0, ())


def test_register_addresses_are_deduplicated_whatever_the_case(store, chocolates):
    first, second = chocolates
    nbc = entry(R, contact="Jeanne Martin", email="Jeanne.Martin@NBC.example")
    add_entry(store, first, nbc, actor="a")
    again = replace(
        nbc,
        kind=D,
        contact_name="J. Martin",
        contact_email="jeanne.martin@nbc.example",
        at=nbc.at.replace(day=25),
    )
    add_entry(store, first, again, actor="a")
    schaal = entry(Q, company="Schaal", siret=make_siret(5), email="marc@schaal.example")
    add_entry(store, first, schaal, actor="a")
    add_entry(store, second, entry(R, email="autre@nbc.example"), actor="a")

    addresses = register_addresses(store, first, [R, Q, D], actor="a")
    assert [(a.email, a.contact_name, a.kinds) for a in addresses] == [
        ("Jeanne.Martin@nbc.example", "Jeanne Martin", frozenset({R, D})),
        ("marc@schaal.example", "Jeanne Martin", frozenset({Q})),
    ]
    assert addresses[1].company_name == "Schaal"
    only_deposits = register_addresses(store, first, [D], actor="a")
    assert [(a.email, a.contact_name) for a in only_deposits] == [
        ("jeanne.martin@nbc.example", "J. Martin")
    ]
    assert register_addresses(store, first, [], actor="a") == ()
