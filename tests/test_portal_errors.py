"""The recipients' web page when something goes wrong: one size limit, written one way
everywhere; a reply text too long given back whole; a form sent three times kept once; a
documents folder that cannot be written; French error pages with the security headers; no
address built from the request's Host header.

Over HTTP (urllib, and http.client for requests sent exactly as written) and in a real headless
Chromium, against uvicorn on 127.0.0.1 and a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from messagerie.letters.intake.files import IntakeOptions, check_size
from messagerie.letters.portal.app import MAX_TEXT, create_portal
from messagerie.models.errors import Refusal
from messagerie.models.formatting import count
from messagerie.models.store.enums import EventKind
from messagerie.models.store.tables import Attachment, Document, Recipient, Reply, table_of
from messagerie.tui.embedded import free_port
from messagerie.tui.settings import Settings
from tests.helpers.cli import ROOT
from tests.helpers.messages import A, sent_message
from tests.helpers.portal import (
    events_of,
    fetch,
    form_fields,
    multipart,
    post_reply,
    raw,
    sent_now,
    shown,
    take_notice,
)
from tests.helpers.web import Served, press_the_button

pytest_plugins = ["tests.helpers.web"]  # the fixtures clock, portal, browser and page

pytestmark = [
    pytest.mark.services,
    pytest.mark.xdist_group("test_portal_errors"),
]  # uvicorn, Chromium, clamd

NOT_SAVED = (
    "Le service ne peut pas enregistrer votre réponse pour le moment ; votre texte est "
    "conservé ci-dessous, réessayez plus tard."
)
CONFIRMED = "Votre réponse a bien été transmise à l'acheteur."
ENGLISH = ("Internal Server Error", "Bad Request", "Method Not Allowed", "exceeded", "boundary")


def replies_of(store, email: str) -> list[str]:
    reply, recipient = table_of(Reply), table_of(Recipient)
    with store.engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(reply.c.body)
                .join(recipient)
                .where(recipient.c.email == email)
                .order_by(reply.c.id)
            ).scalars()
        )


def r_events(store, email: str) -> int:
    return [kind for kind, *_ in events_of(store, email)].count(EventKind.REPLIED)


def assert_secured(headers) -> None:
    """The headers every answer of the page carries, errors included."""
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"


def readme_row(setting: str) -> str:
    (row,) = [
        line
        for line in (ROOT / "README.md").read_text().splitlines()
        if line.startswith(f"| `{setting}`")
    ]
    return row


# --- One size limit --------------------------------------------------------------------------


async def test_the_size_limit_reads_the_same_on_the_page_in_the_errors_and_the_readme(store, clock):
    """MESSAGERIE_ATTACHMENT_MAX_MB as configured by default: « 20 Mo » in the page's form, in
    the refusal of a file too big (the page's and the message form's), in the page of a reply
    too big, and in the README's row of the setting."""
    default = Settings.model_fields["attachment_max_mb"].default
    options = IntakeOptions.from_settings(os.environ["MESSAGERIE_TEST_CLAMD"], default)
    limit = options.limit_text
    assert limit == "20 Mo"
    row = readme_row("MESSAGERIE_ATTACHMENT_MAX_MB")
    assert f"| `{default:g}` |" in row and f"« {limit} »" in row
    over = options.max_bytes + options.max_bytes // 40  # 20,5 Mo
    with pytest.raises(Refusal) as refused:  # what the message form says of such a file
        check_size("plan.pdf", over, options)
    assert str(refused.value).endswith(f"la limite est de {limit} par pièce jointe.")
    tokens = await sent_message(store)
    with Served(create_portal(store, options, clock=clock), free_port()) as served:
        url = f"{served.url}/m/{tokens[A]}"
        page = shown(take_notice(url)[2])
        assert f"Fichiers joints (au plus {limit} en tout, analysés par l'antivirus)" in page
        fields = form_fields(page) | {"texte": "Notre plan."}
        status, _, body = post_reply(f"{url}/reponse", fields, [("plan.pdf", b"0" * over)])
        assert status == 422
        assert f"« plan.pdf » pèse 20,5 Mo : la limite est de {limit} par pièce jointe" in shown(
            body
        )
        status, _, body = post_reply(f"{url}/reponse", fields, [("plans.zip", b"0" * 2 * over)])
        assert status == 413
        assert f"les fichiers joints peuvent peser au plus {limit} en tout" in shown(body)
    assert replies_of(store, A) == []


# --- A reply text too long -------------------------------------------------------------------


