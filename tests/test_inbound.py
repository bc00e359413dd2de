"""Delivery reports and e-mailed replies delivered to the real inbound listener (aiosmtpd on
127.0.0.1), on both stores: D, Non délivré, a delay notice, a non-standard bounce, replies on
time, late and not allowed, attachments through the real clamd, unknown tokens refused; each
address by its own token (and the page's token for e-mails sent before migration 0005);
reports that do not name the e-mail set aside, failures after D, L or R kept without effect;
automatic and empty replies kept without R; addresses with an unknown token refused at RCPT,
and mail that names no recipient kept aside in the data folder's unmatched/ (limits, clamd
down, odd parts and the property test: test_inbound_limits.py)."""

import logging
import smtplib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messagerie.letters.mail.inbound import (
    SENDER_MAX,
    InboundLimits,
    parse_mail,
    reply_sender,
)
from messagerie.models.messages.drafts import DraftRecipient
from messagerie.models.messages.portal import record_opening
from messagerie.models.messages.recipient_secrets import envelope_id
from messagerie.models.store.enums import (
    AntivirusVerdict,
    EventKind,
    MessageType,
    RecipientStatus,
    ReplyDisposition,
)
from messagerie.models.store.tables import (
    Document,
    Event,
    Recipient,
    Reply,
    ReplyAttachment,
    table_of,
)
from messagerie.models.text import control_character
from tests.helpers.antivirus import EICAR, intake
from tests.helpers.messages import consultation_with_deposit, queue_preset
from tests.helpers.reports import (
    EXIM_STYLE_BOUNCE,
    FAILED,
    bounce_of,
    dsn,
    reply_to,
    status_of,
)
from tests.helpers.smtp import inbound_listener, send_mail, send_out, smtp_lines

pytestmark = pytest.mark.services  # aiosmtpd relays and listeners, clamd

recipient, event, reply = table_of(Recipient), table_of(Event), table_of(Reply)


@pytest.fixture
def sent(store):
    """One message sent to two recipients (replies allowed until tomorrow), through a relay."""
    return queue_preset(
        store,
        consultation_with_deposit(store, "2026BACK", "Retours"),
        MessageType.COMPLEMENT_REQUEST,
        body="Bonjour,\n\nMerci de nous adresser votre attestation.",
        recipients=(DraftRecipient("a@entreprise.example"), DraftRecipient("b@entreprise.example")),
        reply_deadline=(datetime.now(UTC) + timedelta(days=1)).strftime("%d/%m/%Y %H:%M"),
    )


@pytest.fixture
def listener(store):
    with inbound_listener(store, intake()) as port:
        yield port


def deliver(port: int, to: str, data: str | bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.sendmail("MAILER-DAEMON@relais.example", [to], smtp_lines(data))


def events_of(store, recipient_id):
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(event.c.kind, event.c.detail)
            .where(event.c.recipient_id == recipient_id)
            .order_by(event.c.id)
        ).all()


def row_of(store, recipient_id):
    with store.engine.connect() as connection:
        return connection.execute(sa.select(recipient).where(recipient.c.id == recipient_id)).one()


async def test_delivery_reports_give_d_non_delivre_and_delay(store, sent, listener):
    rows = await send_out(store, sent)
    a, b = rows["a@entreprise.example"], rows["b@entreprise.example"]
    deliver(listener, bounce_of(a), dsn(a, "delivered", "2.0.0", "250 2.0.0 Ok: queued"))
    deliver(listener, bounce_of(b), dsn(b, "delayed", "4.4.1", "Connection timed out"))
    assert status_of(store, a.id) is RecipientStatus.DELIVERED
    assert status_of(store, b.id) is RecipientStatus.SENT  # a delay changes nothing yet…
    assert "Connection timed out" in events_of(store, b.id)[-1].detail  # …but is kept
    deliver(listener, bounce_of(b), dsn(b, *FAILED))
    assert status_of(store, b.id) is RecipientStatus.NOT_DELIVERED
    kind, detail = events_of(store, b.id)[-1]
    assert kind == EventKind.NOT_DELIVERED and "5.1.1" in detail and "User unknown" in detail


