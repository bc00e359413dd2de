"""A reply e-mailed with only a text/html part (tracker issue 17): measured on main, its raw
HTML was the reply's text, tags and all, shown to the buyer as such. Now the reply's text is
what a reader of the HTML reads (scripts and styles dropped, markup never interpreted, by the
TUI or anyone), and the HTML itself is kept as a file of the reply, « reponse-originale.html »
(the real listener, the tests' clamd, both stores)."""

from __future__ import annotations

import asyncio
import io
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from textual.content import Content

from messagerie.letters.mail.html_text import html_text
from messagerie.models.store.enums import AntivirusVerdict, RecipientStatus, ReplyDisposition
from messagerie.models.store.tables import Document, Reply, ReplyAttachment, table_of
from messagerie.screens.widgets import harmless, literal
from tests.helpers.antivirus import intake
from tests.helpers.examples import examples
from tests.helpers.messages import A, B, queued_message
from tests.helpers.reports import reply_to, status_of
from tests.helpers.smtp import inbound_listener, send_mail, send_out

reply, document, reply_attachment = table_of(Reply), table_of(Document), table_of(ReplyAttachment)

HTML = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Re: complément</title>
<style>p { color: red }</style><script>alert("pris")</script></head>
<body><div dir="ltr"><p>Bonjour,</p><p>Voici notre <b>attestation</b> &lt;b&gt; [/oops]
[@click=app.quit]clic[/] &amp; co.</p><ul><li>Kbis</li><li>URSSAF</li></ul>
<p>Le détail : <a href="https://entreprise.example/pieces">nos pièces</a></p>
<img src="cid:logo" alt="logo">Cordialement,<br>Jean Dupont</div></body></html>"""
TEXT = """Bonjour,

Voici notre attestation <b> [/oops] [@click=app.quit]clic[/] & co.

- Kbis
- URSSAF

Le détail : nos pièces <https://entreprise.example/pieces>