@pytest.mark.parametrize(
    "length",
    [30_000, 100_000],  # over the form's 20 000 characters; over python-multipart's 78 KB too
)
async def test_a_reply_text_too_long_comes_back_whole_with_a_french_reason(store, portal, length):
    tokens = await sent_message(store)
    url = f"{portal}/m/{tokens[A]}"
    fields = form_fields(take_notice(url)[2].decode())
    typed = ("Notre mémoire technique, point par point. " * (length // 40 + 1))[:length]
    status, headers, body = post_reply(
        f"{url}/reponse", fields | {"texte": typed}, [("memoire.pdf", b"%PDF-1.4 memoire")]
    )
    page = shown(body)
    assert status == 422
    assert (
        f'<p class="problem" role="alert">Votre réponse compte {count(length)} caractères : '
        f"la limite est de {count(MAX_TEXT)}."
    ) in page
    assert f">{typed}</textarea>" in page  # all of it, nothing cut and sent
    assert_secured(headers)
    assert replies_of(store, A) == [] and r_events(store, A) == 0


async def test_too_many_files_come_back_with_the_text(store, portal):
    """Eleven files (the form takes ten): the reason in French and the text kept, where
    python-multipart's own limit answered a bare English 400."""
    tokens = await sent_message(store)
    url = f"{portal}/m/{tokens[A]}"
    fields = form_fields(take_notice(url)[2].decode()) | {"texte": "Nos onze pièces."}
    files = [(f"piece-{n}.pdf", b"%PDF-1.4 piece") for n in range(11)]
    status, _, body = post_reply(f"{url}/reponse", fields, files)
    assert status == 422 and "Joignez au plus 10 fichiers à une réponse." in shown(body)
    assert ">Nos onze pièces.</textarea>" in shown(body)
    assert replies_of(store, A) == []


# --- A form sent twice -----------------------------------------------------------------------


async def test_a_form_sent_three_times_records_one_reply_and_one_r(store, portal):
    """A double click (here three identical POSTs at once) shows the same confirmation each
    time and keeps one reply, one R; a new form (the page shown again) is a new reply."""
    tokens = await sent_message(store)
    url = f"{portal}/m/{tokens[A]}"
    fields = form_fields(take_notice(url)[2].decode())
    assert set(fields) == {"cle", "envoi"}
    sent = fields | {"texte": "Voici notre attestation."}
    files = [("attestation.pdf", b"%PDF-1.4 assurance")]
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: post_reply(f"{url}/reponse", sent, files), range(3)))
    for status, _, body in answers:
        assert status == 200 and CONFIRMED in shown(body)
    status, _, body = post_reply(f"{url}/reponse", sent, files)  # the browser's "resend"
    assert status == 200 and CONFIRMED in shown(body)
    assert replies_of(store, A) == ["Voici notre attestation."]
    assert r_events(store, A) == 1
    again = form_fields(fetch(url)[2].decode())
    assert again["envoi"] != fields["envoi"]
    status, _, body = post_reply(f"{url}/reponse", again | {"texte": "Un complément."})
    assert status == 200 and CONFIRMED in shown(body)
    assert replies_of(store, A) == ["Voici notre attestation.", "Un complément."]


# --- A documents folder that cannot be written -----------------------------------------------


async def test_a_documents_folder_that_cannot_be_written_keeps_the_text_and_says_so(
    store, portal, tmp_path
):
    """The documents folder replaced by a regular file (a real OSError on every write, even
    as root, where chmod stops nothing): a French 503 with the security headers and the text
    given back; nothing kept; once the folder is back, the same form goes through."""
    tokens = await sent_message(store)
    url = f"{portal}/m/{tokens[A]}"
    fields = form_fields(take_notice(url)[2].decode())
    typed = "Notre attestation <signée> & datée."
    files = [("attestation.pdf", b"%PDF-1.4 attestation signee")]
    documents, aside = store.documents_dir, tmp_path / "documents-de-côté"
    documents.mkdir(parents=True, exist_ok=True)
    documents.rename(aside)
    documents.write_bytes(b"")
    try:
        status, headers, body = post_reply(f"{url}/reponse", fields | {"texte": typed}, files)
    finally:
        documents.unlink()
        aside.rename(documents)
    page = shown(body)
    assert status == 503
    assert f'<p class="problem" role="alert">{NOT_SAVED}</p>' in page
    assert f">{typed}</textarea>" in page
    assert_secured(headers)
    assert replies_of(store, A) == [] and r_events(store, A) == 0
    status, _, body = post_reply(f"{url}/reponse", fields | {"texte": typed}, files)
    assert status == 200 and CONFIRMED in shown(body)
    assert replies_of(store, A) == [typed] and r_events(store, A) == 1


# --- Error pages -----------------------------------------------------------------------------


