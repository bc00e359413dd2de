"""`messagerie import FILE`: the sample files, idempotence, refusals, all or nothing."""

import csv
import io
import json
import os
import tempfile
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from messagerie.models.consultations.dashboard import dashboard_page
from messagerie.models.consultations.registers import list_register, register_addresses
from messagerie.models.consultations.suites import SuiteRequest, candidate_choices, create_suite
from messagerie.models.consultations.views import DashboardQuery
from messagerie.models.importing.registers import (
    MAX_IMPORT_BYTES,
    ImportRefused,
    ImportReport,
    import_file,
    read_file,
)
from messagerie.models.rules.siret import format_siret
from messagerie.models.store.database import open_store
from messagerie.models.store.enums import ConsultationStatus, Procedure, RegisterKind
from messagerie.models.store.tables import (
    AuditEntry,
    Company,
    Consultation,
    Lot,
    Organisation,
    PurchasingEntity,
    RegisterEntry,
    RegisterEntryLot,
    table_of,
)
from messagerie.models.text import search_text
from tests.helpers.examples import examples
from tests.helpers.factories import paris
from tests.helpers.interleave import right_after

DATA = Path(__file__).parent / "data"
SAMPLE_JSON = DATA / "import-sample.json"
SAMPLE_CSV = DATA / "import-sample.csv"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TABLES = (
    Organisation,
    PurchasingEntity,
    Consultation,
    Lot,
    Company,
    RegisterEntry,
    RegisterEntryLot,
    AuditEntry,
)
FIRST_IMPORT = ImportReport(
    consultations_created=2,
    lots_created=4,
    companies_created=3,
    entries_created=9,
)
SECOND_IMPORT = ImportReport(consultations_unchanged=2, entries_unchanged=9)


def row_counts(store) -> dict[str, int]:
    with store.engine.connect() as connection:
        return {
            model.__name__: connection.execute(
                sa.select(sa.func.count()).select_from(table_of(model))
            ).scalar_one()
            for model in TABLES
        }


def consultation_id(store, reference: str) -> int:
    table = table_of(Consultation)
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(table.c.id).where(table.c.reference == reference)
        ).scalar_one()


def run_import(store, path: Path) -> ImportReport:
    return import_file(store, path, actor="import-test", now=NOW)


# --- The samples -----------------------------------------------------------------------------


@pytest.mark.parametrize("sample", [SAMPLE_JSON, SAMPLE_CSV], ids=["json", "csv"])
def test_a_sample_is_imported_then_found_unchanged(store, sample):
    assert run_import(store, sample) == FIRST_IMPORT
    after_first = row_counts(store)
    assert after_first == {
        "Organisation": 1,
        "PurchasingEntity": 1,
        "Consultation": 2,
        "Lot": 4,
        "Company": 3,
        "RegisterEntry": 9,
        "RegisterEntryLot": 6,
        "AuditEntry": 1,
    }
    assert run_import(store, sample) == SECOND_IMPORT
    assert row_counts(store) == after_first  # not even an audit row


def test_the_csv_sample_says_the_same_as_the_json_one(store):
    run_import(store, SAMPLE_JSON)
    assert run_import(store, SAMPLE_CSV) == SECOND_IMPORT


def test_a_comma_separated_file_is_read_too(sqlite_store, tmp_path):
    rows = list(csv.reader(io.StringIO(SAMPLE_CSV.read_text(), newline=""), delimiter=";"))
    path = tmp_path / "virgules.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    assert ";" not in path.read_text().splitlines()[0]
    run_import(sqlite_store, SAMPLE_JSON)
    assert run_import(sqlite_store, path) == SECOND_IMPORT


def test_entries_are_matched_whatever_the_case_of_the_email(sqlite_store, tmp_path):
    run_import(sqlite_store, SAMPLE_JSON)
    path = tmp_path / "majuscules.csv"
    path.write_text(SAMPLE_CSV.read_text().replace("nadia.becker@", "Nadia.Becker@"))
    assert run_import(sqlite_store, path) == SECOND_IMPORT


def test_an_excel_file_with_an_address_on_two_lines_is_imported(sqlite_store, tmp_path):
    """Excel ends every line with CRLF, those inside a quoted cell too: the CR was refused as
    a control character, which the buyer could neither see nor find in the cell."""
    address = "1 place du Quartier Blanc, 67000 Strasbourg"
    text = SAMPLE_CSV.read_text().replace(address, '"1 place du Quartier Blanc\n67000 Strasbourg"')
    path = tmp_path / "excel.csv"
    path.write_bytes(text.replace("\n", "\r\n").encode())
    assert run_import(sqlite_store, path) == FIRST_IMPORT
    with sqlite_store.engine.connect() as connection:
        written = connection.execute(sa.select(table_of(PurchasingEntity).c.postal_address))
        assert written.scalar_one() == "1 place du Quartier Blanc\n67000 Strasbourg"


