"""The SMTP listener for the platform's reply and bounce addresses (aiosmtpd).

- ``bounce+BOUNCE_TOKEN@…``: delivery reports. RFC 3464 ``multipart/report`` (Postfix,
  Exim) gives the action (delivered, failed, delayed) and the diagnostic; a non-standard
  bounce is read by flufl.bounce. The token names the recipient, but a report counts only if
  it also names the e-mail sent to it: its ENVID (``Original-Envelope-Id``) or its Message-ID
  in the returned headers. Any other is set aside (logged, kept as an event); a failure after
  D, L or R is kept as an event and changes no status.
- ``reply+REPLY_TOKEN@…`` (or any address, with an ``In-Reply-To`` naming a Message-ID we
  sent): an e-mailed reply, kept with its attachments once clamd has scanned them.
The page's token opens neither: each address has its own (models/messages/recipient_secrets.py);
rows sent before migration 0005 answer to their page token there. Unknown tokens are refused
at RCPT (550); anything the listener cannot read is refused with a 5xx and logged: it never
crashes on input.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from typing import Any

from flufl.bounce import all_failures

from messagerie.letters.intake.antivirus import AntivirusRefusal, check_attachment
from messagerie.letters.intake.files import IntakeOptions
from messagerie.models.messages.inbound import (
    InboundRecipient,
    find_recipient,
    record_delivery_report,
    record_note,
    record_reply,
    record_set_aside,
)
from messagerie.models.store.database import Store
from messagerie.models.store.documents import put_bytes
from messagerie.models.store.enums import EventKind, ReplyChannel

LOGGER = logging.getLogger("messagerie.inbound")
ADDRESS = re.compile(r"^(?P<kind>reply|bounce)\+(?P<token>[A-Za-z0-9_-]{16,64})@", re.IGNORECASE)
MAX_MESSAGE_BYTES = 30 * 1024 * 1024
SET_ASIDE = "Rapport {} écarté, il ne cite ni le Message-ID ni l'ENVID de ce courriel : {}"


class InboundHandler:
    """aiosmtpd handler; the store calls are short and run on the listener's loop."""

    def __init__(self, store: Store, intake: IntakeOptions) -> None:
        self.store = store
        self.intake = intake

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        match = ADDRESS.match(address)
        if match and self.addressed(match) is None:
            return "550 5.1.1 Unknown recipient token"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        try:
            mail = message_from_bytes(envelope.original_content, policy=default)
            for address in envelope.rcpt_tos:
                self.receive(address, mail)
        except Exception:  # the listener must survive any input; the sender is told
            LOGGER.exception("inbound message refused")
            return "554 5.6.0 Message could not be processed"
        return "250 2.0.0 Accepted"

    def addressed(self, match: re.Match[str]) -> InboundRecipient | None:
        """The recipient a reply or bounce address names, each by its own token."""
        if match["kind"].lower() == "bounce":
            return find_recipient(self.store, bounce_token=match["token"])
        return find_recipient(self.store, reply_token=match["token"])

    def receive(self, address: str, mail: Message) -> None:
        match = ADDRESS.match(address)
        kind = match["kind"].lower() if match else "reply"
        target = self.addressed(match) if match else None
        if target is None and mail["In-Reply-To"]:
            target = find_recipient(self.store, message_id_header=str(mail["In-Reply-To"]))
        if target is None:
            LOGGER.warning("inbound message for %s matches no recipient", address)
            return
        if kind == "bounce":
            self.delivery_report(target, mail)
        else:
            self.reply(target, mail)

    def delivery_report(self, target: InboundRecipient, mail: Message) -> None:
        """Apply a report about the e-mail sent to `target`; one that does not name that
        e-mail (its Message-ID or ENVID) is set aside, whatever it says."""
        report = _delivery_status(mail) or _bounce(mail)
        if report is None:
            LOGGER.warning("message to the bounce address of recipient %d: no report", target.id)
            return
        action, detail = report
        if not _names_the_email(mail, target):
            LOGGER.warning(
                "delivery report (%s) for recipient %d names neither its Message-ID nor its "
                "ENVID: set aside",
                action,
                target.id,
            )
            what = {"delivered": "de remise", "failed": "de non-remise"}.get(action, "de retard")
            record_set_aside(self.store, target.id, SET_ASIDE.format(what, detail))
        elif action in {"delivered", "failed"}:
            kind = record_delivery_report(
                self.store, target.id, delivered=action == "delivered", detail=detail
            )
            if kind is EventKind.REPORT_IGNORED:
                LOGGER.warning("failure report after D, L or R for recipient %d", target.id)
        else:
            record_note(self.store, target.id, detail)

    def reply(self, target: InboundRecipient, mail: Message) -> None:
        assert isinstance(mail, EmailMessage)
        body_part = mail.get_body(("plain", "html"))
        body = body_part.get_content() if body_part is not None else ""
        files = []
        for part in mail.iter_attachments():
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            filename = part.get_filename() or "piece-jointe"
            try:
                verdict = check_attachment(data, filename, self.intake.clamd)
            except AntivirusRefusal as refusal:
                body += f"\n\n[Pièce jointe « {filename} » écartée : {refusal}]"
                continue
            files.append((filename, put_bytes(self.store.blobs, data, filename), verdict))
        record_reply(self.store, target, body=body, files=files, channel=ReplyChannel.EMAIL)


def _delivery_status(mail: Message) -> tuple[str, str] | None:
    """(action, detail) of an RFC 3464 report, for its first recipient; None otherwise."""
    if mail.get_content_type() != "multipart/report":
        return None
    for fields in _status_blocks(mail):
        for block in fields[1:] or fields:
            action = str(block.get("Action", "")).strip().lower()
            if action:
                status = str(block.get("Status", "")).strip()
                diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
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
    reason = "Rebond : " + str(mail.get("Subject", "non délivré"))
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
        named = str(fields[0].get("Original-Envelope-Id", "")) if fields else ""
        # Compared without case: a relay may fold it (aiosmtpd does), and 24 random
        # characters still carry over 120 bits without it.
        if named.strip().casefold() == target.envelope_id.casefold():
            return True
    for part in mail.walk():
        if part is not mail and str(part.get("Message-ID", "")).strip() == (
            target.message_id_header
        ):
            return True  # the returned message itself (message/rfc822)
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
            if target.message_id_header in QUOTED_MESSAGE_ID.findall(text):
                return True
    return False
