"""The listener never blocks and never loses (issue 17, point 3), on the real listener (the
app's handler and controller on 127.0.0.1), real smtplib clients, the real clamd (or a socket
that does not exist for "clamd down") and both stores:

- one huge message never keeps another client waiting; the limits are answered at DATA
  (552 5.3.4 too big, 554 5.6.0 too many parts or too deep) and nothing is recorded;
- clamd down is a 451 4.7.1 (the sender's server tries again), never 250 and a discarded file;
- odd file names, unknown charsets and NUL bytes are made safe, a refused file is named in
  the kept reply; an e-mail is stored in one transaction, all or nothing, and the log names
  the recipient's id, never its token;
- any message built from arbitrary headers, parts, charsets and names is either stored or
  refused with an SMTP code, never an exception and never half written (Hypothesis).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import smtplib
import subprocess
import sys
import threading
import time
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messagerie.letters.intake.antivirus import parse_clamd_address
from messagerie.letters.intake.files import IntakeOptions
from messagerie.letters.mail.inbound import MAX_MESSAGE_BYTES, UNREADABLE, InboundLimits
from messagerie.models.store.database import Store
from messagerie.models.store.documents import (
    FILENAME_MAX,
    DocumentRefused,
    check_filename,
    safe_filename,
)
from messagerie.models.store.enums import AntivirusVerdict, RecipientStatus, ReplyDisposition
from messagerie.models.store.tables import Document, Event, Reply, ReplyAttachment, table_of
from messagerie.tui.embedded import free_port
from tests.helpers.antivirus import EICAR, intake
from tests.helpers.examples import examples
from tests.helpers.messages import A, queued_message
from tests.helpers.reports import files_of, reply_to, status_of
from tests.helpers.smtp import inbound_listener, send_mail, send_out

pytestmark = pytest.mark.services  # the inbound listener, clamd

reply, event = table_of(Reply), table_of(Event)
document, reply_attachment = table_of(Document), table_of(ReplyAttachment)
PDF = b"%PDF-1.4\n%%EOF\n"
LIMITS = InboundLimits()


def many_parts(count: int, to: str = "marches@alsace.example") -> bytes:
    """A small e-mail of `count` tiny text parts (60,000 make 6.5 MB)."""
    head = (
        f"From: a@entreprise.example\r\nTo: {to}\r\nSubject: Re: parties\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
    )
    part = (
        b"--B\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Disposition: attachment; filename=x.txt\r\n\r\nx\r\n"
    )
    return head.encode() + part * count + b"--B--\r\n"


def counts(store) -> dict[str, int]:
    with store.engine.connect() as connection:
        return {
            name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for name, table in (
                ("replies", reply),
                ("documents", document),
                ("attachments", reply_attachment),
                ("events", event),
            )
        }


def replies_of(store, recipient_id):
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(reply.c.id, reply.c.body, reply.c.disposition)
            .where(reply.c.recipient_id == recipient_id)
            .order_by(reply.c.id)
        ).all()


def company_reply(to: str, text: str = "Voici la pièce demandée.", **headers: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = A, to, "Re: Demande de complément"
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(text)
    return mail


@pytest.fixture
def listener(store):
    with inbound_listener(store, intake()) as port:
        yield port


def ehlo_seconds(port: int) -> float:
    """How long a new client waits for the banner and the answer to its EHLO."""
    start = time.monotonic()
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        client.ehlo("autre.example")
    return time.monotonic() - start


# --- One message never freezes the listener --------------------------------------------------


def test_a_60000_part_message_never_keeps_another_client_waiting(store, listener, capsys):
    """Measured on main: 48 s of processing, another client's EHLO waited 45.4 s."""
    big = many_parts(60_000)
    answers: list[tuple[int, str]] = []
    sender = threading.Thread(target=lambda: answers.append(send_mail(listener, "x@y.fr", big)))
    sender.start()
    waits = []
    while sender.is_alive() or not waits:
        waits.append(ehlo_seconds(listener))
        time.sleep(0.05)
    sender.join()
    with capsys.disabled():
        print(f"\n60,000 parts, {len(big):,} bytes: {len(waits)} EHLO, slowest {max(waits):.3f} s")
    # The defect kept the other client 45 s; the bound leaves room for a machine running
    # other suites beside this one (1.06 s was seen at a load of 12 on 2 cores).
    assert max(waits) <= 5.0
    ((code, text),) = answers
    assert (code, text) == (554, LIMITS.too_many_parts[4:])
    assert "5.6.0" in text and "100" in text
    assert counts(store)["replies"] == 0