def test_a_question_typed_in_a_browser_on_several_lines_is_imported(sqlite_store, tmp_path):
    """A browser sends a text area's lines ended in CRLF: the platform's export keeps them,
    and the CR was refused as a control character the buyer could not find in the file."""
    question = "Le chocolat noir doit-il titrer au moins 70 % de cacao ?"
    document = json.loads(SAMPLE_JSON.read_text())
    text = json.dumps(document).replace(question, "Bonjour,\\r\\n" + question)
    path = tmp_path / "export.json"
    path.write_text(text)
    assert "Bonjour,\\r\\n" in path.read_text()
    assert run_import(sqlite_store, path) == FIRST_IMPORT
    with sqlite_store.engine.connect() as connection:
        questions = connection.execute(sa.select(table_of(RegisterEntry).c.question_text))
        assert "Bonjour,\n" + question in questions.scalars().all()


def readme_example(language: str) -> str:
    """The ```language block of the README's import section."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme.split("## Importing registers (messagerie import)")[1].split("\n## ")[0]
    return section.split(f"```{language}\n")[1].split("```")[0]


def test_the_readme_examples_import(sqlite_store, tmp_path):
    for language in ("json", "csv"):
        path = tmp_path / f"readme.{language}"
        path.write_text(readme_example(language))
        report = run_import(sqlite_store, path)
        assert report.entries_created + report.entries_unchanged == 2


def test_what_the_json_sample_writes(store):
    run_import(store, SAMPLE_JSON)
    chocolates = consultation_id(store, "202601")
    with store.engine.connect() as connection:
        row = connection.execute(
            sa.select(table_of(Consultation)).where(table_of(Consultation).c.id == chocolates)
        ).one()
        entity = connection.execute(sa.select(table_of(PurchasingEntity))).one()
        audit = connection.execute(sa.select(table_of(AuditEntry))).one()
    assert row.procedure == Procedure.ADAPTED
    assert row.status == ConsultationStatus.OPENING_ANALYSIS
    assert row.bid_deadline == paris(2026, 2, 14, 12, 0)
    assert row.created_at == NOW
    assert row.search_text == search_text(
        "202601",
        "Achat de chocolats",
        "Achat de chocolats pour la restauration collective",
        "Direction de la commande publique",
        "Collectivité européenne d'Alsace",
    )
    assert (entity.sender_email, entity.postal_address) == (
        "marches@alsace.example",
        "1 place du Quartier Blanc, 67000 Strasbourg",
    )
    assert (audit.actor, audit.action) == ("import-test", "import")
    assert audit.detail.startswith("Import de « import-sample.json » (202601, 2025VINS) : ")

    questions = list_register(store, chocolates, RegisterKind.QUESTION, actor="import").rows
    assert [(q.number, q.company_name, q.lots) for q in questions] == [
        (1, "N.B.C. FR", ("Lot n°2 - Chocolat noir",)),
        (2, "Chocolaterie Schaal", ()),
    ]
    (deposit,) = list_register(store, chocolates, RegisterKind.DEPOSIT, actor="import").rows
    assert deposit.at == datetime(2026, 2, 13, 17, 2, 11, tzinfo=UTC)
    assert deposit.lot_numbers == (1, 2)
    nbc = list_register(store, chocolates, RegisterKind.WITHDRAWAL, actor="import").rows[0]
    assert (nbc.siret, nbc.city) == ("47646011800047", "Illkirch-Graffenstaden")
    addresses = register_addresses(store, chocolates, list(RegisterKind), actor="import")
    assert [address.email for address in addresses] == [
        "nadia.becker@nbc-fr.example",
        "elodie.muller@schaal.example",
    ]
    assert dashboard_page(store, DashboardQuery(text="collectivite europeenne")).total == 2


def test_a_changed_file_updates_and_adds(store, tmp_path):
    run_import(store, SAMPLE_JSON)
    document = json.loads(SAMPLE_JSON.read_text())
    wines = document["consultations"][1]
    wines["title"] = "Achat de vins d'Alsace et de Moselle"
    wines["lots"].append({"number": 2, "title": "Riesling"})
    wines["registers"]["questions"].append(
        {
            "company": "Domaine Weinbach",
            "siret": "41903984700019",
            "contact_name": "Luc Faller",
            "contact_email": "luc.faller@weinbach.example",
            "at": "03/09/2025 08:00",
            "lots": [2],
            "question": "Le Riesling peut-il être un grand cru ?",
        }
    )
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(document, ensure_ascii=False))
    assert run_import(store, changed) == ImportReport(
        consultations_updated=1,
        consultations_unchanged=1,
        lots_created=1,
        entries_created=1,
        entries_unchanged=9,
    )
    wines_id = consultation_id(store, "2025VINS")
    questions = list_register(store, wines_id, RegisterKind.QUESTION, actor="import").rows
    assert [(q.number, q.lots) for q in questions][-1] == (2, ("Lot n°2 - Riesling",))
    assert dashboard_page(store, DashboardQuery(text="moselle")).total == 1


def test_two_imports_at_once_number_their_questions_apart(store, tmp_path):
    """Two files, each with a new question, imported at the same moment: each read the same
    highest number and both questions were n°2."""
    run_import(store, SAMPLE_JSON)

    def with_question(name: str, question: str) -> Path:
        def add(document) -> None:
            wines = document["consultations"][1]["registers"]["questions"]
            wines.append({**wines[0], "at": "03/09/2025 08:00", "question": question})

        path = tmp_path / name
        path.write_text(edited_json(add), encoding="utf-8")
        return path

    other = with_question("b.json", "Les caisses sont-elles consignées ?")
    with right_after(store, "max(register_entry.number)", lambda: run_import(store, other),
                     head_start=0.5):  # fmt: skip
        run_import(store, with_question("a.json", "Le vin doit-il être bio ?"))
    wines_id = consultation_id(store, "2025VINS")
    questions = list_register(store, wines_id, RegisterKind.QUESTION, actor="import").rows
    assert sorted(q.number for q in questions) == [1, 2, 3]


def test_one_new_file_imported_twice_at_once_is_written_once(store):
    """Both found no organisation and created it: the second was refused on its unique key,
    in the database's English."""
    other = partial(run_import, store, SAMPLE_JSON)
    with right_after(store, "INSERT INTO organisation", other, head_start=0.5):
        first = run_import(store, SAMPLE_JSON)
    assert first == FIRST_IMPORT  # the other waited, then found everything
    counts = row_counts(store)
    written = {"Organisation": 1, "PurchasingEntity": 1, "Consultation": 2, "Lot": 4}
    assert {name: counts[name] for name in written} == written
    assert counts["Lot"] == 4 and counts["Company"] == 3 and counts["RegisterEntry"] == 9


