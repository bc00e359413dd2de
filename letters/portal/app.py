"""The recipients' web page (`messagerie portal`): a Starlette application served by uvicorn.

- `GET /m/TOKEN`, until the recipient has taken notice of the message, shows a landing page:
  who sends it (the purchasing entity), its type, its subject and the date it was sent, and
  one button, « Prendre connaissance du message ». The visit is kept as "Lien visité" with
  the client's address and user agent, never as L: mail security gateways (Safe Links,
  Proofpoint, Mimecast…) fetch every link of every e-mail. A fetch that looks automatic (a
  known scanner's user agent, or a cookie-less burst of fetches of one message's links from
  one address, a prefetch a browser announces, see `models.messages.portal.automatic_fetch`)
  is kept as "Analyse automatique du lien", for information; a scanner or a prefetch gets
  no cookie, and a press right after a burst on its link is a tool's. `HEAD` records
  nothing at all.
- `POST /m/TOKEN` is that button (with the page's anti-forgery field): the first press is the
  acknowledgement of receipt (L), with the client's address and user agent as evidence; the
  answer redirects to the content. A known scanner pressing it gets no L.
- `GET /m/TOKEN` after L shows the message as it was sent; each visit is a "Nouvelle
  consultation", except the page the button leads to (once, within a minute, marked by the
  cookie `messagerie_ouvert`), which is part of the opening itself.
- `GET /m/TOKEN/pj/N` downloads one of that message's attachments, once L is recorded.
- `POST /m/TOKEN/reponse` keeps a reply (text and files scanned by clamd) → R, only after L,
  while replies are allowed and the deadline has not passed, and with the form's anti-forgery
  field. When clamd cannot be asked, the company reads only that its file could not be
  checked yet (its text kept in the form, nothing recorded); the log names the cause for the
  operator. Each form carries a random key (`envoi`) kept with the reply: the same form sent
  again (double click, reload) shows the same confirmation and records nothing more. A text
  too long, too many or too big files, a documents folder or database that cannot be written:
  the page again, in French, with what the company typed.

Anything else, an unknown or malformed token among them, is a plain 404 that tells nothing.
Every other error (unreadable form 400, too big 413, failure 500, service unavailable 503) is a
short French page; every answer carries the security headers. No answer builds an address
from the request's Host header: the only redirects are relative (`/m/TOKEN`), and a path with a
trailing slash is a 404, not Starlette's absolute redirect.
Plain HTML and one stylesheet, no JavaScript. The cookies hold nothing but "1" and belong to
one link: `messagerie_vu` tells a returning browser from a gateway. Every access is logged
(token shortened).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import quote

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from messagerie.letters import TEMPLATES_DIR
from messagerie.letters.intake.antivirus import AntivirusUnavailable, check_attachment
from messagerie.letters.intake.files import IntakeOptions, check_size
from messagerie.letters.mail.content import content_of
from messagerie.letters.mail.mime import page_variables, template
from messagerie.models.clock import utc_now
from messagerie.models.errors import Refusal
from messagerie.models.formatting import count, paris_minutes, paris_seconds, size_text
from messagerie.models.messages.ar import BUTTON
from messagerie.models.messages.inbound import record_reply
from messagerie.models.messages.portal import (
    PURPOSE_HEADERS,
    LinkFetch,
    PortalView,
    automatic_fetch,
    find_file,
    find_view,
    portal_secret,
    record_opening,
    record_visit,
)
from messagerie.models.store.database import Store
from messagerie.models.store.documents import check_filename, put_bytes, safe_filename
from messagerie.models.store.enums import AntivirusVerdict, EventKind, ReplyChannel
from messagerie.models.store.tables import reply as reply_table
from messagerie.models.text import ascii_digits, control_character_problem, whole_number

LOGGER = logging.getLogger("messagerie.portal")
STYLESHEET = (TEMPLATES_DIR / "portal" / "portal.css").read_bytes()
MAX_FILES = 10
MAX_TEXT = 20_000  # characters of a reply
TEXT_ROOM = 1_000_000  # bytes a reply's request may hold beyond its files: text and fields
SUBMISSION_FIELD = "envoi"  # the reply form's random key: one reply per form sent
SUBMISSION_KEY = re.compile(r"[A-Za-z0-9_-]{32}")  # secrets.token_urlsafe(24)
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the link is the recipient's secret
    "Cache-Control": "no-store",
}
NOT_FOUND = "Page introuvable."
NOT_CHECKED_YET = "Le fichier n'a pas pu être vérifié pour l'instant, réessayez plus tard."
NOT_SAVED = (
    "Le service ne peut pas enregistrer votre réponse pour le moment ; votre texte est "
    "conservé ci-dessous, réessayez plus tard."
)
ERRORS = {  # the short page of each error status (404 and 405 are NOT_FOUND)
    400: "Votre demande n'a pas pu être lue. Revenez à la page du message et réessayez.",
    411: "Votre navigateur n'a pas indiqué la taille de l'envoi. Réessayez.",
    413: "Votre envoi est trop volumineux.",
    500: "Une erreur est survenue de notre côté. Réessayez plus tard.",
    503: "Le service est momentanément indisponible. Réessayez plus tard.",
}
FORGED = "Formulaire expiré ou falsifié."
NOT_OPENED_YET = "Prenez d'abord connaissance du message : votre envoi n'a pas été transmis."
NOT_A_BROWSER = (
    "Cette demande provient d'un outil automatique : ouvrez le lien dans votre navigateur "
    "pour prendre connaissance du message."
)
NO_VISIT_KEPT = (
    "Votre navigateur n'a pas gardé la trace de cette page : autorisez les cookies pour ce "
    "site, puis appuyez de nouveau sur le bouton « Prendre connaissance du message »."
)
# A press that did not come through the page: a tool that read the key and posted it.
PRESSED_WITHOUT_PAGE = "Bouton pressé sans le témoin de la page (outil automatique)"
VISITOR_COOKIE = "messagerie_vu"  # set by the page: a browser that has been here before
VISITOR_DAYS = 30
OPENING_COOKIE = "messagerie_ouvert"  # set by the button for the page it leads to, once
JUST_OPENED = timedelta(minutes=1)  # the page the button leads to is part of the opening
LANDING_SHOWN = "Page d'accueil du lien affichée, contenu non consulté"
OPENED_AGAIN = "Ouverture par le lien personnel"  # as before the button: a visit after L


class ReplyRefused(Exception):
    """What the recipient must fix in the reply form (French)."""

    status = 422


class ReplyNotCheckedYet(ReplyRefused):
    """The antivirus could not be asked: the company may try again later (never told why)."""

    status = 503


class ReplyNotSaved(ReplyRefused):
    """The documents folder or the database cannot be written (disk full…): try again later."""

    status = 503


FetchKey = tuple[str, int, str]  # ("message" or "link", its id, the client's address)


class RecentFetches:
    """How many times each client address fetched a message's links, or one personal link,
    within the last second, in this process: the burst a mail gateway makes when it checks
    every link."""

    WINDOW = 1.0  # seconds

    def __init__(self) -> None:
        self.seen: dict[FetchKey, deque[float]] = {}

    def add(self, key: FetchKey, moment: float) -> int:
        """Count this fetch at `moment` (time.monotonic); the fetches within the window."""
        if len(self.seen) > 10_000:  # forget the quiet ones now and then
            self.seen = {k: d for k, d in self.seen.items() if d and d[-1] > moment - self.WINDOW}
        self.seen.setdefault(key, deque()).append(moment)
        return self.recent(key, moment)

    def recent(self, key: FetchKey, moment: float) -> int:
        """The fetches within the window before `moment`, this one not counted."""
        times = self.seen.get(key, deque())
        while times and times[0] <= moment - self.WINDOW:
            times.popleft()
        return len(times)


@dataclass(frozen=True)
class Visit:
    client_address: str | None
    user_agent: str | None
    automatic: str | None  # why it looks automatic (models.messages.portal.automatic_fetch)
    # Automatic by itself (a scanner's agent, a prefetch), not only by the burst around it,
    # where a person's click may fall among a gateway's fetches.
    a_tool: bool = False


class Portal:
    """The page's handlers for one store: the landing page and its button, the message, its
    files, the reply form."""

    def __init__(self, store: Store, intake: IntakeOptions, now: Callable[[], datetime]) -> None:
        self.store, self.intake, self.now = store, intake, now
        self.secret = portal_secret(store)
        self.fetches = RecentFetches()

    def form_key(self, token: str) -> str:
        return hmac.new(self.secret, token.encode(), hashlib.sha256).hexdigest()

    def visit(self, request: Request, view: PortalView) -> Visit:
        """Who asks, and whether it looks like a link scanner rather than the recipient."""
        client = request.client.host if request.client else None
        agent = request.headers.get("user-agent")
        moment, who = time.monotonic(), client or "-"
        message, link = ("message", view.message.id, who), ("link", view.recipient_id, who)
        if request.method in ("GET", "HEAD"):
            self.fetches.add(link, moment)
            burst = self.fetches.add(message, moment)
        else:  # a press right after a burst on its link is the gateway's, whatever cookie it kept
            burst = self.fetches.recent(link, moment)
        purpose = " ".join(v for name in PURPOSE_HEADERS for v in request.headers.getlist(name))
        fetch = LinkFetch(request.method, agent, VISITOR_COOKIE in request.cookies, burst, purpose)
        alone = automatic_fetch(replace(fetch, burst=1)) is not None
        return Visit(client, agent, automatic_fetch(fetch), alone)

    async def keep_visit(
        self, view: PortalView, visit: Visit, kind: EventKind, detail: str
    ) -> None:
        await run_in_threadpool(
            record_visit,
            self.store,
            view.recipient_id,
            EventKind.LINK_SCANNED if visit.automatic else kind,
            visit.automatic or detail,
            client_address=visit.client_address,
            user_agent=visit.user_agent,
            at=self.now(),
        )

    def landing(
        self, view: PortalView, token: str, *, status: int = 200, problem: str = ""
    ) -> Response:
        """Who sends what, and the button: nothing of the content before the recipient's act."""
        consultation = view.message.consultation.identity
        return _html(
            "portal/landing.html",
            status,
            sender_name=consultation.entity,
            organisation=consultation.organisation,
            reference=consultation.reference,
            type_label=view.message.type.label,
            subject=view.message.subject,
            sent_at=paris_minutes(view.sent_at) if view.sent_at else None,
            view=view,
            token=token,
            form_key=self.form_key(token),
            button=BUTTON,
            problem=problem,
        )

    def page(self, view: PortalView, token: str, *, status: int = 200, **extra: object) -> Response:
        """The message as sent, once the recipient has taken notice of it (L)."""
        variables = page_variables(content_of(view.message))
        return _html(
            "portal/page.html",
            status,
            **variables,
            view=view,
            token=token,
            form_key=self.form_key(token),
            open_for_reply=view.accepts_reply(self.now()),
            reply_deadline=paris_minutes(view.message.reply_deadline)
            if view.message.reply_deadline
            else None,
            read_at=paris_seconds(view.read_at) if view.read_at else None,
            files=[(f.id, f.filename, size_text(f.size)) for f in view.files],
            replies=[(paris_seconds(r.received_at), r.body, r.disposition) for r in view.replies],
            limit=self.intake.limit_text,
            max_text=count(MAX_TEXT),
            submission_field=SUBMISSION_FIELD,
            **{
                "typed": "",
                "problem": None,
                "sent": False,
                "opened": False,
                "submission": secrets.token_urlsafe(24),
            }
            | extra,
        )

    async def show(self, request: Request) -> Response:
        """The landing page until L, the content after; never L itself. HEAD: nothing kept."""
        token = request.path_params["token"]
        view = await run_in_threadpool(find_view, self.store, token)
        if view is None:
            return _not_found()
        visit = self.visit(request, view)
        if request.method == "HEAD":  # a check of the link (Starlette answers HEAD on GET)
            return Response(status_code=200, media_type="text/html; charset=utf-8")
        if view.read_at is None:
            await self.keep_visit(view, visit, EventKind.LINK_VISITED, LANDING_SHOWN)
            response = self.landing(view, token)
        else:
            # The page the button leads to (once) is part of that opening, not a new one.
            opened = OPENING_COOKIE in request.cookies and (
                self.now() - view.read_at <= JUST_OPENED
            )
            if visit.automatic or not opened:
                await self.keep_visit(view, visit, EventKind.OPENED_AGAIN, OPENED_AGAIN)
            sent = request.query_params.get("envoye") == "1"
            response = self.page(view, token, sent=sent, opened=opened)
            response.delete_cookie(OPENING_COOKIE, path=f"/m/{token}")
        if not visit.a_tool:  # a tool that kept it could press the button as a browser
            _set_cookie(response, token, VISITOR_COOKIE, VISITOR_DAYS * 86400)
        return response

    async def take_notice(self, request: Request) -> Response:
        """The button « Prendre connaissance du message »: L (the AR), then the content."""
        token = request.path_params["token"]
        view = await run_in_threadpool(find_view, self.store, token)
        if view is None:
            return _not_found()
        if problem := _length_problem(request, 4_096):
            return problem
        async with request.form(max_files=0, max_fields=4) as form:
            if not hmac.compare_digest(str(form.get("cle", "")), self.form_key(token)):
                return PlainTextResponse(FORGED, status_code=403)
        visit = self.visit(request, view)
        if visit.automatic:  # a sandbox pressing buttons is still not the recipient
            await self.keep_visit(view, visit, EventKind.LINK_SCANNED, visit.automatic)
            return self.landing(view, token, status=403, problem=NOT_A_BROWSER)
        if VISITOR_COOKIE not in request.cookies:  # the page always sets it: never shown it
            await self.keep_visit(view, visit, EventKind.LINK_SCANNED, PRESSED_WITHOUT_PAGE)
            refused = self.landing(view, token, status=403, problem=NO_VISIT_KEPT)
            _set_cookie(
                refused, token, VISITOR_COOKIE, VISITOR_DAYS * 86400
            )  # a person presses again
            return refused
        response = RedirectResponse(f"/m/{token}", status_code=303)
        if view.read_at is not None:  # pressed again (back, reload): shown again, as a visit
            return response
        await run_in_threadpool(
            record_opening,
            self.store,
            view.recipient_id,
            client_address=visit.client_address,
            user_agent=visit.user_agent,
            at=self.now(),
        )
        _set_cookie(response, token, OPENING_COOKIE, int(JUST_OPENED.total_seconds()))
        return response

    async def download(self, request: Request) -> Response:
        token, number = request.path_params["token"], request.path_params["number"]
        found = await run_in_threadpool(find_file, self.store, token, number)
        if found is None:
            return _not_found()
        data = await run_in_threadpool(self.store.blobs.read, found.sha256)
        return Response(
            data,
            media_type=found.media_type,
            headers={
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.filename)}"
            },
        )

    async def answer(self, request: Request) -> Response:
        token = request.path_params["token"]
        view = await run_in_threadpool(find_view, self.store, token)
        if view is None:
            return _not_found()
        if view.read_at is None:  # the form is only shown with the content, after L
            return self.landing(view, token, status=403, problem=NOT_OPENED_YET)
        limit = self.intake.max_bytes + TEXT_ROOM
        if problem := _length_problem(request, limit):
            if problem.status_code == 413:
                await _drain(request, 4 * limit)
                return self.page(view, token, status=413, problem=_too_big(self.intake))
            return problem
        # Any field the accepted request may hold reaches the checks of reply_with, which give
        # the text back (python-multipart's own limits would answer a bare 400 and lose it).
        async with request.form(
            max_files=MAX_FILES * 10, max_fields=10, max_part_size=limit
        ) as form:
            if not hmac.compare_digest(str(form.get("cle", "")), self.form_key(token)):
                return PlainTextResponse(FORGED, status_code=403)
            return await self.reply_with(view, token, form)

    async def reply_with(self, view: PortalView, token: str, form: FormData) -> Response:
        """R from the form's text and files; the same form sent again records nothing more."""
        key = _submission_key(form.get(SUBMISSION_FIELD))
        confirmed = RedirectResponse(f"/m/{token}?envoye=1", status_code=303)
        if key is not None:
            holder = await run_in_threadpool(_key_holder, self.store, key)
            if holder == view.recipient_id:  # double click, reload, a browser's retry: shown
                return confirmed  # as sent, and kept once
            if holder is not None:  # another recipient's form key, copied: one of its own
                key = secrets.token_urlsafe(24)
        typed = str(form.get("texte", ""))
        again = {"typed": typed, "submission": key or secrets.token_urlsafe(24)}
        if not view.accepts_reply(self.now()):
            return self.page(view, token, status=403, problem=_closed(view), **again)
        uploads = [u for u in form.getlist("fichiers") if isinstance(u, UploadFile) and u.filename]
        try:
            _check_reply(typed, len(uploads))
            # Cleaned as an e-mailed file's name is: no control, no bidi override, no slash.
            files = [(safe_filename(u.filename or ""), await u.read()) for u in uploads]
            _check_total([len(data) for _, data in files], self.intake)
            await run_in_threadpool(self.keep_reply, view, typed, files, key)
        except ReplyRefused as refused:
            return self.page(view, token, status=refused.status, problem=str(refused), **again)
        return confirmed

    def keep_reply(
        self, view: PortalView, typed: str, files: list[tuple[str, bytes]], key: str | None
    ) -> None:
        checked = [(name, data, self.checked(view, name, data)) for name, data in files]
        try:
            kept = [
                (filename, put_bytes(self.store.blobs, data, filename), verdict)
                for filename, data, verdict in checked
            ]
            record_reply(
                self.store,
                view.inbound(),
                body=typed,
                files=kept,
                channel=ReplyChannel.WEB,
                at=self.now(),
                submission_key=key,
            )
        except sa.exc.IntegrityError:
            if key is None or _key_holder(self.store, key) != view.recipient_id:
                raise
            # The same form, sent again while this one was checked: kept once, by the other.
        except (OSError, sa.exc.OperationalError) as error:  # disk full, folder not writable…
            LOGGER.error("reply not saved recipient=%d error=%s", view.recipient_id, error)
            raise ReplyNotSaved(NOT_SAVED) from error

    def checked(self, view: PortalView, filename: str, data: bytes) -> AntivirusVerdict:
        """The verdict on one file of a reply; ReplyRefused (French) when it cannot be kept."""
        try:
            check_filename(filename)
            check_size(filename, len(data), self.intake)
            return check_attachment(data, filename, self.intake.clamd)
        except AntivirusUnavailable as unavailable:  # configuration: the operator's
            LOGGER.warning(
                "reply refused, antivirus unreachable recipient=%d clamd=%s error=%s",
                view.recipient_id, unavailable.address, unavailable.error,
            )  # fmt: skip
            raise ReplyNotCheckedYet(NOT_CHECKED_YET) from unavailable
        except Refusal as refusal:  # too big, unreadable name, infected
            raise ReplyRefused(str(refusal)) from refusal

    async def stylesheet(self, _: Request) -> Response:
        return Response(STYLESHEET, media_type="text/css")


