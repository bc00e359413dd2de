"""The model letters (rejection, award, notification, invitation, cancellation): real PDFs
read back with pypdf, their mandatory mentions, the standstill, escaping, override templates
and the rejection mail-merge."""

from __future__ import annotations

import io
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pypdf
import pytest
from PIL import Image

from messagerie.letters.pdf.documents import (
    AwardLetter,
    CancellationLetter,
    InvitationLetter,
    Letter,
    LetterRefused,
    NotificationLetter,
    RejectionLetter,
    letter_filename,
    letter_html,
    rejection_letters,
    render_letter,
)
from messagerie.letters.pdf.render import TemplateProblem, datetime_fr, time_fr
from messagerie.models.errors import Refusal
from messagerie.models.messages.merge import read_analysis, rejected_bids, rows_by_lot
from messagerie.models.rules.standstill import signing_from
from tests.helpers.letters import CONSULTATION

PARIS = ZoneInfo("Europe/Paris")
HOSTILE = """<script>alert(1)</script> & "Fils" 'associés'"""
HOSTILE_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Fils&#34; &#39;associés&#39;"
SENT = date(2026, 3, 2)


# Module-scoped fixtures: its tests run on one xdist worker (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_letters_documents")
LOT = ("Lot n°1 - Chocolat au lait",)


# Each kind's example letter about CONSULTATION: its other fields.
EXAMPLES: dict[type, dict[str, Any]] = {
    RejectionLetter: {
        "company": "N.B.C. FR",
        "dated": SENT,
        "lots": LOT,
        "reasons": "Prix supérieur à l'estimation du lot.",
        "score": Decimal("14.5"),
        "rank": 3,
        "ranked_offers": 5,
        "awardee": "Chocolaterie Müller SAS",
        "award_reasons": "Meilleur rapport qualité-prix.",
        "awardee_score": Decimal("17.25"),
    },
    AwardLetter: {
        "company": "Chocolaterie Müller SAS",
        "dated": SENT,
        "lots": LOT,
        "amount": Decimal("12345.6"),
        "pieces": ("Attestation de régularité fiscale", "Attestation de vigilance URSSAF"),
        "pieces_deadline": date(2026, 3, 9),
    },
    NotificationLetter: {
        "company": "Chocolaterie Müller SAS",
        "dated": date(2026, 3, 13),
        "lots": LOT,
        "amount": Decimal("12345.6"),
        "last_rejection_sent": SENT,
    },
    InvitationLetter: {
        "company": "N.B.C. FR",
        "dated": date(2026, 1, 5),
        "notice_reference": "BOAMP 26-12345",
        "bid_deadline": datetime(2026, 2, 14, 12, 0, tzinfo=PARIS),
        "platform_url": "https://alsacemarchespublics.eu",
        "access_code": "K7F-92Q",
        "submission": "Dépôt électronique sur la plateforme, dans la consultation restreinte.",
        "documents": "Acte d'engagement\nMémoire technique",
    },
    CancellationLetter: {
        "company": "N.B.C. FR",
        "dated": SENT,
        "reasons": "Aucune offre acceptable n'a été reçue.",
    },
}


def example(kind: type, **changes: Any) -> Any:
    """The example letter of `kind`, with the test's changes."""
    return kind(**({"consultation": CONSULTATION} | EXAMPLES[kind] | changes))


rejection = partial(example, RejectionLetter)
award = partial(example, AwardLetter)
notification = partial(example, NotificationLetter)
invitation = partial(example, InvitationLetter)
cancellation = partial(example, CancellationLetter)