Cordialement,
Jean Dupont"""


def html_reply(to: str, html: str, charset: str = "utf-8") -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = A, to, "Re: Demande de complément"
    mail.set_content(html.encode(charset), "text", "html", cte="quoted-printable")
    mail.set_param("charset", charset)
    return bytes(mail)


def kept(store, recipient_id):
    """The reply of `recipient_id`: its text, its disposition, its files (name, bytes)."""
    with store.engine.connect() as connection:
        (row,) = connection.execute(
            sa.select(reply.c.id, reply.c.body, reply.c.disposition).where(
                reply.c.recipient_id == recipient_id
            )
        ).all()
        files = connection.execute(
            sa.select(document.c.filename, document.c.sha256, document.c.antivirus)
            .join(reply_attachment, reply_attachment.c.document_id == document.c.id)
            .where(reply_attachment.c.reply_id == row.id)
            .order_by(document.c.id)
        ).all()
    shown = [(name, store.blobs.read(sha), verdict) for name, sha, verdict in files]
    return row.body, ReplyDisposition(row.disposition), shown


def as_sent(data: bytes) -> str:
    """The HTML of a kept file, its lines ending as typed (SMTP carried them as CRLF)."""
    return data.decode("utf-8-sig").replace("\r\n", "\n").removesuffix("\n")


@pytest.fixture
def listener(store):
    with inbound_listener(store, intake()) as port:
        yield port


@pytest.mark.services
def test_an_html_only_reply_is_kept_as_text_with_its_html_as_a_file(store, listener):
    rows = asyncio.run(send_out(store, queued_message(store)))
    a, b = rows[A], rows[B]
    assert send_mail(listener, reply_to(a), html_reply(reply_to(a), HTML))[0] == 250
    body, disposition, files = kept(store, a.id)
    assert body == TEXT  # no tag, no script, no style; "&lt;b&gt;" is the text "<b>"
    assert disposition is ReplyDisposition.ON_TIME
    assert status_of(store, a.id) is RecipientStatus.REPLY_UNREAD
    ((name, data, verdict),) = files
    assert (name, verdict) == ("reponse-originale.html", AntivirusVerdict.CLEAN)
    assert data.startswith("\ufeff".encode())  # a browser reads it in the e-mail's charset
    assert as_sent(data) == HTML
    # Latin-1 declared in the e-mail's header only: the text and the file read right.
    latin = HTML.replace('<meta charset="utf-8">', "")
    assert send_mail(listener, reply_to(b), html_reply(reply_to(b), latin, "iso-8859-1"))[0] == 250
    body, _, ((_, data, _),) = kept(store, b.id)
    assert "Le détail : nos pièces" in body
    assert as_sent(data) == latin


@pytest.mark.services
def test_plain_text_wins_over_html_and_an_empty_html_reply_is_empty(store, listener):
    rows = asyncio.run(send_out(store, queued_message(store)))
    a, b = rows[A], rows[B]
    both = EmailMessage()
    both["From"], both["To"], both["Subject"] = A, reply_to(a), "Re: Demande"
    both.set_content("Voici notre attestation.")
    both.add_alternative(HTML, subtype="html")
    assert send_mail(listener, reply_to(a), bytes(both))[0] == 250
    assert kept(store, a.id)[0].strip() == "Voici notre attestation."
    assert kept(store, a.id)[2] == []  # the plain text is the reply: no HTML file
    empty = "<html><head><style>p{}</style></head><body><p> </p><br></body></html>"
    assert send_mail(listener, reply_to(b), html_reply(reply_to(b), empty))[0] == 250
    assert kept(store, b.id) == ("", ReplyDisposition.EMPTY, [])
    assert status_of(store, b.id) is RecipientStatus.SENT  # no R for an empty reply


# --- Any HTML: text, never markup, never an error (Hypothesis) -------------------------------

TAGS = ["p", "div", "b", "i", "a", "span", "li", "ul", "table", "tr", "td", "br", "pre",
        "h1", "blockquote", "font", "img", "head", "body", "html"]  # fmt: skip
HIDDEN = ["script", "style"]
WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéàç", min_size=1, max_size=12)
ATTRIBUTE = st.text(st.characters(blacklist_characters='"&<>', blacklist_categories=("Cs",)),
                    max_size=20)  # fmt: skip


@st.composite
def document_of_words(draw) -> tuple[str, list[str], list[str]]:
    """HTML built of words, tags (with attributes), hidden scripts and styles: the document,
    the words a reader sees, the hidden ones."""
    html, seen, hidden = [], [], []
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["word", "open", "close", "hidden", "entity"]))
        tag = draw(st.sampled_from(TAGS))
        if kind == "word":
            seen.append(draw(WORD))
            html.append(f" {seen[-1]} ")
        elif kind == "open":
            html.append(f'<{tag} title="{draw(ATTRIBUTE)}" href="#x">')
        elif kind == "close":
            html.append(f"</{tag}>")
        elif kind == "hidden":
            secret = "caché" + draw(WORD)
            hidden.append(secret)
            html.append(f"<{draw(st.sampled_from(HIDDEN))}>{secret}</script></style>")
        else:
            seen.append("<b>")
            html.append(" &lt;b&gt; ")
    return "".join(html), seen, hidden


def shown(text: str) -> str:
    """What a terminal shows of the text as the TUI hands it to a widget."""
    console = Console(width=400, file=io.StringIO(), record=True, color_system=None)
    console.print(literal(text))
    return console.export_text()


@settings(max_examples=examples(300), suppress_health_check=[HealthCheck.too_slow])
@given(document_of_words())
def test_any_html_gives_its_words_and_none_of_its_markup(drawn):
    html, seen, hidden = drawn
    text = html_text(html)
    words = [word for word in text.split() if word != "-"]  # "-": a list item's dash
    assert words == [word for piece in seen for word in piece.split()]
    assert not any(secret in text for secret in hidden)
    assert "<" not in text.replace("<b>", "")  # no tag left, whatever its attributes held
    assert Content.from_text(literal(text)).plain == harmless(text)  # and no markup read
    assert shown(text).split() == text.split()


@settings(max_examples=examples(500))
@given(st.text() | st.text(alphabet="<>/!-&;#x[]=\"' abpscriptstyle"))
def test_any_input_gives_text_and_never_an_error(html):
    text = html_text(html)
    assert isinstance(text, str)
    assert not literal(text).spans  # shown as typed: nothing styled, nothing clickable
    assert "\r" not in text
