"""Each recipient's events are hash-chained (models/store/chain.py): a history edited,
reordered or cut in the database is named by `messagerie verify-store`, on SQLite and
PostgreSQL, for events written by the app itself (outbox, page) and by migration 0007."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pypdf
import pytest
import sqlalchemy as sa

from messagerie.letters.pdf.ar import render_ar
from messagerie.models.messages.ar import ar_data
from messagerie.models.messages.bundle import chained_events
from messagerie.models.messages.inbound import find_recipient, record_reply
from messagerie.models.messages.portal import record_opening, record_visit
from messagerie.models.store import migrate
from messagerie.models.store.chain import (
    GENESIS,
    REPLY_CHANGED,
    SENT_CHANGED,
    ChainCheck,
    last_check,
    listed_chain_problem,
    verify_store,
)
from messagerie.models.store.database import Store
from messagerie.models.store.enums import EventKind, ReplyChannel, ReplyDisposition
from messagerie.models.store.seal import seal_of
from messagerie.models.store.tables import (
    attachment,
    document,
    event,
    message,
    recipient,
    reply,
)
from tests.helpers.cli import messagerie
from tests.helpers.interleave import right_after
from tests.helpers.messages import DEADLINE, A, B, queued_message, row_of, sent_message

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


async def two_histories(store: Store) -> tuple[int, int]:
    """A message sent to A and B by the real outbox; A has pressed the page's button (L)."""
    await sent_message(store)
    a, b = row_of(store, A).id, row_of(store, B).id
    record_opening(store, a, client_address="192.0.2.7", user_agent="Firefox", at=NOW)
    return a, b


def events_of(store: Store, recipient_id: int) -> list[sa.Row]:
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(event).where(event.c.recipient_id == recipient_id).order_by(event.c.id)
        ).all()


def tamper(store: Store, statement: sa.Executable) -> None:
    with store.engine.begin() as connection:
        connection.execute(statement)


def broken(store: Store) -> dict[int, str]:
    return {chain.recipient_id: chain.reason for chain in verify_store(store, NOW)[1]}


async def test_the_apps_own_writes_make_whole_chains(store):
    a, _ = await two_histories(store)
    history = events_of(store, a)
    assert [row.kind for row in history][-1] is EventKind.READ
    assert history[0].previous_hash == GENESIS
    assert all(later.previous_hash == earlier.hash for earlier, later in pairwise(history))
    assert row_of(store, A).chain_head == history[-1].hash
    assert verify_store(store, NOW) == (2, [])
    assert last_check(store) == ChainCheck(NOW, altered=0)


async def test_an_edited_event_is_named(store):
    a, _ = await two_histories(store)
    opening = events_of(store, a)[-1]
    tamper(
        store,
        sa.update(event)
        .where(event.c.id == opening.id)
        .values(at=datetime(2026, 1, 1, tzinfo=UTC)),
    )
    assert broken(store) == {a: f"l'événement n°{opening.id} a été modifié"}


async def test_a_deleted_event_is_named(store):
    a, _ = await two_histories(store)
    first = events_of(store, a)[0]
    tamper(store, sa.delete(event).where(event.c.id == first.id))
    assert broken(store) == {
        a: f"un événement avant le n°{events_of(store, a)[0].id} a été supprimé ou déplacé"
    }


async def test_a_cut_end_and_an_event_added_by_hand_are_named(store):
    a, b = await two_histories(store)
    tamper(store, sa.delete(event).where(event.c.id == events_of(store, a)[-1].id))
    tamper(store, sa.insert(event).values(recipient_id=b, kind=EventKind.READ, at=NOW))
    added = events_of(store, b)[-1].id
    assert broken(store) == {
        a: "la fin de l'historique a été coupée ou ajoutée hors chaîne",
        b: f"l'événement n°{added} a été ajouté hors chaîne",
    }
    assert last_check(store) == ChainCheck(NOW, altered=2)  # found altered, and noted


async def test_events_swapped_between_recipients_are_named(store):
    a, b = await two_histories(store)
    moved = events_of(store, a)[-1].id
    tamper(store, sa.update(event).where(event.c.id == moved).values(recipient_id=b))
    reasons = broken(store)
    assert set(reasons) == {a, b}


