"""L only by an act of the recipient: a personal link first shows a landing page (who sends
what, when, and the button « Prendre connaissance du message »); only the button gives L and
the AR. Visits, HEAD requests and link scanners (mail gateways, scripts, bursts) never do.

Over HTTP with urllib and the real `curl` binary, and in a real headless Chromium; the page
served by uvicorn on 127.0.0.1 from a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pypdf
import pytest
import sqlalchemy as sa

from messagerie.letters.pdf.ar import render_ar
from messagerie.models.formatting import paris_minutes, paris_seconds
from messagerie.models.messages.ar import OPENED_BY_BUTTON, ArEvent, ar_data, opening_of
from messagerie.models.store.enums import EventKind, RecipientStatus
from messagerie.models.store.tables import Attachment, Event, Message, Recipient, Reply, table_of
from tests.helpers.factories import PARIS
from tests.helpers.messages import A, B, row_of
from tests.helpers.portal import (
    BROWSER,
    events_of,
    fetch,
    post_reply,
    raw,
    reply_form,
    sent_now,
    shown,
    take_notice,
)
from tests.helpers.web import BUTTON

pytestmark = [
    pytest.mark.services,
    pytest.mark.xdist_group("test_portal_landing"),
]  # uvicorn, Chromium, aiosmtpd, clamd, curl

pytest_plugins = ["tests.helpers.web"]  # the fixtures clock, portal, browser and page

ENTITY = "Direction de la commande publique"
CONTENT = "Merci de nous adresser votre attestation d'assurance."
OFFICE = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.12026; Pro)"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
BURST_SIZE = 4  # fetches of one link within a second: a gateway's, not a click's
PRESENCE = (EventKind.SENT, EventKind.DELIVERED)  # the outbox's; the page's are the others


def visits_of(store, email: str) -> list[tuple[str, str | None]]:
    """What "Suivi des messages" lists of the page for one recipient: (label, detail)."""
    event, recipient = table_of(Event), table_of(Recipient)
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(event.c.kind, event.c.detail)
            .join(recipient)
            .where(recipient.c.email == email)
            .order_by(event.c.id)
        ).all()
    return [(EventKind(kind).label, detail) for kind, detail in rows if kind not in PRESENCE]


def sent_on(store) -> str:
    """The date the message was sent, as the landing page shows it."""
    message = table_of(Message)
    with store.engine.connect() as connection:
        queued = connection.execute(
            sa.select(message.c.queued_at).where(message.c.id == row_of(store, A).message_id)
        ).scalar_one()
    return paris_minutes(queued)


def curl(*arguments: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["curl", "--silent", "--show-error", "--max-time", "20", *arguments],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done


def assert_not_read(store, email: str) -> None:
    row = row_of(store, email)
    assert row.read_at is None and row.status is not RecipientStatus.READ
    assert EventKind.READ not in [kind for kind, *_ in events_of(store, email)]


# --- in a real browser -----------------------------------------------------------------------


def test_browser_landing_page_then_the_button_then_a_second_visit(store, portal, page):
    tokens = sent_now(store)
    url = f"{portal}/m/{tokens[A]}"
    page.goto(url)
    landing = page.locator("main").inner_text()
    assert f"Expéditeur\n{ENTITY} (Collectivité européenne d'Alsace)" in landing
    assert "Type de message\nDemande de complément" in landing
    assert f"Envoyé le\n{sent_on(store)}" in landing
    assert CONTENT not in landing and page.get_by_role("link").count() == 0
    assert visits_of(store, A) == [
        ("Lien visité", "Page d'accueil du lien affichée, contenu non consulté")
    ]
    agent = events_of(store, A)[-1][2]  # the browser as a person runs it: no scanner
    assert "Chrome/" in agent and "Headless" not in agent
    assert_not_read(store, A)

    page.get_by_role("button", name=BUTTON).click()
    page.get_by_role("region", name="Contenu du message").wait_for()
    assert CONTENT in page.get_by_role("region", name="Contenu du message").inner_text()
    read = row_of(store, A)
    assert read.status is RecipientStatus.READ and read.read_at is not None
    assert page.get_by_role("status").inner_text() == (
        f"Vous avez pris connaissance du message le {paris_seconds(read.read_at)} : "
        "l'accusé de réception est transmis à l'acheteur."
    )
    assert [label for label, _ in visits_of(store, A)] == ["Lien visité", "L"]
    kind, address, agent = events_of(store, A)[-1]
    assert (kind, address) == (EventKind.READ, "127.0.0.1") and "Chrome" in agent

    page.goto(url)  # the recipient comes back: the content, and a new consultation
    assert CONTENT in page.locator("main").inner_text()
    assert page.get_by_role("status").count() == 0
    assert [label for label, _ in visits_of(store, A)] == [
        "Lien visité",
        "L",
        "Nouvelle consultation",
    ]
    assert row_of(store, A).read_at == read.read_at  # L keeps its date
    assert_not_read(store, B)


# --- over HTTP ------------------------------------------------------------------------------


def test_head_records_nothing_at_all(store, portal):
    tokens = sent_now(store)
    url = f"{portal}/m/{tokens[A]}"
    before = events_of(store, A)
    status, _, body = fetch(url, method="HEAD")
    assert (status, body) == (200, b"")
    head = curl("--head", url)
    assert head.stdout.startswith("HTTP/1.1 200")
    assert events_of(store, A) == before
    assert_not_read(store, A)


def test_a_safe_links_prefetch_is_an_automatic_analysis_never_l(store, portal):
    tokens = sent_now(store)
    status, _, body = fetch(f"{portal}/m/{tokens[A]}", headers={"User-Agent": OFFICE})
    assert status == 200 and BUTTON in shown(body) and CONTENT not in shown(body)
    assert visits_of(store, A) == [
        (
            "Analyse automatique du lien",
            "Analyseur de liens reconnu par son agent utilisateur : "
            "Microsoft Office (vérification du lien)",
        )
    ]
    assert events_of(store, A)[-1][1:] == ("127.0.0.1", OFFICE)
    assert_not_read(store, A)


def test_a_plain_visit_shows_only_the_landing_page_and_is_no_l(store, portal):
    tokens = sent_now(store)
    url = f"{portal}/m/{tokens[A]}"
    status, _, body = fetch(url)
    landing = shown(body)
    assert status == 200 and f'<button type="submit">{BUTTON}</button>' in landing
    assert ENTITY in landing and "Demande de complément" in landing and sent_on(store) in landing
    assert CONTENT not in landing and "/pj/" not in landing and "<textarea" not in landing
    assert visits_of(store, A) == [
        ("Lien visité", "Page d'accueil du lien affichée, contenu non consulté")
    ]
    assert events_of(store, A)[-1][1:] == ("127.0.0.1", BROWSER)
    assert_not_read(store, A)
    # Before the button, the files and the reply are out of reach too.
    with store.engine.connect() as connection:
        (number,) = connection.execute(
            sa.select(table_of(Attachment).c.id).where(
                table_of(Attachment).c.message_id == row_of(store, A).message_id
            )
        ).scalars()
    assert fetch(f"{url}/pj/{number}")[0] == 404
    status, _, body = post_reply(f"{url}/reponse", reply_form(landing) | {"texte": "Déjà ?"})
    assert status == 403 and "Prenez d'abord connaissance du message" in shown(body)
    with store.engine.connect() as connection:
        assert connection.execute(sa.select(table_of(Reply))).all() == []
    # The button opens them: L, the content and the attachment.
    status, _, body = take_notice(url)
    assert status == 200 and CONTENT in shown(body)
    assert fetch(f"{url}/pj/{number}")[:3:2] == (200, b"%PDF-1.4 modele")
    assert row_of(store, A).status is RecipientStatus.READ


def test_the_curl_binary_never_gives_l(store, portal):
    tokens = sent_now(store)
    url = f"{portal}/m/{tokens[A]}"
    landing = curl(url).stdout  # curl's own user agent: a script
    assert BUTTON in shown(landing.encode()) and CONTENT not in landing
    pressed = curl("--data", f"cle={reply_form(landing)['cle']}", "--write-out", "%{http_code}",
                   "--output", "/dev/null", url)  # fmt: skip
    assert pressed.stdout == "403"  # the right key, but a script pressing is not the recipient
    labels = [label for label, _ in visits_of(store, A)]
    assert labels == ["Analyse automatique du lien"] * 2
    assert events_of(store, A)[-1][2].startswith("curl/")
    assert_not_read(store, A)


def test_a_burst_of_cookieless_fetches_is_an_automatic_analysis(store, portal):
    """A gateway checking every link of an e-mail: several links of one message from one
    address within a second, without the page's cookie."""
    tokens = sent_now(store)
    urls = [f"{portal}/m/{tokens[who]}" for who in (A, B, A, B, A)]
    with ThreadPoolExecutor(len(urls)) as pool:
        statuses = list(pool.map(lambda url: fetch(url, cookies=False)[0], urls))
    assert statuses == [200] * len(urls)
    details = [d for label, d in visits_of(store, A) + visits_of(store, B) if "Analyse" in label]
    assert details and all("en moins d'une seconde depuis la même adresse" in d for d in details)
    assert_not_read(store, A)
    assert_not_read(store, B)


