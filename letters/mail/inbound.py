"""The SMTP listener for the platform's reply and bounce addresses (aiosmtpd).

- ``bounce+BOUNCE_TOKEN@…``: delivery reports. RFC 3464 ``multipart/report`` (Postfix,
  Exim) gives the action (delivered, failed, delayed) and the diagnostic; a non-standard
  bounce is read by flufl.bounce. The token names the recipient, but a report counts only if
  it also names the e-mail sent to it: its ENVID (``Original-Envelope-Id``) or its Message-ID
  in the returned headers. Any other is set aside (logged, kept as an event); a failure after
  D, L or R is kept as an event and changes no status.
- ``reply+REPLY_TOKEN@…`` (or any address, with an ``In-Reply-To`` naming a Message-ID we
  sent): an e-mailed reply, kept with its attachments once clamd has scanned them. An
  automatic reply (RFC 3834, a null sender) or an empty one is kept without R. A reply
  written in HTML only is kept as its plain text (letters/mail/html_text.py), the HTML as
  a file of the reply.
The page's token opens neither: each address has its own (models/messages/recipient_secrets.py);
rows sent before migration 0005 answer to their page token there.

The listener never blocks and never loses: lookups, parsing, scanning and storing run in a
small pool of threads, never on the event loop; the limits (InboundLimits) are answered at
DATA (552 5.3.4, 554 5.6.0); an unknown token is refused at RCPT (550 5.1.1); clamd or the
store unreachable is a 451 (the sender's server tries again) and nothing is recorded; what
one e-mail brings is stored in one transaction; one bad part (a name, a charset, an infected
file) is made safe or named in the kept reply, never the cause of losing the rest; mail that
names no recipient is kept aside as an .eml file in the data folder's ``unmatched/``, deleted
after the retention (letters/mail/unmatched.py). Log lines name the recipient's id, never a
token.
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.errors import MessageError
from email.feedparser import BytesFeedParser
from email.message import EmailMessage, Message
from email.policy import Policy, compat32, default
from email.utils import parseaddr
from pathlib import Path
from typing import Any, AnyStr, TypeVar

import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from flufl.bounce import all_failures

from messagerie.letters.intake.antivirus import AntivirusUnavailable, check_attachment
from messagerie.letters.intake.files import IntakeOptions, check_size
from messagerie.letters.mail.dkim import TxtLookup, check_dkim, txt_lookup
from messagerie.letters.mail.html_text import html_text
from messagerie.letters.mail.unmatched import (
    RETENTION_DAYS,
    UNMATCHED_FOLDER,
    keep_file,
    remove_expired,
)
from messagerie.models.clock import utc_now
from messagerie.models.errors import Refusal
from messagerie.models.messages.inbound import (
    DkimCheck,
    InboundRecipient,
    IncomingReply,
    IncomingReport,
    ReportKind,
    find_recipient,
    record_inbound,
)
from messagerie.models.store.database import Store
from messagerie.models.store.documents import StoredBytes, put_bytes, safe_filename
from messagerie.models.store.engine import StoreError
from messagerie.models.store.enums import AntivirusVerdict, EventKind, ReplyDisposition
from messagerie.models.text import control_character

LOGGER = logging.getLogger("messagerie.inbound")
ADDRESS = re.compile(r"^(?P<kind>reply|bounce)\+(?P<token>[^@]*)@", re.IGNORECASE)
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
MAX_MESSAGE_BYTES = 25 * 1024 * 1024
MAX_PARTS = 100
MAX_DEPTH = 10
SENDER_MAX = 320  # the reply table's column: an address is at most 320 characters (RFC 3696)
WORKERS = 2
SET_ASIDE = "Rapport {} écarté, il ne cite ni le Message-ID ni l'ENVID de ce courriel : {}"
CLEAN_EVERY = timedelta(hours=1)  # unmatched/ looked over at most this often

# The answers (SMTP replies are ASCII: French without accents, then English).
ACCEPTED = "250 2.0.0 Message accepte / Accepted"
RECIPIENT_OK = "250 2.1.5 Destinataire accepte / Recipient OK"
UNKNOWN_ADDRESS = "550 5.1.1 Adresse inconnue / Unknown recipient"
NO_ANTIVIRUS = (
    "451 4.7.1 Antivirus momentanement indisponible, reessayez plus tard / "
    "Virus scanner unavailable, try again later"
)
NO_STORE = (
    "451 4.3.0 Enregistrement momentanement impossible, reessayez plus tard / "
    "Cannot store the message now, try again later"
)
UNREADABLE = (
    "554 5.6.0 Message illisible, conserve pour l'exploitant / "
    "Message could not be processed, kept for the operator"
)
# Failures that pass: the sender's server tries again later.
TRANSIENT = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError, StoreError,
             OSError)  # fmt: skip
ORIGINAL_HTML = "reponse-originale"  # the file an HTML-only reply is kept as
UNREADABLE_PART = "[Une partie du courriel n'a pas pu être lue : elle est écartée.]"
AUTO_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
AUTO_SUPPRESS = frozenset({"all", "oof"})
AUTO_SUBJECTS = ("réponse automatique", "absence du bureau", "automatic reply", "auto-reply",
                 "autoreply", "out of office", "out of the office")  # fmt: skip


@dataclass(frozen=True)
class InboundLimits:
    """What one e-mail may be: its size, its number of MIME parts, their nesting depth."""

    max_bytes: int = MAX_MESSAGE_BYTES
    max_parts: int = MAX_PARTS
    max_depth: int = MAX_DEPTH

    @property
    def too_big(self) -> str:
        megabytes = self.max_bytes // (1024 * 1024)
        return (
            f"552 5.3.4 Message trop volumineux ({megabytes} Mo au plus) / "
            f"Message too big ({megabytes} MB max)"
        )

    @property
    def too_many_parts(self) -> str:
        return (
            f"554 5.6.0 Trop de parties dans le message ({self.max_parts} au plus) / "
            f"Too many MIME parts ({self.max_parts} max)"
        )

    @property
    def too_deep(self) -> str:
        return (
            f"554 5.6.0 Parties imbriquees trop profondement ({self.max_depth} niveaux au "
            f"plus) / MIME parts nested too deep ({self.max_depth} max)"
        )


class SmtpAnswer(Exception):
    """Processing stops; the sender is told `status` (4xx: try again later, 5xx: refused)."""

    def __init__(self, status: str, detail: str = "") -> None:
        super().__init__(status)
        self.status, self.detail = status, detail


@dataclass(frozen=True)
class Route:
    """One address an e-mail came to: its kind (reply, bounce, other) and its recipient."""

    address: str
    kind: str
    target: InboundRecipient | None

    @property
    def shown(self) -> str:
        """For a log line: the recipient's id, or the address with its token cut short."""
        if self.target is not None:
            return f"recipient={self.target.id}"
        return f"address={shown_address(self.address)}"