async def test_migration_0007_chains_the_events_already_there(store):
    """Histories written before 0007 (the chain's columns dropped by a downgrade) are chained
    by the upgrade, in the order they were written, and verify."""
    a, _ = await two_histories(store)
    before = [(row.id, row.hash) for row in events_of(store, a)]
    migrate.downgrade(store.engine, "0006")
    migrate.upgrade(store.engine)
    assert migrate.schema_differences(store.engine) == []
    assert [(row.id, row.hash) for row in events_of(store, a)] == before
    assert verify_store(store, NOW) == (2, [])


async def test_verify_store_on_the_command_line(store, store_url):
    a, _ = await two_histories(store)
    clean = messagerie("--db", store_url, "verify-store")
    assert clean.returncode == 0, clean.stderr
    # Before the verdict, the line that says no anchor guards these histories (test_anchor).
    assert clean.stdout.splitlines()[-1] == "Historiques intacts : 2 destinataire(s) vérifiés."
    tamper(
        store,
        sa.update(event).where(event.c.id == events_of(store, a)[-1].id).values(detail="Ouverture"),
    )
    altered = messagerie("--db", store_url, "verify-store")
    assert altered.returncode == 1
    assert f"Destinataire n°{a} : l'événement n°" in altered.stdout
    assert "Historique altéré pour 1 destinataire(s) sur 2." in altered.stdout


async def test_the_ar_carries_the_head_of_the_chain(store):
    """The AR names the last hash of the recipient's history: a later `verify-store` that
    finds the same head proves the history behind the AR is the one it shows."""
    a, _ = await two_histories(store)
    head = row_of(store, A).chain_head
    data = ar_data(store, a, now=NOW)
    assert data.recipient.chain_head == head == events_of(store, a)[-1].hash
    reader = pypdf.PdfReader(io.BytesIO(render_ar(data)))
    text = "".join("".join(page.extract_text() for page in reader.pages).split())
    assert "Historiquedecedestinataire(dernierévénementchaîné)" + head in text


async def test_an_ar_drawn_on_an_altered_history_says_so(store):
    """A history edited in the database still gave a signed AR that showed it as whole."""
    a, _ = await two_histories(store)
    assert ar_data(store, a, now=NOW).recipient.chain_problem is None
    opening = events_of(store, a)[-1]
    tamper(store, sa.update(event).where(event.c.id == opening.id).values(detail="Retouché"))
    data = ar_data(store, a, now=NOW)
    assert data.recipient.chain_problem == f"l'événement n°{opening.id} a été modifié"
    reader = pypdf.PdfReader(io.BytesIO(render_ar(data)))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert (
        "Attention : l'historique de ce destinataire ne correspond plus à sa chaîne d'empreintes "
        f"(l'événement n°{opening.id} a été modifié)."
    ) in text


async def test_status_says_when_the_chains_were_last_found_whole(store, store_url):
    await two_histories(store)
    before = messagerie("--db", store_url, "status", env={"MESSAGERIE_CLAMD": "off"})
    assert "Historiques chaînés : jamais vérifiés (messagerie verify-store)" in before.stdout
    assert messagerie("--db", store_url, "verify-store").returncode == 0
    after = messagerie("--db", store_url, "status", env={"MESSAGERIE_CLAMD": "off"})
    assert "Historiques chaînés : intacts à la vérification du " in after.stdout
    # An altered history found: said, and the status fails for the probe that watches it
    # (it went on saying « jamais vérifiés » while verify-store named the alteration).
    (first, *_) = events_of(store, row_of(store, A).id)
    tamper(store, sa.update(event).where(event.c.id == first.id).values(detail="Retouché"))
    assert messagerie("--db", store_url, "verify-store").returncode == 1
    altered = messagerie("--db", store_url, "status", env={"MESSAGERIE_CLAMD": "off"})
    assert altered.returncode == 1
    assert "Historiques chaînés : ALTÉRÉS pour 1 destinataire(s) à la vérification du " in (
        altered.stdout
    )
    assert "HISTORIQUES ALTÉRÉS — 1 destinataire(s)" in altered.stdout.splitlines()[-1]


def _body(recipient_id: int) -> sa.Executable:
    sent = sa.select(recipient.c.message_id).where(recipient.c.id == recipient_id)
    return sa.update(message).where(message.c.id == sent.scalar_subquery())


