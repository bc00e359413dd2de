"""The e-mail a recipient receives (letters/mail.py), read back as a mail client would."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from messagerie.letters.mail.mime import (
    CONTEXT_HEADING,
    ContextBlock,
    MailAttachment,
    MailContent,
    MailRecipient,
    render_email,
    render_parts,
)
from messagerie.models.consultations.identity import ConsultationIdentity
from messagerie.models.store.enums import AntivirusVerdict, SendMode

PDF_BYTES = b"%PDF-1.7\n\x00\xff binary \r\n payload\n%%EOF"

CONTEXT = ContextBlock(
    ConsultationIdentity(
        reference="2026-AO-012",
        title="Réfection de la RD 83",
        object="Travaux de voirie & signalisation",
        organisation="Collectivité européenne d'Alsace",
        entity="Direction des routes",
    ),
    bid_deadline=datetime(2026, 2, 14, 11, 0, tzinfo=UTC),
)

REJECTION = MailContent(
    subject="Votre offre pour le lot n°2",
    body="Madame, Monsieur,\n\nNous avons le regret de vous informer\nque votre offre "
    "n'a pas été retenue.\n\nCordialement,\nLe service achats",
    type_label="Courrier de rejet",
    send_mode=SendMode.SIMPLE,
    reply_allowed=False,
    reply_deadline=None,
    context=CONTEXT,
    sender_name="Collectivité européenne d'Alsace",
    sender_email="achats@alsace.example",
    mentions=(("Motifs du rejet", "Offre classée 3e sur 5"),),
    attachments=(
        MailAttachment(
            "rapport-analyse.pdf",
            "application/pdf",
            len(PDF_BYTES),
            AntivirusVerdict.CLEAN,
            PDF_BYTES,
        ),
        MailAttachment("annexe.txt", "text/plain", 2048, AntivirusVerdict.NOT_SCANNED, b"annexe\n"),
    ),
)


def recipient_of_17(number: int, address: str, name: str | None, token: str) -> MailRecipient:
    """Recipient `number` of message 17, with the token of their personal link."""
    return MailRecipient(
        address,
        name,
        link=f"https://messagerie.example/m/{token}",
        message_id_header=f"<msg-17.rcpt-{number}@messagerie.example>",
        reply_to=f"reponse+17.{number}@messagerie.example",
    )


RECIPIENT = recipient_of_17(3, "contact@btp-rhin.example", "BTP Rhin", "Tk3n-42")


def received(content: MailContent, recipient: MailRecipient = RECIPIENT) -> EmailMessage:
    """The message as the recipient's client parses it from the wire bytes."""
    wire = render_email(content, recipient).as_bytes()
    parsed = email.message_from_bytes(wire, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def bodies(message: EmailMessage) -> tuple[str, str]:
    """(text, html), with the wire's CRLF line ends read back as newlines."""
    text_part = message.get_body(("plain",))
    html_part = message.get_body(("html",))
    assert text_part is not None and html_part is not None
    return (
        text_part.get_content().replace("\r\n", "\n"),
        html_part.get_content().replace("\r\n", "\n"),
    )


def attachments(message: EmailMessage) -> list[EmailMessage]:
    return list(message.iter_attachments())  # type: ignore[arg-type]


# --- avec accusé de réception ---------------------------------------------------------------


def test_with_ar_mail_carries_the_link_and_the_ar_notice_but_not_the_content():
    content = replace(REJECTION, send_mode=SendMode.WITH_AR)
    message = received(content)
    text, html = bodies(message)

    for part in (text, html):
        assert "https://messagerie.example/m/Tk3n-42" in part
        assert "accusé de réception daté et horodaté" in part
        assert "2 pièces jointes" in part
        assert "ne le transférez pas" in part
        assert "Votre offre pour le lot n°2" in part
        assert "Courrier de rejet" in part
        assert "Nous avons le regret" not in part
        assert "Offre classée 3e sur 5" not in part
        assert "rapport-analyse.pdf" not in part
    assert '<a href="https://messagerie.example/m/Tk3n-42"' in html
    assert attachments(message) == []
    assert message.get_content_type() == "multipart/alternative"


def test_with_ar_preview_without_a_link_shows_a_placeholder():
    content = replace(REJECTION, send_mode=SendMode.WITH_AR, attachments=())
    text, html = render_parts(content, replace(RECIPIENT, link=None))
    assert "[lien personnel créé à l'envoi]" in text
    assert "[lien personnel créé à l&#39;envoi]" in html
    assert "<a href" not in html
    assert "pièce jointe" not in text


def test_with_ar_reply_goes_through_the_personal_link():
    deadline = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    content = replace(
        REJECTION, send_mode=SendMode.WITH_AR, reply_allowed=True, reply_deadline=deadline
    )
    text, _ = render_parts(content, RECIPIENT)
    assert (
        "Vous pouvez répondre à ce message jusqu'au 02/03/2026 17:00 en suivant le lien personnel."
        in text
    )


# --- simple ---------------------------------------------------------------------------------


def test_simple_mail_carries_body_mentions_and_attachment_list():
    text, html = bodies(received(REJECTION))

    assert "Nous avons le regret de vous informer\nque votre offre" in text
    assert "Motifs du rejet : Offre classée 3e sur 5" in text
    assert "- rapport-analyse.pdf (" in text
    assert "- annexe.txt (2 Ko, non analysé par l'antivirus)" in text
    assert f"rapport-analyse.pdf ({len(PDF_BYTES)} octets)" in text
    assert '<p style="margin:0 0 16px;">Nous avons le regret de vous informer<br>' in html
    assert "<strong>Motifs du rejet</strong> : Offre classée 3e sur 5" in html
    assert "annexe.txt (2 Ko, non analysé par l&#39;antivirus)" in html
    assert "accusé de réception" not in text
    assert "https://messagerie.example/m/" not in text


def test_simple_mail_attachments_round_trip_byte_for_byte():
    parts = attachments(received(REJECTION))
    assert [part.get_filename() for part in parts] == ["rapport-analyse.pdf", "annexe.txt"]
    assert [part.get_content_type() for part in parts] == ["application/pdf", "text/plain"]
    assert parts[0].get_payload(decode=True) == PDF_BYTES
    assert parts[1].get_payload(decode=True) == b"annexe\n"


def test_preview_attachments_without_data_are_listed_not_attached():
    preview = replace(
        REJECTION, attachments=tuple(replace(a, data=None) for a in REJECTION.attachments)
    )
    message = received(preview)
    assert attachments(message) == []
    assert "- annexe.txt (2 Ko, non analysé par l'antivirus)" in bodies(message)[0]


def test_an_infected_attachment_is_never_sent():
    infected = replace(REJECTION.attachments[0], antivirus=AntivirusVerdict.INFECTED)
    with pytest.raises(ValueError, match="infectée"):
        render_email(replace(REJECTION, attachments=(infected,)), RECIPIENT)


def test_html_escapes_what_the_buyer_typed():
    content = replace(
        REJECTION,
        body='Voir <script>alert("x")</script> & la suite',
        mentions=(("Motif <b>", "prix < 10 €"),),
    )
    text, html = bodies(received(content))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; la suite" in html
    assert "&lt;b&gt;" in html and "prix &lt; 10 €" in html
    assert 'Voir <script>alert("x")</script> & la suite' in text


def test_html_is_a_french_utf8_document():
    _, html = render_parts(REJECTION, RECIPIENT)
    assert html.startswith('<!DOCTYPE html>\n<html lang="fr">')
    assert '<meta charset="utf-8">' in html
    assert html.rstrip().endswith("</html>")


# --- reply information and contextual block -------------------------------------------------


def test_reply_information_in_simple_mode():
    text, _ = render_parts(REJECTION, RECIPIENT)
    assert "Ce message n'appelle pas de réponse par ce canal." in text

    allowed = replace(REJECTION, reply_allowed=True)
    text, _ = render_parts(allowed, RECIPIENT)
    assert "Vous pouvez répondre à ce message en répondant à ce courriel." in text

    summer = replace(allowed, reply_deadline=datetime(2026, 7, 1, 10, 0, tzinfo=UTC))
    text, html = render_parts(summer, RECIPIENT)
    assert "jusqu'au 01/07/2026 12:00 en répondant à ce courriel." in text
    assert "jusqu&#39;au 01/07/2026 12:00" in html


@pytest.mark.parametrize("mode", [SendMode.SIMPLE, SendMode.WITH_AR])
def test_contextual_block_ends_both_parts_with_paris_time(mode):
    text, html = bodies(received(replace(REJECTION, send_mode=mode)))
    block = text[text.index(CONTEXT_HEADING) :]
    assert block.splitlines()[1:] == [
        "Référence | Intitulé : 2026-AO-012 | Réfection de la RD 83",
        "Objet : Travaux de voirie & signalisation",
        "Date et heure limite de remise des plis : 14/02/2026 12:00",
        "Organisme | Entité d'achat : Collectivité européenne d'Alsace | Direction des routes",
    ]
    assert CONTEXT_HEADING in html
    assert "14/02/2026 12:00</td>" in html
    assert "Travaux de voirie &amp; signalisation</td>" in html
    assert html.index("Ce message n&#39;appelle pas") < html.index(CONTEXT_HEADING)


def test_contextual_block_without_bid_deadline():
    context = replace(CONTEXT, bid_deadline=None)
    assert context.lines()[2] == ("Date et heure limite de remise des plis", "non renseignée")


# --- headers --------------------------------------------------------------------------------


def test_headers_as_the_recipient_reads_them():
    content = replace(REJECTION, subject="Réponse à votre question", reply_allowed=True)
    message = received(content)
    assert message["Subject"] == "Réponse à votre question"
    assert message["From"].addresses[0].display_name == "Collectivité européenne d'Alsace"
    assert message["From"].addresses[0].addr_spec == "achats@alsace.example"
    assert message["To"].addresses[0].display_name == "BTP Rhin"
    assert message["To"].addresses[0].addr_spec == "contact@btp-rhin.example"
    assert message["Message-ID"] == "<msg-17.rcpt-3@messagerie.example>"
    assert message["Reply-To"] == "reponse+17.3@messagerie.example"
    assert message["Date"].datetime.tzinfo is not None


def test_reply_to_only_when_replies_are_allowed():
    assert received(REJECTION)["Reply-To"] is None
    bare = MailRecipient(email="contact@btp-rhin.example")
    message = received(replace(REJECTION, reply_allowed=True), bare)
    assert message["Reply-To"] is None
    assert message["Message-ID"] is None
    assert message["To"] == "contact@btp-rhin.example"


@pytest.mark.parametrize("subject", ["Objet\nBcc: victime@example.org", "Objet\r"])
def test_subject_with_a_line_break_is_refused(subject):
    with pytest.raises(ValueError):
        render_email(replace(REJECTION, subject=subject), RECIPIENT)
    with pytest.raises(ValueError):
        render_parts(replace(REJECTION, subject=subject), RECIPIENT)


def test_preview_parts_are_exactly_the_mail_bodies():
    for mode in SendMode:
        content = replace(REJECTION, send_mode=mode, body="Été\r\nà Strasbourg\n\n\n\nFin")
        preview = render_parts(content, RECIPIENT)
        assert bodies(render_email(content, RECIPIENT)) == preview
        assert bodies(received(content)) == preview
    simple = replace(REJECTION, body="Été\r\nà Strasbourg\n\n\n\nFin")
    simple_text, _ = render_parts(simple, RECIPIENT)
    assert simple_text.startswith("Été\nà Strasbourg\n\nFin\n")


def test_each_recipient_of_one_message_gets_only_their_own_link_and_headers():
    content = replace(REJECTION, send_mode=SendMode.WITH_AR, reply_allowed=True)
    other = recipient_of_17(4, "offres@menuiserie-alsace.example", None, "Zz9-77")
    first, second = received(content), received(content, other)  # the same message, cached

    assert (first["To"], second["To"]) == (
        "BTP Rhin <contact@btp-rhin.example>",
        "offres@menuiserie-alsace.example",
    )
    assert second["Message-ID"] == "<msg-17.rcpt-4@messagerie.example>"
    assert second["Reply-To"] == "reponse+17.4@messagerie.example"
    for part in bodies(second):
        assert "Zz9-77" in part and "Tk3n-42" not in part
    for part in bodies(first):
        assert "Tk3n-42" in part and "Zz9-77" not in part
    assert first["Subject"] == second["Subject"] == REJECTION.subject
