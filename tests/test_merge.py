"""The rejection mail-merge: reading the analysis CSV, and one rejection per bidder."""

from __future__ import annotations

from decimal import Decimal

import pytest

from messagerie.models.errors import Refusal
from messagerie.models.messages.merge import (
    AnalysisRefused,
    AnalysisRow,
    ranked_first,
    read_analysis,
    rejected_bids,
    rows_by_lot,
)

# As French Excel saves it: BOM, `;`, decimal comma, a quoted reason on two lines.
EXCEL_CSV = (
    "\ufeffEntreprise;Lot;Note;Rang;Motifs;Prix HT\r\n"
    "Chocolaterie Müller SAS;1;17,25;1;Meilleur rapport qualité-prix.;12 000\r\n"
    'N.B.C. FR;1;14,5;2;"Prix élevé.\r\nValeur technique moyenne.";14 000\r\n'
    "\r\n"
    "Cacao & Fils;1;11;3;Délais de livraison trop longs.;13 500\r\n"
    "Chocolaterie Müller SAS;2;16;1;Seule offre conforme.;8 000\r\n"
    "Douceurs d'Alsace;2;;;Offre irrégulière : acte d'engagement non signé.;9 000\r\n"
)


def test_an_excel_file_is_read_with_its_bom_semicolons_and_decimal_commas():
    rows = read_analysis(EXCEL_CSV.encode("utf-8"))
    assert [(row.line, row.company, row.lot, row.score, row.rank) for row in rows] == [
        (2, "Chocolaterie Müller SAS", "1", Decimal("17.25"), 1),
        (3, "N.B.C. FR", "1", Decimal("14.5"), 2),
        (6, "Cacao & Fils", "1", Decimal("11"), 3),
        (7, "Chocolaterie Müller SAS", "2", Decimal("16"), 1),
        (8, "Douceurs d'Alsace", "2", None, None),
    ]
    assert rows[1].reasons == "Prix élevé.\nValeur technique moyenne."  # as a mention has it


@pytest.mark.parametrize("line_end", ["\r\n", "\r"], ids=["windows", "old-mac"])
def test_a_cell_on_two_lines_reads_as_a_form_field_does(line_end):
    """The reasons go into the letter's mention, where a CR is refused as a control
    character: Excel's line ends, inside a cell as between rows, are read as line feeds."""
    rows = read_analysis(EXCEL_CSV.replace("\r\n", line_end).encode())
    assert rows[1].reasons == "Prix élevé.\nValeur technique moyenne."
    assert [row.line for row in rows] == [2, 3, 6, 7, 8]


def test_a_comma_separated_file_without_bom_is_read_too():
    text = (
        "entreprise,lot,note,rang,motifs\n"
        'A,1,"14,5",2,Trop cher\n'
        'B,1,16.75,1,"Bien, et moins cher"\n'
    )
    rows = read_analysis(text.encode())
    assert [(row.company, row.score, row.rank, row.reasons) for row in rows] == [
        ("A", Decimal("14.5"), 2, "Trop cher"),
        ("B", Decimal("16.75"), 1, "Bien, et moins cher"),
    ]


def test_headers_ignore_case_accents_and_order():
    rows = read_analysis("MOTIFS;RANG;NOTE;LOT;ENTREPRISE\nTrop cher;2;12;1;A\n")
    assert rows == (AnalysisRow(2, "A", "1", Decimal("12"), 2, "Trop cher"),)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "entreprise;lot;note;rang;motifs\nA;1;15;1;x\nB;1;14;2;y\nC;1;12;deux;z\n",
            "Ligne 4, colonne « rang » : « deux » n'est pas un nombre entier.",
        ),
        (
            "entreprise;lot;note;rang;motifs\nA;1;quinze;1;x\n",
            "Ligne 2, colonne « note » : « quinze » n'est pas un nombre (exemple : 14,5).",
        ),
        (
            "entreprise;lot;note;rang;motifs\nA;1;15;0;x\n",
            "Ligne 2, colonne « rang » : « 0 » : le rang commence à 1.",
        ),
        (
            "entreprise;lot;note;rang;motifs\n;1;15;1;x\n",
            "Ligne 2, colonne « entreprise » : le nom de l'entreprise est vide.",
        ),
        (
            # The line where the faulty row starts, after a reason written on two lines.
            'entreprise;lot;note;rang;motifs\nA;1;15;1;"deux\nlignes"\nB;1;14;2,5;y\n',
            "Ligne 4, colonne « rang » : « 2,5 » n'est pas un nombre entier.",
        ),
        (
            "entreprise;lot;note;rang;motifs\nA;1;15;1;x\na ;1;14;2;y\n",
            "Ligne 3, colonne « entreprise » : « a » figure déjà à la ligne 2 pour le même lot.",
        ),
        (
            "entreprise;lot;note;motifs\nA;1;15;x\n",
            "Ligne 1 (en-tête) : colonne « rang » absente. L'en-tête attendu est : "
            "entreprise;lot;note;rang;motifs.",
        ),
        (
            # Text that goes into the letters: a control character is refused where it is.
            "entreprise;lot;note;rang;motifs\nA;1;15;1;x\nB;1;14;2;Prix\x07 élevé\n",
            "Ligne 3, colonne « motifs » : contient un caractère de contrôle (U+0007) : "
            "retirez-le.",
        ),
        (
            "entreprise;lot;note;rang;motifs\nA\u202e;1;15;1;x\n",
            "Ligne 2, colonne « entreprise » : contient un caractère qui inverse le sens du "
            "texte (U+202E) : retirez-le.",
        ),
        ("entreprise;lot;note;rang;motifs\n\n", "Le fichier d'analyse ne contient aucune offre."),
        ("", "Le fichier d'analyse est vide."),
    ],
)
def test_a_bad_file_is_refused_naming_the_line_and_column(content, message):
    with pytest.raises(Refusal) as refused:
        read_analysis(content.encode())
    assert str(refused.value) == message