def create_portal(
    store: Store, intake: IntakeOptions, *, clock: Callable[[], datetime] | None = None
) -> Starlette:
    """The page for one store. `clock` gives the current time (tests move it)."""
    portal = Portal(store, intake, clock or utc_now)
    app = Starlette(
        routes=[
            Route("/m/{token}", portal.show, methods=["GET"]),
            Route("/m/{token}", portal.take_notice, methods=["POST"]),
            Route("/m/{token}/pj/{number:int}", portal.download, methods=["GET"]),
            Route("/m/{token}/reponse", portal.answer, methods=["POST"]),
            Route("/portail.css", portal.stylesheet, methods=["GET"]),
        ],
        exception_handlers={
            HTTPException: _on_http_error,  # 400 unreadable form, 404, 405, 413…
            OSError: _on_os_error,  # a file that cannot be read or written
            500: _on_server_error,  # anything else (outside the middleware: headers added)
        },
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=_guarded)],
    )
    # Starlette would answer "/m/TOKEN/" with an absolute redirect built from the Host header.
    app.router.redirect_slashes = False
    return app


Handler = Callable[[Request], Awaitable[Response]]


async def _guarded(request: Request, call_next: Handler) -> Response:
    """Security headers on every answer, and one log line per access."""
    response = await call_next(request)
    response.headers.update(SECURITY_HEADERS)
    client = request.client.host if request.client else "-"
    LOGGER.info(
        "%s %s %s %s", client, request.method, _shortened(request.url.path), response.status_code
    )
    return response


