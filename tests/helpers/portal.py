"""The recipients' web page over HTTP (urllib): a request and its answer, the page's text,
the page's anti-forgery key, pressing « Prendre connaissance du message », and a reply with
files (multipart). Requests behave as a browser's unless told otherwise: a browser's user
agent (urllib's own, "Python-urllib/3.x", is a script's, which the page never takes for the
recipient) and the cookies the page sets."""

from __future__ import annotations

import asyncio
import html
import http.client
import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from messagerie.models.store.enums import EventKind
from messagerie.models.store.tables import Event, Recipient, table_of
from tests.helpers.messages import sent_message

BROWSER_LIKE = urllib.request.build_opener(
    urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
)  # one jar for the process: each link's cookie is scoped to its own (random) path
PLAIN = urllib.request.build_opener()  # a client that keeps no cookie
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"


def fetch(
    url: str,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    method: str | None = None,
    cookies: bool = True,
):
    """(status, headers, body) of one request; errors are answers too."""
    sent = {"User-Agent": BROWSER} | (headers or {})
    request = urllib.request.Request(url, data=data, headers=sent, method=method)
    try:
        with (BROWSER_LIKE if cookies else PLAIN).open(request, timeout=10) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def shown(body: bytes) -> str:
    """The page's text as a reader sees it (entities decoded)."""
    return html.unescape(body.decode())


def reply_form(html: str) -> dict[str, str]:
    return {"cle": re.search(r'name="cle" value="([0-9a-f]+)"', html)[1]}


def form_fields(html: str) -> dict[str, str]:
    """Every hidden field of the page's form, as a browser sends them: the anti-forgery key
    and, on the reply form, the form's own random key (one reply per form sent)."""
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))


def raw(url: str, method: str = "GET", body: bytes | None = None, headers=None):
    """(status, headers, body) of one request sent exactly as written (a forged Host header
    included), its redirect not followed."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, body, {"User-Agent": BROWSER} | (headers or {}))
        answer = connection.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read()
    finally:
        connection.close()


def take_notice(url: str, headers: dict[str, str] | None = None):
    """What the recipient does with the link: the landing page, then its button (L). The
    answer (status, headers, body) is the page the button leads to (urllib follows the 303)."""
    landing = shown(fetch(url, headers=headers)[2])
    body = urllib.parse.urlencode(reply_form(landing)).encode()
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    return fetch(url, body, form | (headers or {}))


def multipart(fields: dict[str, str], files: list[tuple[str, bytes]] = ()) -> tuple[bytes, str]:
    boundary = "----portail-test"
    chunks = []
    for name, value in fields.items():
        disposition = f'Content-Disposition: form-data; name="{name}"'
        chunks.append(f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode())
    for filename, data in files:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="fichiers"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def post_reply(url: str, fields: dict[str, str], files=()):
    body, content_type = multipart(fields, list(files))
    return fetch(url, body, {"Content-Type": content_type})


def events_of(store, email: str) -> list[tuple[EventKind, str | None, str | None]]:
    """(kind, client address, user agent) of each event of the recipient at `email`."""
    event, recipient = table_of(Event), table_of(Recipient)
    with store.engine.connect() as connection:
        return [
            (EventKind(kind), address, agent)
            for kind, address, agent in connection.execute(
                sa.select(event.c.kind, event.c.client_address, event.c.user_agent)
                .join(recipient)
                .where(recipient.c.email == email)
                .order_by(event.c.id)
            )
        ]


def sent_now(store) -> dict[str, str]:
    """sent_message from a plain test: in a thread, Playwright's loop owning this one."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, sent_message(store)).result()
