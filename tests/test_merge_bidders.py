""" "Rejets en nombre" and the dépôts: a rejection for a lot goes only to a company whose
dépôt covers that lot, and every bidder of the lot the analysis file leaves out is named
before anything is sent (found on the demo: a lot-2 bidder was rejected from lot 1, and lot-1
bidders missing from the file got no letter, without a word)."""

from __future__ import annotations

import json
from datetime import date
from io import BytesIO

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from messagerie.letters.pdf.documents import render_letter
from messagerie.letters.pdf.merge import (
    MERGE_CONFIRMED,
    left_out,
    lot_bidders,
    plan_rejections,
    queue_rejections,
)
from messagerie.models.clock import paris_today, utc_now
from messagerie.models.errors import Refusal
from messagerie.models.importing.registers import import_file
from messagerie.models.messages.form import load_context
from messagerie.models.messages.merge import read_analysis, rows_by_lot
from messagerie.models.rules.siret import siret_is_valid
from messagerie.models.store.enums import Procedure
from messagerie.models.store.tables import consultation
from messagerie.screens.merge import MergeScreen
from tests.helpers.accounts import work_for_every_entity
from tests.helpers.audit import audit_rows
from tests.helpers.factories import paris
from tests.helpers.hostile import on_screen, toasts
from tests.helpers.interleave import right_after
from tests.helpers.merge import (
    bidders_for,
    consultation_id,
    deposits,
    letters_kept,
    queued_rejections,
    run_merge,
)
from tests.helpers.pilot import settle, text_of, wait_until

pytest_plugins = ["tests.helpers.merge"]  # fixed_demo

BUYER = "acheteur"  # a store without accounts: every one may act
DATED = date(2026, 3, 2)


def siret(number: int) -> str:
    """A valid SIRET (its Luhn key) for a company of this file."""
    base = f"{number:013d}"
    return next(base + key for key in "0123456789" if siret_is_valid(base + key))


# (company, contact e-mail, lots of its dépôt: none for every lot); Hartmann filed twice.
DEPOTS = [
    ("Chocolaterie Schaal", "offres@schaal.example", [1, 2]),
    ("Traiteur de l'Outre-Forêt SAS", "offres@outre-foret.example", [2]),
    ("Gaspard Boulangerie SASU", "offres@gaspard.example", []),
    ("Muller Traiteur SCOP", "offres@muller.example", [1]),
    ("SA Hartmann Primeurs", "lait@hartmann.example", [1]),
    ("SA Hartmann Primeurs", "noir@hartmann.example", [2]),
    ("SAS Klein Traiteur", "offres@klein.example", [1]),
]


@pytest.fixture
def chocolates(store, tmp_path) -> int:
    """CHOC-01, lots 1 and 2, and its dépôts (DEPOTS), imported as a buyer would."""
    sirets = {
        name: siret(73282932 + n) for n, name in enumerate(dict.fromkeys(d[0] for d in DEPOTS))
    }
    depots = [
        {"company": name, "siret": sirets[name], "contact_name": "Contact", "contact_email": email,
         "at": f"13/02/2026 1{n}:00", "lots": lots}
        for n, (name, email, lots) in enumerate(DEPOTS)
    ]  # fmt: skip
    consultation = {
        "reference": "CHOC-01", "title": "Achat de chocolats", "object": "Achat de chocolats",
        "procedure": "adapted", "status": "opening_analysis", "bid_deadline": "14/02/2026 12:00",
        "organisation": "Collectivité européenne d'Alsace",
        "purchasing_entity": "Direction de la commande publique",
        "sender_email": "marches@alsace.example",
        "lots": [{"number": 1, "title": "Chocolat au lait"},
                 {"number": 2, "title": "Chocolat noir"}],
        "registers": {"depots": depots},
    }  # fmt: skip
    path = tmp_path / "registres.json"
    path.write_text(json.dumps({"consultations": [consultation]}), encoding="utf-8")
    import_file(store, path, actor=BUYER, now=paris(2026, 3, 1))
    return consultation_id(store, "CHOC-01")


def lot_rows(text: str):
    (rows,) = rows_by_lot(read_analysis(text)).values()
    return rows


HEADER = "entreprise;lot;note;rang;motifs\n"
# The demo's case: a company whose only dépôt is for lot 2, rejected from lot 1 (line 3).
STRANGER_IN_LOT_1 = (
    HEADER + "Chocolaterie Schaal;1;18;1;Meilleur rapport qualité-prix.\n"
    "Traiteur de l'Outre-Forêt SAS;1;15;2;Prix plus élevé.\n"
    "Muller Traiteur SCOP;1;12;3;Valeur technique moindre.\n"
)
STRANGER_REFUSED = (
    "Ligne 3, colonne « entreprise » : « Traiteur de l'Outre-Forêt SAS » n'a remis d'offre "
    "que pour le lot 2, pas pour le lot 1 ; corrigez le nom ou le lot de cette ligne."
)