async def test_a_non_standard_bounce_is_read_by_flufl_bounce(store, sent, listener):
    rows = await send_out(store, sent)
    a = rows["a@entreprise.example"]
    bounce = bounce_of(a)
    report = EXIM_STYLE_BOUNCE.format(bounce=bounce, rcpt=a.email, message_id=a.message_id_header)
    deliver(listener, bounce, report)
    assert status_of(store, a.id) is RecipientStatus.NOT_DELIVERED


async def test_a_report_naming_the_envid_alone_counts(store, sent, listener):
    """A relay that returns no headers (RET=HDRS not honoured) still names the ENVID."""
    rows = await send_out(store, sent)
    a = rows["a@entreprise.example"]
    envid = envelope_id(a.message_id_header)
    deliver(listener, bounce_of(a), dsn(a, *FAILED, message_id="", envid=envid))
    assert status_of(store, a.id) is RecipientStatus.NOT_DELIVERED


async def test_a_forged_report_with_the_bounce_token_changes_nothing(store, sent, listener):
    """Whoever read the Return-Path knows the bounce address; a report that does not name
    the e-mail sent to that recipient is set aside: kept as an event, no status, no date."""
    rows = await send_out(store, sent)
    a, b = rows["a@entreprise.example"], rows["b@entreprise.example"]
    bounce = bounce_of(a)
    deliver(listener, bounce, dsn(a, *FAILED, message_id="<forge@relais.example>"))
    deliver(listener, bounce, dsn(a, *FAILED, message_id=b.message_id_header))  # b's e-mail
    deliver(listener, bounce, dsn(a, *FAILED, message_id="", envid=str(a.id)))  # old ENVID
    exim = EXIM_STYLE_BOUNCE.format(bounce=bounce, rcpt=a.email, message_id="<x@relais.example>")
    deliver(listener, bounce, exim)
    assert status_of(store, a.id) is RecipientStatus.SENT
    assert row_of(store, a.id).not_delivered_at is None
    events = events_of(store, a.id)
    assert [kind for kind, _ in events] == [EventKind.SENT] + [EventKind.REPORT_SET_ASIDE] * 4
    assert all("ni le Message-ID ni l'ENVID" in detail for _, detail in events[1:])
    assert EventKind.REPORT_SET_ASIDE.label == "Rapport non rattaché"
    assert [kind for kind, _ in events_of(store, b.id)] == [EventKind.SENT]


async def test_a_failure_after_l_r_or_d_is_kept_and_changes_no_status(store, sent, listener):
    rows = await send_out(store, sent)
    a, b = rows["a@entreprise.example"], rows["b@entreprise.example"]
    record_opening(store, a.id, client_address="192.0.2.7", user_agent="Mozilla/5.0")  # L
    deliver(listener, bounce_of(a), dsn(a, *FAILED))
    deliver(listener, reply_to(a), reply_mail(reply_to(a), "Voici la pièce."))  # R
    deliver(listener, bounce_of(a), dsn(a, *FAILED))
    deliver(listener, bounce_of(b), dsn(b, "delivered", "2.0.0", "250 2.0.0 Ok"))  # D
    deliver(listener, bounce_of(b), dsn(b, *FAILED))
    assert status_of(store, a.id) is RecipientStatus.REPLY_UNREAD
    assert status_of(store, b.id) is RecipientStatus.DELIVERED
    assert row_of(store, a.id).not_delivered_at is row_of(store, b.id).not_delivered_at is None
    assert [kind for kind, _ in events_of(store, a.id)][1:] == [
        EventKind.READ,
        EventKind.REPORT_IGNORED,
        EventKind.REPLIED,
        EventKind.REPORT_IGNORED,
    ]
    kind, detail = events_of(store, b.id)[-1]
    assert kind is EventKind.REPORT_IGNORED and "User unknown" in detail
    assert kind.label == "Rapport de non-remise ignoré"