def pdf_words(pdf: bytes) -> str:
    """The text of every page, one space between words (extraction may wrap lines anywhere)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def page_count(pdf: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


# What each letter must show, read back from its PDF.
COMMON = (
    "Collectivité européenne d'Alsace",
    "Direction de la commande publique",
    "Référence 202601",
    "Intitulé Achat de chocolats",
    "Page 1 / ",
)
EXPECTED: dict[str, tuple[Letter, tuple[str, ...]]] = {
    "rejet": (
        rejection(),
        (
            "Courrier de rejet",
            "Le 2 mars 2026",
            "DESTINATAIRE N.B.C. FR",  # the label is upper-cased by CSS
            "Lot concerné Lot n°1 - Chocolat au lait",
            "Motifs du rejet de votre offre Prix supérieur à l'estimation du lot.",
            "note de 14,5 et a été classée 3e sur 5",
            "Attributaire Chocolaterie Müller SAS",
            "Motifs du choix de l'offre de l'attributaire Meilleur rapport qualité-prix.",
            "Note de l'offre retenue : 17,25",
            "Date à partir de laquelle le marché peut être signé : 13/03/2026",
            "délai de 11 jours",
            "article R2182-1",
            "Consultation 202601 – Courrier de rejet – N.B.C. FR",
        ),
    ),
    "attribution": (
        award(),
        (
            "Courrier d'attribution",
            "Attributaire Chocolaterie Müller SAS",
            "Montant de l'offre retenue 12 345,60 € HT",
            "Lot n°1 - Chocolat au lait",
            "Pièces à fournir",
            "au plus tard le 09/03/2026",
            "Attestation de régularité fiscale",
            "Attestation de vigilance URSSAF",
        ),
    ),
    "notification": (
        notification(),
        (
            "Courrier de notification",
            "Titulaire Chocolaterie Müller SAS",
            "Montant du marché 12 345,60 € HT",
            "prend effet à la date de réception de la présente notification",
            "Le 13 mars 2026",
        ),
    ),
    "invitation": (
        invitation(),
        (
            "Invitation à concourir",
            "Référence de l'avis publié BOAMP 26-12345",
            "Date et heure limite de remise des plis 14/02/2026 12:00",
            "Adresse de la plateforme https://alsacemarchespublics.eu",
            "Code d'accès restreint K7F-92Q",
            "Adresse et modalités de remise des offres Dépôt électronique sur la plateforme",
            "Documents à fournir Acte d'engagement Mémoire technique",
            "simultanément",
        ),
    ),
    "annulation": (
        cancellation(),
        (
            "Information d'annulation",
            "déclarée sans suite",
            "Motifs de la déclaration sans suite Aucune offre acceptable n'a été reçue.",
            "R2185-1",
        ),
    ),
}


@pytest.fixture(scope="module")
def rendered() -> dict[str, bytes]:
    return {name: render_letter(letter) for name, (letter, _) in EXPECTED.items()}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_letter_reads_back_with_its_mandatory_mentions(rendered, name):
    pdf = rendered[name]
    assert pdf.startswith(b"%PDF-")
    words = pdf_words(pdf)
    for expected in (*COMMON, *EXPECTED[name][1]):
        assert expected in words, expected
    assert f"Page 1 / {page_count(pdf)}" in words


def test_the_pdf_metadata_name_the_letter(rendered):
    reader = pypdf.PdfReader(io.BytesIO(rendered["rejet"]))
    assert reader.metadata.title == "Courrier de rejet – Consultation 202601 – N.B.C. FR"
    assert reader.metadata.author == "Collectivité européenne d'Alsace"


def test_the_same_letter_gives_the_same_bytes(rendered):
    """So that the SHA-256 printed on the AR identifies the letter."""
    assert render_letter(rejection()) == rendered["rejet"]


# --- Missing mentions block the generation --------------------------------------------------

BLANKED = [
    (rejection(reasons="  "), "reasons", "Motifs du rejet"),
    (rejection(awardee=""), "awardee", "Attributaire"),
    (rejection(award_reasons=""), "award_reasons", "Motifs du choix de l'attributaire"),
    (award(pieces_deadline=None), "pieces_deadline", "Date limite de remise des pièces"),
    (invitation(notice_reference=""), "notice_reference", "Référence de l'avis publié"),
    (invitation(bid_deadline=None), "bid_deadline", "Date et heure limite de remise des plis"),
    (invitation(platform_url=""), "platform_url", "Adresse de la plateforme"),
    (invitation(access_code=""), "access_code", "Code d'accès restreint"),
    (invitation(submission=""), "submission", "Adresse et modalités de remise des offres"),
    (invitation(documents="\n"), "documents", "Documents à fournir"),
    (cancellation(reasons=""), "reasons", "Motifs de la déclaration sans suite"),
    (cancellation(company=" "), "company", "Entreprise destinataire"),
]


@pytest.mark.parametrize(("letter", "field", "label"), BLANKED, ids=[b[1] for b in BLANKED])
def test_a_missing_mention_blocks_the_letter_naming_the_field(letter, field, label):
    assert [mention.field for mention in letter.missing_mentions()] == [field]
    with pytest.raises(LetterRefused) as refused:
        render_letter(letter)
    assert isinstance(refused.value, Refusal)
    assert refused.value.field == field
    assert str(refused.value) == (
        f"{letter.kind.label} : génération impossible, mention obligatoire manquante : « {label} »."
    )


def test_every_missing_mention_is_named_at_once():
    letter = invitation(notice_reference="", documents="")
    with pytest.raises(LetterRefused, match="mentions obligatoires manquantes") as refused:
        letter_html(letter)
    assert [mention.field for mention in refused.value.missing] == [
        "notice_reference",
        "documents",
    ]
    assert refused.value.field == "notice_reference"


def test_a_complete_letter_misses_nothing():
    for letter, _ in EXPECTED.values():
        assert letter.missing_mentions() == ()


# --- Rejection before and after award; the standstill --------------------------------------


@pytest.mark.parametrize(
    ("sent", "electronic", "end"),
    [
        (date(2026, 3, 2), True, date(2026, 3, 13)),
        (date(2026, 3, 2), False, date(2026, 3, 18)),
        (date(2026, 12, 25), True, date(2027, 1, 5)),
        (date(2028, 2, 20), False, date(2028, 3, 7)),  # leap year
    ],
)
def test_standstill_end_is_11_days_after_sending_or_16_on_paper(sent, electronic, end):
    assert signing_from(sent, electronic=electronic) == end
    assert rejection(dated=sent, electronic=electronic).signing_from == end


def test_a_rejection_not_sent_electronically_prints_the_16_day_date():
    words = pdf_words(render_letter(rejection(electronic=False)))
    assert "Date à partir de laquelle le marché peut être signé : 18/03/2026" in words
    assert "délai de 16 jours" in words


def test_a_rejection_before_award_needs_only_its_reasons():
    letter = rejection(awardee="", award_reasons="", awardee_score=None, score=None, rank=None)
    assert letter.signing_from is None
    words = pdf_words(render_letter(letter))
    assert "Motifs du rejet de votre offre Prix supérieur" in words
    assert "vous seront communiqués dès que la décision d'attribution aura été prise" in words
    assert "peut être signé :" not in words
    assert "note de" not in words


def test_a_candidature_rejected_at_admission_is_not_told_of_an_offer():
    words = pdf_words(render_letter(rejection(candidature=True)))
    assert "Vous avez remis une candidature pour la consultation" in words
    assert "votre candidature n'a pas été retenue" in words
    assert "Motifs du rejet de votre candidature Prix supérieur" in words
    assert "Votre candidature a obtenu la note de 14,5 et a été classée 3e sur 5" in words
    assert "remis une offre" not in words and "votre offre" not in words.casefold()
    unawarded = rejection(candidature=True, awardee="", award_reasons="")
    before_award = pdf_words(render_letter(unawarded))
    assert "vous seront communiqués" not in before_award  # R2181-3: nothing to promise


def test_a_mapa_rejection_without_a_chosen_standstill_announces_no_signature_date():
    letter = rejection(standstill=False)
    assert letter.signing_from is None
    words = pdf_words(render_letter(letter))
    assert "Attributaire Chocolaterie Müller SAS" in words
    assert "peut être signé" not in words and "R2182-1" not in words
    before_award = pdf_words(render_letter(replace(letter, awardee="", award_reasons="")))
    assert "dès que la décision d'attribution aura été prise" in before_award
    assert "pourra être signé" not in before_award


# --- Notification and the standstill (LEGAL.md rule 8) --------------------------------------


def test_a_notification_during_the_standstill_is_refused():
    # The rejections went out on 02/03: notification from 13/03 at the earliest.
    letter = notification(dated=date(2026, 3, 12))
    with pytest.raises(LetterRefused) as refused:
        render_letter(letter)
    assert refused.value.field == "exemption_reason"
    message = str(refused.value)
    assert "« Motif de dispense du délai de suspension »" in message
    assert "envoyés le 02/03/2026" in message
    assert "à partir du 13/03/2026 (11 jours, article R2182-1)" in message


def test_paper_rejections_hold_the_notification_16_days():
    letter = notification(dated=date(2026, 3, 17), rejections_electronic=False)
    with pytest.raises(LetterRefused, match="à partir du 18/03/2026 \\(16 jours"):
        render_letter(letter)
    assert notification(dated=date(2026, 3, 18), rejections_electronic=False).in_standstill is False


def test_a_notification_is_allowed_once_the_standstill_has_run_or_with_an_exemption():
    assert notification(dated=date(2026, 3, 13)).missing_mentions() == ()
    exempted = notification(dated=date(2026, 3, 3), exemption_reason="Une seule offre reçue")
    assert exempted.missing_mentions() == ()
    assert "Courrier de notification" in pdf_words(render_letter(exempted))
    assert notification(dated=SENT, last_rejection_sent=None).missing_mentions() == ()


# --- Escaping -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(EXPECTED))
def test_a_hostile_company_name_is_escaped_in_html_and_literal_in_the_pdf(name):
    letter = replace(EXPECTED[name][0], company=HOSTILE, address=f"1 rue {HOSTILE}\n67000")
    html = letter_html(letter)
    assert "<script>" not in html
    assert HOSTILE_ESCAPED in html
    assert HOSTILE in pdf_words(render_letter(letter))


def ink_in_the_right_margin(pdf: bytes, folder: Path) -> list[int]:
    """The pages (from 1) with something drawn in the page's last 12 mm on the right, where
    the letters' margin is (Poppler's pdftoppm draws them at 50 dpi, in grey)."""
    (folder / "letter.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "50", "-gray", "-png", "letter.pdf", "page"], cwd=folder, check=True
    )
    inked = []
    for number, page in enumerate(sorted(folder.glob("page-*.png")), start=1):
        with Image.open(page) as image:
            margin = image.convert("L").crop(
                (image.width - round(image.width * 12 / 210), 0, *image.size)
            )
            if margin.getextrema()[0] < 200:  # darker than the lightest grey drawn
                inked.append(number)
    return inked


@pytest.mark.parametrize("name", list(EXPECTED))
def test_a_company_name_without_a_space_stays_on_the_page(name, tmp_path):
    """A name longer than a line (a company types what it likes) wraps in the addressee block
    and in the table's cell instead of running off the paper."""
    unbroken = "Société " + "X" * 90
    letter = replace(EXPECTED[name][0], company=unbroken)
    pdf = render_letter(letter)
    assert ink_in_the_right_margin(pdf, tmp_path) == []
    assert "X" * 90 in "".join(pdf_words(pdf).split())  # whole, though on several lines


