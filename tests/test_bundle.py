"""The proof bundle of a consultation: exported from real stores (the demo, and a message sent
through aiosmtpd, opened and answered with a file on SQLite and PostgreSQL), checked back
with `verify_bundle`, tampered with, forged (manifest recomputed, re-signed or not), and the
`messagerie export` / `verify` commands. The manifest's signature is checked by openssl too,
the ARs' by pdfsig."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from messagerie.letters.pdf.bundle import (
    ARS_PER_WORKER,
    MANIFEST,
    SIGNATURE,
    ArDrawer,
    BundleUnreadable,
    export_bundle,
    verify_bundle,
)
from messagerie.letters.pdf.certificate import CertificateSource, read_certificate
from messagerie.letters.pdf.sign import PlatformSigner, platform_signer
from messagerie.models.clock import utc_now
from messagerie.models.consultations.dce import DceChanges, NewFile, current_dce, save_dce_changes
from messagerie.models.errors import Refusal
from messagerie.models.messages.inbound import find_recipient, record_reply
from messagerie.models.messages.portal import record_opening
from messagerie.models.store.blobs import BlobCorrupted
from messagerie.models.store.database import open_store
from messagerie.models.store.documents import NewDocument, insert_documents, put_bytes
from messagerie.models.store.enums import (
    AntivirusVerdict,
    DocumentOrigin,
    MessageState,
    ReplyChannel,
    SendMode,
)
from messagerie.models.store.tables import Attachment, Consultation, Message, Recipient, table_of
from tests.helpers.cli import ROOT, messagerie
from tests.helpers.dce import DCE_ZIP
from tests.helpers.messages import A, B, queued_message, row_of
from tests.helpers.pdfs import pdf_text
from tests.helpers.signing import (
    made_by_openssl,
    openssl,
    openssl_fingerprint,
    pdfsig,
    report_line,
)
from tests.helpers.smtp import send_out

pytestmark = pytest.mark.services  # a send through aiosmtpd, clamd, the `messagerie` commands
# The tests of the demo's bundle share the module's one `messagerie export` (14 ARs signed,
# the costly part): they run on one worker; the others, each on its own, spread.
ON_THE_DEMO_BUNDLE = pytest.mark.xdist_group("test_bundle")

DEMO_REFERENCE = "2025VINS"  # the guide's example: ARs, an unopened letter, a reply, overrides
CLIENT_ADDRESS, USER_AGENT = "203.0.113.7", "Mozilla/5.0 Test"
QUOTE = b"%PDF-1.4 devis sign\xc3\xa9"
LETTER = b"%PDF-1.4 courrier pour B"


def members(bundle: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def manifest_paths(bundle: Path) -> list[str]:
    return [file["path"] for file in json.loads(members(bundle)[MANIFEST])["files"]]


def rewritten(
    bundle: Path,
    out: Path,
    *,
    changed: dict[str, bytes] | None = None,
    removed: tuple[str, ...] = (),
    added: dict[str, bytes] | None = None,
) -> Path:
    """A copy of the zip with some members' bytes replaced, some left out, some added."""
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename not in removed:
                target.writestr(info, (changed or {}).get(info.filename, source.read(info)))
        for name, data in (added or {}).items():
            target.writestr(name, data)
    return out


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """The module's data folder: its demonstration certificate, for the commands too."""
    return tmp_path_factory.mktemp("donnees")


@pytest.fixture(scope="module")
def signer(data_dir) -> PlatformSigner:
    """The platform's signer, on a demonstration certificate of the module's own."""
    return platform_signer(CertificateSource(demo_dir=data_dir / "signature"))


