"""The demo tells every case of the guide whatever the day it is built: 40 days before
2026-12-01, that day, and 400 days after.

Rows are checked as `build_demo` gives them where no database is needed; what the app decides
(rules 2, 6 and 8, the tracking table, the DCE, suites) is asked of the app's own functions on
a SQLite store holding the same day's demo. Each day's demo is built once for the module.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pypdf
import pytest
import sqlalchemy as sa

from messagerie.models.consultations import dce
from messagerie.models.consultations.detail import consultation_detail
from messagerie.models.consultations.qa import qa_entries
from messagerie.models.consultations.registers import list_register
from messagerie.models.consultations.suites import SUITE_PROCEDURES, candidate_choices
from messagerie.models.demo import corpus
from messagerie.models.demo.builder import build_demo, seed_demo
from messagerie.models.formatting import PARIS
from messagerie.models.messages.detail import message_detail
from messagerie.models.messages.form import check_form, load_context
from messagerie.models.messages.presets import preset_form
from messagerie.models.messages.tracking import TrackingQuery, tracking_count, tracking_page
from messagerie.models.rules.checks import invitation_body, invitation_mentions
from messagerie.models.store.database import Store, open_store
from messagerie.models.store.documents import PDF, TEXT, ZIP, detect_media_type, document_space
from messagerie.models.store.enums import (
    AntivirusVerdict,
    ConsultationStatus,
    DeliveryState,
    DocumentOrigin,
    MessageState,
    MessageType,
    Procedure,
    RecipientStatus,
    RegisterKind,
    SendMode,
)
from messagerie.models.store.tables import (
    audit_entry,
    consultation,
    message,
    recipient,
    reply,
    reply_attachment,
)
from tests.helpers.accounts import DEMO_READER
from tests.helpers.factories import add_consultations

# Module-scoped fixtures: its tests run on one xdist worker (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_demo_days")

REFERENCE_DAY = date(2026, 12, 1)
DAYS = (REFERENCE_DAY - timedelta(days=40), REFERENCE_DAY, REFERENCE_DAY + timedelta(days=400))
GUIDE_TEST_SUPPORT = datetime(2027, 2, 22, 9, 55, tzinfo=PARIS)
S = ConsultationStatus
Rows = dict[str, list[dict[str, Any]]]


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=PARIS)


def office(day: date) -> datetime:
    """10:00 in Paris on `day`: when the buyer uses the app in these tests."""
    return datetime.combine(day, time(10), tzinfo=PARIS)


@functools.lru_cache(maxsize=2)
def built(day: date) -> Rows:
    """build_demo(day), kept for the next test (and the reference day for comparisons)."""
    return build_demo(day)


@pytest.fixture(scope="module", params=DAYS, ids=str)
def day(request) -> date:
    return request.param


@pytest.fixture(scope="module")
def tables(day) -> Rows:
    return built(day)


@pytest.fixture(scope="module")
def store(day, tmp_path_factory) -> Iterator[Store]:
    """The same day's demo in a SQLite store with its documents folder; tests only read it."""
    folder = tmp_path_factory.mktemp(f"demo-{day}")
    opened = open_store(
        f"sqlite:///{folder / 'demo.sqlite3'}", upgrade=True, documents_dir=folder / "documents"
    )
    seed_demo(opened, today=day)
    yield opened
    opened.close()


def by_reference(tables: Rows) -> dict[str, dict[str, Any]]:
    return {c["reference"]: c for c in tables["consultation"]}


def consultation_ids(store: Store, *conditions: Any) -> list[int]:
    with store.engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(consultation.c.id).where(*conditions).order_by(consultation.c.id)
            ).scalars()
        )


def id_of(store: Store, reference: str) -> int:
    (found,) = consultation_ids(store, consultation.c.reference == reference)
    return found


def sent_messages(store: Store, consultation_id: int, kind: MessageType) -> list[Any]:
    """The consultation's messages of `kind` that were sent (not drafts), oldest first."""
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(message)
            .where(
                message.c.consultation_id == consultation_id,
                message.c.type == kind,
                message.c.state == MessageState.QUEUED,
            )
            .order_by(message.c.queued_at)
        ).all()


def recipients_of(store: Store, message_id: int) -> set[str]:
    return {r.email for r in message_detail(store, message_id, actor=DEMO_READER).recipients}


