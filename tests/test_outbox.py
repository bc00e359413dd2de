"""The outbox against a real aiosmtpd relay on 127.0.0.1, on both stores: E, retries after a
4xx, "Non délivré" after a 5xx, D from a final mailbox, and an unreachable relay."""

import asyncio
import contextlib
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from aiosmtpd.smtp import SMTP

from messagerie.letters.mail.mime import personal_link
from messagerie.letters.mail.outbox import run_once
from messagerie.letters.mail.transport import (
    CONNECTIONS,
    Envelope,
    Outcome,
    RelayProblem,
    parse_smtp_url,
    send_batch,
)
from messagerie.letters.mail.transport import Relay as TransportRelay
from messagerie.models.clock import utc_now
from messagerie.models.formatting import paris_minutes
from messagerie.models.messages.drafts import DraftRecipient
from messagerie.models.messages.form import load_context
from messagerie.models.messages.outbox import claim, outbox_counts
from messagerie.models.messages.presets import preset_form
from messagerie.models.messages.queue import queue_message
from messagerie.models.messages.recipient_secrets import envelope_id
from messagerie.models.store.database import open_store
from messagerie.models.store.enums import (
    ConsultationStatus,
    DeliveryState,
    EventKind,
    MessageType,
    RecipientStatus,
    RegisterKind,
    SendMode,
)
from messagerie.models.store.tables import (
    Attachment,
    Event,
    Message,
    PurchasingEntity,
    Recipient,
    table_of,
)
from messagerie.tui.embedded import free_port
from tests.helpers.factories import add_consultations, add_register_entries
from tests.helpers.messages import consultation_with_deposit, queue_preset
from tests.helpers.pilot import wait_until
from tests.helpers.smtp import PUBLIC_URL, Relay

pytestmark = pytest.mark.services  # aiosmtpd relays

recipient = table_of(Recipient)
event = table_of(Event)
entity = table_of(PurchasingEntity)


@pytest.fixture
def relay():
    handler = Relay()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, f"smtp://127.0.0.1:{controller.port}"
    controller.stop()


def queue(store, emails, send_mode=SendMode.WITH_AR) -> int:
    return queue_preset(
        store,
        consultation_with_deposit(store, "2026POST", "Courrier"),
        MessageType.FREE,
        body="Bonjour,\n\nLe contenu confidentiel.",
        recipients=tuple(DraftRecipient(email) for email in emails),
        send_mode=send_mode,
    )


def states(store, message_id):
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(recipient).where(recipient.c.message_id == message_id)
        ).all()
        kinds = connection.execute(
            sa.select(recipient.c.email, event.c.kind)
            .join(event, event.c.recipient_id == recipient.c.id)
            .where(recipient.c.message_id == message_id)
            .order_by(event.c.id)
        ).all()
    return {row.email: row for row in rows}, [(email, EventKind(kind)) for email, kind in kinds]


async def test_each_recipient_gets_its_own_mail_and_e(store, relay):
    handler, url = relay
    message_id = queue(store, ["a@entreprise.example", "b@entreprise.example"])
    report = await run_once(store, parse_smtp_url(url), public_url=PUBLIC_URL)
    assert (report.sent, report.retried, report.refused) == (2, 0, 0)
    rows, events = states(store, message_id)
    assert sorted(events) == [  # sent on concurrent connections: in any order
        ("a@entreprise.example", EventKind.SENT),
        ("b@entreprise.example", EventKind.SENT),
    ]
    for sender, rcpt, data in handler.received:
        row = rows[rcpt]
        mail = message_from_bytes(data, policy=default)
        assert sender == f"bounce+{row.bounce_token}@alsace.example"
        assert mail["Message-ID"] == row.message_id_header
        assert mail["Reply-To"] is None  # this message allows no reply
        text = mail.get_body(("plain",)).get_content()
        assert f"https://messagerie.example/m/{row.token}" in text  # avec AR: the link…
        assert "Le contenu confidentiel." not in text  # …never the content
        assert row.delivery_state == DeliveryState.ACCEPTED and row.status == RecipientStatus.SENT
    assert await run_once(store, parse_smtp_url(url), public_url=PUBLIC_URL) == type(report)()