def reply_mail(to: str, body: str, attachment: tuple[str, bytes] | None = None) -> bytes:
    mail = EmailMessage()
    mail["From"] = "a@entreprise.example"
    mail["To"] = to
    mail["Subject"] = "Re: Demande de complément"
    mail.set_content(body)
    if attachment:
        mail.add_attachment(attachment[1], maintype="application", subtype="pdf",
                            filename=attachment[0])  # fmt: skip
    return bytes(mail)


async def test_replies_on_time_with_files_scanned_and_late_ones_kept(store, sent, listener):
    rows = await send_out(store, sent)
    a, b = rows["a@entreprise.example"], rows["b@entreprise.example"]
    to_a = reply_to(a)
    deliver(
        listener,
        to_a,
        reply_mail(
            to_a, "Voici l'attestation demandée.", ("attestation.pdf", b"%PDF-1.4\n%%EOF\n")
        ),
    )
    assert status_of(store, a.id) is RecipientStatus.REPLY_UNREAD
    assert events_of(store, a.id)[-1].kind == EventKind.REPLIED
    with store.engine.connect() as connection:
        (kept,) = connection.execute(sa.select(reply).where(reply.c.recipient_id == a.id)).all()
        files = connection.execute(
            sa.select(table_of(Document).c.filename, table_of(Document).c.antivirus)
            .join(table_of(ReplyAttachment))
            .where(table_of(ReplyAttachment).c.reply_id == kept.id)
        ).all()
    assert kept.body.strip() == "Voici l'attestation demandée."
    assert kept.disposition == ReplyDisposition.ON_TIME
    assert files == [("attestation.pdf", AntivirusVerdict.CLEAN)]
    # An infected file is set aside (and named); the reply itself is kept.
    to_b = reply_to(b)
    deliver(listener, to_b, reply_mail(to_b, "Pièce jointe.", ("virus.pdf", EICAR)))
    with store.engine.connect() as connection:
        body = connection.execute(
            sa.select(reply.c.body).where(reply.c.recipient_id == b.id)
        ).scalar_one()
    assert "« virus.pdf » écartée" in body


async def test_an_e_mail_delivered_again_by_its_relay_is_kept_once(store, sent, listener):
    """The relay lost our 250 and delivers the same e-mail again: one reply, one R; another
    e-mail with the same text (its own Message-ID) is another reply."""
    rows = await send_out(store, sent)
    a = rows["a@entreprise.example"]
    to_a = reply_to(a)

    def reply_with_id(message_id: str) -> bytes:
        mail = reply_mail(to_a, "Voici l'attestation demandée.")
        return mail.replace(
            b"To:", f"Message-ID: <{message_id}@entreprise.example>\nTo:".encode(), 1
        )

    for message_id in ("r1", "r1", "r2"):
        assert send_mail(listener, to_a, reply_with_id(message_id))[0] == 250
    with store.engine.connect() as connection:
        kept = connection.execute(
            sa.select(sa.func.count()).where(reply.c.recipient_id == a.id)
        ).scalar_one()
    assert kept == 2
    assert [kind for kind, _ in events_of(store, a.id)].count(EventKind.REPLIED) == 2


