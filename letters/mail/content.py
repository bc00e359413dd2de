"""A message's e-mail content, one mapping for the outbox, the preview and la loupe; and
what one recipient of the message form will receive, in either send mode."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from messagerie.letters.mail.mime import (
    TOKEN_PLACEHOLDER,
    ContextBlock,
    MailAttachment,
    MailContent,
    MailRecipient,
    personal_link,
    render_parts,
)
from messagerie.models.consultations.detail import ConsultationDetail
from messagerie.models.messages.drafts import unique_recipients
from messagerie.models.messages.form import MENTIONS, ComposeContext, FormInput
from messagerie.models.messages.outbox import OutgoingMessage
from messagerie.models.rules.validation import (
    ValidationFailed,
    address_domain,
    parse_paris_datetime,
)
from messagerie.models.store.documents import DocumentInfo
from messagerie.models.store.enums import MessageType, SendMode


def context_block(detail: ConsultationDetail) -> ContextBlock:
    return ContextBlock(detail.identity, detail.bid_deadline)


def mention_lines(
    message_type: MessageType, mentions: Mapping[str, str]
) -> tuple[tuple[str, str], ...]:
    """The type's mentions the buyer filled, as printed after the body."""
    return tuple(
        (mention.label, "Oui" if mention.kind == "flag" else mentions[mention.key].strip())
        for mention in MENTIONS.get(message_type, ())
        if mentions.get(mention.key, "").strip()
    )


def content_of(message: OutgoingMessage, read: Callable[[str], bytes] | None = None) -> MailContent:
    """What every e-mail of `message` shares: the one mapping from a message (stored, or the
    form's as `form_message` builds it) to its e-mail, used by the outbox, the form's preview
    and la loupe. `read` gives a file's bytes from its SHA-256: the outbox attaches them in
    simple mode; elsewhere files are listed, not attached."""
    attach = read if read and message.send_mode is SendMode.SIMPLE else None
    detail = message.consultation
    return MailContent(
        subject=message.subject,
        body=message.body,
        type_label=message.type.label,
        send_mode=message.send_mode,
        reply_allowed=message.reply_allowed,
        reply_deadline=message.reply_deadline,
        context=context_block(detail),
        sender_name=detail.identity.entity,
        sender_email=detail.sender_email,
        mentions=mention_lines(message.type, message.mentions),
        attachments=tuple(
            MailAttachment(
                d.filename, d.media_type, d.size, d.antivirus, attach(d.sha256) if attach else None
            )
            for d in message.attachments
        ),
    )


def recipient_of(
    message: OutgoingMessage,
    email: str,
    name: str | None = None,
    *,
    public_url: str,
    token: str = TOKEN_PLACEHOLDER,
    reply_token: str = TOKEN_PLACEHOLDER,
    message_id_header: str | None = None,
) -> MailRecipient:
    """One recipient's own part of the e-mail: the personal link ("avec AR" only, from the
    page's `token`) and the reply address (from `reply_token`, another secret). Without
    them, a placeholder (the preview and la loupe)."""
    domain = address_domain(message.consultation.sender_email)
    return MailRecipient(
        email=email,
        name=name,
        link=personal_link(public_url, token) if message.send_mode is SendMode.WITH_AR else None,
        message_id_header=message_id_header,
        reply_to=f"reply+{reply_token}@{domain}",
    )


def form_message(
    context: ComposeContext,
    form: FormInput,
    attachments: tuple[DocumentInfo, ...],
    send_mode: SendMode,
) -> OutgoingMessage:
    """The message the form would queue, for its preview."""
    try:
        deadline = (
            parse_paris_datetime(form.reply_deadline) if form.reply_deadline.strip() else None
        )
    except ValidationFailed:
        deadline = None  # the form shows the error; the preview shows no deadline
    return OutgoingMessage(
        id=0,
        type=form.type,
        subject=" ".join(form.subject.split()),
        body=form.body,
        send_mode=send_mode,
        reply_allowed=form.reply_allowed,
        reply_deadline=deadline,
        mentions=dict(form.mentions),
        consultation=context.detail,
        attachments=attachments,
    )


@dataclass(frozen=True)
class Preview:
    to: str
    subject: str
    text: str
    html: str


def preview(
    context: ComposeContext,
    form: FormInput,
    attachments: tuple[DocumentInfo, ...],
    *,
    recipient_index: int,
    send_mode: SendMode,
    public_url: str,
) -> Preview | None:
    """The e-mail of the form's recipient number `recipient_index`; None without recipients.
    The personal token is drawn when the message is queued: the preview shows the link with
    a placeholder in its place."""
    recipients = unique_recipients(form.recipients)
    if not recipients:
        return None
    chosen = recipients[recipient_index % len(recipients)]
    message = form_message(context, form, attachments, send_mode)
    content = content_of(message)
    one = recipient_of(message, chosen.email, chosen.contact_name, public_url=public_url)
    text, html = render_parts(content, one)
    return Preview(to=chosen.email, subject=content.subject, text=text, html=html)