def test_a_bad_row_carries_its_line_and_column():
    with pytest.raises(AnalysisRefused) as refused:
        read_analysis("entreprise;lot;note;rang;motifs\nA;1;15;1;x\nB;1;14;2;y\nC;1;12;deux;z\n")
    assert (refused.value.line, refused.value.column) == (4, "rang")


def test_a_file_not_in_utf8_is_refused_with_its_line():
    content = "entreprise;lot;note;rang;motifs\nA;1;15;1;Prix élevé\n".encode("cp1252")
    with pytest.raises(AnalysisRefused, match=r"^Ligne 2 : le fichier n'est pas encodé en UTF-8"):
        read_analysis(content)


# --- Merging --------------------------------------------------------------------------------


@pytest.fixture
def lots():
    return rows_by_lot(read_analysis(EXCEL_CSV.encode()))


def test_rows_are_grouped_by_lot_in_file_order(lots):
    assert list(lots) == ["1", "2"]
    assert [row.company for row in lots["1"]] == [
        "Chocolaterie Müller SAS",
        "N.B.C. FR",
        "Cacao & Fils",
    ]


def test_a_lot_written_two_ways_is_one_lot():
    """« 1 » and « Lot 1 » in one file: two groups were two merges of half a lot each, every
    offer of the other half left out, ranks counted « sur 2 » instead of « sur 3 »."""
    written = (
        "entreprise;lot;note;rang;motifs\n"
        "A;1;17;1;Meilleure offre.\nB;Lot 1;15;2;Prix.\nC;lot n°01;12;3;Délais.\nD;Lot 2;9;1;x\n"
    )
    lots = rows_by_lot(read_analysis(written))
    assert {lot: [row.company for row in rows] for lot, rows in lots.items()} == {
        "1": ["A", "B", "C"],
        "2": ["D"],
    }
    bids = rejected_bids(lots["1"], "A")
    assert [(bid.company, bid.ranked_offers) for bid in bids] == [("B", 3), ("C", 3)]
    with pytest.raises(AnalysisRefused) as twice:  # one company, one lot, two spellings
        read_analysis("entreprise;lot;note;rang;motifs\nA;1;17;1;x\nB;1;15;2;y\nb;Lot 1;9;3;z\n")
    assert str(twice.value) == (
        "Ligne 4, colonne « entreprise » : « b » figure déjà à la ligne 3 pour le même lot."
    )


def test_the_offer_ranked_first_is_the_retained_one_by_default(lots):
    assert ranked_first(lots["1"]).company == "Chocolaterie Müller SAS"
    tie = (AnalysisRow(2, "A", "1", None, 1, "x"), AnalysisRow(3, "B", "1", None, 1, "y"))
    with pytest.raises(AnalysisRefused, match="2 offres au rang 1"):
        ranked_first(tie)


def test_one_rejection_per_non_retained_bidder_each_with_its_own_reasons(lots):
    bids = rejected_bids(lots["1"], "chocolaterie muller sas")  # case and accents ignored
    assert [(bid.company, bid.rank, bid.score, bid.reasons) for bid in bids] == [
        ("N.B.C. FR", 2, Decimal("14.5"), "Prix élevé.\nValeur technique moyenne."),
        ("Cacao & Fils", 3, Decimal("11"), "Délais de livraison trop longs."),
    ]
    for bid in bids:
        assert bid.awardee == "Chocolaterie Müller SAS"
        assert bid.award_reasons == "Meilleur rapport qualité-prix."
        assert bid.awardee_score == Decimal("17.25")
        assert bid.ranked_offers == 3
        assert bid.lot == "1"