async def test_a_reply_from_another_address_keeps_that_address_and_names_it(store, sent, listener):
    """A's reply address, in a copy forwarded to a competitor: its reply was recorded as A's
    with R, and who wrote it was kept nowhere. It is still A's reply (a colleague may answer
    from another mailbox), but the address is kept, and the R of the AR names it."""
    rows = await send_out(store, sent)
    a, b = rows["a@entreprise.example"], rows["b@entreprise.example"]
    forged = EmailMessage()
    forged["From"] = "Concurrent Malveillant <Intrus@Concurrent.example>"
    forged["To"] = reply_to(a)
    forged["Subject"] = "Re: Demande de complément"
    forged.set_content("Nous retirons notre offre.")
    deliver(listener, reply_to(a), bytes(forged))
    to_b = reply_to(b)
    own = EmailMessage()
    own["From"] = "B <B@Entreprise.example>"  # its own address, case aside
    own["To"] = to_b
    own["Subject"] = "Re: Demande de complément"
    own.set_content("Voici notre attestation.")
    deliver(listener, to_b, bytes(own))
    with store.engine.connect() as connection:
        senders = dict(connection.execute(sa.select(reply.c.recipient_id, reply.c.sender)).all())
    assert senders == {a.id: "Intrus@Concurrent.example", b.id: "B@Entreprise.example"}
    # How each came, then the reply's seal (models/store/seal.py)
    kind, detail = events_of(store, a.id)[-1]
    assert kind is EventKind.REPLIED
    assert detail.startswith("Courrier électronique, envoyée depuis Intrus@Concurrent.example — ")
    kind, detail = events_of(store, b.id)[-1]
    assert kind is EventKind.REPLIED and detail.startswith("Courrier électronique — empreinte")


def test_the_sender_of_any_from_header_is_an_address_or_nothing():
    """What a reply says of its author is outside input: whatever its From header holds, the
    kept sender has no control character and fits its column."""

    @given(header=st.text(max_size=500), envelope=st.none() | st.text(max_size=400))
    @settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
    def one(header, envelope):
        raw = f"From: {header}\r\nSubject: Re\r\n\r\nCorps.\r\n".encode("utf-8", "replace")
        kept = reply_sender(parse_mail(raw, InboundLimits()), envelope)
        assert kept is None or (kept == kept.strip() and 0 < len(kept) <= SENDER_MAX)
        assert kept is None or control_character(kept) is None

    one()
    mail = EmailMessage()
    mail["From"] = "Laura Hoffmann <laura@data.example>"
    assert reply_sender(mail, "bounce@relay.example") == "laura@data.example"
    assert reply_sender(EmailMessage(), "relais@relay.example") == "relais@relay.example"
    assert reply_sender(EmailMessage(), "") is None


async def test_late_and_not_allowed_replies_are_kept_without_r(store, sent, listener):
    rows = await send_out(store, sent)
    a = rows["a@entreprise.example"]
    with store.engine.begin() as connection:
        connection.execute(
            sa.text("update message set reply_deadline = :past where id = :id"),
            {"past": datetime.now(UTC) - timedelta(hours=1), "id": sent},
        )
    to_a = reply_to(a)
    deliver(listener, to_a, reply_mail(to_a, "Réponse tardive."))
    with store.engine.begin() as connection:
        connection.execute(
            sa.text("update message set reply_allowed = :no where id = :id"),
            {"no": False, "id": sent},
        )
    # Matched by In-Reply-To alone, to a message that allows no reply.
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = a.email, "marches@alsace.example", "Re: …"
    mail["In-Reply-To"] = a.message_id_header
    mail.set_content("Une autre réponse.")
    deliver(listener, "marches@alsace.example", bytes(mail))
    with store.engine.connect() as connection:
        kept = connection.execute(
            sa.select(reply.c.body, reply.c.disposition)
            .where(reply.c.recipient_id == a.id)
            .order_by(reply.c.id)
        ).all()
    assert [(body.strip(), ReplyDisposition(d)) for body, d in kept] == [
        ("Réponse tardive.", ReplyDisposition.LATE),
        ("Une autre réponse.", ReplyDisposition.NOT_ALLOWED),
    ]
    assert status_of(store, a.id) is RecipientStatus.SENT  # no R for either
    assert EventKind.REPLIED not in [kind for kind, _ in events_of(store, a.id)]