def test_hostile_reasons_are_escaped_too():
    letter = rejection(reasons=HOSTILE, awardee=HOSTILE, award_reasons=HOSTILE)
    html = letter_html(letter)
    assert "<script>" not in html
    assert html.count(HOSTILE_ESCAPED) >= 3


# --- Override templates ---------------------------------------------------------------------


def test_an_override_template_wins_over_the_built_in_one(tmp_path):
    (tmp_path / "rejet.html").write_text(
        '{% extends "courrier.html" %}{% block body %}<p>Modèle de la collectivité : '
        "{{ letter.reasons }} – signature possible le {{ letter.signing_from|date_fr }}</p>"
        "<p>{{ letter.awardee|upper }} : {{ letter.award_reasons|replace(\"'\", '’') }}</p>"
        "{% endblock %}"
    )  # capitals and typographic apostrophes print the mentions all the same
    words = pdf_words(render_letter(rejection(), templates_dir=tmp_path))
    assert "Modèle de la collectivité : Prix supérieur à l'estimation du lot." in words
    assert "signature possible le 13/03/2026" in words
    assert "Motifs du rejet de votre offre" not in words  # not the built-in body
    assert "Collectivité européenne d'Alsace" in words  # the letterhead still comes from base.html
    # Other letters keep the built-in template.
    assert "Pièces à fournir" in pdf_words(render_letter(award(), templates_dir=tmp_path))


