"""The recipients' web page: over HTTP (urllib) and in a real headless Chromium (Playwright).

Each opening, reply and download goes through uvicorn on 127.0.0.1 to a real store; the
only fake is the portal's clock, moved past the reply deadline."""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
import sqlalchemy as sa

from messagerie.letters.intake.antivirus import parse_clamd_address
from messagerie.letters.intake.files import IntakeOptions
from messagerie.letters.portal.app import create_portal
from messagerie.models.store.enums import (
    EventKind,
    RecipientStatus,
    ReplyChannel,
    ReplyDisposition,
    SendMode,
)
from messagerie.models.store.tables import (
    Attachment,
    Recipient,
    Reply,
    ReplyAttachment,
    table_of,
)
from messagerie.tui.embedded import free_port
from tests.helpers import portal as http_page
from tests.helpers.antivirus import EICAR, intake
from tests.helpers.messages import DEADLINE, A, B, row_of, sent_message
from tests.helpers.reports import files_of
from tests.helpers.web import Served, press_the_button

recipient, reply = table_of(Recipient), table_of(Reply)

pytest_plugins = ["tests.helpers.web"]  # the fixtures clock, portal, browser and page

pytestmark = [
    pytest.mark.services,
    pytest.mark.xdist_group("test_portal"),
]  # uvicorn, Chromium, aiosmtpd, clamd, `messagerie portal`


def replies_of(store, email: str):
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(reply.c.body, reply.c.channel, reply.c.disposition, reply.c.id)
            .join(recipient)
            .where(recipient.c.email == email)
        ).all()


# --- over HTTP -------------------------------------------------------------------------------


async def test_first_opening_is_the_ar_later_ones_are_logged_not_redated(store, portal):
    tokens = await sent_message(store)
    url = f"{portal}/m/{tokens[A]}"
    status, headers, body = http_page.take_notice(url, headers={"User-Agent": "Navigateur-1"})
    assert status == 200
    status, headers, body = http_page.fetch(url, headers={"User-Agent": "Navigateur-2"})
    assert status == 200
    page = http_page.shown(body)
    assert "Demande de complément" in page and "attestation d'assurance" in page
    assert "attestation-modèle.pdf" in page and "Consultation concernée" in page
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"
    opened = [
        e for e in http_page.events_of(store, A) if e[0] in (EventKind.READ, EventKind.OPENED_AGAIN)
    ]
    assert opened == [
        (EventKind.READ, "127.0.0.1", "Navigateur-1"),
        (EventKind.OPENED_AGAIN, "127.0.0.1", "Navigateur-2"),
    ]
    first = row_of(store, A)
    assert first.status == RecipientStatus.READ and first.read_at is not None
    assert row_of(store, B).read_at is None  # B has not opened anything


@pytest.mark.parametrize(
    "path",
    ["/m/inconnu", "/m/" + "A" * 32, "/m/../../etc/passwd", "/", "/m/", "/documents/"],
)
async def test_unknown_or_malformed_paths_get_a_plain_404(store, portal, path):
    await sent_message(store)
    status, headers, body = http_page.fetch(portal + path)
    assert (status, http_page.shown(body)) == (404, "Page introuvable.")
    assert headers["X-Frame-Options"] == "DENY"


async def test_a_recipient_reaches_only_their_own_attachments(store, portal):
    tokens = await sent_message(store)
    page = http_page.take_notice(f"{portal}/m/{tokens[A]}")[2].decode()
    (number,) = re.findall(r"/pj/(\d+)", page)
    status, headers, data = http_page.fetch(f"{portal}/m/{tokens[A]}/pj/{number}")
    assert (status, data) == (200, b"%PDF-1.4 modele")
    assert "attestation-mod%C3%A8le.pdf" in headers["Content-Disposition"]
    with store.engine.connect() as connection:
        others = connection.execute(sa.select(table_of(Attachment).c.id)).scalars().all()
    for other in set(others) - {int(number)}:  # attachments of the demo's other messages
        assert http_page.fetch(f"{portal}/m/{tokens[A]}/pj/{other}")[0] == 404
    assert http_page.fetch(f"{portal}/m/{tokens[B]}/pj/{int(number) + 1000}")[0] == 404


async def test_a_simple_mail_has_no_page(store, portal):
    tokens = await sent_message(store, mode=SendMode.SIMPLE)
    assert http_page.fetch(f"{portal}/m/{tokens[A]}")[0] == 404
    assert http_page.events_of(store, A)[-1][0] != EventKind.READ