async def test_a_recipient_queued_before_0005_gets_address_tokens_of_its_own(store, relay):
    """A row written before migration 0005 has no address tokens; its e-mail must still not
    carry the page's token in the envelope sender: the outbox draws its tokens first."""
    handler, url = relay
    message_id = queue(store, ["a@entreprise.example"])
    with store.engine.begin() as connection:
        connection.execute(sa.update(recipient).values(reply_token=None, bounce_token=None))
    assert (await run_once(store, parse_smtp_url(url), public_url=PUBLIC_URL)).sent == 1
    ((sender, _, data),) = handler.received
    (row,) = states(store, message_id)[0].values()
    assert row.reply_token and row.bounce_token and row.token not in sender
    assert sender == f"bounce+{row.bounce_token}@alsace.example"
    assert row.token not in data.split(b"\r\n\r\n", 1)[0].decode()  # in no header


async def test_a_4xx_is_retried_with_the_same_message_id(store, relay):
    handler, url = relay
    message_id = queue(store, ["temp@entreprise.example"], SendMode.SIMPLE)
    report = await run_once(store, parse_smtp_url(url), public_url=PUBLIC_URL)
    assert report.retried == 1 and handler.received == []
    rows, events = states(store, message_id)
    row = rows["temp@entreprise.example"]
    assert row.delivery_state == DeliveryState.QUEUED and row.attempts == 1
    assert row.next_attempt_at.astimezone(UTC) > datetime.now(UTC)
    assert events == [("temp@entreprise.example", EventKind.RETRY)]
    # Not due yet: nothing is sent before the backoff has run.
    assert (await run_once(store, parse_smtp_url(url), public_url=PUBLIC_URL)).sent == 0
    with store.engine.begin() as connection:
        connection.execute(
            sa.update(recipient).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert (await run_once(store, parse_smtp_url(url), public_url=PUBLIC_URL)).sent == 1
    ((_, _, data),) = handler.received
    mail = message_from_bytes(data, policy=default)
    assert mail["Message-ID"] == row.message_id_header
    assert "Le contenu confidentiel." in mail.get_body(("plain",)).get_content()  # simple mode
    rows, events = states(store, message_id)
    assert rows["temp@entreprise.example"].attempts == 2
    assert [kind for _, kind in events] == [EventKind.RETRY, EventKind.SENT]


async def test_a_5xx_is_not_delivered_with_the_server_answer(store, relay):
    handler, url = relay
    message_id = queue(store, ["perm@entreprise.example", "ok@entreprise.example"])
    report = await run_once(store, parse_smtp_url(url), public_url=PUBLIC_URL)
    assert (report.sent, report.refused) == (1, 1)
    rows, _ = states(store, message_id)
    refused = rows["perm@entreprise.example"]
    assert refused.status == RecipientStatus.NOT_DELIVERED
    detail = not_delivered_because(store, refused.id)
    assert detail.startswith("550") and "Utilisateur inconnu" in detail
    assert [rcpt for _, rcpt, _ in handler.received] == ["ok@entreprise.example"]


def not_delivered_because(store, recipient_id: int) -> str:
    """The answer kept on the recipient's « Non délivré » event."""
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(event.c.detail).where(
                event.c.recipient_id == recipient_id, event.c.kind == EventKind.NOT_DELIVERED
            )
        ).scalar_one()