def test_an_override_template_that_leaves_a_mandatory_mention_out_is_refused(tmp_path):
    """R2181-3: a rejection after award names the awardee and the reasons for its choice;
    an organisation's template that prints neither would send a letter without them."""
    (tmp_path / "rejet.html").write_text(
        '{% extends "courrier.html" %}{% block body %}<p>Votre offre n\'a pas été retenue : '
        "{{ letter.reasons }}. Signature le {{ letter.signing_from|date_fr }}.</p>{% endblock %}"
    )
    with pytest.raises(TemplateProblem) as refused:
        render_letter(rejection(), templates_dir=tmp_path)
    assert str(refused.value).startswith(
        "Le modèle « rejet.html » n'imprime pas : Attributaire, Motifs du choix."
    )


@pytest.mark.parametrize(
    ("source", "line", "problem"),
    [
        ('{% extends "courrier.html" %}\n{% block body %}\n<p>{{ letter.reasons }\n', 3, "syntaxe"),
        (
            '{% extends "courrier.html" %}\n{% block body %}\n\n<p>{{ lettre.motifs }}</p>\n'
            "{% endblock %}\n",
            4,
            "« lettre » n'est pas fourni",
        ),
    ],
    ids=["syntax-error", "unknown-variable"],
)
def test_a_broken_override_is_reported_with_its_name_and_line(tmp_path, source, line, problem):
    (tmp_path / "rejet.html").write_text(source)
    with pytest.raises(TemplateProblem) as reported:
        render_letter(rejection(), templates_dir=tmp_path)
    assert reported.value.template == "rejet.html"
    assert reported.value.line == line
    message = str(reported.value)
    assert message.startswith("Le modèle « rejet.html »")
    assert f"ligne {line}" in message and problem in message
    assert f"modèle de l'organisme : {tmp_path / 'rejet.html'}" in message