async def test_reply_over_http_gives_r_and_keeps_scanned_files(store, portal):
    tokens = await sent_message(store)
    page = http_page.take_notice(f"{portal}/m/{tokens[A]}")[2].decode()
    status, _, body = http_page.post_reply(
        f"{portal}/m/{tokens[A]}/reponse",
        http_page.reply_form(page) | {"texte": "Voici notre attestation."},
        [("attestation.pdf", b"%PDF-1.4 assurance")],
    )
    assert status == 200 and "Votre réponse a bien été transmise" in http_page.shown(body)
    ((text, channel, disposition, reply_id),) = replies_of(store, A)
    assert (text, channel, disposition) == (
        "Voici notre attestation.",
        ReplyChannel.WEB,
        ReplyDisposition.ON_TIME,
    )
    assert row_of(store, A).status == RecipientStatus.REPLY_UNREAD
    with store.engine.connect() as connection:
        kept = connection.execute(
            sa.select(table_of(ReplyAttachment).c.document_id).where(
                table_of(ReplyAttachment).c.reply_id == reply_id
            )
        ).all()
    assert len(kept) == 1


async def test_a_forged_or_late_or_unallowed_reply_is_refused_and_not_kept(store, portal, clock):
    tokens = await sent_message(store)
    url = f"{portal}/m/{tokens[A]}/reponse"
    assert http_page.post_reply(url, {"cle": "0" * 64, "texte": "Forgé"})[0] == 403
    key = http_page.reply_form(http_page.take_notice(f"{portal}/m/{tokens[A]}")[2].decode())
    other = f"{portal}/m/{tokens[B]}/reponse"
    assert http_page.post_reply(other, key | {"texte": "Clé d'un autre"})[0] == 403
    clock.now = DEADLINE + timedelta(minutes=1)
    status, _, body = http_page.post_reply(url, key | {"texte": "Trop tard"})
    assert status == 403 and "date limite de réponse est dépassée" in http_page.shown(body)
    assert replies_of(store, A) == [] and replies_of(store, B) == []
    assert "<form" not in http_page.fetch(f"{portal}/m/{tokens[A]}")[2].decode()


async def test_no_form_when_the_message_calls_for_no_reply(store, portal):
    tokens = await sent_message(store, reply_allowed=False)
    page = http_page.shown(http_page.take_notice(f"{portal}/m/{tokens[A]}")[2])
    assert "<form" not in page and "n'appelle pas de réponse" in page
    key = {"cle": re.sub(r"\D", "", "0")}  # no key is ever given out: any POST is refused
    assert http_page.post_reply(f"{portal}/m/{tokens[A]}/reponse", key | {"texte": "?"})[0] == 403
    assert replies_of(store, A) == []


async def test_bad_replies_say_what_to_fix_and_keep_the_text(store, clock):
    small = intake(max_bytes=1_000)
    tokens = await sent_message(store)
    with Served(create_portal(store, small, clock=clock), free_port()) as served:
        url = f"{served.url}/m/{tokens[A]}"
        key = http_page.reply_form(http_page.take_notice(url)[2].decode())
        status, _, body = http_page.post_reply(f"{url}/reponse", key | {"texte": "  "})
        assert status == 422 and "Écrivez votre réponse" in http_page.shown(body)
        status, _, body = http_page.post_reply(
            f"{url}/reponse", key | {"texte": "Avec virus"}, [("virus.com", EICAR)]
        )
        assert status == 422 and "Avec virus</textarea>" in http_page.shown(body)
        assert "infect" in http_page.shown(body).lower()
        status, _, body = http_page.post_reply(
            f"{url}/reponse", key | {"texte": "Trop gros"}, [("gros.bin", b"x" * 5_000)]
        )
        assert status == 422 and "Trop gros</textarea>" in http_page.shown(body)
        two = [("devis.txt", b"d" * 600), ("annexe.txt", b"a" * 600)]  # each under, not both
        status, _, body = http_page.post_reply(f"{url}/reponse", key | {"texte": "Deux"}, two)
        assert status == 422 and "Deux</textarea>" in http_page.shown(body)
        assert "Vos fichiers pèsent 1,2 Ko en tout : la limite est de" in http_page.shown(body)
        status, _, body = http_page.post_reply(
            f"{url}/reponse", key | {"texte": "Énorme"}, [("enorme.bin", b"x" * 2_100_000)]
        )
        assert status == 413 and "Votre envoi est trop volumineux" in http_page.shown(body)
    assert replies_of(store, A) == []