@dataclass(frozen=True)
class ReplyContent:
    body: str
    files: list[tuple[str, StoredBytes, AntivirusVerdict]]
    automatic: bool
    refused: int  # attachments named in the body instead of kept


T = TypeVar("T")


def delivery_key(data: bytes, recipient_id: int) -> str | None:
    """What makes one e-mail to one copy the same when it comes again: its very bytes (a
    relay that lost our 250 sends the same message from its queue). Two replies differ at
    least by their Date or Message-ID: neither is dropped. None without the bytes."""
    if not data:
        return None
    return hashlib.sha256(b"%d\0%s" % (recipient_id, data)).hexdigest()


def reply_sender(mail: Message, envelope: str | None) -> str | None:
    """The address a reply says it is from: its From, else the envelope's sender. Anyone can
    write either: it is kept to be shown, never to decide. None when neither names one."""
    try:
        _, address = parseaddr(str(mail.get("From") or ""))
    except (AttributeError, IndexError, TypeError, ValueError, MessageError):
        address = ""  # a From the header parser cannot read (« :;0 » raised AttributeError)
    kept = "".join(c for c in (address or envelope or "") if not control_character(c))
    return kept.strip()[:SENDER_MAX] or None


class InboundHandler:
    """aiosmtpd handler: every store, parse and scan call runs in its pool of threads."""

    def __init__(
        self,
        store: Store,
        intake: IntakeOptions,
        *,
        limits: InboundLimits | None = None,
        unmatched_dir: Path | None = None,
        unmatched_retention: timedelta = timedelta(days=RETENTION_DAYS),
        workers: int = WORKERS,
        dns: TxtLookup | None = None,
    ) -> None:
        """`dns`: how the replies' DKIM keys are looked up (default: the system's DNS)."""
        self.store, self.intake = store, intake
        self.dns = dns or txt_lookup()
        self.limits = limits or InboundLimits()
        if unmatched_dir is None and store.documents_dir is not None:
            unmatched_dir = store.documents_dir.parent / UNMATCHED_FOLDER
        self.unmatched_dir, self.unmatched_retention = unmatched_dir, unmatched_retention
        self.cleaned_at: datetime | None = None
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="inbound")

    def close(self) -> None:
        """Stop the pool (after the controller: no new work comes)."""
        self.executor.shutdown(wait=True, cancel_futures=True)

    async def in_worker(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        status = await self.in_worker(self.rcpt_status, address)
        if status.startswith("250"):
            envelope.rcpt_tos.append(address)
        return status

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        data, sender = envelope.original_content or b"", envelope.mail_from or ""
        return await self.in_worker(self.process, data, list(envelope.rcpt_tos), sender)

    def rcpt_status(self, address: str) -> str:
        """The answer to RCPT: an address with a token is ours only when the token is known."""
        try:
            route = self.route(address)
        except TRANSIENT:
            LOGGER.exception("RCPT %s: store unavailable (451)", shown_address(address))
            return NO_STORE
        if route.kind != "other" and route.target is None:
            LOGGER.warning("RCPT %s refused: unknown token (550)", shown_address(address))
            return UNKNOWN_ADDRESS
        return RECIPIENT_OK

    def route(self, address: str) -> Route:
        """Where an address leads, by its own token (reply+…@ or bounce+…@)."""
        match = ADDRESS.match(address)
        if match is None:
            return Route(address, "other", None)
        kind, token = match["kind"].lower(), match["token"]
        if not TOKEN.fullmatch(token):
            return Route(address, kind, None)
        if kind == "bounce":
            return Route(address, kind, find_recipient(self.store, bounce_token=token))
        return Route(address, kind, find_recipient(self.store, reply_token=token))

    def process(self, data: bytes, addresses: Sequence[str], sender: str) -> str:
        """The answer to one e-mail's DATA, once recorded (runs in a worker thread)."""
        routes: list[Route] = []
        self.clean_unmatched()
        try:
            routes = [self.route(address) for address in addresses]
            self.deliver(routes, parse_mail(data, self.limits), data, sender)
        except SmtpAnswer as answer:
            LOGGER.warning("inbound message for %s refused: %s %s", _who(routes, addresses),
                           answer.status[:9], answer.detail)  # fmt: skip
            return answer.status
        except TRANSIENT:
            LOGGER.exception("inbound message for %s not stored now (451)", _who(routes, addresses))
            return NO_STORE
        except Exception:  # the listener must survive any input; the sender is told
            who = _who(routes, addresses)
            LOGGER.exception("inbound message for %s could not be processed (554)", who)
            self.keep_aside_safely(data, routes or [Route(a, "other", None) for a in addresses])
            return UNREADABLE
        return ACCEPTED

    def receive(self, address: str, mail: Message, sender: str | None = None) -> None:
        """Record what `mail` brings to `address`, in the calling thread (as DATA does);
        `sender` is the envelope's ("" for the null sender), None when not known."""
        self.deliver([self.route(address)], mail, b"", sender)

    def deliver(
        self, routes: Sequence[Route], mail: Message, data: bytes, sender: str | None
    ) -> None:
        """Record what the e-mail brings to each address, in one transaction; what names no
        recipient is kept aside first (a retry rewrites the same file)."""
        items: list[IncomingReport | IncomingReply] = []
        aside: list[tuple[Route, str]] = []
        content: ReplyContent | None = None
        signed: DkimCheck | None = None
        for route in routes:
            target = route.target or (self.by_in_reply_to(mail) if route.kind == "other" else None)
            if target is None:
                aside.append((route, "no recipient: unknown In-Reply-To or no token"))
            elif route.kind == "bounce":
                report = delivery_report(target, mail)
                if report is None:
                    aside.append((route, "not a delivery report"))
                else:
                    items.append(report)
            else:
                content = content or self.reply_content(mail, sender, target)
                said_from = reply_sender(mail, sender)
                if data and signed is None:  # the raw bytes, as they were signed
                    signed = check_dkim(data, self.dns, said_from)
                items.append(
                    IncomingReply(
                        target,
                        content.body,
                        content.files,
                        content.automatic,
                        submission_key=delivery_key(data, target.id),
                        sender=said_from,
                        dkim=signed,
                    )
                )
        for route, reason in aside:
            self.keep_aside(data or _bytes_of(mail), route, reason)
        for item, outcome in zip(items, record_inbound(self.store, items), strict=True):
            _log_recorded(item, outcome, content)

    def by_in_reply_to(self, mail: Message) -> InboundRecipient | None:
        for message_id in MESSAGE_ID.findall(header(mail, "In-Reply-To"))[:5]:
            target = find_recipient(self.store, message_id_header=message_id)
            if target is not None:
                return target
        return None

    def reply_content(
        self, mail: Message, sender: str | None, target: InboundRecipient
    ) -> ReplyContent:
        """The reply's text and its files, scanned (451 when clamd cannot be asked) and then
        put in the blob store; a refused file is named at the end of the text."""
        parts = mail_content(mail, f"recipient={target.id}")
        checked: list[tuple[str, bytes, AntivirusVerdict]] = []
        notes = []
        for name, data in parts.files:
            try:
                check_size(name, len(data), self.intake)
                checked.append((name, data, check_attachment(data, name, self.intake.clamd)))
            except AntivirusUnavailable as unavailable:
                detail = f"recipient={target.id} clamd={unavailable.address} {unavailable.error}"
                raise SmtpAnswer(NO_ANTIVIRUS, detail) from unavailable
            except Refusal as refusal:
                notes.append(f"[Pièce jointe « {name} » écartée : {refusal}]")
        files = [(name, put_bytes(self.store.blobs, data, name), v) for name, data, v in checked]
        body = "\n\n".join([*parts.texts, *notes])
        return ReplyContent(body, files, is_automatic(mail, sender), len(notes))

    def keep_aside(self, data: bytes, route: Route, reason: str) -> Path:
        """Write the e-mail as it came, with where it came to and why, into unmatched/; a
        store without a data folder cannot keep it, and the sender is told (550)."""
        if self.unmatched_dir is None:
            raise SmtpAnswer(UNKNOWN_ADDRESS, f"{route.shown}: {reason}, no data folder")
        digest = hashlib.sha256(route.address.encode("utf-8", "replace") + b"\0" + data)
        now = utc_now()
        stamp = (
            f"X-Messagerie-Envelope-To: {shown_address(route.address)}\r\n"
            f"X-Messagerie-Kept-Aside: {now:%Y-%m-%dT%H:%M:%SZ} {route.shown}; {reason}\r\n"
        )
        data = stamp.encode("utf-8", "replace") + data
        path = keep_file(self.unmatched_dir, digest.hexdigest()[:32], data, now)
        LOGGER.warning("inbound message for %s kept aside as %s: %s", route.shown, path, reason)
        return path

    def clean_unmatched(self) -> None:
        """Delete what unmatched/ kept over the retention, at most once per CLEAN_EVERY (the
        first e-mail after the start does it); a failure is logged, the e-mail still taken."""
        now = utc_now()
        if self.unmatched_dir is None or (
            self.cleaned_at is not None and now - self.cleaned_at < CLEAN_EVERY
        ):
            return
        self.cleaned_at = now
        try:
            remove_expired(self.unmatched_dir, now, self.unmatched_retention)
        except Exception:  # never the cause of refusing the e-mail being received
            LOGGER.exception("unmatched: could not delete what is over the retention")

    def keep_aside_safely(self, data: bytes, routes: Sequence[Route]) -> None:
        """After an unexpected failure: keep the e-mail for the operator if at all possible."""
        route = routes[0] if routes else Route("", "other", None)
        try:
            self.keep_aside(data, route, "unreadable")
        except Exception:
            LOGGER.exception("inbound message for %s could not even be kept aside", route.shown)


# --- The controller: aiosmtpd with the listener's words for its own refusals ------------------


class InboundSMTP(SMTP):
    """aiosmtpd's session; its size refusals (MAIL FROM SIZE=, DATA) say what the limit is."""

    async def push(self, status: AnyStr) -> None:
        handler = self.event_handler
        if isinstance(status, str) and status.startswith("552 ") and hasattr(handler, "limits"):
            status = handler.limits.too_big  # type: ignore[assignment]
        await super().push(status)


class InboundController(Controller):
    def factory(self) -> SMTP:
        return InboundSMTP(self.handler, **self.SMTP_kwargs)


class TokenMask(logging.Filter):
    """aiosmtpd logs each command (at INFO, RCPT TO:<reply+TOKEN@…> included): the tokens of
    those lines are cut to their first 4 characters, whatever the level in force."""

    TOKENS = re.compile(r"\b(reply|bounce)\+([A-Za-z0-9_-]{4})[A-Za-z0-9_-]*@", re.IGNORECASE)

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        masked = self.TOKENS.sub(r"\1+\2…@", text)
        if masked != text:
            record.msg, record.args = masked, ()
        return True


def inbound_controller(handler: InboundHandler, host: str, port: int) -> Controller:
    """The listener on host:port (start() it; stop() it, then handler.close())."""
    smtp_log = logging.getLogger("mail.log")
    if not any(isinstance(known, TokenMask) for known in smtp_log.filters):
        smtp_log.addFilter(TokenMask())
    return InboundController(
        handler, hostname=host, port=port, data_size_limit=handler.limits.max_bytes
    )


# --- Reading what came: limits, headers, text and files ---------------------------------------


class _PartCounter:
    """The parser's message factory: stops the parse at the first part over the limit."""

    def __init__(self, limits: InboundLimits) -> None:
        self.limits, self.count = limits, 0

    def __call__(self, policy: Policy = default) -> EmailMessage:
        self.count += 1
        if self.count > self.limits.max_parts:
            raise SmtpAnswer(self.limits.too_many_parts, f"over {self.limits.max_parts} parts")
        return EmailMessage(policy=policy)


def parse_mail(data: bytes, limits: InboundLimits) -> EmailMessage:
    """The e-mail, or SmtpAnswer when it is over a limit (never parsed past it)."""
    if len(data) > limits.max_bytes:
        raise SmtpAnswer(limits.too_big, f"{len(data)} bytes")
    counter = _PartCounter(limits)
    parser = BytesFeedParser(counter, policy=default)
    counter.count = 0  # the parser tries its factory once, when built
    parser.feed(data)
    mail = parser.close()
    depth = _depth(mail)
    if depth > limits.max_depth:
        raise SmtpAnswer(limits.too_deep, f"{depth} levels")
    assert isinstance(mail, EmailMessage)
    return mail


def _depth(mail: Message) -> int:
    deepest, stack = 0, [(mail, 0)]
    while stack:
        part, depth = stack.pop()
        deepest = max(deepest, depth)
        if part.is_multipart():  # get_payload() of a leaf decodes it, by any charset named
            children = part.get_payload()
            stack.extend((child, depth + 1) for child in children if isinstance(child, Message))
    return deepest


def readable(text: str) -> str:
    """Text with the raw bytes the parser kept (surrogate escapes) read as UTF-8, else
    Latin-1; any other surrogate replaced."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def header(mail: Message, name: str) -> str:
    """A header's text, '' when absent; one the email package cannot parse is read raw."""
    try:
        value = mail.get(name)
    except Exception:  # the email package's header parser fails on some input
        raws = (raw for key, raw in mail.raw_items() if key.lower() == name.lower())
        value = next(raws, None)
    return "" if value is None else readable(str(value))


def is_automatic(mail: Message, sender: str | None) -> bool:
    """An automatic reply (RFC 3834 and what Exchange, Gmail and others write instead);
    `sender` "" is the null sender (<>), None not known."""
    if sender is not None and not sender.strip("<> "):
        return True
    submitted = header(mail, "Auto-Submitted").split(";")[0].strip().lower()
    if submitted not in {"", "no"}:
        return True
    if header(mail, "Precedence").strip().lower() in AUTO_PRECEDENCE:
        return True
    flags = (header(mail, "X-Autoreply"), header(mail, "X-Autorespond"))
    if any(flag.strip().lower() not in {"", "no"} for flag in flags):
        return True
    suppress = header(mail, "X-Auto-Response-Suppress").lower().replace(",", " ").split()
    if AUTO_SUPPRESS.intersection(suppress):
        return True
    return header(mail, "Subject").strip().lower().startswith(AUTO_SUBJECTS)


@dataclass
class MailContent:
    """The text parts (in order) and the files of an e-mail, as far as they can be read."""

    texts: list[str] = field(default_factory=list)
    files: list[tuple[str, bytes]] = field(default_factory=list)


def mail_content(mail: Message, who: str) -> MailContent:
    """Walk the parts (one of each multipart/alternative): inline text is the body, any other
    part a file with a safe name. A part that cannot be read is named, the others kept;
    `who` names the recipient in the log."""
    content = MailContent()
    stack: list[Message] = [mail]
    while stack:
        part = stack.pop()
        try:
            children = _children(part)
            if children is None:
                _take(part, content)
            else:
                stack.extend(reversed(children))
        except Exception:  # one unreadable part never loses the others
            LOGGER.warning("unreadable MIME part for %s set aside", who, exc_info=True)
            content.texts.append(UNREADABLE_PART)
    return content


def _children(part: Message) -> list[Message] | None:
    """The parts to read inside a multipart (None for a leaf); of an alternative, the plain
    text, else the HTML, else the last."""
    if part.get_content_maintype() != "multipart" or not part.is_multipart():
        return None
    children = [child for child in part.get_payload() if isinstance(child, Message)]
    if part.get_content_subtype() != "alternative" or not children:
        return children
    types = [child.get_content_type() for child in children]
    for wanted in ("text/plain", "text/html"):
        if wanted in types:
            return [children[types.index(wanted)]]
    return children[-1:]


def _take(part: Message, content: MailContent) -> None:
    try:
        name = part.get_filename()
    except Exception:  # an unreadable name: the file is kept under a made-up one
        name = ""
    inline_text = part.get_content_type() in {"text/plain", "text/html"}
    if name is None and part.get_content_disposition() != "attachment" and inline_text:
        if part.get_content_type() == "text/html":
            _take_html(text_of(part), content)
        else:
            content.texts.append(text_of(part))
        return
    if part.get_content_maintype() == "multipart":  # a multipart without parts: its text
        content.texts.append(text_of(part))
        return
    number = len(content.files) + 1
    fallback = f"message-joint-{number}.eml" if part.is_multipart() else f"piece-jointe-{number}"
    content.files.append((safe_filename(readable(name or ""), fallback), _payload(part)))


def _take_html(html: str, content: MailContent) -> None:
    """An HTML text part (a reply written in HTML only): its plain text is the body, never
    markup; the HTML itself is kept as a file of the reply, in UTF-8 with a byte order mark
    (a browser then reads it in the charset the e-mail declared, whatever its <meta> says).
    An HTML part without text (an empty reply) keeps no file."""
    text = html_text(html)
    content.texts.append(text)
    if text.strip():
        number = sum(name.startswith(ORIGINAL_HTML) for name, _ in content.files) + 1
        name = f"{ORIGINAL_HTML}.html" if number == 1 else f"{ORIGINAL_HTML}-{number}.html"
        content.files.append((name, "\ufeff".encode() + html.encode("utf-8", "replace")))


def text_of(part: Message) -> str:
    """A text part's text: its charset, else UTF-8, else Latin-1 (never an error)."""
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    try:
        charset = part.get_content_charset() or "utf-8"
        codecs.lookup(charset)
        return data.decode(charset, "replace")
    except (LookupError, ValueError, TypeError):  # unknown, or not a text encoding
        pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _payload(part: Message) -> bytes:
    """A file's bytes; a forwarded e-mail (message/rfc822) as it was."""
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return payload
    if part.is_multipart():
        inner = part.get_payload()
        return b"".join(_bytes_of(message) for message in inner if isinstance(message, Message))
    return b""


def _bytes_of(mail: Message) -> bytes:
    return mail.as_bytes(policy=compat32)


def shown_address(address: str) -> str:
    """An address for a log line or the kept-aside file: a token cut to its first 4 chars."""
    match = ADDRESS.match(address)
    if match is None:
        return address
    return f"{match['kind']}+{match['token'][:4]}…@{address[match.end() :]}"


def _who(routes: Sequence[Route], addresses: Sequence[str]) -> str:
    if routes:
        return ", ".join(route.shown for route in routes)
    return ", ".join(f"address={shown_address(address)}" for address in addresses)


def _log_recorded(
    item: IncomingReport | IncomingReply,
    outcome: EventKind | ReplyDisposition,
    content: ReplyContent | None,
) -> None:
    if isinstance(item, IncomingReply):
        LOGGER.info("reply recorded recipient=%d disposition=%s files=%d refused=%d",
                    item.target.id, outcome.value, len(item.files),
                    content.refused if content else 0)  # fmt: skip
    elif outcome is EventKind.REPORT_SET_ASIDE:
        LOGGER.warning("delivery report for recipient %d names neither its Message-ID nor its "
                       "ENVID: set aside", item.recipient_id)  # fmt: skip
    elif outcome is EventKind.REPORT_IGNORED:
        LOGGER.warning("failure report after D, L or R for recipient %d", item.recipient_id)
    else:
        LOGGER.info("delivery report recorded recipient=%d event=%s", item.recipient_id,
                    outcome.value)  # fmt: skip


# --- Delivery reports ------------------------------------------------------------------------


def delivery_report(target: InboundRecipient, mail: Message) -> IncomingReport | None:
    """What a report about the e-mail sent to `target` does; one that does not name that
    e-mail (its Message-ID or ENVID) is set aside, whatever it says. None: no report."""
    report = _delivery_status(mail) or _bounce(mail)
    if report is None:
        return None
    action, detail = report
    if not _names_the_email(mail, target):
        what = {"delivered": "de remise", "failed": "de non-remise"}.get(action, "de retard")
        return IncomingReport(target.id, ReportKind.SET_ASIDE, SET_ASIDE.format(what, detail))
    kinds = {"delivered": ReportKind.DELIVERED, "failed": ReportKind.FAILED}
    return IncomingReport(target.id, kinds.get(action, ReportKind.DELAYED), detail)


def _delivery_status(mail: Message) -> tuple[str, str] | None:
    """(action, detail) of an RFC 3464 report, for its first recipient; None otherwise."""
    if mail.get_content_type() != "multipart/report":
        return None
    for fields in _status_blocks(mail):
        for block in fields[1:] or fields:
            action = header(block, "Action").strip().lower()
            if action:
                status = header(block, "Status").strip()
                diagnostic = " ".join(header(block, "Diagnostic-Code").split())
                detail = " ".join(filter(None, (status, diagnostic))) or action
                if action not in {"delivered", "failed"}:
                    detail = f"Avis de retard : {detail}"
                return action, detail
    return None


def _bounce(mail: Message) -> tuple[str, str] | None:
    """(action, detail) of a non-standard bounce, as flufl.bounce reads it; None otherwise."""
    temporary, permanent = all_failures(mail)
    if not (permanent or temporary):
        return None
    reason = "Rebond : " + (header(mail, "Subject") or "non délivré")
    return ("failed" if permanent else "delayed"), reason


def _status_blocks(mail: Message) -> Iterator[list[Message]]:
    """The field blocks of each message/delivery-status part: per-message, per-recipient…"""
    for part in mail.walk():
        if part.get_content_type() == "message/delivery-status":
            payload: Any = part.get_payload()
            yield list(payload) if isinstance(payload, list) else []


QUOTED_MESSAGE_ID = re.compile(r"^[ \t>]*message-id:\s*(<[^<>\s]{1,250}>)", re.I | re.M)


def _names_the_email(mail: Message, target: InboundRecipient) -> bool:
    """Whether a report names the e-mail sent to `target`: its ENVID (Original-Envelope-Id,
    RFC 3464) or its Message-ID, in the returned message or headers (message/rfc822,
    text/rfc822-headers, or quoted in the text of a non-standard bounce). The report's own
    headers do not count."""
    if not target.message_id_header:
        return False
    for fields in _status_blocks(mail):
        named = header(fields[0], "Original-Envelope-Id") if fields else ""
        # Compared without case: a relay may fold it (aiosmtpd does), and 24 random
        # characters still carry over 120 bits without it.
        if named.strip().casefold() == target.envelope_id.casefold():
            return True
    for part in mail.walk():
        if part is not mail and header(part, "Message-ID").strip() == target.message_id_header:
            return True  # the returned message itself (message/rfc822)
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
            if target.message_id_header in QUOTED_MESSAGE_ID.findall(text):
                return True
    return False