async def test_unknown_tokens_and_malformed_input_never_crash_the_listener(store, sent, listener):
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        deliver(listener, "reply+AAAAAAAAAAAAAAAAAAAAAAAA@alsace.example", reply_mail("x", "y"))
    rows = await send_out(store, sent)
    a = rows["a@entreprise.example"]
    to_a = reply_to(a)
    deliver(listener, to_a, b'Content-Type: multipart/mixed; boundary="X"\r\n\r\n--X\r\nbroken')
    deliver(listener, to_a, reply_mail(to_a, "Toujours là."))
    with store.engine.connect() as connection:
        bodies = (
            connection.execute(sa.select(reply.c.body).where(reply.c.recipient_id == a.id))
            .scalars()
            .all()
        )
    assert any("Toujours là." in body for body in bodies)


async def test_each_address_answers_only_to_its_own_token(store, sent, listener):
    """The page's token is no address, and neither address token opens the other."""
    rows = await send_out(store, sent)
    a = rows["a@entreprise.example"]
    for address in (
        f"reply+{a.token}@alsace.example",
        f"bounce+{a.token}@alsace.example",
        f"reply+{a.bounce_token}@alsace.example",
        f"bounce+{a.reply_token}@alsace.example",
    ):
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            deliver(listener, address, dsn(a, *FAILED))
    assert [kind for kind, _ in events_of(store, a.id)] == [EventKind.SENT]
    deliver(listener, reply_to(a), reply_mail(reply_to(a), "Par la bonne adresse."))
    assert status_of(store, a.id) is RecipientStatus.REPLY_UNREAD


async def test_the_addresses_of_an_e_mail_sent_before_0005_still_work(store, sent, listener):
    """A row written before migration 0005 has no address tokens: the e-mail it was sent
    carried its page token in reply+…@ and bounce+…@, and those still reach it."""
    rows = await send_out(store, sent)
    a, b = rows["a@entreprise.example"], rows["b@entreprise.example"]
    with store.engine.begin() as connection:
        connection.execute(sa.update(recipient).values(reply_token=None, bounce_token=None))
    old_reply, old_bounce = f"reply+{a.token}@alsace.example", f"bounce+{b.token}@alsace.example"
    deliver(listener, old_reply, reply_mail(old_reply, "Réponse à l'ancienne adresse."))
    deliver(listener, old_bounce, dsn(b, *FAILED).replace(bounce_of(b), old_bounce))
    assert status_of(store, a.id) is RecipientStatus.REPLY_UNREAD
    assert status_of(store, b.id) is RecipientStatus.NOT_DELIVERED


def replies_of(store, recipient_id):
    with store.engine.connect() as connection:
        return [
            (body.strip(), ReplyDisposition(disposition))
            for body, disposition in connection.execute(
                sa.select(reply.c.body, reply.c.disposition)
                .where(reply.c.recipient_id == recipient_id)
                .order_by(reply.c.id)
            )
        ]


AUTOMATIC = [
    ("MAILER-DAEMON@relais.example", {"Auto-Submitted": "auto-replied"}),
    ("", {"Subject": "Absence du bureau"}),  # the null sender <>
    ("a@entreprise.example", {"Precedence": "bulk"}),
    ("a@entreprise.example", {"Precedence": "auto_reply"}),
    ("a@entreprise.example", {"X-Autoreply": "yes"}),
    ("a@entreprise.example", {"X-Autorespond": "Absent jusqu'au 5 janvier"}),
    ("a@entreprise.example", {"X-Auto-Response-Suppress": "DR, OOF"}),
    ("a@entreprise.example", {"Subject": "Réponse automatique : Demande de complément"}),
]