@pytest.fixture(scope="module")
def exported_demo(live_demo_url, data_dir, signer) -> tuple[subprocess.CompletedProcess, Path]:
    """`messagerie export` of the demo consultation, run once (signing its ARs is what costs):
    the command's output and the bundle it wrote, which the tests below only read."""
    out = data_dir / "preuves.zip"
    env = {"MESSAGERIE_DB": live_demo_url, "MESSAGERIE_DATA_DIR": str(data_dir)}
    return messagerie("export", DEMO_REFERENCE, "--out", str(out), env=env), out


@pytest.fixture(scope="module")
def demo_bundle(exported_demo) -> Path:
    """The demo consultation's bundle, as the command wrote it."""
    done, path = exported_demo
    assert done.returncode == 0, done.stderr
    return path


def opened_with_ar() -> sa.Select:
    """(consultation reference, message id, recipient id) of each opening that makes an AR:
    a letter sent with AR and read."""
    message, recipient = table_of(Message), table_of(Recipient)
    return (
        sa.select(table_of(Consultation).c.reference, message.c.id, recipient.c.id)
        .join(recipient, recipient.c.message_id == message.c.id)
        .join(table_of(Consultation))
        .where(
            message.c.state != MessageState.DRAFT,
            message.c.send_mode == SendMode.WITH_AR,
            recipient.c.read_at.is_not(None),
        )
    )


@pytest.fixture(scope="module")
def few_ars(live_demo_url) -> str:
    """A demo consultation with three or four ARs: enough for the tests that need more than
    one (and one worker drawing two), each AR drawn and signed costing a quarter second."""
    store = open_store(live_demo_url)
    try:
        with store.engine.connect() as connection:
            ars = opened_with_ar().subquery()
            count = sa.func.count().label("ars")
            return connection.execute(
                sa.select(ars.c.reference)
                .group_by(ars.c.reference)
                .having(count.between(3, 4))
                .order_by(count, ars.c.reference)
                .limit(1)
            ).scalar_one()
    finally:
        store.close()


# --- On a message sent, opened and answered (SQLite and PostgreSQL) ---------------------------


async def answered(store) -> tuple[int, int]:
    """test_portal's complement request to A and B, with an attachment; B's copy also carries
    a letter of its own whose name differs from it only by case. A opens it (L) and replies
    with a file (R); B never opens it. Two DCE versions, the second a zip. Returns the ids of
    A and B."""
    message_id = queued_message(store)
    b = row_of(store, B)
    letter = NewDocument(
        stored=put_bytes(store.blobs, LETTER, "courrier.pdf"),
        filename="ATTESTATION-MODÈLE.pdf",
        origin=DocumentOrigin.LETTER,
        consultation_id=None,
        actor="marie.dupont",
    )
    with store.engine.begin() as connection:  # before the sending, as the queue attaches it
        (document,) = insert_documents(connection, [letter])
        connection.execute(
            sa.insert(table_of(Attachment)).values(
                message_id=message_id, document_id=document.id, recipient_id=b.id
            )
        )
    tokens = {email: row.token for email, row in (await send_out(store, message_id)).items()}
    a, b = row_of(store, A), row_of(store, B)
    record_opening(
        store,
        a.id,
        client_address=CLIENT_ADDRESS,
        user_agent=USER_AGENT,
        at=a.sent_at + timedelta(minutes=5),
    )
    record_reply(
        store,
        find_recipient(store, token=tokens[A]),
        body="Voici notre devis signé.",
        files=[("devis.pdf", put_bytes(store.blobs, QUOTE, "devis.pdf"), AntivirusVerdict.CLEAN)],
        channel=ReplyChannel.WEB,
        at=a.sent_at + timedelta(minutes=9),
    )
    with store.engine.connect() as connection:
        consultation_id = connection.execute(
            sa.select(table_of(Message).c.consultation_id).where(
                table_of(Message).c.id == a.message_id
            )
        ).scalar_one()
    first = DceChanges.starting_from(None).add(NewFile("RC.pdf", b"%PDF-1.4 reglement"))
    save_dce_changes(store, store.blobs, consultation_id, first, actor="marie.dupont")
    current = current_dce(store, consultation_id, actor="marie.dupont")
    whole = DceChanges.starting_from(current).replace_all(DCE_ZIP)
    save_dce_changes(store, store.blobs, consultation_id, whole, actor="marie.dupont")
    return a.id, b.id