def test_a_company_that_bid_for_another_lot_only_is_refused_naming_its_line_and_lots(
    store, chocolates
):
    context = load_context(store, chocolates)
    bidders = lot_bidders(store, chocolates, actor=BUYER)
    with pytest.raises(Refusal) as refused:
        plan_rejections(context, lot_rows(STRANGER_IN_LOT_1), "Chocolaterie Schaal",
                        dated=DATED, bidders=bidders)  # fmt: skip
    assert str(refused.value) == STRANGER_REFUSED


def test_no_letter_rejects_an_offer_its_company_never_made_whoever_planned_it(store, chocolates):
    """The lines planned without the dépôts' lots (as `plan_rejections` did): the queue reads
    the dépôts itself, and refuses before any letter is drawn."""
    context = load_context(store, chocolates)
    lines = plan_rejections(context, lot_rows(STRANGER_IN_LOT_1), "Chocolaterie Schaal",
                            dated=DATED)  # fmt: skip
    assert len(lines) == 2
    with pytest.raises(Refusal) as refused:
        queue_rejections(store, context, lines, actor=BUYER)
    assert str(refused.value) == STRANGER_REFUSED
    assert queued_rejections(store, chocolates) == 0
    assert letters_kept(store, chocolates) == 0


def test_a_bidder_of_the_lot_by_any_of_its_depots_may_be_rejected(store, chocolates):
    """Hartmann filed one dépôt per lot; Gaspard one for every lot: both bid for lot 2."""
    text = (
        HEADER + "Traiteur de l'Outre-Forêt SAS;2;17;1;Meilleure offre.\n"
        "SA Hartmann Primeurs;2;14;2;Prix plus élevé.\nGaspard Boulangerie SASU;2;12;3;Délais.\n"
    )
    context = load_context(store, chocolates)
    bidders = lot_bidders(store, chocolates, actor=BUYER)
    lines = plan_rejections(context, lot_rows(text), "Traiteur de l'Outre-Forêt SAS",
                            dated=DATED, bidders=bidders)  # fmt: skip
    assert [line.letter.company for line in lines] == [
        "SA Hartmann Primeurs",
        "Gaspard Boulangerie SASU",
    ]
    assert all(line.letter.lots == ("Lot n°2 - Chocolat noir",) for line in lines)


def test_a_restricted_procedure_s_first_stage_rejects_candidatures(store, chocolates):
    """Its dépôts are candidatures: « Vous avez remis une offre » was wrong there."""
    text = HEADER + "Muller Traiteur SCOP;1;17;1;Retenue.\nSAS Klein Traiteur;1;12;2;Délais.\n"
    with store.engine.begin() as connection:
        connection.execute(
            sa.update(consultation)
            .where(consultation.c.id == chocolates)
            .values(procedure=Procedure.RESTRICTED_TENDER)
        )
    context = load_context(store, chocolates)
    (line,) = plan_rejections(context, lot_rows(text), "Muller Traiteur SCOP", dated=DATED)
    assert line.letter.rejected == "candidature"
    words = " ".join(PdfReader(BytesIO(render_letter(line.letter))).pages[0].extract_text().split())
    assert "Votre candidature a obtenu la note de 12" in words and "offre n'a" not in words


def test_the_bidders_of_the_lot_the_file_leaves_out_are_named(store, chocolates):
    """A dépôt naming no lot is for every lot; a company of another lot is not named."""
    bidders = lot_bidders(store, chocolates, actor=BUYER)
    lot_1 = (
        HEADER + "Chocolaterie Schaal;1;18;1;Meilleure offre.\nMuller Traiteur SCOP;1;12;2;Prix.\n"
    )
    assert left_out(lot_rows(lot_1), bidders) == (
        "Gaspard Boulangerie SASU",
        "SA Hartmann Primeurs",
        "SAS Klein Traiteur",
    )
    lot_2 = lot_1.replace(";1;", ";2;").replace("Muller Traiteur SCOP", "SA Hartmann Primeurs")
    assert left_out(lot_rows(lot_2), bidders) == (
        "Traiteur de l'Outre-Forêt SAS",
        "Gaspard Boulangerie SASU",
    )


def test_two_merges_of_one_consultation_at_once_both_go(store, chocolates):
    """Two buyers send the rejections of the two lots at the same moment. Each merge kept its
    letters (rows that name the consultation) before holding it: on PostgreSQL the two then
    waited for each other, and one was refused (« occupée… réessayez »)."""
    today = paris_today(utc_now())
    context = load_context(store, chocolates)
    bidders = lot_bidders(store, chocolates, actor=BUYER)
    lot_1 = (
        HEADER + "Chocolaterie Schaal;1;18;1;Meilleure offre.\nMuller Traiteur SCOP;1;12;2;Prix.\n"
    )
    lot_2 = (
        HEADER + "Traiteur de l'Outre-Forêt SAS;2;17;1;Meilleure offre.\n"
        "SA Hartmann Primeurs;2;14;2;Prix plus élevé.\n"
    )
    first, second = (
        plan_rejections(context, lot_rows(text), awardee, dated=today, bidders=bidders)
        for text, awardee in (
            (lot_1, "Chocolaterie Schaal"),
            (lot_2, "Traiteur de l'Outre-Forêt SAS"),
        )
    )

    def the_other_buyer() -> None:
        queue_rejections(store, context, second, actor=BUYER)

    with right_after(store, "INSERT INTO document", the_other_buyer, head_start=3):
        queue_rejections(store, context, first, actor=BUYER)
    assert queued_rejections(store, chocolates) == 2


