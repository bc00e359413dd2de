"""The Q/A document (guide, case A), the shared PDF pipeline and the anonymity check.

Real PDFs, rendered by weasyprint and read back with pypdf.
"""

from __future__ import annotations

import io
import logging
import socket
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pypdf
import pytest

from messagerie.letters.pdf.qa import (
    QaDocument,
    QaItem,
    qa_context,
    qa_filename,
    render_qa_document,
)
from messagerie.letters.pdf.render import (
    TemplateProblem,
    date_fr,
    datetime_fr,
    long_date_fr,
    render_html,
    render_pdf,
)
from messagerie.models.rules.anonymise import anonymise_advice, identity_leaks, leaks_summary
from tests.helpers.letters import CONSULTATION

PARIS = ZoneInfo("Europe/Paris")
HOSTILE = """<script>alert(1)</script> & "quotes" 'apostrophes'"""

QUESTION_1 = (
    "Pouvez-vous préciser le volume annuel estimé pour le lot n°1 ?\n"
    "Le conditionnement en boîtes de 250 g est-il accepté ?"
)
ANSWER_1 = (
    "Le volume annuel estimé est de 1 200 kg.\n"
    "Les boîtes de 250 g sont acceptées, comme celles de 500 g."
)

# Module-scoped fixtures: its tests run on one xdist worker (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_letters_qa")
QUESTION_2 = "Un échantillon doit-il être joint à l'offre ?"
ANSWER_2 = "Oui, un échantillon par lot, à déposer avant la date limite de remise des plis."


def example_document(items: tuple[QaItem, ...] | None = None, version: int = 1) -> QaDocument:
    return QaDocument(
        consultation=replace(CONSULTATION, object="Achat de chocolats"),
        bid_deadline=datetime(2026, 2, 14, 12, 0, tzinfo=PARIS),
        items=items
        if items is not None
        else (
            QaItem(1, QUESTION_1, ANSWER_1, asked_at=datetime(2026, 2, 3, 9, 31, tzinfo=PARIS)),
            QaItem(2, QUESTION_2, ANSWER_2),
            QaItem(3, HOSTILE, "Réponse à une question piégée."),
        ),
        issued_at=datetime(2026, 2, 10, 16, 41, tzinfo=PARIS),
        version=version,
    )