# --- Rows (no database) -------------------------------------------------------------------


def test_the_guides_four_examples_are_there(tables):
    consultations = by_reference(tables)
    for guide in corpus.GUIDE_CONSULTATIONS:
        found = consultations[guide.reference]
        assert (found["title"], found["object"]) == (guide.title, guide.object)
        if guide is not corpus.TEST_SUPPORT:
            assert found["bid_deadline"] == guide.deadline  # the guide's own past dates
            assert found["status"] is S.DECISION


def test_test_support_is_open_on_the_guides_deadline_or_a_later_year(tables, day):
    consultations = tables["consultation"]
    test_support = by_reference(tables)["C2025ADM"]
    deadline = test_support["bid_deadline"].astimezone(PARIS)
    notice = timedelta(days=30)
    if GUIDE_TEST_SUPPORT - midnight(day) >= notice:
        assert deadline == GUIDE_TEST_SUPPORT
    else:  # rolled forward by whole years, no more than needed
        assert deadline == GUIDE_TEST_SUPPORT.replace(year=deadline.year)
        assert deadline - midnight(day) >= notice
        assert deadline.replace(year=deadline.year - 1) - midnight(day) < notice
    assert test_support["status"] is S.OPEN
    others = [c["bid_deadline"] for c in consultations if c is not test_support]
    assert max(others) < test_support["bid_deadline"]  # it sorts first on the dashboard


def test_every_status_a_reply_and_the_outbox(tables):
    assert len(tables["consultation"]) >= 1395
    assert {c["status"] for c in tables["consultation"]} == set(ConsultationStatus)
    assert tables["reply"] and tables["reply_attachment"]
    waiting = [r for r in tables["recipient"] if r["delivery_state"] is DeliveryState.QUEUED]
    assert waiting and {r["status"] for r in waiting} == {RecipientStatus.PENDING}
    assert [m for m in tables["message"] if m["state"] is MessageState.DRAFT]


def wines_story(tables: Rows) -> list[tuple[Any, ...]]:
    """2025VINS's registers and messages, without ids nor tokens."""
    wines = by_reference(tables)["2025VINS"]["id"]
    recipients = defaultdict(list)
    for r in tables["recipient"]:
        recipients[r["message_id"]].append(r)
    replies = {r["recipient_id"]: (r["body"], r["read_at"]) for r in tables["reply"]}
    story: list[tuple[Any, ...]] = [
        (e["kind"], e["contact_email"], e["at"], e["number"])
        for e in tables["register_entry"]
        if e["consultation_id"] == wines
    ]
    for m in tables["message"]:
        if m["consultation_id"] == wines:
            copies = [
                (r["email"], r["status"], r["sent_at"], r["read_at"], *replies.get(r["id"], ()))
                for r in recipients[m["id"]]
            ]
            story.append((m["type"], m["subject"], m["body"], m["queued_at"], tuple(copies)))
    return sorted(story, key=repr)


def test_wines_always_has_an_ar_an_unopened_letter_a_reply_and_overrides(tables):
    wines = by_reference(tables)["2025VINS"]["id"]
    messages = {m["id"]: m for m in tables["message"] if m["consultation_id"] == wines}
    copies = [r for r in tables["recipient"] if r["message_id"] in messages]
    with_ar = [r for r in copies if messages[r["message_id"]]["send_mode"] is SendMode.WITH_AR]
    assert any(r["read_at"] for r in with_ar)  # an opening: its AR
    assert any(r["delivered_at"] and not r["read_at"] for r in with_ar)  # a letter unopened
    assert {r["recipient_id"] for r in tables["reply"]} & {r["id"] for r in copies}
    overridden = {a["rule"] for a in tables["audit_log"] if a["message_id"] in messages}
    assert {1, 3} <= overridden
    # Case B: the answer to N.B.C. FR alone.
    (answer,) = [m for m in messages.values() if m["type"] is MessageType.ANSWER]
    assert [r["email"] for r in copies if r["message_id"] == answer["id"]] == [
        corpus.NBC_FR.contact_email
    ]


def test_wines_is_the_same_whatever_the_day(tables):
    assert wines_story(tables) == wines_story(built(REFERENCE_DAY))


# --- What the app sees (SQLite store) -----------------------------------------------------