async def test_an_accented_domain_is_sent_in_idna_through_any_relay(store, relay):
    """A company's address on an accented domain crashed the whole pass (UnicodeEncodeError
    in the To header): no recipient of the queue was sent any more, every buyer's."""
    handler, url = relay
    message_id = queue(store, ["contact@société.example", "ok@entreprise.example"])
    report = await run_once(store, parse_smtp_url(url), public_url=PUBLIC_URL)
    assert (report.sent, report.refused) == (2, 0)
    rows, _ = states(store, message_id)
    assert rows["contact@société.example"].status == RecipientStatus.SENT  # shown as typed
    (data,) = [data for _, rcpt, data in handler.received if rcpt.startswith("contact@")]
    assert {rcpt for _, rcpt, _ in handler.received} == {
        "contact@xn--socit-esab.example",
        "ok@entreprise.example",
    }
    assert message_from_bytes(data, policy=default)["To"] == "contact@xn--socit-esab.example"


async def test_an_entity_on_an_accented_domain_sends_from_its_idna_form(store, relay):
    handler, url = relay
    cid = consultation_with_deposit(store, "2026IDN", "Courrier")
    with store.engine.begin() as connection:
        connection.execute(sa.update(entity).values(sender_email="marches@région.example"))
    message_id = queue_preset(store, cid, MessageType.FREE, body="Bonjour.",
                              recipients=(DraftRecipient("a@entreprise.example"),))  # fmt: skip
    report = await run_once(store, parse_smtp_url(url), public_url=PUBLIC_URL)
    assert (report.sent, report.refused) == (1, 0)
    ((sender, _, data),) = handler.received
    mail = message_from_bytes(data, policy=default)
    assert sender.endswith("@xn--rgion-bsa.example")  # where the delivery reports come back
    assert mail["From"].addresses[0].addr_spec == "marches@xn--rgion-bsa.example"
    assert mail["Message-ID"].endswith("@xn--rgion-bsa.example>")
    assert states(store, message_id)[0]["a@entreprise.example"].status == RecipientStatus.SENT


class AsciiRelay(Relay):
    """A relay without SMTPUTF8 answers in ASCII: aiosmtpd cannot write « Accepté » there."""

    async def handle_DATA(self, server, session, envelope):
        await super().handle_DATA(server, session, envelope)
        return "250 2.0.0 Ok"


@pytest.mark.parametrize("offered", [False, True], ids=["relay-without", "relay-with"])
async def test_an_accented_name_before_the_at_goes_only_through_a_relay_offering_smtputf8(
    store, offered
):
    handler = Relay() if offered else AsciiRelay()
    controller = Controller(
        handler, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=offered
    )
    controller.start()
    try:
        message_id = queue(store, ["élodie@schaal.example", "ok@entreprise.example"])
        report = await run_once(
            store, parse_smtp_url(f"smtp://127.0.0.1:{controller.port}"), public_url=PUBLIC_URL
        )
    finally:
        controller.stop()
    rows, _ = states(store, message_id)
    elodie = rows["élodie@schaal.example"]
    assert rows["ok@entreprise.example"].status == RecipientStatus.SENT  # the pass went on
    if not offered:
        assert (report.sent, report.refused) == (1, 1)
        assert elodie.status == RecipientStatus.NOT_DELIVERED
        assert "le relais SMTP n'accepte pas ces adresses (extension SMTPUTF8)" in (
            not_delivered_because(store, elodie.id)
        )
        return
    assert (report.sent, report.refused) == (2, 0)
    assert elodie.status == RecipientStatus.SENT
    (data,) = [data for _, rcpt, data in handler.received if rcpt == "élodie@schaal.example"]
    assert message_from_bytes(data, policy=default)["To"] == "élodie@schaal.example"


async def test_a_final_mailbox_records_d_at_acceptance(store, relay):
    _, url = relay
    message_id = queue(store, ["a@entreprise.example"])
    await run_once(store, parse_smtp_url(url + "?final=1"), public_url=PUBLIC_URL)
    rows, events = states(store, message_id)
    assert rows["a@entreprise.example"].status == RecipientStatus.DELIVERED
    assert [kind for _, kind in events] == [EventKind.SENT, EventKind.DELIVERED]


async def test_an_unreachable_relay_keeps_everything_queued(store):
    message_id = queue(store, ["a@entreprise.example"])
    with pytest.raises(RelayProblem, match="injoignable"):
        await run_once(
            store, parse_smtp_url(f"smtp://127.0.0.1:{free_port()}"), public_url=PUBLIC_URL
        )
    rows, events = states(store, message_id)
    assert rows["a@entreprise.example"].delivery_state == DeliveryState.QUEUED and events == []


