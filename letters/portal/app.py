"""The recipients' web page (`messagerie portal`): a Starlette application served by uvicorn.

- `GET /m/TOKEN`, until the recipient has taken notice of the message, shows a landing page:
  who sends it (the purchasing entity), its type, its subject and the date it was sent, and
  one button, « Prendre connaissance du message ». The visit is kept as "Lien visité" with
  the client's address and user agent, never as L: mail security gateways (Safe Links,
  Proofpoint, Mimecast…) fetch every link of every e-mail. A fetch that looks automatic (a
  known scanner's user agent, or a cookie-less burst of fetches of one message's links from
  one address, see `models.messages.portal.automatic_fetch`) is kept as "Analyse automatique
  du lien", for information. `HEAD` records nothing at all.
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
  operator.

Anything else, an unknown or malformed token among them, is a plain 404 that tells nothing.
Plain HTML and one stylesheet, no JavaScript. The cookies hold nothing but "1" and belong to
one link: `messagerie_vu` tells a returning browser from a gateway. Every access is logged
(token shortened).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
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
from messagerie.models.formatting import paris_minutes, paris_seconds, size_text
from messagerie.models.messages.ar import BUTTON
from messagerie.models.messages.inbound import record_reply
from messagerie.models.messages.portal import (
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
from messagerie.models.store.documents import check_filename, put_bytes
from messagerie.models.store.enums import EventKind, ReplyChannel

LOGGER = logging.getLogger("messagerie.portal")
STYLESHEET = (TEMPLATES_DIR / "portal" / "portal.css").read_bytes()
MAX_FILES = 10
MAX_TEXT = 20_000  # characters of a reply
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
FORGED = "Formulaire expiré ou falsifié."
NOT_OPENED_YET = "Prenez d'abord connaissance du message : votre envoi n'a pas été transmis."
NOT_A_BROWSER = (
    "Cette demande provient d'un outil automatique : ouvrez le lien dans votre navigateur "
    "pour prendre connaissance du message."
)
VISITOR_COOKIE = "messagerie_vu"  # set by the page: a browser that has been here before
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


class RecentFetches:
    """How many times each (message, client address) fetched a personal link within the last
    second, in this process: the burst a mail gateway makes when it checks every link."""

    WINDOW = 1.0  # seconds

    def __init__(self) -> None:
        self.seen: dict[tuple[int, str], deque[float]] = {}

    def add(self, key: tuple[int, str], moment: float) -> int:
        """Count this fetch at `moment` (time.monotonic); the fetches within the window."""
        if len(self.seen) > 10_000:  # forget the quiet ones now and then
            self.seen = {k: d for k, d in self.seen.items() if d and d[-1] > moment - self.WINDOW}
        times = self.seen.setdefault(key, deque())
        times.append(moment)
        while times[0] <= moment - self.WINDOW:
            times.popleft()
        return len(times)


@dataclass(frozen=True)
class Visit:
    client_address: str | None
    user_agent: str | None
    automatic: str | None  # why it looks automatic (models.messages.portal.automatic_fetch)


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
        burst = 1
        if request.method in ("GET", "HEAD"):
            burst = self.fetches.add((view.message.id, client or "-"), time.monotonic())
        fetch = LinkFetch(request.method, agent, VISITOR_COOKIE in request.cookies, burst)
        return Visit(client, agent, automatic_fetch(fetch))

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
        consultation = view.message.consultation
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
            max_mb=self.intake.max_bytes / 1_000_000,
            **{"typed": "", "problem": None, "sent": False, "opened": False} | extra,
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
        _set_cookie(response, token, VISITOR_COOKIE, 30 * 86400)
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
        limit = self.intake.max_bytes + 1_000_000  # room for the text and the fields
        if problem := _length_problem(request, limit):
            if problem.status_code == 413:
                await _drain(request, 4 * limit)
                return self.page(view, token, status=413, problem=_too_big(self.intake))
            return problem
        async with request.form(max_files=MAX_FILES, max_part_size=MAX_TEXT * 4) as form:
            if not hmac.compare_digest(str(form.get("cle", "")), self.form_key(token)):
                return PlainTextResponse(FORGED, status_code=403)
            typed = str(form.get("texte", ""))[: MAX_TEXT + 1]
            if not view.accepts_reply(self.now()):
                return self.page(view, token, status=403, typed=typed, problem=_closed(view))
            uploads = [
                u for u in form.getlist("fichiers") if isinstance(u, UploadFile) and u.filename
            ]
            try:
                files = [(u.filename or "piece-jointe", await u.read()) for u in uploads]
                await run_in_threadpool(self.keep_reply, view, typed, files)
            except ReplyRefused as refused:
                return self.page(
                    view, token, status=refused.status, typed=typed, problem=str(refused)
                )
        return RedirectResponse(f"/m/{token}?envoye=1", status_code=303)

    def keep_reply(self, view: PortalView, typed: str, files: list[tuple[str, bytes]]) -> None:
        if not typed.strip() and not files:
            raise ReplyRefused("Écrivez votre réponse ou joignez au moins un fichier.")
        if len(typed) > MAX_TEXT:
            raise ReplyRefused(f"La réponse dépasse {MAX_TEXT:,} caractères.".replace(",", " "))
        checked = []
        for filename, data in files:
            try:
                check_filename(filename)
                check_size(filename, len(data), self.intake)
                checked.append(
                    (filename, data, check_attachment(data, filename, self.intake.clamd))
                )
            except AntivirusUnavailable as unavailable:  # configuration: the operator's
                LOGGER.warning(
                    "reply refused, antivirus unreachable recipient=%d clamd=%s error=%s",
                    view.recipient_id, unavailable.address, unavailable.error,
                )  # fmt: skip
                raise ReplyNotCheckedYet(NOT_CHECKED_YET) from unavailable
            except Refusal as refusal:  # too big, unreadable name, infected
                raise ReplyRefused(str(refusal)) from refusal
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
        )

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
        exception_handlers={404: _on_404, 405: _on_404},
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=_guarded)],
    )
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


async def _on_404(_: Request, __: Exception) -> Response:
    return _not_found()


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
    if not length.isdigit():
        return PlainTextResponse("Longueur de la requête manquante.", status_code=411)
    if int(length) > limit:
        return PlainTextResponse("Requête trop volumineuse.", status_code=413)
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
    return f"Un fichier dépasse la taille maximale de {intake.max_bytes / 1_000_000:g} Mo."


def _closed(view: PortalView) -> str:
    if not view.message.reply_allowed:
        return "Ce message n'appelle pas de réponse : votre envoi n'a pas été transmis."
    return "La date limite de réponse est dépassée : votre envoi n'a pas été transmis."