async def test_a_bundle_holds_the_whole_consultation_and_verifies(store, tmp_path, signer):
    a, b = await answered(store)
    bundle = export_bundle(store, "2026WEB", tmp_path / "preuves.zip", signer=signer)

    check = verify_bundle(bundle.path, signer.certificate)
    assert check.intact, check.problems
    content = members(bundle.path)
    assert sorted(manifest_paths(bundle.path)) == sorted(set(content) - {MANIFEST, SIGNATURE})
    assert check.checked == bundle.files == len(content) - 2
    assert [path.name for path in tmp_path.glob("*preuves.zip*")] == ["preuves.zip"]

    message = json.loads(content[next(name for name in content if name.endswith("message.json"))])
    folder = f"messages/{message['id']}"
    assert content[f"{folder}/attachments/attestation-modèle.pdf"] == b"%PDF-1.4 modele"
    assert content[f"{folder}/attachments/ATTESTATION-MODÈLE (2).pdf"] == LETTER
    assert [file["recipient_id"] for file in message["attachments"]] == [None, b]
    with zipfile.ZipFile(bundle.path) as archive:  # the UTF-8 flag: unzip shows "modèle"
        assert archive.getinfo(f"{folder}/attachments/attestation-modèle.pdf").flag_bits & 0x800
    (reply,) = message["replies"]
    assert reply["body"] == "Voici notre devis signé."
    assert reply["files"][0]["path"] == f"{folder}/replies/{reply['id']}/devis.pdf"
    assert content[reply["files"][0]["path"]] == QUOTE
    opening = next(
        event
        for recipient in message["recipients"]
        if recipient["id"] == a
        for event in recipient["events"]
        if event["kind"] == "read"
    )
    assert (opening["client_address"], opening["user_agent"]) == (CLIENT_ADDRESS, USER_AGENT)
    assert opening["at"].endswith("+00:00") and message["queued_at"].endswith("+00:00")

    # A opened it: an AR naming the consultation; B did not: no AR at all.
    assert "2026WEB" in pdf_text(content[f"{folder}/ar/AR-{a}.pdf"])
    assert f"{folder}/ar/AR-{b}.pdf" not in content
    assert bundle.ars == 1

    history = json.loads(content["dce/history.json"])
    assert [version["number"] for version in history] == [1, 2]
    assert content["dce/v1/RC.pdf"] == b"%PDF-1.4 reglement"
    (zip_piece,) = history[1]["pieces"]
    assert content[zip_piece["file"]] == DCE_ZIP.data and zip_piece["children"]
    assert len(json.loads(content["registers.json"])["deposit"]) == 1
    actions = [entry["action"] for entry in json.loads(content["audit.json"])]
    assert actions.count("dce.version") == 2 and "message.queue" in actions

    # A failure half-way (a stored file gone) leaves neither the bundle nor its partial file.
    store.blobs.path(reply["files"][0]["sha256"]).unlink()
    with pytest.raises(BlobCorrupted):
        export_bundle(store, "2026WEB", tmp_path / "second.zip", signer=signer)
    assert list(tmp_path.glob("second.zip*")) == []


def test_an_unknown_reference_is_refused_by_name(store, tmp_path, signer):
    with pytest.raises(Refusal, match="Aucune consultation n'a la référence « INCONNUE »"):
        export_bundle(store, "INCONNUE", tmp_path / "preuves.zip", signer=signer)
    assert list(tmp_path.glob("preuves.zip*")) == []


# --- On the demo -------------------------------------------------------------------------------


