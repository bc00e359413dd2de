"""Sending for real: an aiosmtpd relay on 127.0.0.1 that keeps what it receives, and one pass
of the outbox through it; receiving for real: the app's inbound listener on 127.0.0.1."""

from __future__ import annotations

import re
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def inbound_listener(store, intake, **options) -> Iterator[int]:
    """The real inbound listener (the app's handler, the app's controller) on a free port of
    127.0.0.1; yields the port. `options` go to InboundHandler (limits, unmatched_dir…)."""
    from messagerie.letters.mail.inbound import InboundHandler, inbound_controller

    handler = InboundHandler(store, intake, **options)
    controller = inbound_controller(handler, "127.0.0.1", free_port())
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()
        handler.close()


def smtp_lines(data: bytes | str) -> bytes | str:
    """An e-mail's bytes with its lines ended in CRLF, as SMTP carries them (smtplib does so
    for a str, not for bytes), so that the listener reads what a real server sends."""
    if isinstance(data, bytes) and data.count(b"\n") != data.count(b"\r\n"):
        return re.sub(rb"(?<!\r)\n", b"\r\n", data)
    return data


def send_mail(
    port: int, rcpt: str, data: bytes | str, sender: str = "a@entreprise.example"
) -> tuple[int, str]:
    """One e-mail to the listener on `port`, as a company's server sends it (smtplib, lines
    ending in CRLF): the listener's answer, RCPT's when it refuses the address, else DATA's
    (code, text)."""
    data = smtp_lines(data)
    with smtplib.SMTP("127.0.0.1", port, timeout=120) as client:
        client.ehlo("mx.entreprise.example")
        client.mail(sender)
        code, text = client.rcpt(rcpt)
        if code >= 300:
            return code, text.decode()
        code, text = client.data(data)
        return code, text.decode()