def _shortened(path: str) -> str:
    """The path with the token cut to its first 6 characters: logs are not a key store."""
    parts = path.split("/")
    if len(parts) > 2 and parts[1] == "m":
        parts[2] = parts[2][:6] + "…"
    return "/".join(parts)


async def _on_http_error(_: Request, error: Exception) -> Response:
    status = error.status_code if isinstance(error, HTTPException) else 400
    if status in (404, 405):  # any other path or method: the same 404 that tells nothing
        return _not_found()
    return _error_page(status)


async def _on_os_error(request: Request, error: Exception) -> Response:
    LOGGER.error("%s %s 503 error=%s", request.method, _shortened(request.url.path), error)
    return _error_page(503)


async def _on_server_error(request: Request, error: Exception) -> Response:
    """The 500 page: French, with the security headers (this handler runs outside _guarded)."""
    LOGGER.error(
        "%s %s 500 error=%s", request.method, _shortened(request.url.path), type(error).__name__
    )
    return _error_page(500)


def _error_page(status: int) -> Response:
    fallback = ERRORS[500] if status >= 500 else ERRORS[400]
    problem = ERRORS.get(status, fallback)
    response = _html("portal/error.html", status, sender_name="", problem=problem)
    response.headers.update(SECURITY_HEADERS)
    return response