@ON_THE_DEMO_BUNDLE
def test_the_demo_bundle_has_an_ar_for_every_opening_and_none_other(
    demo_bundle, live_demo_url, signer
):
    assert verify_bundle(demo_bundle, signer.certificate).intact
    content = members(demo_bundle)
    assert set(manifest_paths(demo_bundle)) == set(content) - {MANIFEST, SIGNATURE}
    store = open_store(live_demo_url)
    with store.engine.connect() as connection:
        wines = opened_with_ar().where(table_of(Consultation).c.reference == DEMO_REFERENCE)
        opened = [(m, r) for _, m, r in connection.execute(wines)]
    store.close()
    ars = {name for name in content if "/ar/" in name}
    assert ars == {f"messages/{m}/ar/AR-{r}.pdf" for m, r in opened} and ars
    first = content[min(ars)]
    assert DEMO_REFERENCE in pdf_text(first)
    replies = [
        reply
        for name in content
        if name.endswith("message.json")
        for reply in json.loads(content[name])["replies"]
    ]
    assert replies, "the demo consultation should have a reply"


@ON_THE_DEMO_BUNDLE
def test_an_altered_file_is_named(demo_bundle, tmp_path, signer):
    name = "consultation.json"
    original = members(demo_bundle)[name]
    forged = original.replace(b'"status": "decision"', b'"status": "drafting"')
    assert forged != original
    check = verify_bundle(
        rewritten(demo_bundle, tmp_path / "forged.zip", changed={name: forged}), signer.certificate
    )
    (problem,) = check.problems
    assert problem.startswith(f"« {name} » : fichier altéré")


@ON_THE_DEMO_BUNDLE
def test_a_removed_file_and_an_added_file_are_named(demo_bundle, tmp_path, signer):
    ar = next(name for name in members(demo_bundle) if "/ar/" in name)
    check = verify_bundle(
        rewritten(
            demo_bundle,
            tmp_path / "changed.zip",
            removed=(ar,),
            added={"messages/0/faux.pdf": b"%PDF-1.4"},
        ),
        signer.certificate,
    )
    assert check.problems == (
        f"« {ar} » : fichier manquant (listé dans le manifeste).",
        "« messages/0/faux.pdf » : fichier absent du manifeste (ajouté au lot).",
    )


@ON_THE_DEMO_BUNDLE
def test_a_bundle_without_manifest_or_not_a_zip(demo_bundle, tmp_path, signer):
    bare = rewritten(demo_bundle, tmp_path / "nu.zip", removed=(MANIFEST,))
    check = verify_bundle(bare, signer.certificate)
    assert check.problems == (
        f"« {MANIFEST} » : manquant, aucun fichier du lot ne peut être vérifié.",
    )
    (tmp_path / "texte.zip").write_text("pas un zip")
    with pytest.raises(BundleUnreadable, match=r"texte\.zip » illisible"):
        verify_bundle(tmp_path / "texte.zip", signer.certificate)