async def test_a_file_name_from_the_page_loses_what_disguises_it(store, portal):
    """A name with a bidi override (« facture\u202efdp.exe » shows as « factureexe.pdf »), a C1
    control or invisible marks was kept as the page received it, where e-mail cleaned it:
    both channels now clean it alike."""
    tokens = await sent_message(store)
    url = f"{portal}/m/{tokens[A]}"
    key = http_page.reply_form(http_page.take_notice(url)[2].decode())
    files = [
        ("facture\u202efdp.exe", b"MZ binaire"),
        ("nom\x9b31mrouge.txt", b"texte"),
        ("devis\u200b\u2067.txt", b"devis"),
    ]
    status, _, _ = http_page.post_reply(f"{url}/reponse", key | {"texte": "Nos pièces."}, files)
    assert status == 200
    ((*_, reply_id),) = replies_of(store, A)
    names = [name for name, *_ in files_of(store, reply_id)]
    assert names == ["facturefdp.exe", "nom31mrouge.txt", "devis.txt"]


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("Nous retirons\x1b]0;PWNED\x07 notre offre.", "un caractère de contrôle (U+001B)"),
        ("Facture \u202efdp.exe ci-jointe", "un caractère qui inverse le sens du texte (U+202E)"),
    ],
)
async def test_a_reply_typed_with_control_characters_is_refused_and_kept(
    store, portal, typed, problem
):
    """ARCHITECTURE: text from outside is refused when it holds control characters; the page
    stored them byte for byte and showed them back raw."""
    tokens = await sent_message(store)
    url = f"{portal}/m/{tokens[A]}"
    key = http_page.reply_form(http_page.take_notice(url)[2].decode())
    status, _, body = http_page.post_reply(f"{url}/reponse", key | {"texte": typed})
    assert status == 422
    assert f"Votre réponse contient {problem} : retirez-le." in http_page.shown(body)
    assert "notre offre.</textarea>" in http_page.shown(body) or "ci-jointe</textarea>" in (
        http_page.shown(body)
    )
    assert replies_of(store, A) == []
    lines = "Ligne 1\r\nLigne 2\tfin"  # a browser's text area sends CRLF; tabs are text
    assert http_page.post_reply(f"{url}/reponse", key | {"texte": lines})[0] == 200
    assert [body for body, *_ in replies_of(store, A)] == [lines]


async def test_r_keeps_the_date_of_the_first_reply(store, portal, clock):
    """A second reply moved R's date to it, where L keeps its first: the tracking, the CSV
    and the demo (whose R is its first reply) disagreed."""
    tokens = await sent_message(store)
    url = f"{portal}/m/{tokens[A]}"
    first = DEADLINE - timedelta(hours=5)
    for at, text in ((first, "Première réponse."), (first + timedelta(hours=2), "Complément.")):
        clock.now = at
        form = http_page.form_fields(http_page.take_notice(url)[2].decode())
        assert http_page.post_reply(f"{url}/reponse", form | {"texte": text})[0] == 200
    assert len(replies_of(store, A)) == 2
    assert row_of(store, A).replied_at == first


async def test_a_form_key_already_used_by_another_recipient_keeps_the_reply(store, portal):
    """A's form key sent again with B's page (the same key in two forms): a bare 500, and B's
    reply lost. It is kept as B's, under a key of its own."""
    tokens = await sent_message(store)
    page_a, page_b = (f"{portal}/m/{tokens[who]}" for who in (A, B))
    form_a = http_page.form_fields(http_page.take_notice(page_a)[2].decode())
    assert http_page.post_reply(f"{page_a}/reponse", form_a | {"texte": "De A."})[0] == 200
    form_b = http_page.form_fields(http_page.take_notice(page_b)[2].decode())
    sent = form_b | {"envoi": form_a["envoi"], "texte": "De B."}
    assert http_page.post_reply(f"{page_b}/reponse", sent)[0] == 200
    assert [body for body, *_ in replies_of(store, B)] == ["De B."]
    assert [body for body, *_ in replies_of(store, A)] == ["De A."]


# --- in a real browser -----------------------------------------------------------------------


