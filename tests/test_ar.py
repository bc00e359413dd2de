"""The acknowledgement of receipt (AR): gathered from real stores (SQLite and PostgreSQL) after
a real send through aiosmtpd, an opening and a reply; rendered by weasyprint and read back
with pypdf; and the `messagerie ar` command."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pypdf
import pytest
import sqlalchemy as sa

from messagerie.letters.pdf.ar import ar_filename, render_ar, stamps
from messagerie.models.messages.ar import ArRefused, ar_data
from messagerie.models.messages.inbound import find_recipient, record_delivery_report, record_reply
from messagerie.models.messages.portal import record_opening
from messagerie.models.store.database import open_store
from messagerie.models.store.enums import (
    AntivirusVerdict,
    DocumentOrigin,
    EventKind,
    MessageType,
    ReplyChannel,
    SendMode,
)
from messagerie.models.store.tables import (
    Attachment,
    AuditEntry,
    Company,
    Document,
    Event,
    Message,
    Recipient,
    table_of,
)
from tests.helpers.cli import messagerie
from tests.helpers.factories import PARIS
from tests.helpers.messages import A, B, row_of, sent_message
from tests.helpers.pdfs import pdf_text

pytestmark = pytest.mark.services  # a send through aiosmtpd, clamd, the `messagerie ar` command

recipient = table_of(Recipient)
CLIENT_ADDRESS, USER_AGENT = "203.0.113.7", "Mozilla/5.0 Test"
OVERRIDE_REASON = "Urgence impérieuse : le délai de réponse est réduit à un jour."


def add_document(store, filename: str, data: bytes) -> int:
    """A document row (the AR reads its name, size, hash and verdict, never its bytes)."""
    with store.engine.begin() as connection:
        return connection.execute(
            sa.insert(table_of(Document))
            .values(
                filename=filename,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                media_type="application/pdf",
                origin=DocumentOrigin.LETTER,
                antivirus=AntivirusVerdict.CLEAN,
                created_by="marie.dupont",
            )
            .returning(table_of(Document).c.id)
        ).scalar_one()


async def opened(store) -> int:
    """The complement request of test_portal sent to A and B; A is a known company, gets a
    letter of its own (and B another), is delivered (D), opens the link (L) and replies (R).
    An override reason is recorded for the message. A's recipient id."""
    tokens = await sent_message(store)
    a, b = row_of(store, A), row_of(store, B)
    with store.engine.begin() as connection:
        company_id = connection.execute(sa.select(table_of(Company).c.id)).scalar_one()
        connection.execute(
            sa.update(recipient).where(recipient.c.id == a.id).values(company_id=company_id)
        )
    for who, filename in ((a, "courrier-A.pdf"), (b, "courrier-B.pdf")):
        document_id = add_document(store, filename, f"%PDF-1.4 {filename}".encode())
        with store.engine.begin() as connection:
            connection.execute(
                sa.insert(table_of(Attachment)).values(
                    message_id=a.message_id, document_id=document_id, recipient_id=who.id
                )
            )
    with store.engine.begin() as connection:
        connection.execute(
            sa.insert(table_of(AuditEntry)).values(
                at=a.sent_at,
                actor="marie.dupont",
                action="rule.override",
                message_id=a.message_id,
                rule=3,
                override_reason=OVERRIDE_REASON,
            )
        )
    record_delivery_report(
        store, a.id, delivered=True, detail="250 2.0.0 Ok", at=a.sent_at + timedelta(seconds=4)
    )
    record_opening(
        store,
        a.id,
        client_address=CLIENT_ADDRESS,
        user_agent=USER_AGENT,
        at=a.sent_at + timedelta(hours=1, minutes=2, seconds=3),
    )
    record_reply(
        store,
        find_recipient(store, token=tokens[A]),
        body="Voici notre attestation.",
        files=(),
        channel=ReplyChannel.WEB,
        at=a.sent_at + timedelta(hours=2, seconds=7),
    )
    return a.id