@ON_THE_DEMO_BUNDLE
def test_the_export_and_verify_commands(exported_demo, live_demo_url, data_dir, tmp_path):
    env = {"MESSAGERIE_DB": live_demo_url, "MESSAGERIE_DATA_DIR": str(data_dir)}
    exported, out = exported_demo  # the module's `messagerie export` (signing ARs is what costs)
    assert exported.returncode == 0, exported.stderr
    assert f"Lot de preuves de « {DEMO_REFERENCE} » écrit dans « {out} »" in exported.stdout
    # Not a terminal (a log): the ARs' progress a line at each tenth, to the last AR.
    ars = ars_written(exported.stdout)
    assert ars > 10  # more ARs than lines: the tenths are tested
    progress = exported.stderr.splitlines()
    assert progress[0] == f"AR : 0/{ars}" and progress[-1] == f"AR : {ars}/{ars}"
    assert len(progress) <= 11 and all(line.startswith("AR : ") for line in progress)
    platform = data_dir / "signature" / "plateforme-demonstration.crt.pem"
    fingerprint = openssl_fingerprint(platform)
    assert exported.stdout.splitlines()[-1] == (
        "Signé par : CN=Plateforme de démonstration,O=messagerie (démonstration) "
        f"(certificat SHA-256 {fingerprint})"
    )

    verified = messagerie("verify", str(out), env=env)
    count = len(manifest_paths(out))
    lines = verified.stdout.splitlines()
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert lines[0] == (
        "Manifeste signé par : CN=Plateforme de démonstration,O=messagerie (démonstration)"
    )
    assert lines[1] == (f"Empreinte SHA-256 du certificat : {fingerprint} (celui de la plateforme)")
    assert lines[2].startswith("Date de signature : ") and lines[2].endswith(" (Paris)")
    assert lines[3:] == [
        "Signature du manifeste : valide",
        f"Lot de preuves intact et signé par la plateforme : {count} fichiers vérifiés.",
    ]
    # Elsewhere, with the platform's certificate given: the same verdict.
    elsewhere = messagerie("verify", str(out), "--cert", str(platform),
                           env={"MESSAGERIE_DATA_DIR": str(tmp_path / "ailleurs")})  # fmt: skip
    assert elsewhere.returncode == 0 and elsewhere.stdout == verified.stdout
    unknown = messagerie("verify", str(out), env={"MESSAGERIE_DATA_DIR": str(tmp_path / "vide")})
    assert unknown.returncode == 1
    assert "Authenticité invérifiable : aucun certificat de la plateforme" in unknown.stdout

    forged = rewritten(out, tmp_path / "forged.zip", changed={"audit.json": b"[]\n"})
    altered = messagerie("verify", str(forged), env=env)
    assert altered.returncode == 1
    assert "« audit.json » : fichier altéré" in altered.stdout

    (tmp_path / "texte.zip").write_text("pas un zip")
    unreadable = messagerie("verify", str(tmp_path / "texte.zip"), env=env)
    assert unreadable.returncode == 2 and "Traceback" not in unreadable.stderr
    assert "illisible" in unreadable.stderr

    missing = messagerie("export", "INCONNUE", "--out", str(tmp_path / "x.zip"), env=env)
    assert missing.returncode == 1
    assert missing.stderr.strip() == (
        "messagerie : Aucune consultation n'a la référence « INCONNUE »."
    )
    assert not (tmp_path / "x.zip").exists()


def ars_written(summary: str) -> int:
    """The count of ARs in `messagerie export`'s summary (« … fichiers dont 14 AR, … »)."""
    found = re.search(r"dont (\d+) AR,", summary)
    assert found, summary
    return int(found[1])


def test_the_export_command_rewrites_its_progress_line_on_a_terminal(
    live_demo_url, few_ars, tmp_path
):
    """On a terminal (a real one, a pseudo-terminal), « AR : k/n » is rewritten in place for
    every AR, then the line is ended before the summary."""
    env = {"MESSAGERIE_DB": live_demo_url, "MESSAGERIE_DATA_DIR": str(tmp_path)}
    out = tmp_path / "preuves.zip"
    controller, terminal = os.openpty()
    try:
        exported = subprocess.run(
            [sys.executable, "-m", "messagerie.tui.cli", "export", few_ars, "--out", str(out)],
            cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=terminal,
            text=True, timeout=120,
        )  # fmt: skip
        os.close(terminal)
        shown = read_terminal(controller)
    finally:
        os.close(controller)
    assert exported.returncode == 0, shown
    ars = ars_written(exported.stdout)
    assert ars > 1
    assert shown.endswith("\r\n")  # the line ended (the terminal turns \n into \r\n)
    assert shown.rstrip("\r\n").split("\r") == ["", *(f"AR : {k}/{ars}" for k in range(ars + 1))]


def read_terminal(controller: int) -> str:
    """Everything written to the pseudo-terminal, once the program has closed it."""
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: no program holds the terminal any more
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