async def test_20000_parts_to_a_reply_address_are_refused_and_nothing_is_recorded(store, listener):
    """Measured on main: 97 s and 20,000 document rows."""
    a = (await send_out(store, queued_message(store)))[A]
    before = counts(store)
    started = time.monotonic()
    code, text = send_mail(listener, reply_to(a), many_parts(20_000, reply_to(a)))
    assert code == 554 and text.startswith("5.6.0 Trop de parties dans le message (100 au plus)")
    assert time.monotonic() - started < 30
    assert counts(store) == before
    assert status_of(store, a.id) is RecipientStatus.SENT


async def test_a_message_over_the_size_limit_is_refused_with_552(store, listener):
    """Measured on main: messages up to 30 MB accepted. The limit is told at EHLO (SIZE) and
    answered at DATA; just under it, a reply of 100 parts is kept."""
    a = (await send_out(store, queued_message(store)))[A]
    with smtplib.SMTP("127.0.0.1", listener) as client:
        client.ehlo()
        assert client.esmtp_features["size"] == str(MAX_MESSAGE_BYTES) == str(25 * 1024 * 1024)
    mail = company_reply(reply_to(a))
    mail.add_attachment(b"\0" * (MAX_MESSAGE_BYTES * 3 // 4), "application", "octet-stream")
    code, text = send_mail(listener, reply_to(a), bytes(mail))
    assert (code, text) == (552, "5.3.4 Message trop volumineux (25 Mo au plus) / "
                                 "Message too big (25 MB max)")  # fmt: skip
    assert replies_of(store, a.id) == []
    code, _ = send_mail(listener, reply_to(a), many_parts(99, reply_to(a)))
    assert code == 250
    ((reply_id, _, _),) = replies_of(store, a.id)
    assert len(files_of(store, reply_id)) == 99


def nested(levels: int, to: str) -> bytes:
    """An e-mail whose text sits inside `levels` multiparts, each in the one before."""
    body = b"Content-Type: text/plain\r\n\r\nBonjour, niveau le plus profond.\r\n"
    for level in range(levels):
        boundary = f"L{level}".encode()
        body = (
            b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n--'
            + boundary + b"\r\n" + body + b"\r\n--" + boundary + b"--\r\n"
        )  # fmt: skip
    return f"From: {A}\r\nTo: {to}\r\nSubject: Re: niveaux\r\n".encode() + body


async def test_parts_nested_too_deep_are_refused_with_554(store, listener):
    a = (await send_out(store, queued_message(store)))[A]
    code, text = send_mail(listener, reply_to(a), nested(LIMITS.max_depth + 1, reply_to(a)))
    assert code == 554 and "5.6.0 Parties imbriquees trop profondement (10 niveaux" in text
    assert replies_of(store, a.id) == []
    assert send_mail(listener, reply_to(a), nested(LIMITS.max_depth, reply_to(a)))[0] == 250
    ((_, body, _),) = replies_of(store, a.id)
    assert body.strip() == "Bonjour, niveau le plus profond."


# --- clamd down: 451, nothing recorded; the retry is stored -----------------------------------


async def test_clamd_down_is_a_451_and_the_retry_stores_the_reply_and_its_file(store, tmp_path):
    """Measured on main: 250, R, and the file thrown away (« antivirus injoignable »)."""
    a = (await send_out(store, queued_message(store)))[A]
    mail = company_reply(reply_to(a), "Veuillez trouver notre attestation.")
    mail.add_attachment(PDF, "application", "pdf", filename="attestation.pdf")
    down = IntakeOptions(parse_clamd_address(f"unix://{tmp_path}/absent/clamd.ctl"))
    before = counts(store)
    with inbound_listener(store, down) as port:
        code, text = send_mail(port, reply_to(a), bytes(mail))
    assert code == 451 and text.startswith("4.7.1 Antivirus momentanement indisponible")
    assert counts(store) == before  # no reply, no document, no event
    assert status_of(store, a.id) is RecipientStatus.SENT
    with inbound_listener(store, intake()) as port:  # the sender's server tries again
        assert send_mail(port, reply_to(a), bytes(mail))[0] == 250
    ((reply_id, body, disposition),) = replies_of(store, a.id)
    assert body.strip() == "Veuillez trouver notre attestation."
    assert disposition == ReplyDisposition.ON_TIME
    assert files_of(store, reply_id) == [("attestation.pdf", AntivirusVerdict.CLEAN, len(PDF))]
    assert status_of(store, a.id) is RecipientStatus.REPLY_UNREAD


async def test_a_data_folder_that_cannot_be_written_is_a_451_and_nothing_is_recorded(
    store, tmp_path
):
    """The files cannot be stored (the data folder is a file, as on a broken mount): the
    sender's server is told to try again, and no reply without its file is kept."""
    a = (await send_out(store, queued_message(store)))[A]
    mail = company_reply(reply_to(a))
    mail.add_attachment(PDF, "application", "pdf", filename="attestation.pdf")
    (tmp_path / "monture").write_text("pas un dossier")
    broken = Store(store.engine, tmp_path / "monture" / "documents")
    before = counts(store)
    with inbound_listener(broken, intake()) as port:
        code, text = send_mail(port, reply_to(a), bytes(mail))
    assert code == 451 and text.startswith("4.3.0 Enregistrement momentanement impossible")
    assert counts(store) == before
    assert status_of(store, a.id) is RecipientStatus.SENT


# --- One bad part never loses the rest --------------------------------------------------------


async def test_odd_names_charsets_and_nul_are_made_safe_and_the_reply_kept(store, listener):
    """Measured on main: each of these refused the whole reply with a bare 554."""
    a = (await send_out(store, queued_message(store)))[A]
    long_name = "Mémoire technique " + "très détaillé " * 30 + ".pdf"
    mail = company_reply(reply_to(a))
    mail.set_content("Caf\xe9 livr\xe9 \x00 ce matin.".encode("latin-1"), "text", "plain",
                     cte="quoted-printable")  # fmt: skip
    mail.set_param("charset", "x-inconnu")
    for name in (
        "Attestation URSSAF 11/2026.pdf",
        long_name,
        "devis\tsigné\x07.pdf",
        "..\\kbis.pdf",
    ):
        mail.add_attachment(PDF, "application", "pdf", filename=name)
    mail.add_attachment(EICAR, "application", "pdf", filename="virus.pdf")
    assert send_mail(listener, reply_to(a), bytes(mail))[0] == 250
    ((reply_id, body, _),) = replies_of(store, a.id)
    assert body.startswith("Café livré  ce matin.")  # unknown charset read, NUL removed
    assert "« virus.pdf » écartée" in body and "infecté" in body
    names = [name for name, _, _ in files_of(store, reply_id)]
    assert names[0] == "Attestation URSSAF 11-2026.pdf"
    assert len(names[1]) <= FILENAME_MAX < len(long_name)
    assert names[1].startswith("Mémoire technique très") and names[1].endswith("….pdf")
    assert names[2:] == ["devissigné.pdf", "..-kbis.pdf"]
    assert status_of(store, a.id) is RecipientStatus.REPLY_UNREAD


@pytest.mark.parametrize("name", ["facture\u202efdp.exe", "nom\x9b31m.txt", "pièce\x07.pdf"])
def test_a_name_that_disguises_itself_is_refused_where_it_is_not_cleaned(name):
    """A buyer's attachment or DCE piece named « facture\u202efdp.exe » (shown as an .exe
    ending in « pdf ») or holding a C1 control was accepted: only C0 controls were refused."""
    with pytest.raises(DocumentRefused, match="contient un caractère interdit"):
        check_filename(name)


def test_a_safe_name_always_passes_the_store_check_and_keeps_a_short_extension():
    @given(name=st.text(max_size=400), extension=st.sampled_from(["pdf", "docx", "zip", ""]))
    def one_name(name, extension):
        given_name = f"{name}.{extension}" if extension else name
        kept = safe_filename(given_name)
        assert check_filename(kept) == kept
        if extension and len(given_name) > FILENAME_MAX:
            assert kept.endswith(f".{extension}")

    one_name()


def _refuse_attachments(store) -> None:
    """A real database failure after the documents are written: the store refuses the rows
    that join them to the reply (a trigger)."""
    with store.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON reply_attachment "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
            )
        else:
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON reply_attachment "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )


async def test_an_e_mail_is_stored_whole_or_not_at_all_and_the_log_names_the_recipient(
    store, listener, caplog, tmp_path
):
    """Measured on main: files stored before the refusal stayed; the log named neither the
    recipient nor the token. Now the failure rolls everything back (no document row), the
    sender is told, the e-mail is kept aside for the operator, and the log names the
    recipient's id, never its token."""
    a = (await send_out(store, queued_message(store)))[A]
    mail = company_reply(reply_to(a))
    mail.add_attachment(PDF, "application", "pdf", filename="kbis.pdf")
    _refuse_attachments(store)
    before = counts(store)
    with caplog.at_level(logging.INFO, logger="messagerie.inbound"):
        code, text = send_mail(listener, reply_to(a), bytes(mail))
    assert counts(store) == before
    assert status_of(store, a.id) is RecipientStatus.SENT
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"recipient={a.id}" in logged
    assert all(token not in logged for token in (a.reply_token, a.token, a.bounce_token))
    assert (code, text) == (554, UNREADABLE[4:])
    (kept,) = (tmp_path / "unmatched").glob("*.eml")
    assert b"kbis.pdf" in kept.read_bytes()


# --- Any message: stored or refused with a code, never an exception (Hypothesis) -------------

CHARSETS = ["utf-8", "iso-8859-1", "windows-1252", "utf-16", "koi8-r", "us-ascii",
            "x-inconnu", "rot13", "unknown-8bit", "utf-7"]  # fmt: skip
HEADERS = ["Subject", "In-Reply-To", "References", "Auto-Submitted", "Precedence",
           "X-Auto-Response-Suppress", "Content-Language", "X-Autoreply", "Message-ID"]  # fmt: skip
TYPES = [("application", "pdf"), ("application", "octet-stream"), ("text", "plain"),
         ("image", "png"), ("application", "zip"), ("message", "rfc822")]  # fmt: skip
TEXT = st.text(max_size=200)
LINE = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)),
               max_size=80)  # fmt: skip