def test_a_press_right_after_a_burst_gives_no_l_whatever_cookie_it_kept(store, portal):
    """A gateway that keeps cookies: its burst's first fetches looked like a person's and were
    given the page's cookie; its press, within the second, came with that cookie and the key."""
    tokens = sent_now(store)
    url = f"{portal}/m/{tokens[A]}"
    with ThreadPoolExecutor(BURST_SIZE) as pool:
        answers = list(pool.map(lambda _: raw(url), range(BURST_SIZE)))
    assert [status for status, *_ in answers] == [200] * BURST_SIZE
    kept = [h["set-cookie"].split(";")[0] for _, h, _ in answers if "set-cookie" in h]
    assert kept  # the first fetches of a burst cannot be told from a click
    key = f"cle={reply_form(shown(answers[-1][2]))['cle']}".encode()
    assert raw(url, "POST", key, FORM | {"Cookie": kept[0]})[0] == 403
    label, detail = visits_of(store, A)[-1]
    assert label == "Analyse automatique du lien"
    assert detail.startswith("Bouton pressé dans la seconde qui suit")
    assert_not_read(store, A)


def test_a_prefetch_is_an_automatic_analysis_and_gets_no_cookie(store, portal):
    """A browser or a mail client fetching the link ahead of any click says so (Sec-Purpose);
    given the page's cookie, a later press by a tool with it would pass for a person's."""
    tokens = sent_now(store)
    status, headers, _ = raw(f"{portal}/m/{tokens[B]}", headers={"Sec-Purpose": "prefetch"})
    assert status == 200 and "messagerie_vu" not in headers.get("set-cookie", "")
    assert visits_of(store, B) == [(
        "Analyse automatique du lien",
        "Préchargement du lien par le navigateur ou la messagerie, avant tout clic",
    )]  # fmt: skip
    assert_not_read(store, B)