def stored(store, recipient_id: int):
    """The message body, the events and the attachments' hashes, read straight from the store."""
    event, message = table_of(Event), table_of(Message)
    with store.engine.connect() as connection:
        events = connection.execute(
            sa.select(event.c.kind, event.c.at)
            .where(event.c.recipient_id == recipient_id)
            .order_by(event.c.at)
        ).all()
        body = connection.execute(
            sa.select(message.c.body).where(message.c.id == row_of(store, A).message_id)
        ).scalar_one()
        document = table_of(Document)
        hashes = {
            name: sha256
            for name, sha256 in connection.execute(
                sa.select(document.c.filename, document.c.sha256)
            )
        }
    return body, events, hashes


async def test_ar_data_gathers_the_message_recipient_events_hashes_and_overrides(store):
    recipient_id = await opened(store)
    data = ar_data(store, recipient_id)
    body, events, hashes = stored(store, recipient_id)

    assert data.platform == "Messagerie sécurisée"
    assert data.sender.organisation == "Collectivité européenne d'Alsace"
    assert data.sender.email == "marches@alsace.example"
    assert data.consultation.reference == "2026WEB"
    assert data.message.type is MessageType.COMPLEMENT_REQUEST
    assert data.message.send_mode is SendMode.WITH_AR and data.message.author == "marie.dupont"
    assert data.recipient.email == A and data.recipient.siret == "47646011800047"
    assert data.recipient.address == "2 rue du Vignoble, 68000 Colmar"
    assert [e.kind for e in data.events] == [EventKind(kind) for kind, _ in events]
    assert [e.kind for e in data.events] == [
        EventKind.SENT,
        EventKind.DELIVERED,
        EventKind.READ,
        EventKind.REPLIED,
    ]
    (read,) = [e for e in data.events if e.kind is EventKind.READ]
    assert (read.client_address, read.user_agent) == (CLIENT_ADDRESS, USER_AGENT)
    assert data.message.body_sha256 == hashlib.sha256(body.encode()).hexdigest()
    # The message's own attachment and A's letter; B's letter is not A's business.
    assert [(f.filename, f.personal) for f in data.files] == [
        ("attestation-modèle.pdf", False),
        ("courrier-A.pdf", True),
    ]
    assert [f.sha256 for f in data.files] == [
        hashes["attestation-modèle.pdf"],
        hashes["courrier-A.pdf"],
    ]
    assert [(o.actor, o.rule, o.reason) for o in data.overrides] == [
        ("marie.dupont", 3, OVERRIDE_REASON)
    ]


async def test_the_pdf_shows_every_event_in_paris_and_utc_and_every_hash(store):
    recipient_id = await opened(store)
    pdf = render_ar(ar_data(store, recipient_id))
    text = pdf_text(pdf)
    body, events, hashes = stored(store, recipient_id)

    assert pdf.startswith(b"%PDF-")
    assert "Accusé de réception" in text and "Messagerie sécurisée" in text
    assert "2026WEB" in text and "Demande de complément" in text
    assert "N.B.C. FR" in text and "476460118 00047" in text and A in text
    for kind, at in events:
        assert at.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S (Paris)") in text, kind
        assert at.astimezone(UTC).strftime("%d/%m/%Y %H:%M:%S UTC") in text, kind
    assert f"Adresse du client : {CLIENT_ADDRESS}" in text and USER_AGENT in text
    assert OVERRIDE_REASON in text
    # A hash may be wrapped anywhere: look for it in the text without any whitespace.
    compact = "".join(text.split())
    assert hashlib.sha256(body.encode()).hexdigest() in compact
    assert hashes["attestation-modèle.pdf"] in compact and hashes["courrier-A.pdf"] in compact
    assert hashes["courrier-B.pdf"] not in compact


async def test_a_time_of_the_hour_paris_lives_twice_says_which_in_one_parenthesis(store):
    data = ar_data(store, await opened(store))
    winter = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 in Paris, the second time
    summer = winter - timedelta(hours=1)  # 02:30 in Paris too, the first time
    message = replace(data.message, reply_allowed=True, reply_deadline=summer)
    text = " ".join(pdf_text(render_ar(replace(data, issued_at=winter, message=message))).split())

    assert "établi le 25/10/2026 à 02:30 (heure de Paris, heure d'hiver)" in text
    assert "Autorisée jusqu'au 25/10/2026 02:30 (heure de Paris, heure d'été)" in text
    assert ") (" not in text  # not « 02:30 (heure d'hiver) (heure de Paris) »