def pages_text(pdf: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [page.extract_text() for page in reader.pages]


def flat(text: str) -> str:
    """One space between words: text extraction may wrap lines anywhere."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def example_pdf() -> bytes:
    return render_qa_document(example_document())


# --- The Q/A document -----------------------------------------------------------------------


def test_the_example_consultation_reads_back_from_the_pdf(example_pdf):
    assert example_pdf.startswith(b"%PDF-")
    (text,) = pages_text(example_pdf)
    words = flat(text)
    for expected in (
        "Collectivité européenne d'Alsace",
        "Direction de la commande publique",
        "Questions / Réponses",
        "Référence 202601",
        "Intitulé Achat de chocolats",
        "14/02/2026 12:00",
        "Document mis à jour le 10/02/2026 à 16:41",
        "reproduites de manière anonyme",
        "égalité de traitement",
        "Question n°1 – reçue le 03/02/2026",
        "Question n°2",
        "Question n°3",
        "Page 1 / 1",
    ):
        assert expected in words, expected
    for item_text in (QUESTION_1, ANSWER_1, QUESTION_2, ANSWER_2):
        for line in item_text.splitlines():
            assert line in text, line
    assert words.count("Réponse ") >= 3
    assert "Version n°" not in words


def test_line_breaks_of_questions_and_answers_are_kept(example_pdf):
    (text,) = pages_text(example_pdf)
    lines = [line.strip() for line in text.splitlines()]
    first, second = QUESTION_1.splitlines()
    assert lines[lines.index(first) + 1] == second


def test_hostile_text_is_printed_literally_not_as_markup(example_pdf):
    (text,) = pages_text(example_pdf)
    assert HOSTILE in text
    html = render_html("questions_reponses.html", qa_context(example_document()))
    assert "<script>" not in html
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34; &#39;apostrophes&#39;" in html
    )


def test_the_pdf_metadata_name_the_document(example_pdf):
    reader = pypdf.PdfReader(io.BytesIO(example_pdf))
    assert reader.metadata.title == "Questions / Réponses – Consultation 202601"
    assert reader.metadata.author == "Collectivité européenne d'Alsace"
    assert reader.metadata.creation_date == datetime(2026, 2, 10, 16, 41, tzinfo=PARIS)


def test_the_same_document_gives_the_same_bytes(example_pdf):
    """So that a hash of the PDF (printed on the AR) identifies the document."""
    assert render_qa_document(example_document()) == example_pdf


def test_a_replacing_document_says_its_version():
    pdf = render_qa_document(example_document(version=2))
    words = flat(pages_text(pdf)[0])
    assert "Version n°2 – Document mis à jour le 10/02/2026 à 16:41" in words
    assert "annule et remplace la version n°1" in words
    assert "Consultation 202601 – Questions / Réponses – Version n°2" in words


def test_a_long_document_numbers_its_pages_and_repeats_the_footer():
    long_answer = "\n".join(f"Précision n°{n} : les quantités sont indicatives." for n in range(40))
    items = tuple(QaItem(n, f"Question {n} ?", long_answer) for n in range(1, 4))
    texts = pages_text(render_qa_document(example_document(items)))
    total = len(texts)
    assert total >= 2
    for number, text in enumerate(texts, start=1):
        words = flat(text)
        assert f"Page {number} / {total}" in words
        assert "Consultation 202601 – Questions / Réponses" in words
    assert "Collectivité européenne d'Alsace – Questions / Réponses" in flat(texts[1])


def test_no_question_yet_is_said_plainly():
    text = flat(pages_text(render_qa_document(example_document(items=())))[0])
    assert "Aucune question n'a été posée à ce jour." in text


def test_the_version_starts_at_one():
    with pytest.raises(ValueError):
        example_document(version=0)


@pytest.mark.parametrize(
    ("reference", "version", "expected"),
    [
        ("202601", 2, "Questions-reponses_202601_v2.pdf"),
        ("202601", 1, "Questions-reponses_202601_v1.pdf"),
        ("C2025ADM / Lot 2", 3, "Questions-reponses_C2025ADM-Lot-2_v3.pdf"),
        ("Éco-conçu n°5", 1, "Questions-reponses_Eco-concu-no5_v1.pdf"),
        ("../../etc", 1, "Questions-reponses_etc_v1.pdf"),
        ("", 1, "Questions-reponses_consultation_v1.pdf"),
    ],
)
def test_the_file_name_is_safe_ascii(reference, version, expected):
    assert qa_filename(reference, version) == expected


# --- The rendering pipeline -----------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    """Records (and blocks) any attempt to resolve a host name or open a connection."""
    attempts: list[object] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network used while rendering a letter")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


def test_rendering_never_touches_the_network(tmp_path, caplog, no_network):
    (tmp_path / "remote.html").write_text(
        '{% extends "base.html" %}{% block content %}<p>{{ text }}</p>'
        '<img src="http://example.com/x.png"><img src="file:///etc/hostname">'
        '<link rel="stylesheet" href="https://example.com/evil.css">{% endblock %}'
    )
    context = {"organisation": "O", "entity": "E", "text": "Bonjour"}
    with caplog.at_level(logging.DEBUG, logger="messagerie.letters.pdf.render"):
        pdf = render_pdf("remote.html", context, templates_dir=tmp_path)
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert any("http://example.com/x.png" in message for message in refused)
    assert any("https://example.com/evil.css" in message for message in refused)
    assert any("file:///etc/hostname" in message for message in refused)
    assert no_network == []
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    assert list(page.images) == []
    assert "Bonjour" in page.extract_text()


def test_the_fonts_come_from_the_package(caplog, example_pdf):
    with caplog.at_level(logging.DEBUG, logger="messagerie.letters.pdf.render"):
        render_qa_document(example_document())
    fetched = " ".join(r.getMessage() for r in caplog.records if "fetched" in r.getMessage())
    assert "letters/fonts/DejaVuSans.ttf" in fetched
    assert "letters/fonts/DejaVuSans-Bold.ttf" in fetched
    assert "letters/templates/letter.css" in fetched
    page = pypdf.PdfReader(io.BytesIO(example_pdf)).pages[0]
    fonts = {font.get_object()["/BaseFont"] for font in page["/Resources"]["/Font"].values()}
    # "Lettre Sans" exists only through the package's @font-face rules.
    assert {name.split("+")[-1] for name in fonts} == {"Lettre-Sans", "Lettre-Sans-Bold"}


def test_a_missing_variable_raises_instead_of_printing_nothing():
    context = qa_context(example_document())
    del context["title"]
    with pytest.raises(TemplateProblem) as problem:
        render_html("questions_reponses.html", context)
    assert "« title » n'est pas fourni" in str(problem.value)
    assert problem.value.template == "questions_reponses.html"
    assert problem.value.line


def test_printing_none_raises():
    context = qa_context(example_document())
    context["entity"] = None
    with pytest.raises(TemplateProblem, match="None"):
        render_html("questions_reponses.html", context)


def test_an_override_folder_wins_over_the_built_in_templates(tmp_path):
    (tmp_path / "questions_reponses.html").write_text(
        '{% extends "base.html" %}{% block content %}<p>Modèle local {{ reference }}</p>'
        "{% endblock %}"
    )
    context = qa_context(example_document())
    html = render_html("questions_reponses.html", context, templates_dir=tmp_path)
    assert "Modèle local 202601" in html
    assert "Collectivité européenne d&#39;Alsace" in html  # base.html still comes from letters/


def test_a_broken_override_is_reported_not_replaced_by_the_built_in_one(tmp_path):
    (tmp_path / "questions_reponses.html").write_text("<p>\n{% if reference %}\n<p>{{ x }\n")
    with pytest.raises(TemplateProblem) as problem:
        render_html(
            "questions_reponses.html", qa_context(example_document()), templates_dir=tmp_path
        )
    assert problem.value.template == "questions_reponses.html"
    assert problem.value.line == 3
    assert str(problem.value).startswith(
        "Le modèle « questions_reponses.html » contient une erreur de syntaxe à la ligne 3"
    )


def test_an_unknown_template_is_reported_in_french():
    with pytest.raises(TemplateProblem, match=r"« absent\.html » est introuvable"):
        render_html("absent.html", {})


def test_french_dates():
    moment = datetime(2026, 2, 14, 11, 0, tzinfo=UTC)  # 12:00 in Paris (winter)
    assert date_fr(moment) == "14/02/2026"
    assert datetime_fr(moment) == "14/02/2026 12:00"
    assert datetime_fr(datetime(2026, 7, 1, 10, 0, tzinfo=UTC)) == "01/07/2026 12:00"
    assert date_fr(datetime(2026, 2, 14, 23, 30, tzinfo=UTC)) == "15/02/2026"
    assert date_fr(date(2026, 2, 14)) == "14/02/2026"
    assert long_date_fr(date(2026, 11, 27)) == "27 novembre 2026"
    assert long_date_fr(date(2026, 11, 1)) == "1er novembre 2026"
    assert long_date_fr(datetime(2026, 2, 14, 12, 0, tzinfo=PARIS)) == "14 février 2026"


# --- Anonymity (LEGAL.md rule 4) ------------------------------------------------------------

ASKER = {
    "company_name": "Chocolaterie Müller SAS",
    "siret": "476 460 118 00047",
    "email": "contact@chocolaterie-muller.fr",
    "contact_name": "Jean-Pierre Dupont",
}


def leaks(text: str) -> tuple[str, ...]:
    return identity_leaks(text, **ASKER)


@pytest.mark.parametrize(
    "text",
    [
        "La CHOCOLATERIE MULLER souhaite savoir si le lot 1 est reconductible.",
        "Bonjour, chocolaterie müller sas : le lot 1 est-il reconductible ?",
        "Nous (Chocolaterie-Muller) demandons une précision.",
    ],
)
def test_the_company_name_is_found_whatever_its_case_accents_or_legal_form(text):
    assert leaks(text) == ("le nom de l'entreprise « Chocolaterie Müller SAS »",)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Notre SIRET : 476 460 118 00047.", "le numéro SIRET 476460118 00047"),
        ("Notre SIRET : 47646011800047.", "le numéro SIRET 476460118 00047"),
        ("SIRET 476.460.118.000.47", "le numéro SIRET 476460118 00047"),
        ("Notre SIREN est le 476 460 118.", "le numéro SIREN 476460118"),
        ("TVA FR12476460118", "le numéro de TVA intracommunautaire (SIREN 476460118)"),
        (
            "Écrire à Contact@Chocolaterie-Muller.fr",
            "l'adresse e-mail contact@chocolaterie-muller.fr",
        ),
        (
            "Voir www.chocolaterie-muller.fr",
            "le nom de domaine chocolaterie-muller.fr (celui de l'adresse e-mail de l'entreprise)",
        ),
        (
            "Cordialement, DUPONT Jean-Pierre",
            "le nom de la personne qui a posé la question « Jean-Pierre Dupont »",
        ),
        (
            "Merci de répondre à M. Dupont",
            "le nom de la personne qui a posé la question « Jean-Pierre Dupont »",
        ),
    ],
)
def test_numbers_addresses_and_people_are_found(text, expected):
    assert leaks(text) == (expected,)


def test_a_signed_question_lists_every_leak():
    text = (
        "Bonjour,\nLe lot 1 est-il reconductible ?\n"
        "Cordialement,\nJean-Pierre Dupont\nChocolaterie Müller — SIRET 476 460 118 00047\n"
        "contact@chocolaterie-muller.fr"
    )
    assert leaks(text) == (
        "le nom de l'entreprise « Chocolaterie Müller SAS »",
        "le numéro SIRET 476460118 00047",
        "l'adresse e-mail contact@chocolaterie-muller.fr",
        "le nom de la personne qui a posé la question « Jean-Pierre Dupont »",
    )


@pytest.mark.parametrize(
    "text",
    [
        "Une entreprise demande si le lot 1 est reconductible.\nLe volume est-il de 476 kg ?",
        "Le chocolat au lait doit-il contenir au moins 30 % de cacao ?",
        "Pouvez-vous préciser le délai ? Merci de répondre à l'adresse de la plateforme.",
        "Le montant estimé est de 476460118000470 centimes.",  # a longer number is not the SIRET
    ],
)
def test_a_properly_anonymised_question_has_no_leak(text):
    assert leaks(text) == ()


def test_a_webmail_domain_is_not_a_leak():
    assert (
        identity_leaks(
            "Répondre via gmail.com si besoin", company_name="X", siret="", email="jean@gmail.com"
        )
        == ()
    )


def test_abbreviations_and_ampersands_match_their_spelled_forms():
    assert identity_leaks(
        "Les Ets Durand et Fils demandent", company_name="DURAND & FILS SARL", siret="", email=""
    ) == ("le nom de l'entreprise « DURAND & FILS SARL »",)
    assert identity_leaks(
        "La société NBC FR demande", company_name="N.B.C. FR", siret="", email=""
    ) == ("le nom de l'entreprise « N.B.C. FR »",)


def test_the_answer_is_checked_and_named_like_the_question():
    # The tester's answer on the demo (CEA-2026-0063): the asker's company, contact and SIREN.
    answer = "Réponse transmise à Durand Bureautique SAS (Lucie Keller, 231466913)"
    found = identity_leaks(
        answer,
        company_name="Durand Bureautique SAS",
        siret="23146691300283",
        email="lucie.keller@durand-bureautique.example",
        contact_name="Lucie Keller",
    )
    assert anonymise_advice("answer", found) == (
        "Anonymisez la réponse avant diffusion : le nom de l'entreprise « Durand Bureautique "
        "SAS » ; le numéro SIREN 231466913 ; le nom de la personne qui a posé la question "
        "« Lucie Keller »."
    )
    assert leaks_summary("answer", found).startswith(
        "La réponse semble encore identifier le candidat :\n• le nom de l'entreprise"
    )
    assert anonymise_advice("question", leaks("Signé : M. Dupont")) == (
        "Anonymisez la question avant diffusion : le nom de la personne qui a posé la question "
        "« Jean-Pierre Dupont »."
    )
    assert anonymise_advice("answer", ()) == leaks_summary("answer", ()) == ""