async def test_every_error_is_french_and_carries_the_security_headers(store, portal):
    """400 (a form that cannot be read), 404, 405, 411, 413 and 500 (an attachment altered on
    disk): each in French, without English from the frameworks, with the security headers."""
    tokens = await sent_message(store)
    url = f"{portal}/m/{tokens[A]}"
    page = take_notice(url)[2].decode()
    (number,) = re.findall(r"/pj/(\d+)", page)
    altered = _alter_the_file_of(store, int(number))
    no_boundary = {"Content-Type": "multipart/form-data"}
    answers = {
        "400": fetch(f"{url}/reponse", b"--x\r\n\r\nrien", no_boundary),
        "404": fetch(f"{portal}/inconnu"),
        "405": fetch(url, b"", method="PUT"),
        "411": raw(f"{url}/reponse", "POST", headers={"Transfer-Encoding": "chunked"}),
        "413": fetch(url, b"cle=" + b"0" * 10_000, {"Content-Type": "multipart/form-data"}),
        "500": fetch(f"{url}/pj/{number}"),
    }
    expected = {
        "400": (400, "Votre demande n'a pas pu être lue."),
        "404": (404, "Page introuvable."),
        "405": (404, "Page introuvable."),
        "411": (411, "Votre navigateur n'a pas indiqué la taille de l'envoi."),
        "413": (413, "Votre envoi est trop volumineux."),
        "500": (500, "Une erreur est survenue de notre côté. Réessayez plus tard."),
    }
    for case, (status, headers, body) in answers.items():
        text = shown(body)
        assert status == expected[case][0], case
        assert expected[case][1] in text, case
        assert not [word for word in ENGLISH if word in text], case
        assert_secured({name.title(): value for name, value in dict(headers).items()})
    assert altered not in shown(answers["500"][2])  # nothing of the cause on the page


def _alter_the_file_of(store, attachment_id: int) -> str:
    """Change one byte of the stored file of an attachment; the file's path."""
    attachment, document = table_of(Attachment), table_of(Document)
    with store.engine.connect() as connection:
        sha256 = connection.execute(
            sa.select(document.c.sha256)
            .join(attachment, attachment.c.document_id == document.c.id)
            .where(attachment.c.id == attachment_id)
        ).scalar_one()
    path = store.blobs.path(sha256)
    path.chmod(0o600)
    path.write_bytes(path.read_bytes() + b" ")
    return str(path)


# --- No address from the Host header ---------------------------------------------------------


async def test_no_answer_builds_an_address_from_a_forged_host_header(store, portal):
    """With `Host: piege.example`: a path with a trailing slash is a 404 (not Starlette's
    redirect to http://piege.example/…); the button and the reply redirect to relative paths."""
    tokens = await sent_message(store)
    url, forged = f"{portal}/m/{tokens[A]}", {"Host": "piege.example"}
    answers = [raw(f"{url}/", headers=forged), raw(f"{portal}/portail.css/", headers=forged)]
    for status, headers, _ in answers:
        assert status == 404 and "location" not in {name.lower() for name in headers}
    landing = raw(url, headers=forged)[2].decode()
    pressed = raw(
        url,
        "POST",
        f"cle={form_fields(landing)['cle']}".encode(),
        forged | {"Content-Type": "application/x-www-form-urlencoded", "Cookie": "messagerie_vu=1"},
    )
    assert (pressed[0], pressed[1]["location"]) == (303, f"/m/{tokens[A]}")
    body, content_type = multipart(
        form_fields(raw(url, headers=forged)[2].decode()) | {"texte": "Réponse."}
    )
    replied = raw(f"{url}/reponse", "POST", body, forged | {"Content-Type": content_type})
    assert (replied[0], replied[1]["location"]) == (303, f"/m/{tokens[A]}?envoye=1")
    for _, headers, _ in [*answers, pressed, replied]:
        assert not [value for value in headers.values() if "piege" in value]


# --- In a real browser (after the async tests: Playwright's loop owns the thread) ---------


def test_browser_a_reply_too_long_stays_in_the_form(store, portal, page):
    """In Chromium: the company pastes a long text and sends it; the page says why in the
    alert and the whole text is still in the form, ready to be shortened."""
    tokens = sent_now(store)
    press_the_button(page, f"{portal}/m/{tokens[A]}")
    typed = "\n".join(f"Ligne {n} de notre réponse détaillée." for n in range(1_000))
    assert len(typed) > MAX_TEXT
    page.get_by_label("Votre réponse").fill(typed)
    page.get_by_role("button", name="Envoyer la réponse").click()
    assert f"la limite est de {count(MAX_TEXT)}" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Votre réponse").input_value() == typed
    assert replies_of(store, A) == []
