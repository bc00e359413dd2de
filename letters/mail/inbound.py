"""The SMTP listener for the platform's reply and bounce addresses (aiosmtpd).

- ``bounce+TOKEN@…``: delivery reports. RFC 3464 ``multipart/report`` (Postfix, Exim) gives
  the action (delivered, failed, delayed) and the diagnostic; a non-standard bounce is read by
  flufl.bounce; either way the token names the recipient.
- ``reply+TOKEN@…`` (or any address, with an ``In-Reply-To`` naming a Message-ID we sent):
  an e-mailed reply, kept with its attachments once clamd has scanned them.
Unknown tokens are refused at RCPT (550); anything the listener cannot read is refused with
a 5xx and logged: it never crashes on input.
"""

from __future__ import annotations

import logging
import re
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
)
from messagerie.models.store.database import Store
from messagerie.models.store.documents import put_bytes
from messagerie.models.store.enums import ReplyChannel

LOGGER = logging.getLogger("messagerie.inbound")
ADDRESS = re.compile(r"^(?P<kind>reply|bounce)\+(?P<token>[A-Za-z0-9_-]{16,64})@", re.IGNORECASE)
MAX_MESSAGE_BYTES = 30 * 1024 * 1024


class InboundHandler:
    """aiosmtpd handler; the store calls are short and run on the listener's loop."""

    def __init__(self, store: Store, intake: IntakeOptions) -> None:
        self.store = store
        self.intake = intake

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        match = ADDRESS.match(address)
        if match and find_recipient(self.store, token=match["token"]) is None:
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

    def receive(self, address: str, mail: Message) -> None:
        match = ADDRESS.match(address)
        token = match["token"] if match else None
        kind = match["kind"].lower() if match else "reply"
        target = find_recipient(self.store, token=token) if token else None
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
        report = _delivery_status(mail)
        if report is not None:
            action, detail = report
            if action == "delivered":
                record_delivery_report(self.store, target.id, delivered=True, detail=detail)
            elif action == "failed":
                record_delivery_report(self.store, target.id, delivered=False, detail=detail)
            else:
                record_note(self.store, target.id, f"Avis de retard : {detail}")
            return
        temporary, permanent = all_failures(mail)
        if permanent or temporary:
            reason = "Rebond : " + str(mail.get("Subject", "non délivré"))
            if permanent:
                record_delivery_report(self.store, target.id, delivered=False, detail=reason)
            else:
                record_note(self.store, target.id, reason)

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
    for part in mail.walk():
        if part.get_content_type() == "message/delivery-status":
            payload: Any = part.get_payload()  # per-message block, then per-recipient ones
            fields = list(payload) if isinstance(payload, list) else []
            for block in fields[1:] or fields:
                action = str(block.get("Action", "")).strip().lower()
                if action:
                    status = str(block.get("Status", "")).strip()
                    diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
                    return action, " ".join(filter(None, (status, diagnostic))) or action
    return None
