"""The e-mail a recipient receives for a secure message (ARCHITECTURE.md, "Messages and
their life").

`render_bytes` builds the e-mail (multipart/alternative text + HTML from the jinja2 templates
in `letters/templates/mail/`, in a multipart/mixed with the files in simple mode);
`render_email` is the same, parsed back into an `EmailMessage` for inspection:

- avec accusé de réception: a notice with the recipient's personal link; the content and the
  attachments stay on the recipients' web page, whose first opening is the AR;
- simple: the content, the mandatory mentions and the attachments travel in the e-mail.

Both end with the reply information and the contextual block. No Textual, no database here.
"""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email.base64mime import body_encode
from email.encoders import encode_base64
from email.header import Header
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import SMTP, compat32
from email.utils import format_datetime, formataddr
from typing import Any

import jinja2
from markupsafe import escape

from messagerie.letters import TEMPLATES_DIR
from messagerie.models.clock import utc_now
from messagerie.models.consultations.identity import ConsultationIdentity
from messagerie.models.formatting import paris_minutes, size_text
from messagerie.models.rules.validation import relay_address
from messagerie.models.store.enums import AntivirusVerdict, SendMode
from messagerie.models.text import one_line

CONTEXT_HEADING = "Consultation concernée par cet échange"
LINK_PLACEHOLDER = "[lien personnel créé à l'envoi]"
NO_REPLY = "Ce message n'appelle pas de réponse par ce canal."

COMPAT32_SMTP = compat32.clone(linesep="\r\n")

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=jinja2.select_autoescape(["html"], default_for_string=False),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class ContextBlock:
    """The "bloc contextuel" appended to every message, in the e-mail and on the web page."""

    consultation: ConsultationIdentity
    bid_deadline: datetime | None  # tz-aware UTC

    def lines(self) -> tuple[tuple[str, str], ...]:
        """(label, value) in the order the platform prints them."""
        deadline = paris_minutes(self.bid_deadline) if self.bid_deadline else "non renseignée"
        return (
            ("Référence | Intitulé", self.consultation.reference_and_title),
            ("Objet", self.consultation.object),
            ("Date et heure limite de remise des plis", deadline),
            ("Organisme | Entité d'achat", self.consultation.publisher),
        )


@dataclass(frozen=True)
class MailAttachment:
    filename: str
    media_type: str  # e.g. "application/pdf"
    size: int
    antivirus: AntivirusVerdict
    data: bytes | None = None  # None in previews: listed but not attached


@dataclass(frozen=True)
class MailContent:
    subject: str
    body: str  # plain text typed by the buyer, paragraphs separated by blank lines
    type_label: str  # e.g. "Courrier de rejet"
    send_mode: SendMode
    reply_allowed: bool
    reply_deadline: datetime | None
    context: ContextBlock
    sender_name: str  # the purchasing entity
    sender_email: str
    mentions: tuple[tuple[str, str], ...] = ()  # (label, value) mandatory mentions
    attachments: tuple[MailAttachment, ...] = ()


@dataclass(frozen=True)
class MailRecipient:
    email: str
    name: str | None = None
    link: str | None = None  # personal link (WITH_AR mode), e.g. https://host/m/<token>
    message_id_header: str | None = None  # e.g. "<abc@domain>"
    reply_to: str | None = None  # reply address for e-mailed replies, when replies are allowed


TOKEN_PLACEHOLDER = "[jeton-personnel-créé-à-l-envoi]"


def personal_link(public_url: str, token: str = TOKEN_PLACEHOLDER) -> str:
    """The recipient's link to the web page (the placeholder token in previews)."""
    return f"{public_url.rstrip('/')}/m/{token}"


def render_parts(content: MailContent, recipient: MailRecipient) -> tuple[str, str]:
    """(text, html) bodies exactly as render_email puts them in the message (for the preview).

    Only the personal link differs from one recipient to the next: the templates are rendered
    once per message with a stand-in link, which each recipient's link then replaces."""
    _check(content)
    text, html = _parts(content, recipient.link is not None)
    if recipient.link is None:
        return text, html
    return (
        text.replace(_LINK_STAND_IN, recipient.link),
        html.replace(_LINK_STAND_IN, str(escape(recipient.link))),
    )


_LINK_STAND_IN = "https://lien-personnel.invalid/m/0"