def _html(name: str, status: int, **variables: object) -> Response:
    html = template(name).render(variables)
    return Response(html, status_code=status, media_type="text/html; charset=utf-8")


def _set_cookie(response: Response, token: str, name: str, seconds: int) -> None:
    """A cookie of this link alone, that holds nothing but "1"."""
    response.set_cookie(
        name, "1", max_age=seconds, path=f"/m/{token}", httponly=True, samesite="lax"
    )


def _length_problem(request: Request, limit: int) -> Response | None:
    """411 without a length, 413 above `limit` bytes; None when the body may be read."""
    length = request.headers.get("content-length", "")
    if not ascii_digits(length):
        return _error_page(411)
    if whole_number(length, limit) is None:
        return _error_page(413)
    return None


async def _drain(request: Request, most: int) -> None:
    """Read and drop a body refused for its size (up to `most` bytes): a browser still sending
    it then shows the answer that says why, instead of a reset connection."""
    read = 0
    async for chunk in request.stream():
        read += len(chunk)
        if read > most:
            return


def _not_found() -> Response:
    return PlainTextResponse(NOT_FOUND, status_code=404)


def _too_big(intake: IntakeOptions) -> str:
    return (
        f"Votre envoi est trop volumineux : les fichiers joints peuvent peser au plus "
        f"{intake.limit_text} en tout. Votre texte n'a pas pu être lu : écrivez-le à nouveau."
    )


