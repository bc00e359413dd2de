"""The recipients' web page (`messagerie portal`): a Starlette application served by uvicorn.

- `GET /m/TOKEN` shows the message as it was sent; the first opening is the acknowledgement
  of receipt (L), with the client's address and user agent as evidence.
- `GET /m/TOKEN/pj/N` downloads one of that message's attachments.
- `POST /m/TOKEN/reponse` keeps a reply (text and files scanned by clamd) → R, only while
  replies are allowed and the deadline has not passed, and with the form's anti-forgery field.
  When clamd cannot be asked, the company reads only that its file could not be checked yet
  (its text kept in the form, nothing recorded); the log names the cause for the operator.

Anything else, an unknown or malformed token among them, is a plain 404 that tells nothing.
Plain HTML and one stylesheet, no JavaScript. Every access is logged (token shortened).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
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
from messagerie.models.messages.inbound import record_reply
from messagerie.models.messages.portal import (
    PortalView,
    find_file,
    find_view,
    portal_secret,
    record_opening,
)
from messagerie.models.store.database import Store
from messagerie.models.store.documents import check_filename, put_bytes
from messagerie.models.store.enums import ReplyChannel

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


class ReplyRefused(Exception):
    """What the recipient must fix in the reply form (French)."""

    status = 422


class ReplyNotCheckedYet(ReplyRefused):
    """The antivirus could not be asked: the company may try again later (never told why)."""

    status = 503


class Portal:
    """The page's handlers for one store: the message, its files, the reply form."""

    def __init__(self, store: Store, intake: IntakeOptions, now: Callable[[], datetime]) -> None:
        self.store, self.intake, self.now = store, intake, now
        self.secret = portal_secret(store)

    def form_key(self, token: str) -> str:
        return hmac.new(self.secret, token.encode(), hashlib.sha256).hexdigest()

    def page(self, view: PortalView, token: str, *, status: int = 200, **extra: object) -> Response:
        variables = page_variables(content_of(view.message))
        html = template("portal/page.html").render(
            variables,
            view=view,
            token=token,
            form_key=self.form_key(token),
            open_for_reply=view.accepts_reply(self.now()),
            reply_deadline=paris_minutes(view.message.reply_deadline)
            if view.message.reply_deadline
            else None,
            files=[(f.id, f.filename, size_text(f.size)) for f in view.files],
            replies=[(paris_seconds(r.received_at), r.body, r.disposition) for r in view.replies],
            max_mb=self.intake.max_bytes / 1_000_000,
            **{"typed": "", "problem": None, "sent": False} | extra,
        )
        return Response(html, status_code=status, media_type="text/html; charset=utf-8")

    async def show(self, request: Request) -> Response:
        token = request.path_params["token"]
        view = await run_in_threadpool(find_view, self.store, token)
        if view is None:
            return _not_found()
        await run_in_threadpool(
            record_opening,
            self.store,
            view.recipient_id,
            client_address=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
            at=self.now(),
        )
        return self.page(view, token, sent=request.query_params.get("envoye") == "1")

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
        length = request.headers.get("content-length", "")
        if not length.isdigit():
            return PlainTextResponse("Longueur de la requête manquante.", status_code=411)
        if int(length) > self.intake.max_bytes + 1_000_000:  # room for the text and the fields
            return self.page(view, token, status=413, problem=_too_big(self.intake))
        async with request.form(max_files=MAX_FILES, max_part_size=MAX_TEXT * 4) as form:
            if not hmac.compare_digest(str(form.get("cle", "")), self.form_key(token)):
                return PlainTextResponse("Formulaire expiré ou falsifié.", status_code=403)
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


def _not_found() -> Response:
    return PlainTextResponse(NOT_FOUND, status_code=404)


def _too_big(intake: IntakeOptions) -> str:
    return f"Un fichier dépasse la taille maximale de {intake.max_bytes / 1_000_000:g} Mo."


def _closed(view: PortalView) -> str:
    if not view.message.reply_allowed:
        return "Ce message n'appelle pas de réponse : votre envoi n'a pas été transmis."
    return "La date limite de réponse est dépassée : votre envoi n'a pas été transmis."