def test_a_press_that_never_came_through_the_page_gives_no_l(store, portal):
    """A scanner fetched the page (an automatic analysis), then posted its key 12 ms later,
    with a browser's name and no cookie: that was L, the AR. The page always sets its cookie;
    a press without it is a tool's. A person whose browser lost it is told, and can press
    again (the refusal sets it)."""
    tokens = sent_now(store)
    url = f"{portal}/m/{tokens[A]}"
    landing = shown(fetch(url, cookies=False)[2])
    key = f"cle={reply_form(landing)['cle']}".encode()
    status, _, body = fetch(url, key, FORM, cookies=False)
    assert status == 403
    assert "autorisez les cookies pour ce site, puis appuyez de nouveau" in shown(body)
    assert visits_of(store, A)[-1] == (
        "Analyse automatique du lien",
        "Bouton pressé sans le témoin de la page (outil automatique)",
    )
    assert_not_read(store, A)
    assert take_notice(url)[0] == 200  # a browser, which keeps the page's cookie
    assert row_of(store, A).read_at is not None


def test_a_press_without_the_pages_key_gives_no_l(store, portal):
    tokens = sent_now(store)
    url = f"{portal}/m/{tokens[A]}"
    status, _, body = fetch(url, b"cle=" + b"0" * 64, FORM)
    assert (status, shown(body)) == (403, "Formulaire expiré ou falsifié.")
    others = reply_form(shown(fetch(f"{portal}/m/{tokens[B]}")[2]))  # B's key, on A's link
    assert fetch(url, f"cle={others['cle']}".encode(), FORM)[0] == 403
    assert_not_read(store, A)
    assert_not_read(store, B)


def test_the_ar_names_the_button_the_time_the_address_and_the_browser(store, portal):
    tokens = sent_now(store)
    agent = f"{BROWSER} Recette-AR"
    assert take_notice(f"{portal}/m/{tokens[A]}", headers={"User-Agent": agent})[0] == 200
    row = row_of(store, A)
    data = ar_data(store, row.id)
    assert data.opening.method == f"bouton « {BUTTON} »" and data.opening.at == row.read_at
    reader = pypdf.PdfReader(io.BytesIO(render_ar(data)))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert f"en appuyant sur le bouton « {BUTTON} » de sa page personnelle" in text
    assert f"Mode Bouton « {BUTTON} »" in text
    assert f"Date et heure {row.read_at.astimezone(PARIS):%d/%m/%Y %H:%M:%S} (Paris)" in text
    assert "Adresse du client 127.0.0.1" in text
    assert "".join(agent.split()) in "".join(text.split())  # a long agent wraps anywhere
    assert "Lien visité" in text  # the visit before the press, listed for information


def test_an_l_recorded_before_the_button_is_named_as_such_in_the_ar():
    """An L a visit recorded before the button existed says so; the button's, or the demo's
    (written without detail), names the button."""
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

    def opening(detail):
        return opening_of((ArEvent(EventKind.READ, at, detail, "192.0.2.1", "Firefox"),), at)

    assert opening("Ouverture par le lien personnel").method == "consultation du lien personnel"
    assert opening(OPENED_BY_BUTTON).method == f"bouton « {BUTTON} »"
    assert opening(None).by_button and opening(None).client_address == "192.0.2.1"