@functools.lru_cache(maxsize=8)
def _parts(content: MailContent, with_link: bool) -> tuple[str, str]:
    with_ar = content.send_mode is SendMode.WITH_AR
    stand_in = MailRecipient("", link=_LINK_STAND_IN if with_link else None)
    variables = _variables(content, stand_in, with_ar)
    name = "mail/notice" if with_ar else "mail/content"
    text = _ENVIRONMENT.get_template(f"{name}.txt").render(variables)
    html = _ENVIRONMENT.get_template(f"{name}.html").render(variables)
    return _tidy(text), _tidy(html)


def render_bytes(content: MailContent, recipient: MailRecipient) -> bytes:
    """The e-mail for one recipient, as the SMTP relay receives it (CRLF line ends).

    The MIME body is built once per message by the email package (`_skeleton`); each
    recipient only adds its own headers and, in "avec AR" mode, the two parts that carry its
    personal link, encoded by the same base64 encoder. The outbox sends one e-mail per
    recipient: this keeps the assembly off its critical path."""
    text, html = render_parts(content, recipient)
    skeleton = _skeleton(content, recipient.link is not None)
    body = skeleton.body
    if recipient.link is not None:
        body = body.replace(skeleton.text_block, _base64(text), 1)
        body = body.replace(skeleton.html_block, _base64(html), 1)
    headers = [
        ("To", _mailbox(recipient.name, recipient.email)),
        ("Date", format_datetime(utc_now())),
        ("Message-ID", recipient.message_id_header),
        ("Reply-To", recipient.reply_to if content.reply_allowed else None),
    ]  # fmt: skip
    own = "".join(f"{name}: {value}\r\n" for name, value in headers if value)
    # ASCII, but for an address that only SMTPUTF8 carries: UTF-8 then, as RFC 6532 has it.
    return skeleton.headers + own.encode("utf-8") + body


def _mailbox(name: str | None, email: str) -> str:
    """The To header: the name encoded (RFC 2047), the address as the relay carries it."""
    if not name:
        return email
    if email.isascii():
        return formataddr((one_line(name), email), charset="utf-8")
    return f"{Header(one_line(name), 'utf-8').encode()} <{email}>"  # formataddr refuses it


@dataclass(frozen=True)
class _Skeleton:
    headers: bytes  # the message's own: From, Subject
    body: bytes  # MIME-Version, Content-Type and every part
    text_block: bytes  # the base64 of the parts rendered with the stand-in link
    html_block: bytes


@functools.lru_cache(maxsize=8)
def _skeleton(content: MailContent, with_link: bool) -> _Skeleton:
    text, html = _parts(content, with_link)
    body = MIMEMultipart("alternative", boundary=_boundary())
    body.attach(MIMEText(text, "plain", "utf-8"))
    body.attach(MIMEText(html, "html", "utf-8"))
    files = [a for a in content.attachments if a.data is not None]
    if content.send_mode is not SendMode.SIMPLE or not files:
        message = body
    else:
        message = MIMEMultipart("mixed", boundary=_boundary())
        message.attach(body)
        for attachment in files:
            maintype, _, subtype = attachment.media_type.partition("/")
            if not subtype:
                maintype, subtype = "application", "octet-stream"
            part = MIMEApplication(attachment.data or b"", subtype, _encoder=encode_base64)
            part.set_type(f"{maintype}/{subtype}")
            part.add_header(
                "Content-Disposition", "attachment", filename=("utf-8", "", attachment.filename)
            )
            message.attach(part)
    address = relay_address(content.sender_email) or content.sender_email  # IDNA domain
    sender = formataddr((one_line(content.sender_name), address), charset="utf-8")
    subject = Header(content.subject, "utf-8").encode(linesep="\r\n")
    return _Skeleton(
        f"From: {sender}\r\nSubject: {subject}\r\n".encode("ascii"),
        message.as_bytes(policy=COMPAT32_SMTP),
        _base64(text),
        _base64(html),
    )


def _base64(text: str) -> bytes:
    """A text part's payload exactly as MIMEText(text, _, "utf-8") encodes it."""
    return body_encode(text.encode("utf-8"), 76, "\r\n").encode("ascii")