async def test_automatic_and_empty_replies_are_kept_without_r(store, sent, tmp_path):
    """Measured on main: an out-of-office and an empty e-mail each gave R."""
    rows = await send_out(store, sent)
    a, b = rows["a@entreprise.example"], rows["b@entreprise.example"]
    with inbound_listener(store, intake()) as port:
        for sender, headers in AUTOMATIC:
            mail = EmailMessage()
            mail["From"], mail["To"] = a.email, reply_to(a)
            for name, value in headers.items():
                mail[name] = value
            mail.set_content("Je suis absent jusqu'au 5 janvier.")
            assert send_mail(port, reply_to(a), bytes(mail), sender=sender)[0] == 250
        empty = EmailMessage()
        empty["From"], empty["To"], empty["Subject"] = b.email, reply_to(b), "Re: Demande"
        empty.set_content("\n\n")
        assert send_mail(port, reply_to(b), bytes(empty))[0] == 250
        human = reply_mail(reply_to(b), "Voici notre réponse.")
        human = human.replace(b"Subject", b"Auto-Submitted: no\nSubject")
        assert send_mail(port, reply_to(b), human)[0] == 250
    assert status_of(store, a.id) is RecipientStatus.SENT  # no R
    assert EventKind.REPLIED not in [kind for kind, _ in events_of(store, a.id)]
    assert replies_of(store, a.id) == [
        ("Je suis absent jusqu'au 5 janvier.", ReplyDisposition.AUTOMATIC)
    ] * len(AUTOMATIC)
    assert ReplyDisposition.AUTOMATIC.label == "Réponse automatique"
    assert [kind for kind, _ in events_of(store, b.id)].count(EventKind.REPLIED) == 1
    assert status_of(store, b.id) is RecipientStatus.REPLY_UNREAD
    assert replies_of(store, b.id) == [
        ("", ReplyDisposition.EMPTY),
        ("Voici notre réponse.", ReplyDisposition.ON_TIME),  # Auto-Submitted: no is a person
    ]


async def test_unknown_addresses_are_refused_and_unmatched_mail_is_kept_aside(
    store, sent, tmp_path, caplog
):
    """Measured on main: mail to an unknown address or with an unknown In-Reply-To got 250
    and was dropped. Now an address with a token we do not know is refused at RCPT (550
    5.1.1); mail that names no recipient (no token, unknown In-Reply-To) or that is no report
    at a bounce address is kept in the data folder's unmatched/, with a log line naming the
    recipient's id, never a whole token."""
    rows = await send_out(store, sent)
    a = rows["a@entreprise.example"]
    unknown = "reply+Inconnu0123456789abcdef@alsace.example"
    with inbound_listener(store, intake()) as port, caplog.at_level(logging.INFO):
        for address in (unknown, "reply+court@alsace.example", "bounce+@alsace.example"):
            code, text = send_mail(port, address, reply_mail(address, "Bonjour"))
            assert code == 550 and text.startswith("5.1.1 "), address
        stray = EmailMessage()
        stray["From"], stray["To"], stray["Subject"] = a.email, "marches@alsace.example", "Re: ?"
        stray["In-Reply-To"] = "<inconnu@alsace.example>"
        stray.set_content("Une réponse égarée.")
        assert send_mail(port, "marches@alsace.example", bytes(stray))[0] == 250
        not_a_report = reply_mail(bounce_of(a), "Merci de ne plus m'écrire à cette adresse.")
        assert send_mail(port, bounce_of(a), not_a_report)[0] == 250
    kept = sorted((tmp_path / "unmatched").glob("*.eml"), key=lambda path: path.stat().st_mtime)
    assert [b"Une r" in path.read_bytes() for path in kept] == [True, False]
    assert b"Merci de ne plus" in kept[1].read_bytes()
    assert f"recipient={a.id}".encode() in kept[1].read_bytes()
    with store.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(reply)).scalar() == 0
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "kept aside" in logged and f"recipient={a.id}" in logged
    assert "address=marches@alsace.example" in logged and "reply+Inco…@alsace.example" in logged
    assert all(token not in logged for token in ("Inconnu0123456789abcdef", a.bounce_token))