def test_two_files_of_one_new_service_imported_at_once_make_it_once(store, tmp_path):
    """Two files, each with its own consultation of a new purchasing entity of a known
    organisation: each found no entity of that name, and the store held two."""
    run_import(store, SAMPLE_JSON)

    def of_new_service(name: str, reference: str) -> Path:
        def edit(document) -> None:
            first = document["consultations"][0]
            first.update(reference=reference, purchasing_entity="Direction des collèges")
            document["consultations"] = [first]

        path = tmp_path / name
        path.write_text(edited_json(edit), encoding="utf-8")
        return path

    other = partial(run_import, store, of_new_service("b.json", "2026-B"))
    with right_after(store, "FROM purchasing_entity", other, head_start=0.5):
        run_import(store, of_new_service("a.json", "2026-A"))
    entity = table_of(PurchasingEntity)
    with store.engine.connect() as connection:
        services = connection.execute(
            sa.select(entity.c.name).where(entity.c.name == "Direction des collèges")
        ).all()
    assert len(services) == 1
    assert dashboard_page(store, DashboardQuery(text="2026-")).total == 2


def test_a_reference_a_buyer_takes_as_the_file_creates_it_is_refused_in_french(store, tmp_path):
    """The file brings « 202601-S1 » while a buyer makes the suite of 202601, the same
    reference: PostgreSQL refused the import in English. Now it says what happened, in
    French, and writes nothing; on SQLite the buyer waits for the import and takes -S2."""
    run_import(store, SAMPLE_JSON)
    chocolates = consultation_id(store, "202601")

    def with_suite_reference(document) -> None:
        document["consultations"].append({**document["consultations"][0], "reference": "202601-S1"})

    path = tmp_path / "suite.json"
    path.write_text(edited_json(with_suite_reference), encoding="utf-8")
    choices = tuple(c.entry_id for c in candidate_choices(store, chocolates))
    request = SuiteRequest(chocolates, Procedure.RESTRICTED_TENDER, (), choices, paris(2027, 1, 15))
    suites = []
    buyer = lambda: suites.append(create_suite(store, request, actor="m.d", now=NOW))  # noqa: E731
    before = row_counts(store)
    with right_after(store, "reference IN", buyer, head_start=0.5):
        try:
            run_import(store, path)
            refused = None
        except ImportRefused as error:
            refused = error
    if store.engine.dialect.name == "postgresql":
        assert refused is not None
        (error,) = refused.errors
        assert "un autre acheteur a créé au même moment" in error
        assert "rien n'a été enregistré" in error
        assert row_counts(store)["Consultation"] == before["Consultation"] + 1  # the suite
        assert suites[0].reference == "202601-S1"
    else:
        assert refused is None and suites[0].reference == "202601-S2"