def test_a_stamp_in_the_hour_paris_lives_twice_says_which():
    """The anchor's line prints the Paris time alone: it must name one instant by itself."""
    winter = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert stamps(winter) == (
        "25/10/2026 02:30:00 (Paris, heure d'hiver)",
        "25/10/2026 01:30:00 UTC",
    )
    assert stamps(winter - timedelta(hours=1))[0] == "25/10/2026 02:30:00 (Paris, heure d'été)"


async def test_the_pdf_is_pdf_a_3b(store):
    pdf = render_ar(ar_data(store, await opened(store)))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    catalog = reader.trailer["/Root"]
    assert "/OutputIntents" in catalog
    metadata = catalog["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3" pdfaid:conformance="B"' in metadata


async def test_an_address_typed_by_hand_has_no_company(store):
    await sent_message(store)
    b = row_of(store, B)
    record_opening(store, b.id, client_address=None, user_agent=None)
    data = ar_data(store, b.id)
    assert (data.recipient.company, data.recipient.siret, data.recipient.address) == (None,) * 3
    assert "Entreprise Non renseignée" in pdf_text(render_ar(data))


async def test_no_ar_before_the_recipient_opens_the_message(store):
    await sent_message(store)
    with pytest.raises(ArRefused, match="n'a pas encore ouvert ce message"):
        ar_data(store, row_of(store, A).id)


async def test_no_ar_for_a_simple_mail(store):
    await sent_message(store, mode=SendMode.SIMPLE)
    with pytest.raises(ArRefused, match="courrier électronique simple, sans accusé de réception"):
        ar_data(store, row_of(store, A).id)


def test_no_ar_for_an_unknown_recipient(store):
    with pytest.raises(ArRefused, match="Destinataire n° 999 introuvable"):
        ar_data(store, 999)


async def test_the_file_name_is_safe(store):
    data = ar_data(store, await opened(store))
    assert ar_filename(data) == f"AR-2026WEB-{data.recipient.id}.pdf"
    odd = replace(data, consultation=replace(data.consultation, reference="Réf. n°12/Été 2026"))
    assert ar_filename(odd) == f"AR-Ref.-no12-Ete-2026-{data.recipient.id}.pdf"


async def test_the_ar_command_writes_the_pdf_or_says_why_not(tmp_path):
    url = f"sqlite:///{tmp_path / 'ar.sqlite3'}"
    store = open_store(url, upgrade=True, documents_dir=tmp_path / "documents")
    recipient_id = await opened(store)
    unopened = row_of(store, B).id
    store.close()
    env = {"MESSAGERIE_DB": url, "MESSAGERIE_DATA_DIR": str(tmp_path)}

    out = tmp_path / "ar.pdf"
    written = messagerie("ar", str(recipient_id), "--out", str(out), env=env)
    assert written.returncode == 0, written.stderr
    assert out.read_bytes().startswith(b"%PDF-")
    assert written.stdout.strip().splitlines() == [
        f"Accusé de réception du destinataire n° {recipient_id} écrit dans « {out} »."
    ]

    refused = messagerie("ar", str(unopened), "--out", str(tmp_path / "non.pdf"), env=env)
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith("messagerie : Le destinataire n'a pas encore ouvert ce message")
    assert not (tmp_path / "non.pdf").exists()

    pipe = tmp_path / "tube"  # as /dev/null: never replaced by the PDF
    os.mkfifo(pipe)
    refused = messagerie("ar", str(recipient_id), "--out", str(pipe), env=env)
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr.strip().splitlines() == [
        f"messagerie : Impossible d'écrire « {pipe} » : ce n'est pas un fichier ordinaire "
        "(périphérique, tube, socket ou lien) ; choisissez un autre emplacement."
    ]
    assert stat.S_ISFIFO(pipe.lstat().st_mode)