FILES = st.binary(max_size=600) | st.sampled_from([PDF, EICAR, b"PK\x03\x04broken", b""])


def _encoded(text: str, charset: str) -> bytes:
    try:
        return text.encode(charset, "replace")
    except LookupError:
        return text.encode("utf-8", "surrogatepass")


@st.composite
def arbitrary_mail(draw, to: str) -> bytes | None:
    """An e-mail from EmailMessage with arbitrary headers, text, charset, parts and names,
    sometimes with a raw 8-bit header; None when the email package cannot write it."""
    mail = EmailMessage()
    try:
        mail["From"], mail["To"] = A, to
        for name in draw(st.lists(st.sampled_from(HEADERS), unique=True, max_size=4)):
            mail[name] = draw(LINE)
        charset = draw(st.sampled_from(CHARSETS))
        subtype, cte = draw(st.sampled_from(["plain", "html"])), draw(st.sampled_from(
            ["base64", "quoted-printable", "8bit"]))  # fmt: skip
        mail.set_content(_encoded(draw(TEXT), charset), "text", subtype, cte=cte)
        mail.set_param("charset", charset)
        for _ in range(draw(st.integers(0, 3))):
            maintype, subtype = draw(st.sampled_from(TYPES))
            filename = draw(st.none() | st.text(max_size=300))
            mail.add_attachment(draw(FILES), maintype, subtype, filename=filename)
        if mail.is_multipart():
            mail.set_boundary("limite-de-partie")  # never drawn by the email package (random)
        data = mail.as_bytes()
    except (ValueError, TypeError, LookupError, UnicodeError, IndexError, AttributeError):
        return None
    raw = draw(st.none() | st.binary(max_size=60).map(lambda b: b.translate(None, b"\r\n")))
    return data if raw is None else b"X-Brut: " + raw + b"\r\n" + data