def test_two_imports_changing_different_consultations_at_once_both_go(store, tmp_path):
    """Each file retitles a different consultation of the sample: each held the one it had
    changed, then waited for the other's (a deadlock, in English). Both go, one after the
    other."""
    run_import(store, SAMPLE_JSON)

    def retitled(name: str, index: int) -> Path:
        def edit(document) -> None:
            document["consultations"][index]["title"] += " (modifié)"

        path = tmp_path / name
        path.write_text(edited_json(edit), encoding="utf-8")
        return path

    reports = []
    other = lambda: reports.append(run_import(store, retitled("b.json", 0)))  # noqa: E731
    with right_after(store, "UPDATE consultation", other, head_start=0.5):
        report = run_import(store, retitled("a.json", 1))
    assert report.consultations_updated == 1
    # One after the other, as the files say: the second puts back the title the first changed.
    assert reports[0].consultations_updated == 2
    retitled_now = dashboard_page(store, DashboardQuery(text="modifié"))
    assert [item.identity.reference for item in retitled_now.items] == ["202601"]


def test_an_import_never_renames_a_known_company(store, tmp_path):
    """« PEINTURE RENOMMÉE PAR MARIE » with a SIRET thirteen organisations knew: the import
    renamed it in all their registers and in ARs already signed. The file is refused, naming
    the SIRET and both names; nothing is written."""
    run_import(store, SAMPLE_JSON)
    document = json.loads(SAMPLE_JSON.read_text())
    first = document["consultations"][0]["registers"]["retraits"][0]
    known, siret = first["company"], "".join(first["siret"].split())
    first["company"] = "PEINTURE RENOMMÉE PAR MARIE"
    renamed = tmp_path / "renamed.json"
    renamed.write_text(json.dumps(document, ensure_ascii=False))
    assert refused_whole(store, renamed) == (
        f"Entreprise : le SIRET {format_siret(siret)} est celui de « {known} », pas de "
        "« PEINTURE RENOMMÉE PAR MARIE » : reprenez ce nom, ou vérifiez le SIRET (un nom connu "
        "n'est pas changé par un registre).",
    )
    first["company"] = known.upper()  # the same name, case aside: imported as it was
    renamed.write_text(json.dumps(document, ensure_ascii=False))
    assert run_import(store, renamed) == SECOND_IMPORT


def test_an_organisation_spelt_otherwise_is_refused_not_made_twice(store, tmp_path):
    """A reference is unique in its organisation only: the sample again, its organisation
    in capitals, made a second organisation with a copy of each consultation and of its
    registers. The file is refused, naming both spellings; another organisation's
    consultation of the same reference is imported beside the first."""
    run_import(store, SAMPLE_JSON)
    document = json.loads(SAMPLE_JSON.read_text())
    known = document["consultations"][0]["organisation"]
    for one in document["consultations"]:
        one["organisation"] = f"  {known.upper()} "
    shouting = tmp_path / "majuscules.json"
    shouting.write_text(json.dumps(document, ensure_ascii=False))
    assert refused_whole(store, shouting) == (
        f"l'organisation « {known.upper()} » ressemble à « {known} », déjà connue : écrivez son "
        "nom exact (une autre orthographe créerait une seconde organisation).",
    )
    for one in document["consultations"]:
        one["organisation"] = "Ville de Sélestat"
    shouting.write_text(json.dumps(document, ensure_ascii=False))
    assert run_import(store, shouting).consultations_created == 2