def test_a_parallel_export_holds_what_the_serial_one_holds(
    live_demo_url, few_ars, tmp_path, signer
):
    """The ARs drawn by two worker processes: the same entries in the same order, the same
    bytes but for the ARs' signatures (each AR is the same document as drawn, signed at
    another moment), both bundles verify; the progress goes AR by AR up to the total."""
    store = open_store(live_demo_url, documents_dir=demo_documents(live_demo_url))
    now = utc_now()
    try:
        (serial, serial_progress), (parallel, parallel_progress) = (
            export_followed(
                store, few_ars, tmp_path / f"preuves-{workers}.zip", signer, now, workers
            )
            for workers in (1, 2)
        )
    finally:
        store.close()
    assert serial.ars == parallel.ars > 1 and serial.files == parallel.files
    expected = [(done, serial.ars) for done in range(serial.ars + 1)]
    assert serial_progress == parallel_progress == expected
    for summary in (serial, parallel):
        assert verify_bundle(summary.path, signer.certificate).intact
    one, other = members(serial.path), members(parallel.path)
    assert manifest_paths(serial.path) == manifest_paths(parallel.path)
    ars = [name for name in one if "/ar/" in name]
    assert len(ars) == serial.ars
    for name in set(one) - set(ars) - {MANIFEST, SIGNATURE}:
        assert one[name] == other[name], name
    for name in ars:
        assert as_drawn(one[name]) == as_drawn(other[name]), name
        assert as_drawn(one[name]) != one[name]  # a signature was added after it


def test_a_few_ars_are_drawn_here_and_many_in_one_worker_per_core(signer):
    """A spawned worker costs about seven ARs before its first: a small bundle is drawn in the
    exporting process (no wait for workers to start), a large one by one worker per core."""
    few, many = ARS_PER_WORKER - 1, ARS_PER_WORKER * 8
    with ArDrawer(signer, few) as small, ArDrawer(signer, many) as large:
        assert small.pool is None
        assert large.pool is not None
        assert large.pool._max_workers == min(os.cpu_count() or 1, 8)
    with ArDrawer(signer, few, max_workers=2) as asked:  # the caller's choice is kept
        assert asked.pool is not None and asked.pool._max_workers == 2