def test_test_support_has_its_registers_and_a_dce_zip_with_folders(store):
    cid = id_of(store, "C2025ADM")
    counts = consultation_detail(store, cid).counts
    assert all(counts[kind] > 0 for kind in RegisterKind), counts
    (version,) = dce.dce_history(store, cid, actor=DEMO_READER)
    (archive,) = version.pieces
    assert re.fullmatch(r"dce\d{20}\.zip", archive.path) and archive.media_type == ZIP
    with zipfile.ZipFile(io.BytesIO(store.blobs.read(archive.sha256))) as dce_zip:
        names = dce_zip.namelist()
        files = [name for name in names if not name.endswith("/")]
        assert [name for name in names if name.endswith("/")], "the zip has folders"
        assert [child.path for child in archive.children] == files
        titles = set()
        for child in archive.children:
            data = store.blobs.read(child.sha256)
            assert data == dce_zip.read(child.path)
            assert child.media_type == detect_media_type(data, child.path) in (PDF, TEXT)
            if child.media_type == PDF:
                reader = pypdf.PdfReader(io.BytesIO(data), strict=True)
                titles.add(reader.metadata.title)
                assert "C2025ADM" in reader.pages[0].extract_text()
    assert sum("/" in path for path in files) >= 5
    assert {
        "Règlement de la consultation",
        "Acte d'engagement",
        "Cahier des clauses administratives particulières",
        "Cahier des clauses techniques particulières",
        "Bordereau des prix unitaires",
    } <= titles
    documents = document_space(store, cid, limit=100, actor=DEMO_READER)
    assert {(d.origin, d.antivirus) for d in documents} == {
        (DocumentOrigin.DCE, AntivirusVerdict.NOT_SCANNED)  # what save_dce_changes records
    }


def test_open_consultations_have_their_dce_in_several_versions(store):
    versioned = [
        cid
        for cid in consultation_ids(store, consultation.c.status == S.OPEN)
        if len(dce.dce_history(store, cid, actor=DEMO_READER)) >= 2
    ]
    assert 3 <= len(versioned) <= 5
    with store.engine.connect() as connection:
        changes = "\n".join(
            connection.execute(
                sa.select(audit_entry.c.detail).where(
                    audit_entry.c.action == "dce.version",
                    audit_entry.c.consultation_id.in_(versioned),
                )
            ).scalars()
        )
    for change in ("Ajout : ", "Remplacement : ", "Suppression : ", "Remplacement du DCE : "):
        assert change in changes
    for cid in versioned:
        newest, *older = dce.dce_history(store, cid, actor=DEMO_READER)
        for version, previous in zip([newest, *older], older, strict=False):
            assert shape(version.pieces) != shape(previous.pieces)


def shape(pieces: tuple[dce.PieceView, ...]) -> tuple[Any, ...]:
    """What a version lists: paths, contents and types, children included (no ids)."""
    return tuple((p.path, p.sha256, p.size, p.media_type, shape(p.children)) for p in pieces)


def unanswered_questions(store: Store, cid: int) -> list[str]:
    """Questions neither in the questions/answers document nor quoted by a message."""
    answered = {entry.question for entry in qa_entries(store, cid, actor=DEMO_READER)}
    with store.engine.connect() as connection:
        bodies = "\n".join(
            connection.execute(
                sa.select(message.c.body).where(message.c.consultation_id == cid)
            ).scalars()
        )
    questions = list_register(store, cid, RegisterKind.QUESTION, actor=DEMO_READER).rows
    texts = (row.question_text or "" for row in questions)
    return [text for text in texts if text not in answered and text not in bodies]


@pytest.mark.parametrize(("days_ahead", "warned"), [(3, True), (20, False)])
def test_answering_warns_inside_the_six_days_only(store, day, days_ahead, warned):
    """Case A/B's "Répondre à une question", as the form checks it (LEGAL.md rule 2)."""
    now = office(day)
    target = day + timedelta(days=days_ahead)
    found = []
    for cid in consultation_ids(store, consultation.c.status == S.OPEN):
        detail = consultation_detail(store, cid)
        if detail.bid_deadline.astimezone(PARIS).date() != target:
            continue
        if not detail.procedure.formalised or not unanswered_questions(store, cid):
            continue
        assert detail.counts[RegisterKind.WITHDRAWAL] and detail.counts[RegisterKind.QUESTION]
        context = load_context(store, cid)
        verdicts = check_form(preset_form(context, MessageType.ANSWER), context, now).verdicts
        found.append(any(v.rule == 2 and v.level == "warning" for v in verdicts))
    assert found and set(found) == {warned}