def test_the_report_reads_in_french():
    assert FIRST_IMPORT.summary() == (
        "consultations : 2 créée(s), 0 mise(s) à jour, 0 inchangée(s) ; "
        "lots : 4 créé(s), 0 renommé(s) ; entreprises : 3 créée(s), 0 complétée(s) ; "
        "inscriptions aux registres : 9 créée(s), 0 déjà présente(s)."
    )
    assert FIRST_IMPORT.changed and not SECOND_IMPORT.changed


# --- Refusals: the place and the field are named, nothing is written ----------------------


def edited_csv(old: str, new: str, count: int = 1) -> str:
    text = SAMPLE_CSV.read_text()
    assert old in text
    return text.replace(old, new, count)


def edited_csv_line(number: int, old: str, new: str) -> str:
    lines = SAMPLE_CSV.read_text().splitlines(keepends=True)
    assert old in lines[number - 1]
    lines[number - 1] = lines[number - 1].replace(old, new)
    return "".join(lines)


def edited_json(edit) -> str:
    document = json.loads(SAMPLE_JSON.read_text())
    edit(document)
    return json.dumps(document, ensure_ascii=False, indent=2)


def first_question(document) -> dict:
    return document["consultations"][0]["registers"]["questions"][0]


BAD_FILES = {
    "unknown extension": (
        "registres.xlsx",
        "",
        "« registres.xlsx » : format non reconnu, l'import lit un fichier .json ou .csv.",
    ),
    "empty file": ("vide.csv", " \n", "« vide.csv » est vide."),
    "malformed json": (
        "bad.json",
        '{"consultations": [\n  {"reference": "202601"\n   "title": "Achat"}\n]}',
        "ligne 3, colonne 4 : JSON mal formé (virgule attendue).",
    ),
    "json without consultations": (
        "bad.json",
        "[]",
        'document : le fichier JSON doit contenir un objet {"consultations": [ … ]}.',
    ),
    "missing columns": (
        "bad.csv",
        edited_csv("contact_email;at;", ""),
        "ligne 1 (en-tête) : colonne(s) manquante(s) : contact_email, at.",
    ),
    "unknown column": (
        "bad.csv",
        edited_csv(";city\n", ";ville\n"),
        "ligne 1 (en-tête) : colonne(s) inconnue(s) : ville",
    ),
    "invalid siret": (
        "bad.csv",
        edited_csv(
            "41903984700019;Luc Faller;luc.faller@weinbach.example;24/12",
            "41903984700018;Luc Faller;luc.faller@weinbach.example;24/12",
        ),
        "ligne 10, champ « siret » : « 41903984700018 » n'est pas un SIRET valide "
        "(clé de contrôle).",
    ),
    "invalid e-mail": (
        "bad.csv",
        edited_csv("elodie.muller@schaal.example;2026-01-09", "elodie.muller@;2026-01-09"),
        "ligne 3, champ « contact_email » : « elodie.muller@ » n'est pas une adresse e-mail "
        "valide.",
    ),
    "invalid date": (
        "bad.csv",
        edited_csv("20/01/2026 09:31", "31/01/2026 25:00"),
        "ligne 4, champ « at » : « 31/01/2026 25:00 » n'est pas une date valide",
    ),
    "date in the future": (
        "bad.csv",
        edited_csv("20/01/2026 09:31", "20/01/2027 09:31"),
        "ligne 4, champ « at » : Le 20/01/2027 09:31 est dans le futur",
    ),
    "unknown lot": (
        "bad.csv",
        edited_csv("13/02/2026 18:02:11;1,2;", "13/02/2026 18:02:11;1,3;"),
        "ligne 6, champ « entry_lots » : Lot n°3 inconnu de cette consultation "
        "(lots existants : 1, 2).",
    ),
    "unknown register": (
        "bad.csv",
        edited_csv(";depot;Chocolaterie", ";offre;Chocolaterie"),
        "ligne 6, champ « register » : « offre » : écrivez retrait, question ou depot.",
    ),
    "disagreeing consultation lines": (
        "bad.csv",
        edited_csv_line(4, "14/02/2026 12:00", "15/02/2026 12:00"),
        "ligne 4, champ « bid_deadline » : « 15/02/2026 12:00 » diffère de la ligne 2 "
        "(« 14/02/2026 12:00 ») : les colonnes de la consultation « 202601 » doivent être "
        "identiques sur chacune de ses lignes.",
    ),
    "a line with too few values": (
        "bad.csv",
        edited_csv(";Kaysersberg\n", "\n"),
        "ligne 8 : 21 valeurs pour 22 colonnes",
    ),
    "unknown procedure": (
        "bad.json",
        edited_json(lambda d: d["consultations"][0].update(procedure="Gré à gré")),
        "consultation n°1 (« 202601 »), champ « procedure » : « Gré à gré » n'est pas une "
        "procédure connue ; valeurs possibles : « Appel d'offres ouvert » (open_tender)",
    ),
    "unknown status": (
        "bad.json",
        edited_json(lambda d: d["consultations"][1].update(status="archivée")),
        "consultation n°2 (« 2025VINS »), champ « status » : « archivée » n'est pas un "
        "statut connu ; valeurs possibles : « Elaboration » (drafting)",
    ),
    "question without text": (
        "bad.json",
        edited_json(lambda d: first_question(d).pop("question")),
        "consultation n°1 (« 202601 »), questions, élément n°1, champ « question » : "
        "Le texte de la question est obligatoire.",
    ),
    "siret given as a number": (
        "bad.json",
        edited_json(lambda d: first_question(d).update(siret=47646011800047)),
        "consultation n°1 (« 202601 »), questions, élément n°1, champ « siret » : "
        "un texte entre guillemets est attendu, pas 47646011800047.",
    ),
    "misspelt field": (
        "bad.json",
        edited_json(lambda d: first_question(d).update(contact_mail="x@y.fr")),
        "consultation n°1 (« 202601 »), questions, élément n°1 : champ inconnu « contact_mail »",
    ),
    "deposit after the deadline": (
        "bad.json",
        edited_json(
            lambda d: d["consultations"][1]["registers"]["depots"][0].update(at="26/12/2025 10:00")
        ),
        "consultation n°2 (« 2025VINS »), depots, élément n°1, champ « at » : Un dépôt du "
        "26/12/2025 10:00 serait postérieur à la date limite de remise des plis "
        "(25/12/2025 17:30).",
    ),
    "deposit seconds after the deadline": (  # both to the second: they never read alike
        "bad.json",
        edited_json(
            lambda d: d["consultations"][1]["registers"]["depots"][0].update(
                at="25/12/2025 17:30:45"
            )
        ),
        "consultation n°2 (« 2025VINS »), depots, élément n°1, champ « at » : Un dépôt du "
        "25/12/2025 17:30:45 serait postérieur à la date limite de remise des plis "
        "(25/12/2025 17:30).",
    ),
    "a reference twice": (
        "bad.json",
        edited_json(lambda d: d["consultations"][1].update(reference="202601")),
        "consultation n°2 (« 202601 »), champ « reference » : « 202601 » est déjà décrite "
        "par consultation n°1 (« 202601 »).",
    ),
    "duplicate lot number": (
        "bad.json",
        edited_json(lambda d: d["consultations"][0]["lots"].append({"number": 1, "title": "Bis"})),
        "consultation n°1 (« 202601 »), lots, élément n°3, champ « number » : le lot n°1 est "
        "décrit deux fois.",
    ),
    "a key written twice": (
        "bad.json",
        '{"consultations": [{"reference": "202601", "reference": "202699"}]}',
        "document : JSON refusé : le champ « reference » est écrit deux fois dans un même objet.",
    ),
    "a lot number beyond any consultation's": (
        "bad.json",
        edited_json(lambda d: d["consultations"][0]["lots"][0].update(number=10**6)),
        "consultation n°1 (« 202601 »), lots, élément n°1, champ « number » : "
        "1000000 : un numéro de lot va de 0 à 9999.",
    ),
    "a number of five thousand digits": (
        "bad.json",
        '{"consultations": [{"reference": "202601", "lots": [{"number": 1' + "0" * 5000 + "}]}]}",
        "document : JSON refusé : le nombre 10000000000000000000… a plus de 18 chiffres.",
    ),
    "NaN": (
        "bad.json",
        '{"consultations": [{"reference": "202601", "lots": [{"number": NaN}]}]}',
        "document : JSON refusé : « NaN » n'est pas une valeur JSON permise.",
    ),
    "nesting deeper than Python's stack": (
        "bad.json",
        '{"consultations": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "document : JSON refusé : des objets ou listes imbriqués trop profond.",
    ),
    "a huge lot number in the CSV": (
        "bad.csv",
        edited_csv("1:", "9" * 5000 + ":", 1),
        "ligne 2, champ « number » : 99999999999999999999… : un numéro de lot va de 0 à 9999.",
    ),
    "a sender address that not every relay carries": (
        "bad.json",
        edited_json(lambda d: d["consultations"][0].update(sender_email="marchés@alsace.example")),
        "consultation n°1 (« 202601 »), champ « sender_email » : « marchés@alsace.example » : "
        "l'adresse d'envoi doit s'écrire sans accent avant l'@ (tous les relais SMTP ne "
        "transmettent pas une telle adresse).",
    ),
    "a superscript digit as an entry's lot": (
        "bad.csv",
        edited_csv("13/02/2026 18:02:11;1,2;", "13/02/2026 18:02:11;1,²;"),
        "ligne 6, champ « entry_lots » : « ² » n'est pas un numéro de lot",
    ),
}