def test_browser_open_gives_one_l_and_a_reply_with_a_file_gives_r(store, portal, page, tmp_path):
    tokens = http_page.sent_now(store)
    press_the_button(page, f"{portal}/m/{tokens[A]}")
    assert page.title().startswith("Demande de complément")
    page.reload()
    kinds = [kind for kind, *_ in http_page.events_of(store, A)]
    assert kinds.count(EventKind.READ) == 1 and kinds.count(EventKind.OPENED_AGAIN) == 1
    (agent,) = [agent for kind, _, agent in http_page.events_of(store, A) if kind is EventKind.READ]
    assert "Chrome" in agent

    with page.expect_download() as download:
        page.get_by_role("link", name="attestation-modèle.pdf").click()
    assert download.value.suggested_filename == "attestation-modèle.pdf"

    upload = tmp_path / "kbis.pdf"
    upload.write_bytes(b"%PDF-1.4 extrait kbis")
    page.get_by_label("Votre réponse").fill("Bonjour,\nvoici notre Kbis.")
    page.get_by_label("Fichiers joints").set_input_files(upload)
    page.get_by_role("button", name="Envoyer la réponse").click()
    assert page.get_by_role("status").inner_text() == (
        "Votre réponse a bien été transmise à l'acheteur."
    )
    assert "voici notre Kbis." in page.locator(".reply").inner_text()
    ((text, channel, disposition, _),) = replies_of(store, A)
    assert (text, channel) == ("Bonjour,\r\nvoici notre Kbis.", ReplyChannel.WEB)
    assert disposition is ReplyDisposition.ON_TIME
    assert row_of(store, A).status == RecipientStatus.REPLY_UNREAD
    assert EventKind.REPLIED in [kind for kind, *_ in http_page.events_of(store, A)]


def test_browser_after_the_deadline_shows_no_form(store, portal, page, clock):
    tokens = http_page.sent_now(store)
    clock.now = DEADLINE + timedelta(seconds=1)
    press_the_button(page, f"{portal}/m/{tokens[A]}")
    assert page.locator("form").count() == 0
    assert "il n'est plus possible de répondre" in page.locator(".closed").inner_text()


def test_browser_another_recipients_attachment_is_a_404(store, portal, page):
    tokens = http_page.sent_now(store)
    press_the_button(page, f"{portal}/m/{tokens[A]}")
    href = page.get_by_role("link", name="attestation-modèle.pdf").get_attribute("href")
    answer = page.goto(portal + href.replace(tokens[A], tokens[B][:-1] + "x"))
    assert answer.status == 404 and page.locator("body").inner_text() == "Page introuvable."


def test_the_portal_command_serves_links_and_logs_each_access(tmp_path):
    """`messagerie portal` on a SQLite file: a link opens (L, by its button), an unknown one
    is a 404, and the log names each access without the token."""
    import subprocess
    import sys
    import time

    from messagerie.models.store.database import open_store
    from tests.helpers.cli import ROOT

    url = f"sqlite:///{tmp_path / 'portail.sqlite3'}"
    store = open_store(url, upgrade=True, documents_dir=tmp_path / "documents")
    tokens = http_page.sent_now(store)  # a plain test: Playwright's loop may own this thread
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "messagerie.tui.cli", "portal", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "MESSAGERIE_DB": url, "MESSAGERIE_DATA_DIR": str(tmp_path),
             "MESSAGERIE_CLAMD": "off"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                status = http_page.take_notice(f"http://127.0.0.1:{port}/m/{tokens[A]}")[0]
                break
            except urllib.error.URLError:
                time.sleep(0.1)
        assert status == 200
        assert http_page.fetch(f"http://127.0.0.1:{port}/m/{'Z' * 32}")[0] == 404
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert row_of(store, A).status == RecipientStatus.READ
    assert f"GET /m/{tokens[A][:6]}… 200" in output and "GET /m/ZZZZZZ… 404" in output
    assert f"POST /m/{tokens[A][:6]}… 303" in output
    assert tokens[A] not in output
    store.close()


# --- An antivirus that does not answer: the company is told to retry, the operator why --------

NOT_CHECKED = "Le fichier n'a pas pu être vérifié pour l'instant, réessayez plus tard."
CONFIGURATION_WORDS = ("absent.sock", "unix:", "clamd", "MESSAGERIE", "injoignable", "socket")