def _file(recipient_id: int) -> sa.Executable:
    sent = sa.select(recipient.c.message_id).where(recipient.c.id == recipient_id)
    carried = sa.select(attachment.c.document_id).where(
        attachment.c.message_id == sent.scalar_subquery()
    )
    return sa.update(document).where(document.c.id.in_(carried)).values(sha256="f" * 64)


# What a dishonest administrator changed with one UPDATE, and whose copies it touches.
SENT_CHANGES = {
    "the body": (lambda a, b: _body(a).values(body=message.c.body + " Clause ajoutée."), "ab"),
    "an address": (
        lambda a, b: sa.update(recipient).where(recipient.c.id == b).values(email="x@y.example"),
        "b",
    ),
    "the reply deadline": (
        lambda a, b: _body(a).values(reply_deadline=datetime(2026, 2, 16, 10, tzinfo=UTC)),
        "ab",
    ),
    "a file": (lambda a, b: _file(a), "ab"),
}


@pytest.mark.parametrize("change", SENT_CHANGES)
async def test_what_was_sent_is_sealed_in_its_history(store, change):
    """An administrator's UPDATE of a sent body, address, deadline or file: the signed AR
    printed the new text as the one sent, and `verify-store` found every history whole."""
    a, b = await two_histories(store)
    (sent,) = [row for row in events_of(store, a) if row.kind is EventKind.SENT]
    assert seal_of(sent.detail) and sent.detail.startswith("2.0.0 Accepté — empreinte ")
    assert broken(store) == {}
    statement, touched = SENT_CHANGES[change]
    tamper(store, statement(a, b))
    named = {"a": a, "b": b}
    assert broken(store) == {named[who]: SENT_CHANGED for who in touched}
    if "a" in touched:  # the AR says so, in its frame
        data = ar_data(store, a, now=NOW)
        assert data.recipient.chain_problem == SENT_CHANGED
        reader = pypdf.PdfReader(io.BytesIO(render_ar(data)))
        text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
        assert f"({SENT_CHANGED})" in text


# A reply received in time, changed or deleted with one statement.
REPLY_CHANGES = {
    "its text": sa.update(reply).values(body="Nous retirons notre offre."),
    "its disposition": sa.update(reply).values(disposition=ReplyDisposition.LATE),
    "its time": sa.update(reply).values(received_at=datetime(2027, 1, 4, 9, tzinfo=UTC)),
    "the whole reply": sa.delete(reply),
}


@pytest.mark.parametrize("change", REPLY_CHANGES)
async def test_a_reply_received_in_time_is_sealed_in_its_history(store, change):
    """A company's reply rewritten (or made « hors délai », or deleted) with its R left in
    place: `export` and `verify` found the bundle intact."""
    tokens = await sent_message(store)
    a = row_of(store, A)
    record_reply(store, find_recipient(store, token=tokens[A]), body="Voici notre attestation.",
                 files=(), channel=ReplyChannel.WEB, at=a.sent_at + timedelta(hours=2))  # fmt: skip
    with store.engine.connect() as connection:
        (reply_id,) = connection.execute(sa.select(reply.c.id)).scalars()
    assert broken(store) == {}
    tamper(store, REPLY_CHANGES[change])
    assert broken(store) == {a.id: REPLY_CHANGED.format(number=reply_id)}


