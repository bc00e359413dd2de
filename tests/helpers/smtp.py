"""Sending for real: an aiosmtpd relay on 127.0.0.1 that keeps what it receives, and one pass
of the outbox through it."""

from __future__ import annotations

import sqlalchemy as sa
from aiosmtpd.controller import Controller

from messagerie.letters.mail.outbox import run_once
from messagerie.letters.mail.transport import parse_smtp_url
from messagerie.models.store.tables import Recipient, table_of
from messagerie.tui.embedded import free_port

recipient = table_of(Recipient)
PUBLIC_URL = "https://messagerie.example/"


class Relay:
    """An aiosmtpd handler that keeps what it receives, with faults by recipient address:
    temp… gets a 451 at the first RCPT, perm… always a 550."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, bytes]] = []  # (envelope sender, rcpt, data)
        self.refused_once: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("perm"):
            return "550 5.1.1 Utilisateur inconnu"
        if address.startswith("temp") and address not in self.refused_once:
            self.refused_once.add(address)
            return "451 4.3.0 Réessayez plus tard"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            self.received.append((envelope.mail_from, rcpt, envelope.original_content))
        return "250 2.0.0 Accepté"


async def send_out(store, message_id, relay: Relay | None = None):
    """One pass of the outbox through `relay` (a fresh one unless given, to read what it
    received); the message's recipients by address, as stored afterwards."""
    controller = Controller(relay or Relay(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        await run_once(
            store, parse_smtp_url(f"smtp://127.0.0.1:{controller.port}"), public_url=PUBLIC_URL
        )
    finally:
        controller.stop()
    with store.engine.connect() as connection:
        return {
            row.email: row
            for row in connection.execute(
                sa.select(recipient).where(recipient.c.message_id == message_id)
            )
        }
