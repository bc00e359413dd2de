"""The recipients' web page, on the store's side: what a personal link shows, the opening that
is the acknowledgement of receipt (L), the visits that are not, and the attachments a
recipient may download.

A link is only good for its own recipient of a message sent "avec AR": a simple e-mail
carries no link, and a held (draft) recipient has received nothing.

L is only ever the recipient's act: pressing « Prendre connaissance du message »
(`record_opening`). Mail security gateways fetch every link of every e-mail, so a visit of the
link is only "Lien visité", and a fetch that `automatic_fetch` recognises (a known scanner's
user agent, a HEAD, a burst of cookie-less fetches) is "Analyse automatique du lien"
(`record_visit`), kept for information.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from messagerie.models.clock import utc_now
from messagerie.models.messages.ar import OPENED_BY_BUTTON, ArFile, files_of, lots_of
from messagerie.models.messages.inbound import InboundRecipient
from messagerie.models.messages.outbox import OutgoingMessage, load_outgoing
from messagerie.models.store.chain import append_events
from messagerie.models.store.database import Store
from messagerie.models.store.enums import (
    DeliveryState,
    EventKind,
    RecipientStatus,
    ReplyDisposition,
    SendMode,
)
from messagerie.models.store.tables import (
    company,
    message,
    recipient,
    reply,
    store_meta,
)

TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{22,64}")  # token_urlsafe of 16 to 48 bytes
SECRET_KEY = "portal_secret"
# A first opening moves these statuses to "Lu"; a reply already received keeps its own.
READABLE = (
    RecipientStatus.PENDING,
    RecipientStatus.SENT,
    RecipientStatus.DELIVERED,
    RecipientStatus.NOT_DELIVERED,
)


@dataclass(frozen=True)
class PortalReply:
    received_at: datetime
    body: str
    disposition: ReplyDisposition


@dataclass(frozen=True)
class PortalView:
    recipient_id: int
    email: str
    company: str | None
    message_id_header: str  # the e-mail's Message-ID, which record_reply may need
    message: OutgoingMessage
    sent_at: datetime | None  # when the buyer sent it (queued_at)
    lots: tuple[str, ...]
    files: tuple[ArFile, ...]
    read_at: datetime | None
    replies: tuple[PortalReply, ...]

    def accepts_reply(self, now: datetime) -> bool:
        deadline = self.message.reply_deadline
        return self.message.reply_allowed and (deadline is None or now <= deadline)

    def inbound(self) -> InboundRecipient:
        """The recipient as `models.inbound.record_reply` keeps a reply for it."""
        return InboundRecipient(
            self.recipient_id,
            self.email,
            self.message.consultation.id,
            self.message.reply_allowed,
            self.message.reply_deadline,
            self.message_id_header,
        )


def _recipient_row(connection: sa.Connection, token: str) -> sa.Row | None:
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    return connection.execute(
        sa.select(
            recipient.c.id,
            recipient.c.email,
            recipient.c.message_id,
            recipient.c.read_at,
            message.c.queued_at,
            recipient.c.message_id_header,
            company.c.name.label("company"),
        )
        .join(message, message.c.id == recipient.c.message_id)
        .outerjoin(company, company.c.id == recipient.c.company_id)
        .where(
            recipient.c.token == token,
            recipient.c.delivery_state != DeliveryState.HELD,
            message.c.send_mode == SendMode.WITH_AR,
        )
    ).first()


def find_view(store: Store, token: str) -> PortalView | None:
    """What the link shows; None for a token that names nothing reachable."""
    with store.engine.connect() as connection:
        row = _recipient_row(connection, token)
        if row is None:
            return None
        lots = lots_of(connection, row.message_id)
        files = files_of(connection, row.message_id, row.id)
        replies = connection.execute(
            sa.select(reply.c.received_at, reply.c.body, reply.c.disposition)
            .where(reply.c.recipient_id == row.id)
            .order_by(reply.c.received_at)
        ).all()
    return PortalView(
        recipient_id=row.id,
        email=row.email,
        company=row.company,
        message_id_header=row.message_id_header,
        message=load_outgoing(store, row.message_id),
        sent_at=row.queued_at,
        lots=lots,
        files=files,
        read_at=row.read_at,
        replies=tuple(PortalReply(at, body, ReplyDisposition(kind)) for at, body, kind in replies),
    )


def find_file(store: Store, token: str, attachment_id: int) -> ArFile | None:
    """One attachment, only when it belongs to this link's message (and recipient), and only
    once the recipient has taken notice of the message (L): a file is content too."""
    with store.engine.connect() as connection:
        row = _recipient_row(connection, token)
        if row is None or row.read_at is None:
            return None
        files = files_of(connection, row.message_id, row.id)
    return next((f for f in files if f.id == attachment_id), None)


def record_opening(
    store: Store,
    recipient_id: int,
    *,
    client_address: str | None,
    user_agent: str | None,
    at: datetime | None = None,
) -> bool:
    """L when the recipient presses « Prendre connaissance du message » for the first time,
    with the client's address and user agent as evidence; a later press is kept as a
    "Nouvelle consultation" and changes no date. True when this was the first."""
    at = at or utc_now()
    with store.engine.begin() as connection:
        first = connection.execute(  # one conditional UPDATE: two presses at once give one L
            sa.update(recipient)
            .where(recipient.c.id == recipient_id, recipient.c.read_at.is_(None))
            .values(
                read_at=at,
                updated_at=at,
                status=sa.case(
                    (recipient.c.status.in_(READABLE), RecipientStatus.READ),
                    else_=recipient.c.status,
                ),
            )
        ).rowcount
        _insert_event(
            connection,
            recipient_id,
            EventKind.READ if first else EventKind.OPENED_AGAIN,
            OPENED_BY_BUTTON,
            (client_address, user_agent, at),
        )
    return bool(first)


VISIT_KINDS = (EventKind.LINK_VISITED, EventKind.LINK_SCANNED, EventKind.OPENED_AGAIN)


def record_visit(
    store: Store,
    recipient_id: int,
    kind: EventKind,
    detail: str,
    *,
    client_address: str | None,
    user_agent: str | None,
    at: datetime | None = None,
) -> None:
    """A visit of the link that is not the acknowledgement of receipt: the landing page shown
    ("Lien visité"), an automatic fetch ("Analyse automatique du lien"), or the content shown
    again after L ("Nouvelle consultation"). Never L, never a status or a date."""
    if kind not in VISIT_KINDS:
        raise ValueError(f"{kind.label} n'est pas une visite du lien.")
    with store.engine.begin() as connection:
        _insert_event(
            connection, recipient_id, kind, detail, (client_address, user_agent, at or utc_now())
        )


def _insert_event(
    connection: sa.Connection,
    recipient_id: int,
    kind: EventKind,
    detail: str,
    client: tuple[str | None, str | None, datetime],
) -> None:
    address, agent, at = client
    append_events(
        connection,
        [
            {
                "recipient_id": recipient_id,
                "kind": kind,
                "at": at,
                "detail": detail,
                "client_address": (address or "")[:64] or None,
                "user_agent": (agent or "")[:500] or None,
            }
        ],
    )


# --- Link scanners ----------------------------------------------------------------------------

# Who fetches links by itself, recognised by a piece of its user agent (compared in lower
# case). Only names no browser carries: a headless Chromium, or a browser opened from an
# e-mail client, is a person until proven otherwise.
SCANNER_AGENTS: tuple[tuple[str, str], ...] = (
    ("safelinks", "Microsoft Safe Links"),
    ("safe links", "Microsoft Safe Links"),
    # Chromium driven by a program says so; a person's Chrome never does.
    ("headlesschrome", "navigateur piloté par un programme (Chrome sans interface)"),
    ("ms-office", "Microsoft Office (vérification du lien)"),
    ("msoffice", "Microsoft Office (vérification du lien)"),
    ("microsoft office", "Microsoft Office (vérification du lien)"),
    ("office protocol discovery", "Microsoft Office (vérification du lien)"),
    ("bingpreview", "Microsoft Bing (aperçu du lien)"),
    ("skypeuripreview", "Microsoft Teams/Skype (aperçu du lien)"),
    ("proofpoint", "Proofpoint"),
    ("mimecast", "Mimecast"),
    ("barracuda", "Barracuda"),
    ("bot/", "robot d'indexation"),
    ("crawler", "robot d'indexation"),
    ("spider", "robot d'indexation"),
    ("+http", "robot d'indexation"),
    ("facebookexternalhit", "aperçu de lien (réseau social)"),
    ("whatsapp", "aperçu de lien (messagerie instantanée)"),
    ("preview", "aperçu de lien"),
    ("curl/", "curl (script)"),
    ("wget/", "Wget (script)"),
    ("python-requests", "Python requests (script)"),
    ("python-urllib", "Python urllib (script)"),
    ("python-httpx", "Python httpx (script)"),
    ("aiohttp", "Python aiohttp (script)"),
    ("go-http-client", "Go (script)"),
    ("okhttp", "OkHttp (script)"),
    ("apache-httpclient", "Apache HttpClient (script)"),
    ("libwww-perl", "Perl LWP (script)"),
    ("java/", "Java (script)"),
)
# This many fetches of one message's links from one address within a second, without the
# page's cookie, are a gateway checking links, not a person clicking.
BURST = 3
# Request headers by which a browser or a mail client says it fetches a link ahead of any
# click (Sec-Purpose: prefetch; Purpose, X-Purpose and X-Moz in older browsers).
PURPOSE_HEADERS = ("sec-purpose", "purpose", "x-purpose", "x-moz")
AHEAD_OF_A_CLICK = ("prefetch", "prerender", "preview")


@dataclass(frozen=True)
class LinkFetch:
    """One request for a personal link, as the page sees it."""

    method: str
    user_agent: str | None
    has_cookie: bool = False  # the page's cookie: a browser that has been here before
    # Fetches (GET) of this message's links from this address within a second: this one
    # included for a GET, the ones just before a POST.
    burst: int = 1
    purpose: str = ""  # the PURPOSE_HEADERS' values: "prefetch" when no one has clicked yet


def automatic_fetch(fetch: LinkFetch) -> str | None:
    """Why `fetch` looks automatic, in French (the event's detail); None when a person may
    have made it. Pure, and total: any user agent gets a verdict."""
    if fetch.method.upper() == "HEAD":
        return "Requête HEAD : vérification automatique du lien"
    if any(word in fetch.purpose.lower() for word in AHEAD_OF_A_CLICK):
        return "Préchargement du lien par le navigateur ou la messagerie, avant tout clic"
    agent = (fetch.user_agent or "").strip()
    if not agent:
        return "Aucun agent utilisateur : outil automatique"
    lowered = agent.lower()
    for piece, who in SCANNER_AGENTS:
        if piece in lowered:
            return f"Analyseur de liens reconnu par son agent utilisateur : {who}"
    if fetch.method.upper() == "GET" and not fetch.has_cookie and fetch.burst >= BURST:
        return (
            f"{fetch.burst} accès aux liens de ce message en moins d'une seconde depuis la "
            "même adresse, sans cookie de la page"
        )
    if fetch.method.upper() == "POST" and fetch.burst >= BURST:
        return (
            f"Bouton pressé dans la seconde qui suit {fetch.burst} accès aux liens de ce "
            "message depuis la même adresse"
        )
    return None


def portal_secret(store: Store) -> bytes:
    """The key behind the reply form's anti-forgery field, shared by every server of a store
    (the first one to start draws it; one starting at the same moment reads the winner's)."""
    read = sa.select(store_meta.c.value).where(store_meta.c.key == SECRET_KEY)
    with store.engine.connect() as connection:
        found = connection.execute(read).scalar_one_or_none()
    if found is None:
        try:
            with store.engine.begin() as connection:
                connection.execute(
                    sa.insert(store_meta).values(key=SECRET_KEY, value=secrets.token_hex(32))
                )
        except sa.exc.IntegrityError:
            pass  # another server drew it first
        with store.engine.connect() as connection:
            found = connection.execute(read).scalar_one()
    return bytes.fromhex(found)