def test_any_message_is_stored_or_refused_with_a_code_never_half_written(store, listener, caplog):
    a = asyncio.run(send_out(store, queued_message(store)))[A]
    to = reply_to(a)

    kept: set[bytes] = set()  # an e-mail delivered again, the same bytes, is kept once

    @settings(max_examples=examples(50), deadline=None, suppress_health_check=[HealthCheck.too_slow,
              HealthCheck.filter_too_much])  # fmt: skip
    @given(data=arbitrary_mail(to))
    def one_message(data):
        if data is None:
            return
        caplog.clear()
        before = counts(store)
        code, text = send_mail(listener, to, data)
        after = counts(store)
        assert f"{code} {text}" != UNREADABLE
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        if code == 250:
            again = data in kept
            kept.add(data)
            assert after["replies"] == before["replies"] + (0 if again else 1)
            added = after["documents"] - before["documents"]
            assert added == after["attachments"] - before["attachments"]
        else:
            assert code in {451, 552, 554} and after == before
        with store.engine.connect() as connection:
            names = connection.execute(sa.select(document.c.filename)).scalars().all()
            bodies = connection.execute(sa.select(reply.c.body)).scalars().all()
        assert all(check_filename(name) == name for name in names)
        assert all("\x00" not in body for body in bodies)

    with caplog.at_level(logging.WARNING, logger="messagerie.inbound"):
        one_message()


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_inbound_command_tells_its_limits_and_refuses_unknown_tokens(
    store, store_url, tmp_path
):
    """`messagerie inbound` as operators start it: SIZE at EHLO, 552 5.3.4 for a declared
    size over it, 550 5.1.1 for an unknown token."""
    port = free_port()
    command = [sys.executable, "-m", "messagerie.tui.cli", "--db", store_url, "inbound",
               "--port", str(port)]  # fmt: skip
    environment = {**os.environ, "MESSAGERIE_CLAMD": "off", "MESSAGERIE_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client = smtplib.SMTP("127.0.0.1", port, timeout=30)
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        with client:
            client.ehlo("mx.entreprise.example")
            assert client.esmtp_features["size"] == str(MAX_MESSAGE_BYTES)
            assert client.mail(A, [f"SIZE={MAX_MESSAGE_BYTES + 1}"]) == (
                552, LIMITS.too_big[4:].encode()
            )  # fmt: skip
            client.rset()
            client.mail(A)
            assert client.rcpt("reply+Inconnu0123456789abcdef@alsace.example") == (
                550, b"5.1.1 Adresse inconnue / Unknown recipient"
            )  # fmt: skip
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
