"""What a proof bundle's files say of themselves, checked by `verify` even when the manifest
was recomputed and re-signed with the platform's own key (an insider, or a stolen key): each
recipient's events are recomputed as a hash chain up to the head recorded beside them, and
each AR's own PAdES signature is validated by pyHanko against the platform's certificate. On
a message really sent (aiosmtpd), on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from messagerie.letters.pdf.ar import render_ar
from messagerie.letters.pdf.bundle import export_bundle, verify_bundle
from messagerie.letters.pdf.certificate import CertificateSource
from messagerie.letters.pdf.sign import PlatformSigner, platform_signer, sign_pdf
from messagerie.models.messages.ar import ar_data
from messagerie.models.store.chain import GENESIS, SENT_CHANGED, event_hash
from messagerie.models.store.tables import message
from tests.helpers.cli import messagerie
from tests.helpers.messages import A, B, row_of
from tests.helpers.proofs import json_bytes, members, opened_by_a, resealed
from tests.helpers.tsa import TSA_NAME, local_tsa, stamper

TIME = r"\d\d/\d\d/\d{4} - \d\d:\d\d:\d\d"  # Paris time, to the second
pytestmark = [pytest.mark.services]  # a send through aiosmtpd, clamd, the `messagerie` command


@pytest.fixture(scope="module")
def signer(tmp_path_factory) -> PlatformSigner:
    return platform_signer(CertificateSource(demo_dir=tmp_path_factory.mktemp("signature")))


async def opened_bundle(store, folder: Path, signer: PlatformSigner) -> tuple[Path, int, int]:
    """The message sent to A and B, opened by A: its bundle, and the ids of A and B."""
    a = await opened_by_a(store)
    bundle = export_bundle(store, "2026WEB", folder / "preuves.zip", signer=signer, max_workers=1)
    return bundle.path, a, row_of(store, B).id


def with_language(pdf: bytes) -> bytes:
    """The PDF with one more revision after its signature (a /Lang added to its catalogue):
    what an editor saving « by incremental update » does; the signature still covers its own
    revision."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    writer.root["/Lang"] = generic.TextStringObject("en")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def message_json(content: dict[str, bytes]) -> str:
    (name,) = [name for name in content if name.endswith("/message.json")]
    return name


def with_events(content: dict[str, bytes], recipient_id: int, change) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    """The bundle's files with `change` applied to one recipient's listed events."""
    name = message_json(content)
    record = json.loads(content[name])
    (recipient,) = [one for one in record["recipients"] if one["id"] == recipient_id]
    change(recipient["events"], recipient["chain_head"])
    return {**content, name: json_bytes(record)}


def appended_after_head(recipient_id: int):  # type: ignore[no-untyped-def]
    """What a forger who knows how the chain is computed adds: a « Lu » later, well chained
    after the head (the head itself left as it was)."""

    def change(events: list, head: str) -> None:
        later = {**events[-1], "kind": "read", "at": datetime(2027, 1, 4, 9, tzinfo=UTC)}
        added_hash = event_hash(head, {**later, "recipient_id": recipient_id})
        events.append({**later, "at": later["at"].isoformat(), "previous_hash": head,
                       "hash": added_hash})  # fmt: skip

    return change


async def test_the_bundle_carries_each_chain_and_a_rewritten_history_is_named(
    store, tmp_path, signer
):
    bundle, a, b = await opened_bundle(store, tmp_path, signer)
    assert verify_bundle(bundle, signer.certificate).intact
    content = members(bundle)
    name = message_json(content)
    record = json.loads(content[name])
    for recipient in record["recipients"]:  # the heads the store holds, and the chains to them
        assert recipient["chain_head"] == row_of(store, recipient["email"]).chain_head
        assert recipient["events"][0]["previous_hash"] == GENESIS
        assert recipient["events"][-1]["hash"] == recipient["chain_head"]
    assert [event["kind"] for event in record["recipients"][0]["events"]][-1] == "read"

    changes = {
        "l'événement du 2e rang modifié": (
            lambda events, head: events[1].update(detail="Remis plus tard"),
            "le 2e événement a été modifié",
        ),
        "deux événements échangés": (
            lambda events, head: events.insert(0, events.pop(1)),
            "l'ordre des événements a été modifié",
        ),
        "le dernier événement coupé": (
            lambda events, head: events.pop(),
            "un événement a été supprimé (la chaîne n'atteint pas sa fin)",
        ),
        "un événement ajouté après la tête": (
            appended_after_head(a),
            "des événements ont été ajoutés après la fin de l'historique",
        ),
    }
    for case, (change, reason) in changes.items():
        forged = resealed(with_events(content, a, change), tmp_path / "faux.zip", signer)
        check = verify_bundle(forged, signer.certificate)
        assert check.signature is not None and check.signature.authentic, case
        assert check.problems == (
            f"« {name} » : destinataire n° {a} ({A}), historique des événements altéré : {reason}.",
        ), case

    # B's history rewritten too: each recipient is named, and the command says so, exit 1.
    one_cut = with_events(content, a, lambda events, head: events.pop())
    both = with_events(
        one_cut, b, lambda events, head: events[0].update(at="2025-01-01T00:00:00+00:00")
    )
    forged = resealed(both, tmp_path / "faux.zip", signer)
    (tmp_path / "plateforme.cer").write_bytes(signer.certificate.dump())
    verified = messagerie("verify", str(forged), "--cert", str(tmp_path / "plateforme.cer"))
    assert verified.returncode == 1, verified.stdout
    assert "Traceback" not in verified.stderr
    lines = verified.stdout.splitlines()
    assert "Signature du manifeste : valide" in lines
    assert f"« {name} » : destinataire n° {b} ({B}), historique des événements altéré : " \
        "le 1er événement a été modifié." in lines  # fmt: skip
    assert any(f"destinataire n° {a} ({A})" in line for line in lines)