@pytest.mark.parametrize("url", ["http://relais", "smtp://", "smtp://hote:port", None, ""])
def test_smtp_urls_that_name_no_relay(url):
    with pytest.raises(RelayProblem):
        parse_smtp_url(url)


def test_smtp_url_forms():
    relay = parse_smtp_url("smtp+starttls://marie%40ville.fr:s3cret@relais.ville.fr")
    assert (relay.host, relay.port, relay.security) == ("relais.ville.fr", 587, "starttls")
    assert (relay.username, relay.password) == ("marie@ville.fr", "s3cret")
    assert parse_smtp_url("smtps://relais").port == 465
    assert parse_smtp_url("smtp://relais:2525?final=1").final_mailbox


def test_cli_outbox_once_sends_and_reports(store, store_url, relay, monkeypatch, capsys):
    from messagerie.tui.cli import main

    handler, url = relay
    queue(store, ["a@entreprise.example"])
    monkeypatch.setenv("MESSAGERIE_SMTP_URL", url)
    assert main(["--db", store_url, "outbox", "--once"]) == 0
    assert "1 envoyé(s), 0 à réessayer, 0 non délivré(s)." in capsys.readouterr().out
    assert len(handler.received) == 1
    monkeypatch.setenv("MESSAGERIE_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    assert main(["--db", store_url, "outbox", "--once"]) == 1
    assert "injoignable" in capsys.readouterr().err


class Faulty(Relay):
    """Drops the connection in the middle of DATA for `drop…` recipients, and stalls for
    `slow…` ones, once each."""

    def __init__(self) -> None:
        super().__init__()
        self.faulted: set[str] = set()

    async def handle_DATA(self, server, session, envelope):
        (address,) = envelope.rcpt_tos
        if address not in self.faulted and address.startswith(("drop", "slow")):
            self.faulted.add(address)
            if address.startswith("drop"):
                server.transport.close()
                return "421 closing"
            await asyncio.sleep(5)
        return await super().handle_DATA(server, session, envelope)


async def test_a_dropped_or_stalled_connection_is_retried_not_lost(store):
    handler = Faulty()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        message_id = queue(
            store, ["drop@entreprise.example", "slow@entreprise.example", "ok@entreprise.example"]
        )
        relay = replace(
            parse_smtp_url(f"smtp://127.0.0.1:{controller.port}"), timeout=1.0, reply_timeout=1.0
        )
        report = await run_once(store, relay, public_url=PUBLIC_URL)
        assert (report.sent, report.retried, report.refused) == (1, 2, 0)
        rows, _ = states(store, message_id)
        assert rows["drop@entreprise.example"].delivery_state == DeliveryState.QUEUED
        assert rows["slow@entreprise.example"].delivery_state == DeliveryState.QUEUED
        with store.engine.begin() as connection:
            connection.execute(
                sa.update(recipient).values(next_attempt_at=datetime.now(UTC) - timedelta(1))
            )
        assert (await run_once(store, relay, public_url=PUBLIC_URL)).sent == 2
    finally:
        controller.stop()
    rows, _ = states(store, message_id)
    assert {row.status for row in rows.values()} == {RecipientStatus.SENT}


async def stopped_while_sending(relay, after: float) -> tuple[float, int]:
    """A send_batch of 400 e-mails of 90 KB cancelled `after` seconds in, as SIGTERM does:
    the seconds it took to end, and the outcomes it recorded after the cancel."""
    recorded: list[Outcome] = []
    envelopes = (
        Envelope(n, "envoi@acheteur.example", f"r{n}@entreprise.example",
                 b"Subject: essai\r\n\r\n" + b"Bonjour\r\n" * 10_000, f"essai-{n}")
        for n in range(400)
    )  # fmt: skip
    sending = asyncio.create_task(send_batch(relay, envelopes, recorded.append))
    await asyncio.sleep(after)
    at_cancel, cancelled_at = len(recorded), time.monotonic()
    sending.cancel()
    await asyncio.wait({sending}, timeout=10)
    sending.cancel()
    return time.monotonic() - cancelled_at, len(recorded) - at_cancel


async def test_a_stopped_pass_sends_nothing_more_and_closes_at_once():
    """Python 3.11's wait_for (under aiosmtplib) swallows a cancel landing as an answer
    arrives: a stopped outbox then sent on to the end of its queue; and a connection stopped
    mid-DATA waited out the relay's timeout for its QUIT (about one stop in five each,
    bench/outbox_stop.py)."""
    controller = Controller(Sink(), hostname="127.0.0.1", port=free_port())
    controller.start()
    relay = replace(parse_smtp_url(f"smtp://127.0.0.1:{controller.port}"), timeout=5.0)
    moments = random.Random(20261203)
    try:
        for attempt in range(20):
            took, sent_on = await stopped_while_sending(relay, moments.uniform(0.05, 0.2))
            assert took < 2, f"stop {attempt}: {took:.1f} s to close its connections"
            assert sent_on <= CONNECTIONS, f"stop {attempt}: {sent_on} e-mails after the stop"
    finally:
        controller.stop()


async def test_a_refused_login_is_a_clear_message_and_nothing_moves(store):
    from aiosmtpd.smtp import AuthResult

    def refuse(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False)

    controller = Controller(
        Relay(),
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=refuse,
        auth_require_tls=False,
    )
    controller.start()
    try:
        message_id = queue(store, ["a@entreprise.example"])
        relay = parse_smtp_url(f"smtp://marie:faux@127.0.0.1:{controller.port}")
        with pytest.raises(RelayProblem, match="refuse l'identifiant ou le mot de passe"):
            await run_once(store, relay, public_url=PUBLIC_URL)
    finally:
        controller.stop()
    rows, events = states(store, message_id)
    assert rows["a@entreprise.example"].delivery_state == DeliveryState.QUEUED and events == []


async def test_a_missing_attachment_keeps_the_message_queued_with_a_reason(store, relay, tmp_path):
    from messagerie.letters.intake.files import IntakeOptions, take_attachment

    handler, url = relay
    message_id = queue(store, ["a@entreprise.example"], SendMode.SIMPLE)
    document = take_attachment(
        store,
        filename="annexe.pdf",
        data=b"%PDF-1.4\n%%EOF\n",
        options=IntakeOptions(None),
        consultation_id=1,
        actor="marie.dupont",
    )
    with store.engine.begin() as connection:
        connection.execute(
            sa.insert(table_of(Attachment)).values(message_id=message_id, document_id=document.id)
        )
    store.blobs.path(document.sha256).unlink()  # the documents folder lost the file
    report = await run_once(store, parse_smtp_url(url), public_url=PUBLIC_URL)
    assert (report.sent, report.retried) == (0, 1) and handler.received == []
    rows, events = states(store, message_id)
    assert rows["a@entreprise.example"].delivery_state == DeliveryState.QUEUED
    assert events == [("a@entreprise.example", EventKind.RETRY)]


async def test_the_tui_runs_the_outbox_and_shows_its_progress(workspace, relay):

    from messagerie.screens.consultation import ConsultationScreen
    from messagerie.tui.app import MessagerieApp
    from messagerie.tui.settings import Settings

    handler, url = relay
    queued = outbox_counts(workspace)[DeliveryState.QUEUED]
    assert queued > 0, "the demo keeps a few messages queued"
    app = MessagerieApp(
        open_store=lambda: workspace,
        actor="marie.dupont",
        settings=lambda: Settings(smtp_url=url, outbox_in_tui=True, outbox_every=0.5),
    )
    async with app.run_test(size=(100, 32)) as pilot:
        for _ in range(100):  # no settle(): the outbox worker runs until the app stops
            await pilot.pause(0.1)
            if len(handler.received) == queued:
                break
        assert len(handler.received) == queued
        with workspace.engine.connect() as connection:
            cid = connection.execute(
                sa.select(recipient.c.id, sa.literal_column("message.consultation_id"))
                .select_from(recipient.join(table_of(Message)))
                .where(recipient.c.email == handler.received[0][1])
            ).first()[1]
        app.push_screen(ConsultationScreen(cid))
        for _ in range(20):
            await pilot.pause(0.1)
            shown = str(app.screen.query_one("#exchanges").render())
            if "File d'envoi" in shown:
                break
        assert "0 en attente" in shown and "envoyé(s)" in shown
    assert outbox_counts(workspace)[DeliveryState.QUEUED] == 0


async def test_the_consultation_screen_follows_an_outbox_running_elsewhere(workspace, relay):
    """The outbox runs in another process (here: outside the app); the open consultation
    screen's line moves from queued to sent without a keystroke."""
    from messagerie.screens.consultation import ConsultationScreen
    from messagerie.tui.app import MessagerieApp
    from messagerie.tui.settings import Settings

    _, url = relay
    with workspace.engine.connect() as connection:
        cid = connection.execute(
            sa.select(table_of(Message).c.consultation_id)
            .join(recipient)
            .where(recipient.c.delivery_state == DeliveryState.QUEUED)
            .limit(1)
        ).scalar_one()
    before = outbox_counts(workspace, cid)
    waiting, sent = before[DeliveryState.QUEUED], before[DeliveryState.ACCEPTED]
    app = MessagerieApp(
        open_store=lambda: workspace, actor="marie.dupont", settings=lambda: Settings(smtp_url=url)
    )

    def line() -> str:
        return str(app.screen.query_one("#exchanges").render())

    async with app.run_test(size=(100, 32)) as pilot:
        app.push_screen(ConsultationScreen(cid))
        for _ in range(30):
            await pilot.pause(0.1)
            if "File d'envoi" in line():
                break
        assert f"{waiting} en attente · 0 en cours · {sent} envoyé(s)" in line()
        report = await run_once(workspace, parse_smtp_url(url), public_url=PUBLIC_URL)
        assert report.sent >= waiting > 0
        # Polled every 2 s: a poll read during the pass shows "en cours"; the next one, sent.
        done = f"0 en attente · 0 en cours · {sent + waiting} envoyé(s)"
        await wait_until(pilot, lambda: done in line(), "the sent line", seconds=20)


@pytest.mark.parametrize("scheme", ["smtps", "smtp+starttls"])
async def test_a_tls_failure_is_named_and_nothing_moves(store, relay, scheme):
    _, url = relay  # a plain relay: no TLS from the start, no STARTTLS offered
    message_id = queue(store, ["a@entreprise.example"])
    with pytest.raises(RelayProblem, match="La connexion chiffrée \\(TLS\\)"):
        await run_once(store, parse_smtp_url(url.replace("smtp", scheme, 1)), public_url=PUBLIC_URL)
    rows, events = states(store, message_id)
    assert rows["a@entreprise.example"].delivery_state == DeliveryState.QUEUED and events == []


class DsnRelay(Relay):
    """A relay that offers DSN and keeps the parameters it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.options: list[tuple[list[str], list[str]]] = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [*responses[:-1], "250-DSN", responses[-1]]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_options.extend(rcpt_options)
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):
        self.options.append((list(envelope.mail_options), list(envelope.rcpt_options)))
        return await super().handle_DATA(server, session, envelope)


class DsnServer(SMTP):
    def _getparams(self, params):  # aiosmtpd itself implements no DSN parameter
        found = super()._getparams(params)
        if found is None:
            return None
        return {k: v for k, v in found.items() if k not in {"RET", "ENVID", "NOTIFY"}}


class DsnController(Controller):
    def factory(self):
        return DsnServer(self.handler, **self.SMTP_kwargs)


async def test_delivery_reports_are_requested_only_from_a_relay_offering_dsn(store):
    handler = DsnRelay()
    controller = DsnController(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        message_id = queue(store, ["a@entreprise.example"])
        relay = parse_smtp_url(f"smtp://127.0.0.1:{controller.port}")
        assert (await run_once(store, relay, public_url=PUBLIC_URL)).sent == 1
    finally:
        controller.stop()
    ((mail_options, rcpt_options),) = handler.options
    assert "RET=HDRS" in mail_options and "NOTIFY=SUCCESS,FAILURE,DELAY" in rcpt_options
    # The ENVID a report must name: the Message-ID's random part, not a guessable row number
    # (aiosmtpd upper-cases the parameters it keeps).
    (row,) = states(store, message_id)[0].values()
    assert f"ENVID={envelope_id(row.message_id_header)}".upper() in mail_options
    assert row.message_id_header.startswith(f"<{envelope_id(row.message_id_header)}@")
    assert f"ENVID={row.id}" not in mail_options


@pytest.mark.parametrize("mode", list(SendMode))
async def test_la_loupe_shows_the_email_the_outbox_sent(store, relay, mode):
    """One mapping from a message to its e-mail: la loupe shows, word for word, the text part
    the relay received (the personal token aside), in both send modes."""
    from messagerie.screens.message_detail import LINK_BASE, MessageDetailScreen
    from messagerie.tui.app import MessagerieApp
    from tests.helpers.pilot import settle, text_of

    handler, url = relay
    (cid,) = add_consultations(
        store, [("2026LOUPE", "Loupe", ConsultationStatus.OPEN, utc_now() + timedelta(days=30))]
    )
    add_register_entries(store, cid, [RegisterKind.DEPOSIT], utc_now() - timedelta(days=2))
    form = replace(
        preset_form(load_context(store, cid), MessageType.FREE),
        body="Bonjour,\n\nMerci de confirmer votre présence.",
        recipients=(DraftRecipient("a@entreprise.example"),),
        send_mode=mode,
        reply_allowed=True,
        reply_deadline=paris_minutes(utc_now() + timedelta(days=5)),
    )
    message_id = queue_message(store, form, actor="marie.dupont").message_id
    await run_once(store, parse_smtp_url(url), public_url=PUBLIC_URL)
    ((_, _, data),) = handler.received
    sent = message_from_bytes(data, policy=default).get_body(("plain",)).get_content()
    (row,) = states(store, message_id)[0].values()
    sent = sent.replace(personal_link(PUBLIC_URL, row.token), personal_link(LINK_BASE))
    app = MessagerieApp(open_store=lambda: store)
    async with app.run_test(size=(100, 60)) as pilot:
        await settle(pilot)
        app.push_screen(MessageDetailScreen(message_id))
        await settle(pilot)
        shown = text_of(pilot, "#detail-text")
    assert sent.strip() in shown
    expected = "en suivant le lien personnel" if mode is SendMode.WITH_AR else "en répondant"
    assert expected in sent


class SlowRelay(Relay):
    """A relay that takes a second over each e-mail, as a loaded one does."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(1)
        return await super().handle_DATA(server, session, envelope)


async def test_quitting_the_app_stops_its_outbox_and_gives_back_what_it_claimed(store):
    """With MESSAGERIE_OUTBOX_IN_TUI, a pass was under way when the buyer quit: it went on
    in its thread (asyncio waits for it before the process ends: the prompt came back a
    pass later) and, if the process was killed, its claims waited for their lease (5 min).
    It now stops at once and gives back what it claimed; the next pass sends the rest."""
    from messagerie.tui.app import MessagerieApp
    from messagerie.tui.settings import Settings

    slow = SlowRelay()
    controller = Controller(slow, hostname="127.0.0.1", port=free_port())
    controller.start()
    url = f"smtp://127.0.0.1:{controller.port}"
    queue(store, [f"r{n:02}@entreprise.example" for n in range(60)])
    app = MessagerieApp(
        open_store=lambda: store,
        actor="marie.dupont",
        settings=lambda: Settings(smtp_url=url, outbox_in_tui=True, outbox_every=0.5),
    )
    try:
        async with app.run_test(size=(100, 32)) as pilot:
            await wait_until(pilot, lambda: slow.received, "a first e-mail received", 20)
        quit_at = time.monotonic()
        while outbox_counts(store)[DeliveryState.CLAIMED]:
            assert time.monotonic() - quit_at < 5, "the pass kept its claims after the quit"
            await asyncio.sleep(0.05)
    finally:
        controller.stop()
    counts = outbox_counts(store)
    assert len(slow.received) < 60  # 60 e-mails at 1 s over 4 connections: 15 s
    assert counts[DeliveryState.QUEUED] + counts[DeliveryState.ACCEPTED] == 60


class Scanning(Relay):
    """Answers the final « . » after `delay` seconds, as a relay that scans what it keeps."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


@contextlib.contextmanager
def serving(handler: Relay) -> Iterator[TransportRelay]:
    """`handler` listening on 127.0.0.1 while the block runs; the relay that names it."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield parse_smtp_url(f"smtp://127.0.0.1:{controller.port}")
    finally:
        controller.stop()


@pytest.fixture
def scanning():
    handler = Scanning(delay=2.5)
    with serving(handler) as relay:
        yield handler, replace(relay, timeout=1.0)


async def test_a_relay_slow_to_answer_the_final_dot_gets_one_copy_sent_once(store, scanning):
    """Cut at the command timeout, the copy the relay kept was sent again at each pass, up to
    « Non délivré »: the answer to the final « . » is waited for as RFC 5321 says."""
    handler, relay = scanning
    message_id = queue(store, ["lent@entreprise.example"])
    report = await run_once(store, relay, public_url=PUBLIC_URL)
    assert (report.sent, report.retried, report.refused) == (1, 0, 0)
    assert len(handler.received) == 1
    rows, _ = states(store, message_id)
    assert rows["lent@entreprise.example"].status is RecipientStatus.SENT


async def test_a_copy_waiting_for_the_relay_keeps_its_lease(store, scanning):
    """The relay takes longer than a lease to answer: another worker that looks meanwhile
    finds the copy still held, and does not send it a second time."""
    handler, relay = scanning
    queue(store, ["lent@entreprise.example"])
    sending = asyncio.create_task(
        run_once(store, relay, public_url=PUBLIC_URL, lease=timedelta(seconds=1))
    )
    await asyncio.sleep(1.8)  # the first lease ran out 0.8 s ago
    assert claim(store, limit=10, lease=timedelta(seconds=1)) == ()
    assert (await sending).sent == 1
    assert len(handler.received) == 1


class BusyAfterAccepting(Relay):
    """Accepts the copy, then has another process hold the SQLite store's write lock for
    longer than its 5 s wait, from the moment the outbox would record the E."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path, self.held = path, threading.Event()

    def hold(self) -> None:
        other = sqlite3.connect(self.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        self.held.set()
        time.sleep(6.5)
        other.execute("COMMIT")
        other.close()

    async def handle_DATA(self, server, session, envelope):
        threading.Thread(target=self.hold, daemon=True).start()
        self.held.wait()
        return await super().handle_DATA(server, session, envelope)


async def test_a_copy_accepted_while_the_database_is_busy_is_recorded_not_sent_again(
    sqlite_url, tmp_path
):
    store = open_store(sqlite_url, upgrade=True, documents_dir=tmp_path / "documents")
    handler = BusyAfterAccepting(sqlite_url.removeprefix("sqlite:///"))
    try:
        message_id = queue(store, ["a@entreprise.example"])
        with serving(handler) as relay:
            assert (await run_once(store, relay, public_url=PUBLIC_URL)).sent == 1
            assert (await run_once(store, relay, public_url=PUBLIC_URL)).sent == 0
        rows, _ = states(store, message_id)
        assert rows["a@entreprise.example"].status is RecipientStatus.SENT
        assert len(handler.received) == 1
    finally:
        store.close()