@pytest.mark.parametrize(("name", "content", "expected"), BAD_FILES.values(), ids=BAD_FILES)
def test_a_bad_file_is_refused_with_its_place_and_nothing_is_written(
    store, tmp_path, name, content, expected
):
    run_import(store, SAMPLE_JSON)
    before = row_counts(store)
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportRefused) as refused:
        run_import(store, path)
    assert str(refused.value).startswith(f"Import de « {name} » refusé, rien n'a été écrit :\n")
    assert any(error.startswith(expected) for error in refused.value.errors), refused.value.errors
    assert row_counts(store) == before


@pytest.fixture
def sqlite_store(sqlite_url):
    """For refusals found before any writing: one backend is enough."""
    store = open_store(sqlite_url, upgrade=True)
    yield store
    store.close()


def test_a_file_with_nul_bytes_is_named_as_such(sqlite_store, tmp_path):
    """A NUL byte in line 3 was read as a cut line: « ligne 3 : 1 valeurs pour 17 colonnes »."""
    lines = SAMPLE_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2][:10] + "\x00" + lines[2][10:]
    path = tmp_path / "abime.csv"
    path.write_text("".join(lines), encoding="utf-8")
    assert refused_whole(sqlite_store, path) == (
        "ligne 3 : le fichier contient un caractère nul (U+0000), qu'un fichier texte ne "
        "contient jamais ; enregistrez-le de nouveau en CSV UTF-8 ou en JSON.",
    )