@pytest.mark.parametrize(
    ("disposition", "channel"),
    [
        (ReplyDisposition.AUTOMATIC, ReplyChannel.EMAIL),
        (ReplyDisposition.NOT_ALLOWED, ReplyChannel.EMAIL),
        (ReplyDisposition.LATE, ReplyChannel.WEB),
        (ReplyDisposition.EMPTY, ReplyChannel.EMAIL),
    ],
)
async def test_a_reply_kept_without_r_is_sealed_in_its_history_too(store, disposition, channel):
    """An out-of-office, a reply to a letter that allows none, a late or an empty one gives
    no R: its text was sealed nowhere, and an UPDATE rewrote it unseen. Its history now says
    it came, sealed, and the copy's status stays as it was."""
    tokens = await sent_message(
        store, reply_allowed=disposition is not ReplyDisposition.NOT_ALLOWED
    )
    a = row_of(store, A)
    at = DEADLINE + timedelta(hours=1) if disposition is ReplyDisposition.LATE else a.sent_at
    kept = record_reply(
        store,
        find_recipient(store, token=tokens[A]),
        body="" if disposition is ReplyDisposition.EMPTY else "Je suis absent.",
        files=(),
        channel=channel,
        at=at + timedelta(minutes=5),
        automatic=disposition is ReplyDisposition.AUTOMATIC,
    )
    assert kept is disposition
    with store.engine.connect() as connection:
        (reply_id,) = connection.execute(sa.select(reply.c.id)).scalars()
    last = events_of(store, a.id)[-1]
    assert (last.kind, row_of(store, A).status) == (EventKind.REPLY_KEPT, a.status)
    assert last.detail.startswith(
        f"{disposition.label} — {channel.label} — empreinte de la réponse n°{reply_id} : "
    )
    assert broken(store) == {}
    tamper(store, sa.update(reply).values(body="Nous retirons notre offre."))
    assert broken(store) == {a.id: REPLY_CHANGED.format(number=reply_id)}


def test_status_names_an_audit_log_left_without_its_protection(store, store_url):
    """An administrator dropped the triggers that keep the log append-only, then rewrote an
    override's reason: nothing said so, and the AR printed the rewritten reason."""
    off = {"MESSAGERIE_CLAMD": "off"}
    guarded = messagerie("--db", store_url, "status", env=off)
    assert "Journal d'audit : protégé (ajouts seulement)\n" in guarded.stdout
    if store.engine.dialect.name == "sqlite":
        lifted, names = ["DROP TRIGGER audit_log_no_update"], "audit_log_no_update"
    else:  # disabled is as good as gone
        lifted = ["ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"]
        names = "audit_log_append_only"
    for statement in lifted:
        tamper(store, sa.text(statement))
    lifted_status = messagerie("--db", store_url, "status", env=off)
    assert lifted_status.returncode == 1
    assert (
        f"Journal d'audit : PROTECTION RETIRÉE ({names} absent ou désactivé) — ses lignes ont "
        "pu être modifiées ou supprimées depuis\n"
    ) in lifted_status.stdout
    assert "JOURNAL D'AUDIT SANS PROTECTION" in lifted_status.stdout.splitlines()[-1]


def test_visits_recorded_at_once_never_fork_a_history(store):
    """Eight fetches of one link at the same moment (a mail gateway fetching again, a double
    click), ten each. On SQLite the chain's head was read before the write lock was taken:
    two events chained from one head, and `verify-store` named a deletion that never was."""
    queued_message(store)
    target = row_of(store, A).id
    start = threading.Barrier(8)

    def fetch() -> None:
        start.wait()
        for _ in range(10):
            record_visit(store, target, EventKind.LINK_SCANNED, "Analyse automatique du lien",
                         client_address="203.0.113.9", user_agent="scanner")  # fmt: skip

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    history = events_of(store, target)
    assert sum(row.kind == EventKind.LINK_SCANNED for row in history) == 80
    assert [row.previous_hash for row in history[1:]] == [row.hash for row in history[:-1]]
    assert verify_store(store, NOW)[1] == []


async def test_a_history_read_while_the_page_adds_to_it_is_not_taken_for_altered(store):
    """verify-store and the AR read the events, then the heads; the bundle the heads, then
    the events. A visit recorded between the two reads made a whole history look cut, on the
    AR, in `status` and in the bundle: each now reads one moment of the store."""
    await sent_message(store)
    a = row_of(store, A).id
    record_opening(store, a, client_address=None, user_agent=None)

    def visit() -> None:
        record_visit(store, a, EventKind.LINK_VISITED, "vu", client_address=None, user_agent=None)

    with right_after(store, "FROM event", visit):
        checked, broken = verify_store(store, datetime.now(UTC))
    assert (checked, broken) == (2, [])
    assert last_check(store).clean
    with right_after(store, "event.previous_hash", visit):
        assert ar_data(store, a).recipient.chain_problem is None
    with right_after(store, "FROM recipient", visit):
        head, events = chained_events(store, row_of(store, A).message_id)[a]
    listed = [{**one, "at": datetime.fromisoformat(one["at"])} for one in events]
    assert listed_chain_problem(a, listed, head) is None