def test_an_unranked_offer_is_rejected_on_its_reasons(lots):
    (bid,) = rejected_bids(lots["2"], ranked_first(lots["2"]).company)
    assert (bid.company, bid.score, bid.rank, bid.ranked_offers) == (
        "Douceurs d'Alsace",
        None,
        None,
        1,
    )


def test_the_retained_company_must_be_in_the_lot(lots):
    with pytest.raises(AnalysisRefused, match="« Inconnue SA » ne figure pas"):
        rejected_bids(lots["1"], "Inconnue SA")


@pytest.mark.parametrize(
    ("a_reasons", "b_reasons", "message"),
    [
        # A rejected bidder without reasons is refused before any letter is made.
        (
            "Meilleure offre",
            " ",
            "Ligne 3, colonne « motifs » : indiquez les motifs du rejet de B.",
        ),
        # The retained offer needs the reasons of its choice.
        (
            "",
            "Trop cher",
            "Ligne 2, colonne « motifs » : indiquez les motifs du choix de l'offre de A.",
        ),
    ],
    ids=["rejected-bidder", "retained-offer"],
)
def test_every_offer_needs_its_reasons_before_any_letter_is_made(a_reasons, b_reasons, message):
    rows = (
        AnalysisRow(2, "A", "1", Decimal(15), 1, a_reasons),
        AnalysisRow(3, "B", "1", Decimal(14), 2, b_reasons),
    )
    with pytest.raises(AnalysisRefused) as refused:
        rejected_bids(rows, "A")
    assert str(refused.value) == message


def test_rows_of_several_lots_are_not_merged_together():
    rows = read_analysis(EXCEL_CSV.encode())
    with pytest.raises(ValueError):
        rejected_bids(rows, "Chocolaterie Müller SAS")


# --- Every fault at once --------------------------------------------------------------------


def test_every_faulty_line_of_the_file_is_named_at_once():
    """The buyer saw « Ligne 3… » alone, fixed it, and only then learnt of line 7."""
    content = (
        "entreprise;lot;note;rang;motifs\n"
        "A;1;15;1;x\n"
        "B;1;14;deux;y\n"
        ";1;cinq;3;z\n"
        "C;1;12;4;w\n"
        "c;1;12;5;w\n"
        "D;1;cinq;6;v\n"
    )
    with pytest.raises(AnalysisRefused) as refused:
        read_analysis(content.encode())
    assert str(refused.value) == (
        "Fichier d'analyse refusé (5 erreurs), aucun courrier n'est préparé :\n"
        "Ligne 3, colonne « rang » : « deux » n'est pas un nombre entier.\n"
        "Ligne 4, colonne « entreprise » : le nom de l'entreprise est vide.\n"
        "Ligne 4, colonne « note » : « cinq » n'est pas un nombre (exemple : 14,5).\n"
        "Ligne 6, colonne « entreprise » : « c » figure déjà à la ligne 5 pour le même lot.\n"
        "Ligne 7, colonne « note » : « cinq » n'est pas un nombre (exemple : 14,5)."
    )
    assert (refused.value.line, refused.value.column) == (3, "rang")


def test_a_long_list_of_faults_names_the_first_twenty_and_counts_the_rest():
    rows = "".join(f"Entreprise {n};1;15;{n}e;x\n" for n in range(1, 26))
    with pytest.raises(AnalysisRefused) as refused:
        read_analysis("entreprise;lot;note;rang;motifs\n" + rows)
    lines = str(refused.value).splitlines()
    assert lines[0] == "Fichier d'analyse refusé (25 erreurs), aucun courrier n'est préparé :"
    assert lines[1] == "Ligne 2, colonne « rang » : « 1e » n'est pas un nombre entier."
    assert lines[20] == "Ligne 21, colonne « rang » : « 20e » n'est pas un nombre entier."
    assert lines[21:] == ["… et 5 autre(s) erreur(s)."]


def test_every_offer_without_its_reasons_is_named_at_once():
    rows = (
        AnalysisRow(2, "A", "1", Decimal(15), 1, ""),
        AnalysisRow(3, "B", "1", Decimal(14), 2, "Trop cher"),
        AnalysisRow(4, "C", "1", Decimal(12), 3, " "),
    )
    with pytest.raises(AnalysisRefused) as refused:
        rejected_bids(rows, "A")
    assert str(refused.value).splitlines()[1:] == [
        "Ligne 2, colonne « motifs » : indiquez les motifs du choix de l'offre de A.",
        "Ligne 4, colonne « motifs » : indiquez les motifs du rejet de C.",
    ]