def refused_whole(store, path: Path) -> tuple[str, ...]:
    """The errors of a file the import refuses at once, having written nothing."""
    before = row_counts(store)
    with pytest.raises(ImportRefused) as refused:
        run_import(store, path)
    assert row_counts(store) == before
    return refused.value.errors


def test_a_file_that_is_not_utf8(sqlite_store, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(SAMPLE_CSV.read_text().encode("cp1252"))
    assert refused_whole(sqlite_store, path) == (
        "ligne 2 : le fichier n'est pas encodé en UTF-8 (octet 0xE9) ; enregistrez-le en "
        "UTF-8 et recommencez.",
    )


def test_one_fault_is_reported_once(sqlite_store, tmp_path):
    """A wrong lot list does not make every entry's lots unknown; an empty procedure is
    missing, not unknown."""

    def edit(document):
        document["consultations"][0]["lots"] = "1:Chocolat au lait|2:Chocolat noir"
        document["consultations"][0]["procedure"] = ""

    path = tmp_path / "bad.json"
    path.write_text(edited_json(edit))
    with pytest.raises(ImportRefused) as refused:
        run_import(sqlite_store, path)
    assert refused.value.errors == (
        "consultation n°1 (« 202601 »), champ « procedure » : ce champ est obligatoire.",
        "consultation n°1 (« 202601 »), champ « lots » : une liste [ … ] est attendue.",
    )


def test_a_missing_file(sqlite_store, tmp_path):
    with pytest.raises(ImportRefused, match=r"« .*absent\.json » : fichier introuvable\."):
        run_import(sqlite_store, tmp_path / "absent.json")


def test_every_fault_is_listed_up_to_twenty(sqlite_store, tmp_path):
    store = sqlite_store
    header, line = SAMPLE_CSV.read_text().splitlines()[:2]
    bad_line = line.replace("476 460 118 00047", "476 460 118 00048")
    path = tmp_path / "many.csv"
    path.write_text("\n".join([header, *[bad_line] * 25]) + "\n")
    with pytest.raises(ImportRefused) as refused:
        run_import(store, path)
    assert len(refused.value.errors) == 25
    assert refused.value.errors[0].startswith("ligne 2, champ « siret »")
    assert refused.value.errors[-1].startswith("ligne 26, champ « siret »")
    message = str(refused.value)
    assert "ligne 21, champ « siret »" in message
    assert "ligne 22, champ « siret »" not in message
    assert message.endswith("… et 5 autre(s) erreur(s).")


# --- All or nothing when the database refuses ----------------------------------------------

REFUSE_RIESLING = {
    "sqlite": [
        "CREATE TRIGGER refuse_riesling BEFORE INSERT ON lot WHEN NEW.title = 'Riesling' "
        "BEGIN SELECT RAISE(ABORT, 'lot refusé par le test'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_riesling() RETURNS trigger AS $$ BEGIN "
        "IF NEW.title = 'Riesling' THEN RAISE EXCEPTION 'lot refusé par le test'; END IF; "
        "RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_riesling BEFORE INSERT ON lot FOR EACH ROW "
        "EXECUTE FUNCTION refuse_riesling()",
    ],
}


def test_only_a_file_of_sensible_size_is_read(tmp_path):
    """A pipe made the import wait for ever; a link to /dev/zero filled the memory."""
    pipe, zeros, huge = tmp_path / "tube.csv", tmp_path / "zeros.json", tmp_path / "gros.csv"
    os.mkfifo(pipe)
    zeros.symlink_to("/dev/zero")
    with huge.open("wb") as file:
        file.truncate(MAX_IMPORT_BYTES + 1)  # sparse: nothing written to the disk
    for path, problem in (
        (pipe, f"« {pipe} » : ce n'est pas un fichier ordinaire"),
        (zeros, f"« {zeros} » : ce n'est pas un fichier ordinaire"),
        (huge, "« gros.csv » dépasse 100 Mo : un export de registres est bien plus petit"),
    ):
        with pytest.raises(ImportRefused) as refused:
            read_file(path, now=NOW)
        (error,) = refused.value.errors
        assert error.startswith(problem), error


def test_a_write_refused_by_the_database_leaves_nothing(store, tmp_path):
    """The second consultation breaks a constraint after the first one was updated."""
    run_import(store, SAMPLE_JSON)
    before = row_counts(store)
    with store.engine.begin() as connection:
        for statement in REFUSE_RIESLING[connection.dialect.name]:
            connection.execute(sa.text(statement))

    def edit(document):
        chocolates, wines = document["consultations"]
        chocolates["title"] = "Achat de chocolats fins"
        chocolates["lots"].append({"number": 3, "title": "Chocolat blanc"})
        chocolates["registers"]["retraits"][0]["at"] = "10/01/2026 08:00"
        wines["lots"].append({"number": 2, "title": "Riesling"})

    path = tmp_path / "refused.json"
    path.write_text(edited_json(edit))
    with pytest.raises(ImportRefused) as refused:
        run_import(store, path)
    (error,) = refused.value.errors
    assert error.startswith("la base de données a refusé l'écriture (")
    assert "lot refusé par le test" in error
    assert row_counts(store) == before
    assert dashboard_page(store, DashboardQuery(text="chocolats fins")).total == 0


# --- Any file: read, or refused in French ---------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=30,
)
# Documents shaped like the format, so that the readers' deeper checks are reached too.
SHAPED_JSON = st.fixed_dictionaries(
    {
        "consultations": st.lists(
            st.dictionaries(
                st.sampled_from(["reference", "title", "lots", "registers", "status", "x"]),
                JSON_VALUES,
            ),
            max_size=3,
        )
    }
)


