"""La loupe's data, Renvoyer and the CSV export, on both backends."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from messagerie.models.errors import Refusal
from messagerie.models.messages.detail import (
    ResendRefused,
    export_csv,
    message_detail,
    resend,
    save_files,
)
from messagerie.models.messages.outbox import record_failure
from messagerie.models.messages.tracking import TrackingQuery
from messagerie.models.store.enums import DeliveryState, EventKind, RecipientStatus
from messagerie.models.store.tables import Recipient, table_of
from tests.helpers.messages import A, B, sent_message

pytestmark = pytest.mark.services  # a send through aiosmtpd, clamd

recipient = table_of(Recipient)


def row(store, email: str):
    with store.engine.connect() as connection:
        return connection.execute(sa.select(recipient).where(recipient.c.email == email)).one()


def refuse(store, email: str) -> int:
    """A 5xx for `email`: "Non délivré"."""
    recipient_id = row(store, email).id
    with store.engine.begin() as connection:
        connection.execute(
            sa.update(recipient)
            .where(recipient.c.id == recipient_id)
            .values(delivery_state=DeliveryState.CLAIMED, status=RecipientStatus.SENT)
        )
    record_failure(store, recipient_id, answer="550 5.1.1 inconnu", permanent=True, attempts=1)
    return recipient_id


async def test_detail_has_files_recipients_and_their_timelines(store):
    await sent_message(store)
    failed = refuse(store, B)
    detail = message_detail(store, row(store, A).message_id, actor="marie.dupont")
    (attachment,) = detail.files
    assert attachment.filename == "attestation-modèle.pdf" and len(attachment.sha256) == 64
    by_email = {one.email: one for one in detail.recipients}
    assert [e.kind for e in by_email[A].events] == [EventKind.SENT]
    assert [e.kind for e in by_email[B].events][-1] is EventKind.NOT_DELIVERED
    assert by_email[B].id == failed and detail.replies == () and detail.overrides == ()


async def test_resend_same_address_requeues_and_a_corrected_one_gets_a_linked_row(store):
    await sent_message(store)
    failed = refuse(store, B)
    with pytest.raises(ResendRefused, match="seul un message non délivré"):
        resend(store, row(store, A).id, actor="marie.dupont")
    with pytest.raises(ResendRefused, match="déjà destinataire"):
        resend(store, failed, actor="marie.dupont", email=A.upper())
    assert resend(store, failed, actor="marie.dupont", email=B) == failed
    again = row(store, B)
    assert (again.delivery_state, again.status, again.attempts) == (
        DeliveryState.QUEUED,
        RecipientStatus.PENDING,
        0,
    )
    refuse(store, B)
    new_id = resend(store, failed, actor="marie.dupont", email="b@corrige.example")
    new = row(store, "b@corrige.example")
    assert (new.id, new.resent_from_id, new.delivery_state) == (
        new_id,
        failed,
        DeliveryState.QUEUED,
    )
    assert new.token != again.token and new.message_id_header != again.message_id_header
    assert row(store, B).status == RecipientStatus.NOT_DELIVERED  # the failure is kept


async def test_csv_export_is_whole_or_absent(store, tmp_path):
    await sent_message(store)
    target = tmp_path / "suivi.csv"
    assert export_csv(store, TrackingQuery(company="entreprise.example"), target) == 2
    text = target.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("Référence;Type de message;Objet")
    assert A in text and B in text
    with pytest.raises(Refusal, match="Impossible d'écrire"):
        export_csv(store, TrackingQuery(), tmp_path / "absent" / "suivi.csv")
    assert not list((tmp_path).glob("**/*.partiel"))


async def test_saved_files_never_overwrite(store, tmp_path):
    await sent_message(store)
    detail = message_detail(store, row(store, A).message_id, actor="marie.dupont")
    from messagerie.models.store.documents import document_infos
    from messagerie.models.store.tables import Attachment

    with store.engine.connect() as connection:
        ids = list(connection.execute(sa.select(table_of(Attachment).c.document_id)).scalars())
    files = document_infos(store, ids, actor="marie.dupont")
    first = save_files(store, files, tmp_path)
    second = save_files(store, files, tmp_path)
    assert [p.name for p in first] == ["attestation-modèle.pdf"]
    assert [p.name for p in second] == ["attestation-modèle (2).pdf"]
    assert second[0].read_bytes() == b"%PDF-1.4 modele" and detail.files
