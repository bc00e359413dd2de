"""What one recipient of the message form will receive: the e-mail, in either send mode."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from letters.mail import (
    ContextBlock,
    MailAttachment,
    MailContent,
    MailRecipient,
    personal_link,
    render_parts,
)
from models.compose import MENTIONS, ComposeContext, FormInput
from models.consultations import ConsultationDetail
from models.documents import DocumentInfo
from models.drafts import unique_recipients
from models.enums import MessageType, SendMode
from models.validation import ValidationFailed, parse_paris_datetime


def context_block(detail: ConsultationDetail) -> ContextBlock:
    return ContextBlock(
        reference=detail.reference,
        title=detail.title,
        object=detail.object,
        bid_deadline=detail.bid_deadline,
        organisation=detail.organisation,
        entity=detail.entity,
    )


def mention_lines(
    message_type: MessageType, mentions: Mapping[str, str]
) -> tuple[tuple[str, str], ...]:
    """The type's mentions the buyer filled, as printed after the body."""
    return tuple(
        (mention.label, "Oui" if mention.kind == "flag" else mentions[mention.key].strip())
        for mention in MENTIONS.get(message_type, ())
        if mentions.get(mention.key, "").strip()
    )


def message_content(
    detail: ConsultationDetail,
    message_type: MessageType,
    *,
    subject: str,
    body: str,
    send_mode: SendMode,
    reply_allowed: bool,
    reply_deadline: datetime | None,
    mentions: Mapping[str, str],
    attachments: tuple[MailAttachment, ...],
) -> MailContent:
    """What every e-mail of a message shares, from the form (preview) or the store (outbox)."""
    return MailContent(
        subject=subject,
        body=body,
        type_label=message_type.label,
        send_mode=send_mode,
        reply_allowed=reply_allowed,
        reply_deadline=reply_deadline,
        context=context_block(detail),
        sender_name=detail.entity,
        sender_email=detail.sender_email,
        mentions=mention_lines(message_type, mentions),
        attachments=attachments,
    )


def mail_content(
    context: ComposeContext,
    form: FormInput,
    attachments: tuple[DocumentInfo, ...],
    send_mode: SendMode,
) -> MailContent:
    try:
        deadline = (
            parse_paris_datetime(form.reply_deadline) if form.reply_deadline.strip() else None
        )
    except ValidationFailed:
        deadline = None  # the form shows the error; the preview shows no deadline
    return message_content(
        context.detail,
        form.type,
        subject=" ".join(form.subject.split()),
        body=form.body,
        send_mode=send_mode,
        reply_allowed=form.reply_allowed,
        reply_deadline=deadline,
        mentions=form.mentions,
        attachments=tuple(
            MailAttachment(d.filename, d.media_type, d.size, d.antivirus) for d in attachments
        ),
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
    content = mail_content(context, form, attachments, send_mode)
    link = personal_link(public_url) if send_mode is SendMode.WITH_AR else None
    text, html = render_parts(content, MailRecipient(chosen.email, chosen.contact_name, link))
    return Preview(to=chosen.email, subject=content.subject, text=text, html=html)