def read_or_refuse(tmp: Path, name: str, content: str) -> None:
    """The reader's verdict on one file: consultations, or ImportRefused naming the file."""
    path = tmp / name
    path.write_text(content, encoding="utf-8", errors="surrogatepass")
    try:
        read_file(path, now=NOW)
    except ImportRefused as refused:
        assert refused.errors and str(refused).startswith(f"Import de « {name} » refusé")


@settings(max_examples=examples(150), deadline=None)
@given(content=st.text(max_size=400) | JSON_VALUES.map(json.dumps) | SHAPED_JSON.map(json.dumps))
def test_any_json_file_is_read_or_refused_in_french(content):
    with tempfile.TemporaryDirectory() as tmp:
        read_or_refuse(Path(tmp), "registres.json", content)


@settings(max_examples=examples(150), deadline=None)
@given(
    lines=st.lists(st.lists(st.text(max_size=30), max_size=24), max_size=5),
    delimiter=st.sampled_from([";", ","]),
)
def test_any_csv_file_is_read_or_refused_in_french(lines, delimiter):
    original = SAMPLE_CSV.read_text().splitlines()
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(lines)
    with tempfile.TemporaryDirectory() as tmp:
        read_or_refuse(Path(tmp), "registres.csv", buffer.getvalue() or " ")
        read_or_refuse(Path(tmp), "registres.csv", "\n".join([original[0], buffer.getvalue()]))