def demo_documents(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///")).parent / "documents"


def export_followed(store, reference, out, signer, now, workers):  # type: ignore[no-untyped-def]
    """A demo consultation's bundle with `workers` processes, and each progress call."""
    calls: list[tuple[int, int]] = []
    summary = export_bundle(
        store, reference, out, signer=signer, now=now, max_workers=workers,
        progress=lambda done, total: calls.append((done, total)),
    )  # fmt: skip
    return summary, calls


def as_drawn(ar: bytes) -> bytes:
    """The AR as weasyprint drew it: the signature is an incremental update after it."""
    return ar[: ar.index(b"%%EOF") + len(b"%%EOF")]


# --- The signature: checked independently, and forgeries ----------------------------------------


@ON_THE_DEMO_BUNDLE
def test_the_manifest_and_the_ars_carry_the_platforms_signature(demo_bundle, tmp_path, signer):
    """openssl checks the detached manifest signature; pdfsig each AR's."""
    content = members(demo_bundle)
    for name in (MANIFEST, SIGNATURE):
        (tmp_path / name).write_bytes(content[name])
    signed_by = tmp_path / "signataire.pem"
    checked = openssl("cms", "-verify", "-binary", "-inform", "DER", "-noverify",
                      "-in", str(tmp_path / SIGNATURE), "-content", str(tmp_path / MANIFEST),
                      "-certsout", str(signed_by), "-out", "/dev/null")  # fmt: skip
    assert "Verification successful" in checked
    assert openssl_fingerprint(signed_by) == signer.info.fingerprint
    ars = sorted(name for name in content if "/ar/" in name)
    for name in ars[:3]:
        (tmp_path / "ar.pdf").write_bytes(content[name])
        report = pdfsig(tmp_path / "ar.pdf")
        assert report_line(report, "Signature Validation") == "Signature is Valid.", name
        assert (
            report_line(report, "Signer Certificate Common Name") == "Plateforme de démonstration"
        )


def forgery(bundle: Path, out: Path, signature: bytes | None) -> tuple[Path, str]:
    """The bundle with the events' dates of one message.json changed and one of its ARs
    deleted, its manifest recomputed to match, re-zipped with `signature` (None: without any).
    Also the AR deleted."""
    content = members(bundle)
    ar = min(name for name in content if "/ar/" in name)
    message_json = ar.split("/ar/")[0] + "/message.json"
    record = json.loads(content[message_json])
    for recipient in record["recipients"]:
        for event in recipient["events"]:
            event["at"] = event["at"].replace("20", "19", 1)  # a century earlier, same shape
    content[message_json] = (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode()
    del content[ar], content[SIGNATURE]
    manifest = json.loads(content[MANIFEST])
    manifest["files"] = [
        {"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for name, data in content.items()
        if name != MANIFEST
    ]
    content[MANIFEST] = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode()
    if signature is not None:
        content[SIGNATURE] = signature
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in content.items():
            archive.writestr(name, data)
    return out, ar


@ON_THE_DEMO_BUNDLE
def test_a_forged_bundle_is_refused_with_or_without_its_old_signature(
    demo_bundle, tmp_path, signer
):
    original = members(demo_bundle)[SIGNATURE]
    kept, ar = forgery(demo_bundle, tmp_path / "garde.zip", original)
    check = verify_bundle(kept, signer.certificate)
    folder = ar.split("/ar/")[0]
    rewritten_history = [  # each recipient of the message.json whose dates were moved
        line
        for line in check.problems
        if line.startswith(f"« {folder}/message.json » : destinataire n° ")
        and line.endswith(", historique des événements altéré : le 1er événement a été modifié.")
    ]
    assert rewritten_history
    opener = ar.split("AR-")[1].removesuffix(".pdf")
    missing_ar = f"« {ar} » : AR manquant (le destinataire n° {opener} a ouvert le message)."
    # Problems come recipient by recipient: the opener's missing AR follows its own history.
    per_recipient = [
        problem
        for line in rewritten_history
        for problem in ((line, missing_ar) if f"destinataire n° {opener} (" in line else (line,))
    ]
    assert missing_ar in per_recipient
    assert check.problems == (
        f"« {MANIFEST} » : ne correspond plus à sa signature (modifié après l'export).",
        *per_recipient,
    )
    assert check.signature is not None and not check.signature.authentic
    assert f"{ar}" not in members(kept) and check.checked == len(members(kept)) - 2

    unsigned, _ = forgery(demo_bundle, tmp_path / "sans.zip", None)
    assert verify_bundle(unsigned, signer.certificate).problems == (
        f"« {SIGNATURE} » : manquant, le manifeste n'est pas signé.",
        *per_recipient,
    )


@ON_THE_DEMO_BUNDLE
def test_a_bundle_resigned_with_another_key_is_not_authentic(demo_bundle, tmp_path, signer):
    """The forger recomputes the manifest and signs it with openssl and a key of their own:
    the signature is sound, the certificate is not the platform's."""
    key, certificate = made_by_openssl(tmp_path / "faussaire", "Plateforme de démonstration")
    unsigned, _ = forgery(demo_bundle, tmp_path / "brouillon.zip", None)
    (tmp_path / MANIFEST).write_bytes(members(unsigned)[MANIFEST])
    openssl("cms", "-sign", "-binary", "-in", str(tmp_path / MANIFEST), "-signer",
            str(certificate), "-inkey", str(key), "-outform", "DER",
            "-out", str(tmp_path / SIGNATURE))  # fmt: skip
    forged, _ = forgery(demo_bundle, tmp_path / "resigne.zip", (tmp_path / SIGNATURE).read_bytes())
    (tmp_path / "plateforme.cer").write_bytes(signer.certificate.dump())

    verified = messagerie("verify", str(forged), "--cert", str(tmp_path / "plateforme.cer"))
    assert verified.returncode == 1 and "Traceback" not in verified.stderr
    forger = openssl_fingerprint(certificate)
    assert f"Empreinte SHA-256 du certificat : {forger} (« non authentique »" in verified.stdout
    assert "Signature du manifeste : valide" in verified.stdout
    assert (
        "Lot de preuves « non authentique » : signé par un autre certificat que celui de la "
        f"plateforme (empreinte attendue {signer.info.fingerprint})."
    ) in verified.stdout.splitlines()

    genuine = messagerie("verify", str(demo_bundle), "--cert", str(tmp_path / "plateforme.cer"))
    assert genuine.returncode == 0, genuine.stdout
    assert read_certificate(tmp_path / "plateforme.cer").dump() == signer.certificate.dump()


async def test_the_consultation_screen_exports_its_bundle(
    workspace, workspace_app, few_ars, tmp_path, monkeypatch
):
    """x on the consultation, a path confirmed: the bundle is written, signed by the
    platform's (demonstration) certificate of the data folder, and verifies; a bar under the
    screen follows the ARs up to the last one."""
    monkeypatch.setenv("MESSAGERIE_DATA_DIR", str(tmp_path / "donnees"))
    from textual.widgets import ProgressBar

    from messagerie.screens.consultation import ConsultationScreen
    from tests.helpers.pilot import settle, text_of
    from tests.helpers.saving import save_as

    with workspace.engine.connect() as connection:
        cid = connection.execute(
            sa.select(table_of(Consultation).c.id).where(
                table_of(Consultation).c.reference == few_ars
            )
        ).scalar_one()
    target = tmp_path / "preuves.zip"
    async with workspace_app.run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        pilot.app.push_screen(ConsultationScreen(cid))
        await settle(pilot)
        screen = pilot.app.screen
        bar = screen.query_one("#export-progress", ProgressBar)
        assert not bar.display  # no export yet, no bar
        await save_as(pilot, "x", target)  # the ARs drawn and signed by worker processes
        ars = sum("/ar/" in name for name in manifest_paths(target))
        assert bar.display and bar.total == bar.progress == ars > 1
        assert bar.percentage == 1
        assert text_of(pilot, "#export-label") == (
            f"Lot de preuves écrit : {ars} AR dans « {target} »"
        )
    platform = tmp_path / "donnees" / "signature" / "plateforme-demonstration.crt.pem"
    check = verify_bundle(target, read_certificate(platform))
    assert check.intact and check.checked > 1
    assert check.signature is not None and check.signature.authentic
    assert any(name.startswith("messages/") for name in manifest_paths(target))


def test_a_pool_of_ar_workers_starts_under_textuals_captured_stderr():
    """In the TUI, sys.stderr is Textual's capture (descriptor -1), which multiprocessing's
    resource tracker handed to its process: the first export of a TUI process failed with
    « bad value(s) in fds_to_keep ». Run in a fresh process: the tracker is not running yet."""
    script = (
        "import multiprocessing, os, sys\n"
        "from textual.app import _PrintCapture\n"
        "from messagerie.letters.pdf.bundle import start_resource_tracker\n"
        "sys.stderr = _PrintCapture(None, stderr=True)\n"
        "start_resource_tracker()\n"
        "worker = multiprocessing.get_context('spawn').Process(target=os.getpid)\n"
        "worker.start(); worker.join()\n"
        "sys.stderr = sys.__stderr__\n"
        "print(worker.exitcode)\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0 and ran.stdout == "0\n", ran.stderr