def _boundary() -> str:
    """A MIME boundary given up front: the email package would otherwise search every part
    for its random one (half the time of an e-mail). Every part is base64, whose alphabet has
    no "_", so "=_" + random hex can never occur in them."""
    return "=_" + secrets.token_hex(16)


def render_email(content: MailContent, recipient: MailRecipient) -> EmailMessage:
    """The same e-mail, parsed back into an EmailMessage (policy SMTP) to be inspected."""
    parsed = message_from_bytes(render_bytes(content, recipient), policy=SMTP)
    assert isinstance(parsed, EmailMessage)
    return parsed


def page_variables(content: MailContent) -> dict[str, Any]:
    """What the recipients' web page shows of the message: the content, as the simple e-mail
    carries it (paragraphs, mentions, contextual block)."""
    with_ar = content.send_mode is SendMode.WITH_AR
    return _variables(content, MailRecipient(""), with_ar=with_ar)


def page_text(content: MailContent) -> str:
    """The content the recipients' page shows, as text (la loupe of an "avec AR" message)."""
    return _tidy(template("mail/content.txt").render(page_variables(content)))


def template(name: str) -> jinja2.Template:
    """A template of letters/templates (autoescaped when HTML, strict about missing names)."""
    return _ENVIRONMENT.get_template(name)


# --- helpers --------------------------------------------------------------------------------


def _check(content: MailContent) -> None:
    if "\r" in content.subject or "\n" in content.subject:
        raise ValueError("L'objet du message ne peut pas contenir de retour à la ligne.")
    if content.send_mode is SendMode.SIMPLE:
        for attachment in content.attachments:
            if attachment.antivirus is AntivirusVerdict.INFECTED and attachment.data is not None:
                raise ValueError(
                    f"La pièce jointe « {attachment.filename} » est infectée : "
                    "elle ne peut pas être envoyée."
                )


def _variables(content: MailContent, recipient: MailRecipient, with_ar: bool) -> dict[str, Any]:
    return {
        "subject": content.subject,
        "type_label": content.type_label,
        "sender_name": content.sender_name,
        "reference": content.context.consultation.reference,
        "link": recipient.link,
        "link_placeholder": LINK_PLACEHOLDER,
        "attachments_phrase": _attachments_phrase(len(content.attachments)),
        "paragraphs": _paragraphs(content.body),
        "mentions": [(label, _lines(value)) for label, value in content.mentions],
        "attachments": [(a.filename, _attachment_note(a)) for a in content.attachments],
        "reply": _reply_sentence(content, with_ar),
        "context_heading": CONTEXT_HEADING,
        "context_lines": content.context.lines(),
    }


def _lines(text: str) -> list[str]:
    """The lines of typed text, with any line ending, trailing spaces removed."""
    return [line.rstrip() for line in text.strip().splitlines()]


def _paragraphs(text: str) -> list[list[str]]:
    """Typed text as paragraphs (separated by blank lines), each a list of lines."""
    blocks = re.split(r"\n[ \t]*\n", "\n".join(_lines(text)))
    return [_lines(block) for block in blocks if block.strip()]


def _attachments_phrase(count: int) -> str:
    """ "Le contenu de ce message (avec 2 pièces jointes) est accessible"."""
    if count == 0:
        return "Le contenu de ce message est accessible"
    noun = "pièce jointe" if count == 1 else "pièces jointes"
    return f"Le contenu de ce message (avec {count} {noun}) est accessible"


def _attachment_note(attachment: MailAttachment) -> str:
    note = size_text(attachment.size)
    if attachment.antivirus is AntivirusVerdict.NOT_SCANNED:
        note += ", non analysé par l'antivirus"
    elif attachment.antivirus is AntivirusVerdict.INFECTED:
        note += ", infecté"
    return note


def _reply_sentence(content: MailContent, with_ar: bool) -> str:
    if not content.reply_allowed:
        return NO_REPLY
    sentence = "Vous pouvez répondre à ce message"
    if content.reply_deadline:
        sentence += f" jusqu'au {paris_minutes(content.reply_deadline)}"
    sentence += " en suivant le lien personnel" if with_ar else " en répondant à ce courriel"
    return sentence + "."


def _tidy(rendered: str) -> str:
    """At most one blank line in a row, no trailing spaces, one final newline: the form
    `EmailMessage.get_content()` gives back."""
    lines = [line.rstrip() for line in rendered.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"