def _check_total(sizes: list[int], intake: IntakeOptions) -> None:
    """The limit is for the reply's files in all: each under it, the request with its room
    for the text, let two files of 10.4 MB through a 20 MB limit. (One file alone is named
    by its own check.)"""
    size = sum(sizes)
    if len(sizes) > 1 and size > intake.max_bytes:
        raise ReplyRefused(
            f"Vos fichiers pèsent {size_text(size)} en tout : la limite est de "
            f"{intake.limit_text} par réponse. Retirez-en, ou envoyez-les en plusieurs réponses ; "
            "votre texte est conservé ci-dessous."
        )


def _check_reply(typed: str, files: int) -> None:
    """ReplyRefused (French) for a reply the form cannot take, before any file is read."""
    if not typed.strip() and not files:
        raise ReplyRefused("Écrivez votre réponse ou joignez au moins un fichier.")
    # A text area sends its lines ended by CRLF: the CR is the browser's, not the company's.
    if problem := control_character_problem(typed.replace("\r\n", "\n"), multiline=True):
        raise ReplyRefused(f"Votre réponse {problem}")
    if len(typed) > MAX_TEXT:
        raise ReplyRefused(
            f"Votre réponse compte {count(len(typed))} caractères : la limite est de "
            f"{count(MAX_TEXT)}. Raccourcissez-la, ou joignez-la en fichier ; votre texte est "
            "conservé ci-dessous."
        )
    if files > MAX_FILES:
        raise ReplyRefused(f"Joignez au plus {MAX_FILES} fichiers à une réponse.")


def _submission_key(value: object) -> str | None:
    """The form's key when it is one the page could have given, else None (no key)."""
    return value if isinstance(value, str) and SUBMISSION_KEY.fullmatch(value) else None


def _key_holder(store: Store, key: str) -> int | None:
    """The recipient whose reply was sent with the form of `key`, if one was kept."""
    reply = reply_table
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(reply.c.recipient_id).where(reply.c.submission_key == key)
        ).scalar_one_or_none()


def _closed(view: PortalView) -> str:
    if not view.message.reply_allowed:
        return "Ce message n'appelle pas de réponse : votre envoi n'a pas été transmis."
    return "La date limite de réponse est dépassée : votre envoi n'a pas été transmis."
