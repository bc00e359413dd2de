"""The outbox's send rate against raw aiosmtplib, in one run.

A local aiosmtpd server (a Sink, in another process) receives:
- raw: the same e-mails, already rendered, sent with aiosmtplib on one reused connection;
- outbox: `run_once` on a SQLite store holding one queued message to N recipients, with all
  its bookkeeping (claims with leases, rendering each e-mail, one commit and one event per
  recipient).
Prints both rates and the ratio (target ≥ 0.8×). Not a test.

    python bench/send_throughput.py [--recipients 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import aiosmtplib
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from anywhere

from buyer import BUYER  # bench/ is this script's folder
from sink import smtp_sink  # bench/ is this script's folder

from messagerie.letters.mail.content import content_of
from messagerie.letters.mail.outbox import envelope, run_once
from messagerie.letters.mail.transport import parse_smtp_url
from messagerie.models.demo.builder import seed_demo
from messagerie.models.messages.drafts import DraftRecipient
from messagerie.models.messages.form import load_context
from messagerie.models.messages.outbox import claim, release
from messagerie.models.messages.presets import preset_form
from messagerie.models.messages.queue import queue_message
from messagerie.models.store.database import Store, open_store
from messagerie.models.store.enums import MessageType
from messagerie.models.store.tables import consultation

PUBLIC_URL = "https://messagerie.example"


def queue_one(store: Store, recipients: int) -> None:
    with store.engine.connect() as connection:
        cid = connection.execute(
            sa.select(consultation.c.id).where(consultation.c.reference == "202601")
        ).scalar_one()
    form = replace(
        preset_form(load_context(store, cid), MessageType.FREE),
        body="Bonjour,\n\nMesure du débit d'envoi.",
        recipients=tuple(DraftRecipient(f"r{n}@entreprise.example") for n in range(recipients)),
    )
    queue_message(store, form, actor=BUYER)


async def raw_send(port: int, store: Store) -> tuple[float, int]:
    """The same e-mails, rendered beforehand, on one connection: seconds and count."""
    claimed = claim(store, limit=10**9)
    envelopes = [
        envelope(content_of(batch.message, store.blobs.read), batch.message, one, PUBLIC_URL)
        for batch in claimed
        for one in batch.recipients
    ]
    release(store, {}, marks=[batch.lease_until for batch in claimed])
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
    started = time.perf_counter()
    await client.connect()
    for item in envelopes:
        await client.sendmail(item.sender, [item.recipient], item.data)
    await client.quit()
    return time.perf_counter() - started, len(envelopes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    raw_rates, outbox_rates = [], []
    with smtp_sink() as port:
        for _ in range(options.runs):
            with tempfile.TemporaryDirectory() as folder:
                store = open_store(
                    f"sqlite:///{folder}/bench.sqlite3",
                    upgrade=True,
                    documents_dir=Path(folder) / "documents",
                )
                seed_demo(store, today=date(2026, 11, 27))
                with store.engine.begin() as connection:  # only our message is queued
                    connection.execute(sa.text("update recipient set delivery_state='accepted'"))
                queue_one(store, options.recipients)
                seconds, count = asyncio.run(raw_send(port, store))
                raw_rates.append(count / seconds)
                started = time.perf_counter()
                report = asyncio.run(
                    run_once(
                        store, parse_smtp_url(f"smtp://127.0.0.1:{port}"), public_url=PUBLIC_URL
                    )
                )
                outbox_rates.append(report.sent / (time.perf_counter() - started))
                assert report.sent == options.recipients, report
                store.close()
    raw, outbox = statistics.median(raw_rates), statistics.median(outbox_rates)
    print(f"{options.recipients} recipients, median of {options.runs} runs, aiosmtpd on 127.0.0.1")
    print(f"raw aiosmtplib, one connection:  {raw:7.0f} e-mails/s")
    print(f"outbox with its bookkeeping:     {outbox:7.0f} e-mails/s  {outbox / raw:.2f}× "
          "(target ≥ 0.8×)")  # fmt: skip


if __name__ == "__main__":
    main()