def test_an_unreachable_antivirus_keeps_the_reply_and_tells_only_the_operator(tmp_path):
    """`messagerie portal` with MESSAGERIE_CLAMD naming a socket that does not exist: a reply
    with a file is not recorded (no R), the page keeps the typed text and says only to retry
    later; the cause (address, error) is in the service's log on stderr."""
    import subprocess
    import sys
    import time

    from messagerie.models.store.database import open_store
    from tests.helpers.cli import ROOT

    url = f"sqlite:///{tmp_path / 'portail.sqlite3'}"
    store = open_store(url, upgrade=True, documents_dir=tmp_path / "documents")
    tokens = http_page.sent_now(store)  # a plain test: Playwright's loop may own this thread
    absent = tmp_path / "absent.sock"
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "messagerie.tui.cli", "portal", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "MESSAGERIE_DB": url, "MESSAGERIE_DATA_DIR": str(tmp_path),
             "MESSAGERIE_CLAMD": f"unix://{absent}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    page_url = f"http://127.0.0.1:{port}/m/{tokens[A]}"
    try:
        for _ in range(100):
            try:
                status, _, body = http_page.take_notice(page_url)
                break
            except urllib.error.URLError:
                time.sleep(0.1)
        assert status == 200
        key = http_page.reply_form(body.decode())
        typed = "Voici notre attestation <signée> & datée."
        status, _, body = http_page.post_reply(
            f"{page_url}/reponse", key | {"texte": typed}, [("attestation.pdf", b"%PDF-1.4 a")]
        )
        page = http_page.shown(body)
        assert status == 503
        assert f'<p class="problem" role="alert">{NOT_CHECKED}</p>' in page
        assert f">{typed}</textarea>" in page  # what the company typed, to send again
        for word in CONFIGURATION_WORDS:
            assert word not in page
        assert replies_of(store, A) == []
        assert EventKind.REPLIED not in [kind for kind, *_ in http_page.events_of(store, A)]
        # Without a file there is nothing to scan: the reply goes through.
        status, _, body = http_page.post_reply(
            f"{page_url}/reponse", key | {"texte": "Sans pièce."}
        )
        assert status == 200 and "Votre réponse a bien été transmise" in http_page.shown(body)
        assert [text for text, *_ in replies_of(store, A)] == ["Sans pièce."]
        recipient_id = row_of(store, A).id
    finally:
        server.terminate()
        log = server.communicate(timeout=10)[1]
        store.close()
    (line,) = [line for line in log.splitlines() if "antivirus unreachable" in line]
    assert "level=WARNING logger=messagerie.portal" in line
    # uvicorn's own lines too, for the collector that parses them (« INFO:     Uvicorn… »)
    assert all(line.startswith("time=") for line in log.splitlines()), log
    assert 'logger=uvicorn.error message="Uvicorn running on http://127.0.0.1:' in log
    assert f"recipient={recipient_id} clamd=unix://{absent}" in line
    assert line.endswith('error=fichier introuvable"')
    assert tokens[A] not in log


def test_browser_reply_with_a_file_when_the_antivirus_is_down(store, page, tmp_path):
    """In Chromium: the company sees the French sentence in the alert, its text still in the
    form, and nothing about the configuration; nothing is recorded."""
    unreachable = IntakeOptions(parse_clamd_address(f"unix://{tmp_path}/absent.sock"), 2_000_000)
    tokens = http_page.sent_now(store)
    with Served(create_portal(store, unreachable), free_port()) as served:
        press_the_button(page, f"{served.url}/m/{tokens[A]}")
        upload = tmp_path / "kbis.pdf"
        upload.write_bytes(b"%PDF-1.4 extrait kbis")
        page.get_by_label("Votre réponse").fill("Bonjour,\nvoici notre Kbis.")
        page.get_by_label("Fichiers joints").set_input_files(upload)
        page.get_by_role("button", name="Envoyer la réponse").click()
        assert page.get_by_role("alert").inner_text() == NOT_CHECKED
        assert page.get_by_label("Votre réponse").input_value() == "Bonjour,\nvoici notre Kbis."
        text = page.locator("body").inner_text()
        for word in CONFIGURATION_WORDS:
            assert word not in text
    assert replies_of(store, A) == []
    assert EventKind.REPLIED not in [kind for kind, *_ in http_page.events_of(store, A)]
    assert row_of(store, A).status is not RecipientStatus.REPLY_UNREAD