def test_a_restricted_procedure_has_its_suite_and_invited_candidates(store):
    suites = consultation_ids(store, consultation.c.parent_id.is_not(None))
    assert suites
    for sid in suites:
        suite = consultation_detail(store, sid)
        assert suite.parent and suite.restricted and suite.access_code
        assert suite.status is S.OPEN and suite.procedure in SUITE_PROCEDURES
        parent = consultation_detail(store, suite.parent.id)
        assert parent.procedure is Procedure.RESTRICTED_TENDER
        assert sid in [ref.id for ref in parent.suites]
        candidates = {c.email for c in load_context(store, sid).candidates}
        assert len(candidates) == suite.candidates > 0
        assert candidates <= {c.contact_email for c in candidate_choices(store, parent.id)}
        (invitation,) = sent_messages(store, sid, MessageType.INVITATION)
        assert recipients_of(store, invitation.id) == candidates  # all at once (rule 6)
        assert invitation_body(invitation.body, suite.access_code, True) is None
        mentions = invitation.mentions
        assert invitation_mentions(
            mentions["notice_reference"], suite.bid_deadline, mentions["submission"],
            mentions["documents"],
        ) is None  # fmt: skip


def latest_rejections(store: Store) -> dict[int, datetime]:
    """The latest rejection letter sent, by formalised consultation in Décision."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(message.c.consultation_id, sa.func.max(message.c.queued_at))
            .join(consultation, consultation.c.id == message.c.consultation_id)
            .where(
                message.c.type == MessageType.REJECTION,
                message.c.state == MessageState.QUEUED,
                consultation.c.status == S.DECISION,
                consultation.c.procedure != Procedure.ADAPTED,
            )
            .group_by(message.c.consultation_id)
        ).all()
    return dict(rows)


def notification_check(store: Store, cid: int, now: datetime) -> tuple[bool, int]:
    """Whether rule 8 blocks the notification now, and to how many awardees it would go."""
    context = load_context(store, cid)
    form = preset_form(context, MessageType.NOTIFICATION)
    verdicts = check_form(form, context, now).verdicts
    return any(v.rule == 8 and v.blocks for v in verdicts), len(form.recipients)


def test_one_consultation_in_its_standstill_and_one_after_it(store, day):
    """Cases G, H, I in order, as the app's rule 8 decides (rejections of the same lot)."""
    now = office(day)
    in_standstill, ready = [], []
    for cid, rejected in latest_rejections(store).items():
        if sent_messages(store, cid, MessageType.NOTIFICATION):
            continue
        awarded = bool(sent_messages(store, cid, MessageType.AWARD))
        blocked, awardees = notification_check(store, cid, now)
        if rejected.astimezone(PARIS).date() == day - timedelta(days=3):
            in_standstill.append(blocked and awarded and awardees > 0)
        elif now - rejected >= timedelta(days=12):
            ready.append(not blocked and awarded and awardees > 0)
    assert any(in_standstill) and any(ready)


def test_a_mapa_has_its_award_letter(store):
    mapas = consultation_ids(
        store, consultation.c.procedure == Procedure.ADAPTED, consultation.c.status == S.DECISION
    )
    assert any(
        sent_messages(store, cid, MessageType.AWARD)
        and not sent_messages(store, cid, MessageType.NOTIFICATION)
        and load_context(store, cid).awardees
        for cid in mapas
    )


def test_every_tracking_status_with_the_servers_answer_and_replies_with_files(store):
    for status in RecipientStatus:
        assert tracking_count(store, TrackingQuery(status=status)) > 0, status
    refused = tracking_page(store, TrackingQuery(status=RecipientStatus.NOT_DELIVERED), limit=20)
    details = [
        event.detail or ""
        for row in refused
        for copy in message_detail(store, row.message_id, actor=DEMO_READER).recipients
        if copy.id == row.recipient_id
        for event in copy.events
    ]
    assert any(re.match(r"(5\d\d \d\.\d\.\d |Abandon après)", detail) for detail in details)
    for status in (RecipientStatus.REPLY_READ, RecipientStatus.REPLY_UNREAD):
        with store.engine.connect() as connection:
            message_id, recipient_id = connection.execute(
                sa.select(recipient.c.message_id, recipient.c.id)
                .join(reply, reply.c.recipient_id == recipient.c.id)
                .join(reply_attachment, reply_attachment.c.reply_id == reply.c.id)
                .where(recipient.c.status == status)
                .limit(1)
            ).one()
        replies = message_detail(store, message_id, actor=DEMO_READER).replies
        (answer,) = [r for r in replies if r.recipient_id == recipient_id]
        assert (answer.read_at is not None) is (status is RecipientStatus.REPLY_READ)
        assert answer.files
        for file in answer.files:
            assert (file.origin, file.antivirus) == (DocumentOrigin.REPLY, AntivirusVerdict.CLEAN)
            assert detect_media_type(store.blobs.read(file.sha256), file.filename) == PDF


