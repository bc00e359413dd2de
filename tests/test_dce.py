"""The DCE: versions and their history, staged changes, deadline changes and LEGAL rule 3.

Runs on a SQLite file and on PostgreSQL (the `store` fixture), with blobs in a tmp folder.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
import sqlalchemy as sa

from messagerie.models.consultations.dce import (
    DceChanges,
    DceConflict,
    DceError,
    DceVersionView,
    NewFile,
    change_bid_deadline,
    current_dce,
    dce_history,
    deadline_history,
    save_dce_changes,
    validate_dce_changes,
)
from messagerie.models.consultations.workspace import DceUpdate, publish_dce_update
from messagerie.models.errors import Refusal
from messagerie.models.rules.checks import RuleVerdict, modification_window_check
from messagerie.models.store.blobs import BlobStore
from messagerie.models.store.enums import ConsultationStatus, DocumentOrigin
from messagerie.models.store.tables import (
    AuditEntry,
    Consultation,
    DcePiece,
    DceVersion,
    DeadlineChange,
    Document,
)
from tests.helpers.dce import DCE_MEMBERS, DCE_ZIP, pdf, zip_of
from tests.helpers.factories import add_consultations
from tests.helpers.interleave import right_after

BUYER = "j.dupont@alsace.example"
DEADLINE = datetime(2026, 2, 14, 11, 0, tzinfo=UTC)  # 14/02/2026 12:00 in Paris
TABLES = (Document, DceVersion, DcePiece, AuditEntry, DeadlineChange)


@pytest.fixture
def blobs(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "documents")


@pytest.fixture
def consultation(store) -> int:
    [consultation_id] = add_consultations(
        store, [("202601", "Achat de chocolats", ConsultationStatus.OPEN, DEADLINE)]
    )
    return consultation_id


def row_counts(store) -> dict[str, int]:
    with store.engine.connect() as connection:
        return {
            table.__tablename__: connection.execute(
                sa.select(sa.func.count()).select_from(table.__table__)
            ).scalar_one()
            for table in TABLES
        }


def save(store, blobs, consultation_id, changes, comment=None) -> DceVersionView:
    return save_dce_changes(store, blobs, consultation_id, changes, actor=BUYER, comment=comment)


def start(store, consultation_id) -> DceChanges:
    return DceChanges.starting_from(current_dce(store, consultation_id, actor=BUYER))


def names(version: DceVersionView) -> list[str]:
    return [piece.path for piece in version.pieces]


def audit_details(store, action: str) -> list[str]:
    table = AuditEntry.__table__
    with store.engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(table.c.detail).where(table.c.action == action).order_by(table.c.id)
            ).scalars()
        )


# --- Versions --------------------------------------------------------------------------------


def test_a_consultation_without_dce_has_no_version(store, consultation):
    assert current_dce(store, consultation, actor=BUYER) is None
    assert dce_history(store, consultation, actor=BUYER) == ()
    assert DceChanges.starting_from(None).is_empty()


def test_the_first_save_creates_version_1(store, blobs, consultation):
    changes = DceChanges.starting_from(None).add(NewFile("RC.pdf", pdf("RC")))
    version = save(store, blobs, consultation, changes, comment="Mise en ligne")
    assert (version.number, version.author, version.comment) == (1, BUYER, "Mise en ligne")
    [piece] = version.pieces
    assert (piece.path, piece.size, piece.media_type) == (
        "RC.pdf",
        len(pdf("RC")),
        "application/pdf",
    )
    assert piece.sha256 == hashlib.sha256(pdf("RC")).hexdigest()
    assert piece.children == ()
    assert current_dce(store, consultation, actor=BUYER) == version
    assert audit_details(store, "dce.version") == [
        f"Version 1 du DCE (base : aucun DCE)\nAjout : RC.pdf\nSHA-256 de RC.pdf : {piece.sha256}"
    ]


def test_replace_all_lists_the_zip_members_as_its_children(store, blobs, consultation):
    version = save(store, blobs, consultation, start(store, consultation).replace_all(DCE_ZIP))
    [archive] = version.pieces
    assert (archive.path, archive.media_type) == (DCE_ZIP.filename, "application/zip")
    assert [child.path for child in archive.children] == list(DCE_MEMBERS)
    for child in archive.children:
        assert blobs.read(child.sha256) == DCE_MEMBERS[child.path]
        assert (child.size, child.media_type) == (len(DCE_MEMBERS[child.path]), "application/pdf")
    table = Document.__table__
    with store.engine.connect() as connection:
        documents = connection.execute(sa.select(table)).all()
    assert {row.origin for row in documents} == {DocumentOrigin.DCE}
    assert {row.consultation_id for row in documents} == {consultation}
    assert len(documents) == 4


def test_files_in_folders_of_an_added_zip_keep_their_path(store, blobs, consultation):
    annexes = NewFile(
        "annexes.zip", zip_of({"Annexes/BPU.pdf": pdf("BPU"), "Lisez-moi.txt": b"ok"})
    )
    version = save(store, blobs, consultation, DceChanges.starting_from(None).add(annexes))
    [archive] = version.pieces
    assert [(child.path, child.media_type) for child in archive.children] == [
        ("Annexes/BPU.pdf", "application/pdf"),
        ("Lisez-moi.txt", "text/plain"),
    ]
    table = Document.__table__
    with store.engine.connect() as connection:
        filenames = set(connection.execute(sa.select(table.c.filename)).scalars())
    assert filenames == {"annexes.zip", "BPU.pdf", "Lisez-moi.txt"}


def test_every_change_adds_a_version_and_history_keeps_them_all(store, blobs, consultation):
    v1 = save(store, blobs, consultation, start(store, consultation).replace_all(DCE_ZIP))
    v2 = save(
        store, blobs, consultation, start(store, consultation).add(NewFile("QR_1.pdf", pdf("Q1")))
    )
    qr_1 = v2.pieces[1]
    v3 = save(
        store,
        blobs,
        consultation,
        start(store, consultation).replace(qr_1.id, NewFile("QR_2.pdf", pdf("Q2"))),
    )
    v4 = save(store, blobs, consultation, start(store, consultation).delete(v3.pieces[1].id))
    new_zip = NewFile("dce_v2.zip", zip_of({"RC_v2.pdf": pdf("RC v2")}))
    v5 = save(store, blobs, consultation, start(store, consultation).replace_all(new_zip))

    history = dce_history(store, consultation, actor=BUYER)
    assert history == (v5, v4, v3, v2, v1)
    assert [names(version) for version in history] == [
        ["dce_v2.zip"],
        [DCE_ZIP.filename],
        [DCE_ZIP.filename, "QR_2.pdf"],
        [DCE_ZIP.filename, "QR_1.pdf"],
        [DCE_ZIP.filename],
    ]
    # Unchanged pieces are listed again, pointing at the same documents, children included.
    for later in (v2, v3, v4):
        assert later.pieces[0].document_id == v1.pieces[0].document_id
        assert [c.document_id for c in later.pieces[0].children] == [
            c.document_id for c in v1.pieces[0].children
        ]
        assert later.pieces[0].id != v1.pieces[0].id
    # Nothing is overwritten: every piece of every version is still readable, unaltered.
    for version in history:
        for piece in version.pieces:
            for item in (piece, *piece.children):
                data = blobs.read(item.sha256)
                assert (len(data), hashlib.sha256(data).hexdigest()) == (item.size, item.sha256)
    assert blobs.read(v2.pieces[1].sha256) == pdf("Q1")
    assert [detail.splitlines()[1] for detail in audit_details(store, "dce.version")] == [
        f"Remplacement du DCE : {DCE_ZIP.filename}",
        "Ajout : QR_1.pdf",
        "Remplacement : QR_1.pdf → QR_2.pdf",
        "Suppression : QR_2.pdf",
        "Remplacement du DCE : dce_v2.zip",
    ]


def test_the_summary_says_each_change_in_french(store, blobs, consultation):
    base = save(
        store,
        blobs,
        consultation,
        DceChanges.starting_from(None)
        .add(NewFile("RC.pdf", pdf("RC")))
        .add(NewFile("CCAP.pdf", pdf("CCAP")))
        .add(NewFile("AE.pdf", pdf("AE"))),
    )
    rc, ccap, ae = base.pieces
    changes = (
        DceChanges.starting_from(base)
        .add(NewFile("QR_1.pdf", pdf("QR")))
        .replace(rc.id, NewFile("RC_v2.pdf", pdf("RC v2")))
        .delete(ccap.id)
    )
    assert not changes.is_empty()
    assert changes.summary() == (
        "Remplacement : RC.pdf → RC_v2.pdf",
        "Ajout : QR_1.pdf",
        "Suppression : CCAP.pdf",
    )
    assert DceChanges.starting_from(base).summary() == ()
    # A replaced piece deleted afterwards is just deleted; the order of the pieces is kept.
    assert changes.delete(rc.id).summary() == (
        "Ajout : QR_1.pdf",
        "Suppression : CCAP.pdf",
        "Suppression : RC.pdf",
    )
    saved = save(store, blobs, consultation, changes)
    assert names(saved) == ["RC_v2.pdf", "AE.pdf", "QR_1.pdf"]
    assert saved.pieces[1].document_id == ae.document_id


def test_staging_refuses_impossible_changes_in_french(store, blobs, consultation):
    base = save(store, blobs, consultation, start(store, consultation).replace_all(DCE_ZIP))
    changes = DceChanges.starting_from(base)
    child = base.pieces[0].children[1]
    with pytest.raises(DceError, match=re.escape("« CCAP_JLT20240229-1.pdf » fait partie de")):
        changes.delete(child.id)
    with pytest.raises(DceError, match="ne fait plus partie du DCE en préparation"):
        changes.delete(999_999)
    with pytest.raises(DceError, match="contient déjà une pièce nommée"):
        changes.add(NewFile(DCE_ZIP.filename.upper(), pdf("x")))
    with pytest.raises(DceError, match="n'est pas une archive zip"):
        changes.replace_all(NewFile("dce.zip", pdf("not a zip")))
    with pytest.raises(DceError, match="ne fait plus partie"):
        changes.replace_all(DCE_ZIP).delete(base.pieces[0].id)
    assert changes.replace(base.pieces[0].id, NewFile(DCE_ZIP.filename, b"%PDF-")).summary()


def test_saving_nothing_or_an_empty_dce_is_refused(store, blobs, consultation):
    base = save(
        store, blobs, consultation, start(store, consultation).add(NewFile("RC.pdf", pdf("RC")))
    )
    before = row_counts(store)
    with pytest.raises(DceError, match="Aucune modification du DCE"):
        save(store, blobs, consultation, DceChanges.starting_from(base))
    with pytest.raises(DceError, match="Le DCE ne peut pas être vide"):
        save(store, blobs, consultation, DceChanges.starting_from(base).delete(base.pieces[0].id))
    refusals = [
        (NewFile("vide.pdf", b""), "Le fichier « vide.pdf » est vide."),
        (NewFile("dossier/RC.pdf", pdf("x")), "Le nom « dossier/RC.pdf » contient un caractère"),
        (NewFile("v.zip", zip_of({})), "L'archive « v.zip » ne contient aucun fichier."),
        (
            NewFile("long.zip", zip_of({"d/" * 250 + "RC.pdf": b"x"})),
            "L'archive « long.zip » est refusée. Le chemin « d/d/",
        ),
    ]
    for bad, message in refusals:
        with pytest.raises(DceError) as caught:
            save(store, blobs, consultation, DceChanges.starting_from(base).add(bad))
        assert caught.value.message.startswith(message)
    assert row_counts(store) == before


def test_a_refused_zip_leaves_the_database_unchanged(store, blobs, consultation):
    base = save(
        store, blobs, consultation, start(store, consultation).add(NewFile("RC.pdf", pdf("RC")))
    )
    before = row_counts(store)
    hostile = NewFile("dce_v2.zip", zip_of({"CCAP.pdf": pdf("CCAP"), "../evil.txt": b"owned"}))
    changes = (
        DceChanges.starting_from(base).add(NewFile("QR_1.pdf", pdf("QR"))).replace_all(hostile)
    )
    with pytest.raises(DceError) as caught:
        save(store, blobs, consultation, changes)
    assert caught.value.message == (
        "L'archive « dce_v2.zip » est refusée. "
        "« ../evil.txt » remonte dans l'arborescence (« .. »)."
    )
    assert row_counts(store) == before
    assert current_dce(store, consultation, actor=BUYER) == base
    bomb = NewFile("bombe.zip", zip_of({"zeros.bin": bytes(20 * 1024**2)}))
    with pytest.raises(DceError, match="bombe de décompression"):
        save(store, blobs, consultation, DceChanges.starting_from(base).add(bomb))
    assert row_counts(store) == before


def test_validating_first_stores_nothing_and_refuses_like_saving(store, blobs, consultation):
    hostile = NewFile("dce.zip", zip_of({"/etc/passwd": b"root"}))
    with pytest.raises(Refusal) as caught:
        validate_dce_changes(
            store, consultation, DceChanges.starting_from(None).add(hostile), actor=BUYER
        )
    assert isinstance(caught.value, DceError)
    assert str(caught.value) == (
        "L'archive « dce.zip » est refusée. « /etc/passwd » a un chemin absolu."
    )
    whole = DceChanges.starting_from(None).replace_all(DCE_ZIP)
    validate_dce_changes(store, consultation, whole, actor=BUYER)
    assert not blobs.root.exists()
    assert row_counts(store) == dict.fromkeys(row_counts(store), 0)


def test_changes_started_on_an_older_version_are_refused(store, blobs, consultation):
    base = save(
        store, blobs, consultation, start(store, consultation).add(NewFile("RC.pdf", pdf("RC")))
    )
    mine = DceChanges.starting_from(base).add(NewFile("QR_1.pdf", pdf("mine")))
    theirs = DceChanges.starting_from(base).add(NewFile("QR_A.pdf", pdf("theirs")))
    save(store, blobs, consultation, theirs)
    before = row_counts(store)
    with pytest.raises(DceConflict) as caught:
        save(store, blobs, consultation, mine)
    assert "modifié entre-temps (version 2, enregistrée par j.dupont@alsace.example" in (
        caught.value.message
    )
    assert "partaient de la version 1" in caught.value.message
    assert row_counts(store) == before
    with pytest.raises(DceConflict, match="partaient d'un DCE vide"):
        save(store, blobs, consultation, DceChanges.starting_from(None).add(NewFile("X.pdf", b"x")))


def test_changes_that_do_not_know_the_current_pieces_are_refused(store, blobs, consultation):
    save(store, blobs, consultation, start(store, consultation).add(NewFile("RC.pdf", pdf("RC"))))
    blind = DceChanges(base_version=1).add(NewFile("QR_1.pdf", pdf("QR")))
    with pytest.raises(DceError, match="pas été préparées à partir du DCE actuel"):
        save(store, blobs, consultation, blind)


def save_at_once(store, blobs, consultation_id, base) -> list[object]:
    """Two buyers save changes of the same version at the same moment; what each got."""
    outcomes: list[object] = []
    barrier = threading.Barrier(2)

    def buyer(name: str) -> None:
        changes = DceChanges.starting_from(base).add(NewFile(f"{name}.pdf", pdf(name)))
        barrier.wait()
        try:
            outcomes.append(save(store, blobs, consultation_id, changes))
        except DceConflict as error:
            outcomes.append(error)

    threads = [threading.Thread(target=buyer, args=(name,)) for name in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("widen_the_race", [False, True], ids=["plain", "slow-insert"])
def test_two_buyers_saving_at_once_one_wins_the_other_is_told(
    store, blobs, consultation, widen_the_race
):
    base = save(
        store, blobs, consultation, start(store, consultation).add(NewFile("RC.pdf", pdf("RC")))
    )
    if widen_the_race:
        # Both checks pass before either version row is written: the database must decide.
        def slow_version_insert(_conn, _cursor, statement, *_args) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO DCE_VERSION"):
                time.sleep(0.3)

        sa.event.listen(store.engine, "before_cursor_execute", slow_version_insert)
    outcomes = save_at_once(store, blobs, consultation, base)
    saved = [outcome for outcome in outcomes if isinstance(outcome, DceVersionView)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, DceConflict)]
    assert (len(saved), len(refused)) == (1, 1)
    assert "Rien n'a été enregistré" in refused[0].message
    assert [version.number for version in dce_history(store, consultation, actor=BUYER)] == [2, 1]
    assert len(audit_details(store, "dce.version")) == 2


# --- Bid deadline ----------------------------------------------------------------------------


def bid_deadline(store, consultation_id) -> datetime:
    table = Consultation.__table__
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(table.c.bid_deadline).where(table.c.id == consultation_id)
        ).scalar_one()


def test_a_version_refused_for_another_s_moves_no_deadline(store, blobs, consultation):
    """B changes the DCE inside the six days and moves the deadline with it; A saved a
    version first: B is told nothing was recorded, and the deadline did not move either."""
    base = save(
        store, blobs, consultation, start(store, consultation).add(NewFile("RC.pdf", pdf("RC")))
    )
    mine = DceChanges.starting_from(base).add(NewFile("QR_1.pdf", pdf("mine")))
    theirs = DceChanges.starting_from(base).add(NewFile("A.pdf", pdf("A")))
    later = DEADLINE + timedelta(days=7)
    update = DceUpdate(consultation, mine, later, "Réponse qui change les quantités du lot")
    refused = pytest.raises(DceConflict, match="Rien n'a été enregistré")
    a_saves = partial(save, store, blobs, consultation, theirs)
    # A saves hers as B's changes are checked, before B's are written.
    with right_after(store, "FROM dce_piece", a_saves), refused:
        publish_dce_update(store, blobs, update, BUYER, DEADLINE - timedelta(days=3))
    assert bid_deadline(store, consultation) == DEADLINE
    assert row_counts(store)["deadline_change"] == 0


def test_a_deadline_change_is_recorded_with_its_reason(store, consultation):
    now = DEADLINE - timedelta(days=3)
    later = DEADLINE + timedelta(days=7)
    change_bid_deadline(
        store,
        consultation,
        later,
        reason="  Modification substantielle du CCTP  ",
        actor=BUYER,
        now=now,
    )
    assert bid_deadline(store, consultation) == later
    [change] = deadline_history(store, consultation, actor=BUYER)
    assert (change.previous_deadline, change.new_deadline) == (DEADLINE, later)
    assert (change.reason, change.author, change.at) == (
        "Modification substantielle du CCTP",
        BUYER,
        now,
    )
    assert audit_details(store, "consultation.deadline") == [
        "Date limite de remise des plis : 14/02/2026 12:00 → 21/02/2026 12:00\n"
        "Motif : Modification substantielle du CCTP"
    ]
    table = AuditEntry.__table__
    with store.engine.connect() as connection:
        assert (
            connection.execute(
                sa.select(table.c.rule).where(table.c.action == "consultation.deadline")
            ).scalar_one()
            == 3
        )


def test_deadline_changes_are_kept_newest_first(store, consultation):
    now = DEADLINE - timedelta(days=10)
    for days in (3, 5):
        change_bid_deadline(
            store,
            consultation,
            DEADLINE + timedelta(days=days),
            reason=f"Report de {days} jours",
            actor=BUYER,
            now=now,
        )
    changes = deadline_history(store, consultation, actor=BUYER)
    assert [change.reason for change in changes] == ["Report de 5 jours", "Report de 3 jours"]
    assert changes[0].previous_deadline == DEADLINE + timedelta(days=3)


def test_deadline_change_refusals(store, consultation):
    now = DEADLINE - timedelta(days=3)
    before = row_counts(store)
    reason = "Report demandé par un candidat"
    cases = [
        (DEADLINE + timedelta(days=7), "   ", consultation, "Indiquez le motif du report"),
        (DEADLINE + timedelta(days=7), "report", consultation, "en toutes lettres"),
        (now - timedelta(minutes=1), reason, consultation, "est déjà passée"),
        (DEADLINE, reason, consultation, "n'est pas postérieure à l'actuelle \\(14/02/2026"),
        (DEADLINE - timedelta(days=1), reason, consultation, "il ne l'avance jamais"),
        (DEADLINE + timedelta(days=7), reason, 999_999, "n°999999 est introuvable"),
    ]
    for new_deadline, reason, consultation_id, message in cases:
        with pytest.raises(Refusal, match=message):
            change_bid_deadline(
                store, consultation_id, new_deadline, reason=reason, actor=BUYER, now=now
            )
    assert row_counts(store) == before
    assert bid_deadline(store, consultation) == DEADLINE


# --- LEGAL rule 3 ------------------------------------------------------------------------------


def test_rule_3_is_silent_six_days_or_more_before_the_deadline():
    assert modification_window_check(DEADLINE, DEADLINE - timedelta(days=7)) is None
    assert modification_window_check(DEADLINE, DEADLINE - timedelta(days=6)) is None


def test_rule_3_blocks_inside_six_days_and_says_how_to_go_on():
    verdict = modification_window_check(DEADLINE, DEADLINE - timedelta(days=5, hours=3))
    assert isinstance(verdict, RuleVerdict)
    assert (verdict.rule, verdict.level, verdict.field) == (3, "block", "bid_deadline")
    assert verdict.message.startswith(
        "Il reste 5 jours et 3 heures avant la date limite de remise des plis (14/02/2026 12:00)."
    )
    assert "fixez une nouvelle date limite" in verdict.message
    assert "indiquez le motif" in verdict.message
    assert "R2151-4" in verdict.message
    short = modification_window_check(DEADLINE, DEADLINE - timedelta(hours=1, minutes=59))
    assert short is not None and "Il reste 1 heure avant" in short.message
    assert (
        "moins d'une heure"
        in modification_window_check(DEADLINE, DEADLINE - timedelta(minutes=5)).message
    )


def test_rule_3_blocks_after_the_deadline():
    verdict = modification_window_check(DEADLINE, DEADLINE + timedelta(days=1, hours=2))
    assert verdict is not None and verdict.level == "block"
    assert verdict.message.startswith(
        "La date limite de remise des plis (14/02/2026 12:00) est dépassée depuis "
        "1 jour et 2 heures."
    )
    assert "fixez une nouvelle date limite" in verdict.message


def test_rule_3_needs_aware_times():
    with pytest.raises(ValueError):
        modification_window_check(DEADLINE.replace(tzinfo=None), DEADLINE)