async def test_a_body_edited_in_the_store_before_the_export_is_named_by_verify(
    store, tmp_path, signer
):
    """An administrator's UPDATE of a sent body, then an export: the bundle was signed as
    it was, and `verify` said « intact ». Each copy's « envoyé » event seals what it carried,
    and `verify` recomputes that seal from message.json."""
    a = await opened_by_a(store)
    b = row_of(store, B).id
    message_id = row_of(store, A).message_id
    with store.engine.begin() as connection:
        connection.execute(
            sa.update(message)
            .where(message.c.id == message_id)
            .values(body=message.c.body + " Clause ajoutée après coup.")
        )
    bundle = export_bundle(store, "2026WEB", tmp_path / "preuves.zip", signer=signer,
                           max_workers=1)  # fmt: skip
    check = verify_bundle(bundle.path, signer.certificate)
    assert check.signature is not None and check.signature.authentic
    name = message_json(members(bundle.path))
    assert check.problems == tuple(
        f"« {name} » : destinataire n° {rid} ({email}), historique des événements altéré : "
        f"{SENT_CHANGED}."
        for rid, email in ((a, A), (b, B))
    )


async def test_each_ar_signature_is_checked_against_the_platforms_certificate(
    store, tmp_path, signer
):
    bundle, a, _ = await opened_bundle(store, tmp_path, signer)
    content = members(bundle)
    (ar,) = [name for name in content if "/ar/" in name]
    pdf = content[ar]
    byte = pdf.index(b"%PDF-1.") + 7  # the version's digit: still a PDF, no longer the signed one
    other = platform_signer(CertificateSource(demo_dir=tmp_path / "autre"))
    unsigned = render_ar(ar_data(store, a))
    replacements = {
        "non signé": unsigned,
        "à la signature invalide (document modifié après sa signature)": (
            pdf[:byte] + (b"4" if pdf[byte : byte + 1] != b"4" else b"5") + pdf[byte + 1 :]
        ),
        "modifié après sa signature (ajout au fichier signé)": with_language(pdf),
        "signé par un autre certificat que celui de la plateforme": sign_pdf(unsigned, other),
    }
    for reason, data in replacements.items():
        forged = resealed({**content, ar: data}, tmp_path / "faux.zip", signer)
        check = verify_bundle(forged, signer.certificate)
        assert check.problems == (f"« {ar} » : AR du destinataire n° {a} {reason}.",), reason

    # Without the platform's certificate to compare, a sound AR is not named (the manifest's
    # line says the authenticity cannot be checked), an altered one still is.
    sound = verify_bundle(bundle, None)
    assert [problem for problem in sound.problems if ar in problem] == []
    broken = resealed({**content, ar: unsigned}, tmp_path / "faux.zip", signer)
    named = f"« {ar} » : AR du destinataire n° {a} non signé."
    assert named in verify_bundle(broken, None).problems


async def test_an_opening_without_its_ar_is_named(store, tmp_path, signer):
    """The AR of a recipient who opened the message, left out of a bundle re-sealed without
    it: the events still say « Lu », so its absence shows."""
    bundle, a, _ = await opened_bundle(store, tmp_path, signer)
    content = members(bundle)
    (ar,) = [name for name in content if "/ar/" in name]
    without = {name: data for name, data in content.items() if name != ar}
    check = verify_bundle(resealed(without, tmp_path / "faux.zip", signer), signer.certificate)
    assert check.problems == (
        f"« {ar} » : AR manquant (le destinataire n° {a} a ouvert le message).",
    )


async def test_a_bundle_s_timestamps_are_judged_against_messagerie_tsa_cert(store, tmp_path):
    """Exported with a timestamping authority, the manifest's signature and each AR carry its
    token: `verify` names the authority, and with MESSAGERIE_TSA_CERT naming another one,
    says that neither the manifest's date nor the AR's is attested."""
    with local_tsa(tmp_path / "tsa") as (url, stamped):
        stamping = platform_signer(CertificateSource(demo_dir=tmp_path / "signature"), url)
        bundle, a, _ = await opened_bundle(store, tmp_path, stamping)
    assert stamped, "the timestamping authority was never asked"
    (tmp_path / "plateforme.cer").write_bytes(stamping.certificate.dump())
    stamper(tmp_path / "autre", "Horodatage attendu")

    def verify(authority: str) -> list[str]:
        tsa_cert = {"MESSAGERIE_TSA_CERT": str(tmp_path / authority / "tsa-certificat.pem")}
        done = messagerie("verify", str(bundle), "--cert", str(tmp_path / "plateforme.cer"),
                          env=tsa_cert)  # fmt: skip
        assert done.returncode == (0 if authority == "tsa" else 1), done.stdout + done.stderr
        return done.stdout.splitlines()

    judged = verify("tsa")
    stamp_line = rf"Horodatage : {TIME} \(Paris\) par « CN={TSA_NAME} »"
    assert any(re.fullmatch(stamp_line, line) for line in judged), judged
    not_attested = (
        f"horodaté par « CN={TSA_NAME} », qui n'est pas une autorité de MESSAGERIE_TSA_CERT : sa "
        "date n'est pas attestée."
    )
    refused = verify("autre")
    assert f"« manifest.json.p7s » : {not_attested}" in refused
    assert any(line.endswith(f"AR du destinataire n° {a} {not_attested}") for line in refused)
