"""The embedded final mailbox: an aiosmtpd handler that keeps every e-mail it is handed in a
Maildir folder (stdlib `mailbox`), one file per recipient.

Used when no relay is configured: the TUI declares it the recipients' final mailbox, so that
D follows E, and a demo can read what each company "received" in the data folder.
"""

from __future__ import annotations

import logging
import mailbox
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP, default
from pathlib import Path
from typing import Any

LOGGER = logging.getLogger("messagerie.mailbox")


class MailboxHandler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.maildir = mailbox.Maildir(folder, create=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content
        for address in envelope.rcpt_tos:
            message = mailbox.MaildirMessage(message_from_bytes(data, policy=SMTP))
            message["X-Envelope-To"] = address
            self.maildir.add(message)
        LOGGER.info("kept an e-mail for %d recipient(s) in %s", len(envelope.rcpt_tos), self.folder)
        return "250 2.0.0 Delivered to the local mailbox"

    def messages(self) -> list[EmailMessage]:
        """What the mailbox holds, oldest first, as a mail client reads it."""
        kept = sorted(self.maildir, key=lambda m: m.get_date())
        return [message_from_bytes(m.as_bytes(), policy=default) for m in kept]  # type: ignore[misc]