# --- On the screen, as the tester saw it: the demo's 202601, lot 1, 80×24 --------------------


@pytest.fixture
def chocolates_demo(fixed_demo, on_demo_day):
    """The fixed demo's 202601 (lots 1 and 2), its buyer marie.dupont allowed to send."""
    work_for_every_entity(fixed_demo, "marie.dupont")
    cid = consultation_id(fixed_demo, "202601")
    lot_1 = bidders_for(fixed_demo, cid, 1)
    strangers = [name for name, lots in deposits(fixed_demo, cid) if name not in lot_1]
    assert len(lot_1) >= 3 and strangers, "the demo's 202601 should have bidders of each lot"
    return cid, lot_1, strangers


def analysis_file(folder, *rows: str):
    """The analysis CSV of `rows` (« entreprise;lot;note;rang;motifs »), in `folder`."""
    path = folder / "analyse.csv"
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


def merge_app(store):
    from messagerie.tui.app import MessagerieApp

    return MessagerieApp(open_store=lambda: store, actor="marie.dupont")


async def test_a_lot_2_bidder_is_not_sent_a_lot_1_rejection(fixed_demo, chocolates_demo, tmp_path):
    cid, lot_1, strangers = chocolates_demo
    stranger = strangers[0]
    lots = sorted(
        {n for name, numbers in deposits(fixed_demo, cid) if name == stranger for n in numbers}
    )
    path = analysis_file(
        tmp_path,
        f"{lot_1[0]};1;18;1;Meilleur rapport qualité-prix.",
        f"{stranger};1;15;2;Prix plus élevé.",
        f"{lot_1[1]};1;12;3;Valeur technique moindre.",
    )
    sent = queued_rejections(fixed_demo, cid)
    async with merge_app(fixed_demo).run_test(size=(80, 24), notifications=True) as pilot:
        screen = await run_merge(pilot, cid, path)
        lots_text = "le lot 2" if lots == [2] else "les lots " + ", ".join(map(str, lots))
        assert text_of(pilot, "#merge-problem") == (
            f"Ligne 3, colonne « entreprise » : « {stranger} » n'a remis d'offre que pour "
            f"{lots_text}, pas pour le lot 1 ; corrigez le nom ou le lot de cette ligne."
        )
        assert on_screen(pilot, "Ligne 3, colonne « entreprise »")
        assert screen.lines == ()
        for _ in range(2):
            await pilot.press("ctrl+e")
            await settle(pilot)
        assert isinstance(pilot.app.screen, MergeScreen)
        assert any("corrigez d'abord le fichier" in toast for toast in toasts(pilot))
    assert queued_rejections(fixed_demo, cid) == sent


async def test_the_lot_s_bidders_left_out_of_the_file_are_named_before_sending(
    fixed_demo, chocolates_demo, tmp_path
):
    cid, lot_1, strangers = chocolates_demo
    path = analysis_file(
        tmp_path,
        f"{lot_1[0]};1;18;1;Meilleur rapport qualité-prix.",
        f"{lot_1[1]};1;15;2;Prix plus élevé.",
    )
    sent = queued_rejections(fixed_demo, cid)
    confirmed_before = len(audit_rows(fixed_demo, MERGE_CONFIRMED))
    async with merge_app(fixed_demo).run_test(size=(80, 24)) as pilot:
        screen = await run_merge(pilot, cid, path)
        await wait_until(pilot, lambda: screen.rejected is not None, "the letters already sent")
        warning = text_of(pilot, "#merge-problem")
        assert warning.startswith(
            "Absentes du fichier, mais au registre des dépôts pour le lot 1 : "
        )
        assert all(name in warning for name in lot_1[2:])  # every one of them
        assert not any(name in warning for name in strangers)
        assert on_screen(pilot, "Absentes du fichier")
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MergeScreen)  # asked, nothing sent
        assert queued_rejections(fixed_demo, cid) == sent
        await pilot.press("ctrl+e")  # the buyer knows: the letter of the one rejected goes
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, MergeScreen), "sent", 60)
    assert queued_rejections(fixed_demo, cid) == sent + 1
    # What the buyer was warned of and sent despite stays in the audit log, not on a screen.
    *_, (actor, _, detail) = confirmed = audit_rows(fixed_demo, MERGE_CONFIRMED)
    assert len(confirmed) == confirmed_before + 1
    assert actor == "marie.dupont"
    assert detail.startswith(
        "1 courrier(s) de rejet envoyés après cet avertissement : Absentes du fichier, mais au "
        "registre des dépôts pour le lot 1 : "
    )
    assert all(name in detail for name in lot_1[2:])