def test_every_document_is_in_the_blob_store(store):
    with store.engine.connect() as connection:
        documents = connection.execute(sa.text("SELECT * FROM document")).mappings().all()
    assert documents
    for document in documents:
        data = store.blobs.read(document["sha256"])  # checked against its SHA-256
        assert len(data) == document["size"]
        assert detect_media_type(data, document["filename"]) == document["media_type"]


def test_the_dce_rows_are_those_save_dce_changes_writes(store, tmp_path):
    """Every DCE version of the demo, replayed through the app's own save_dce_changes on a
    fresh store (its changes read from the journal), lists the same pieces, documents and
    journal text."""
    with store.engine.connect() as connection:
        journal = connection.execute(
            sa.select(audit_entry.c.consultation_id, audit_entry.c.detail)
            .where(audit_entry.c.action == "dce.version")
            .order_by(audit_entry.c.id)
        ).all()
    details: dict[int, list[str]] = defaultdict(list)
    for cid, detail in journal:
        details[cid].append(detail)
    fresh = open_store(
        f"sqlite:///{tmp_path / 'replay.sqlite3'}", upgrade=True, documents_dir=tmp_path / "d"
    )
    try:
        deadline = datetime(2030, 1, 1, 12, tzinfo=PARIS)
        targets = add_consultations(
            fresh, [(f"REJEU-{cid}", "Rejeu", S.OPEN, deadline) for cid in details]
        )
        for (cid, texts), target in zip(details.items(), targets, strict=True):
            versions = dce.dce_history(store, cid, actor=DEMO_READER)[::-1]
            assert len(versions) == len(texts)
            for version, text in zip(versions, texts, strict=True):
                replayed = replay(store, fresh, target, version, text)
                assert shape(replayed.pieces) == shape(version.pieces)
            assert journal_of(fresh, target) == texts
            assert document_rows(fresh, target) == document_rows(store, cid)
    finally:
        fresh.close()


def replay(store: Store, fresh: Store, target: int, version: dce.DceVersionView, text: str):
    """The version's changes, as its journal text states them, saved on `fresh`."""
    changes = dce.DceChanges.starting_from(dce.current_dce(fresh, target, actor=DEMO_READER))
    new = {piece.path: piece for piece in version.pieces}

    def file(path: str) -> dce.NewFile:
        return dce.NewFile(path, store.blobs.read(new[path].sha256))

    def base(path: str) -> int:
        return next(piece.id for piece in changes.base_pieces if piece.path == path)

    for line in text.splitlines()[1:]:
        kind, _, what = line.partition(" : ")
        if kind == "Ajout":
            changes = changes.add(file(what))
        elif kind == "Remplacement du DCE":
            changes = changes.replace_all(file(what))
        elif kind == "Remplacement":
            old, new_path = what.split(" → ")
            changes = changes.replace(base(old), file(new_path))
        elif kind == "Suppression":
            changes = changes.delete(base(what))
    return dce.save_dce_changes(
        fresh, fresh.blobs, target, changes, actor=version.author, comment=version.comment
    )


def journal_of(store: Store, cid: int) -> list[str]:
    with store.engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(audit_entry.c.detail)
                .where(audit_entry.c.action == "dce.version", audit_entry.c.consultation_id == cid)
                .order_by(audit_entry.c.id)
            ).scalars()
        )


def document_rows(store: Store, cid: int) -> list[tuple[Any, ...]]:
    return sorted(
        (d.filename, d.sha256, d.size, d.media_type, d.origin, d.antivirus)
        for d in document_space(store, cid, limit=1000, actor=DEMO_READER)
    )