def test_an_override_folder_that_does_not_exist_is_reported(tmp_path):
    with pytest.raises(TemplateProblem, match=r"dossier des modèles .* est introuvable"):
        render_letter(rejection(), templates_dir=tmp_path / "absent")


def test_an_override_not_in_utf8_is_reported(tmp_path):
    (tmp_path / "rejet.html").write_bytes("<p>Modèle</p>".encode("cp1252"))
    with pytest.raises(TemplateProblem, match="n'est pas encodé en UTF-8"):
        render_letter(rejection(), templates_dir=tmp_path)


# --- File names -----------------------------------------------------------------------------


def test_file_names_are_safe_ascii_and_distinct_per_kind_lot_and_company():
    assert (
        letter_filename(rejection()) == "Courrier-de-rejet_202601_Lot-no1-Chocolat-au_N.B.C.-FR.pdf"
    )
    assert letter_filename(cancellation()) == "Information-d-annulation_202601_N.B.C.-FR.pdf"
    hostile = letter_filename(rejection(company="../../etc/passwd", lots=()))
    assert hostile == "Courrier-de-rejet_202601_etc-passwd.pdf"
    names = {letter_filename(letter) for letter, _ in EXPECTED.values()}
    assert len(names) == len(EXPECTED)


# --- The rejection mail-merge ---------------------------------------------------------------

ANALYSIS = (
    "entreprise;lot;note;rang;motifs\n"
    "Chocolaterie Müller SAS;1;17,25;1;Meilleur rapport qualité-prix.\n"
    "N.B.C. FR;1;14,5;2;Prix élevé.\n"
    "Cacao & Fils;1;11;3;Délais de livraison trop longs.\n"
    "Douceurs d'Alsace;1;;;Offre irrégulière : acte d'engagement non signé.\n"
)


def test_the_merge_makes_one_distinct_letter_per_non_retained_bidder():
    (rows,) = rows_by_lot(read_analysis(ANALYSIS.encode())).values()
    bids = rejected_bids(rows, "Chocolaterie Müller SAS")
    letters = rejection_letters(bids, consultation=CONSULTATION, dated=SENT, lots=LOT)
    assert [letter.company for letter in letters] == [
        "N.B.C. FR",
        "Cacao & Fils",
        "Douceurs d'Alsace",
    ]
    pdfs = [render_letter(letter) for letter in letters]
    assert len(set(pdfs)) == 3
    assert len({letter_filename(letter) for letter in letters}) == 3
    texts = [pdf_words(pdf) for pdf in pdfs]
    own = ["Prix élevé.", "Délais de livraison trop longs.", "Offre irrégulière"]
    for index, text in enumerate(texts):
        assert own[index] in text
        assert all(other not in text for other in own if other != own[index])
        assert "Attributaire Chocolaterie Müller SAS" in text
        assert "Meilleur rapport qualité-prix." in text
        assert "peut être signé : 13/03/2026" in text
    assert "note de 14,5 et a été classée 2e sur 3" in texts[0]
    assert "note de 11 et a été classée 3e sur 3" in texts[1]
    assert "classée" not in texts[2]


def test_the_merge_prints_the_lot_as_written_when_no_label_is_given():
    (rows,) = rows_by_lot(read_analysis(ANALYSIS.encode())).values()
    letters = rejection_letters(
        rejected_bids(rows, "N.B.C. FR"), consultation=CONSULTATION, dated=SENT
    )
    assert {letter.lots for letter in letters} == {("Lot n°1",)}
    assert all(letter.awardee == "N.B.C. FR" for letter in letters)


def test_a_notification_says_ci_joint_only_when_the_signed_contract_is_attached():
    """The notification transmits a copy of the signed contract (R2182-4): the letter promises
    a file « ci-joint » only when the message carries one, and names it."""
    alone = pdf_words(render_letter(notification()))
    assert "transmettre une copie du marché signé" in alone
    assert "ci-joint" not in alone.lower()
    attached = pdf_words(render_letter(notification(enclosures=("marche-signe.pdf",))))
    assert "vous la trouverez ci-jointe (marche-signe.pdf)" in attached


def test_a_time_given_without_its_zone_is_read_as_utc_as_the_day_is():
    naive, aware = datetime(2026, 10, 25, 1, 30), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert time_fr(naive) == time_fr(aware) == "02:30 (heure d'hiver)"
    assert datetime_fr(naive, zone=True) == "25/10/2026 02:30 (heure de Paris, heure d'hiver)"
