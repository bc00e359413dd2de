"""The platform's signature on every AR: `messagerie ar` on today's demo writes a PDF that
Poppler's pdfsig finds valid (and invalid once one byte is changed), still PDF/A-3b; with a
timestamping authority (a local one) the signature carries its RFC 3161 timestamp; the
demonstration certificate is made once, private, and reused; a configured certificate (PEM or
PKCS#12) signs instead, and a wrong one is refused in French. The tracking screen's download
is signed too."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from messagerie.letters.pdf.certificate import CertificateSource
from messagerie.letters.pdf.sign import platform_signer
from messagerie.models.store.database import open_store
from messagerie.models.store.enums import MessageState, SendMode
from messagerie.models.store.tables import Message, Recipient, table_of
from messagerie.tui.embedded import free_port
from tests.helpers.cli import messagerie
from tests.helpers.signing import (
    VALID,
    dumped_signature,
    made_by_openssl,
    openssl,
    openssl_fingerprint,
    pdfsig,
    report_line,
    signer_fingerprint,
    xmp_and_info,
)
from tests.helpers.tsa import TSA_NAME, local_tsa, stamper

pytestmark = pytest.mark.services  # the `messagerie` command, pdfsig and openssl, a TSA

DEMO_CN = "Plateforme de démonstration"
DEMO_KEY = "signature/plateforme-demonstration.key.pem"
DEMO_CERT = "signature/plateforme-demonstration.crt.pem"


def opened_recipients(url: str) -> list[sa.Row]:
    """Recipients of the demo who opened a message sent "avec AR" (each has an AR): their id
    and their consultation's."""
    message, recipient = table_of(Message), table_of(Recipient)
    store = open_store(url)
    try:
        with store.engine.connect() as connection:
            return list(
                connection.execute(
                    sa.select(recipient.c.id, message.c.consultation_id)
                    .join(message, message.c.id == recipient.c.message_id)
                    .where(
                        message.c.send_mode == SendMode.WITH_AR,
                        message.c.state != MessageState.DRAFT,
                        recipient.c.read_at.is_not(None),
                    )
                    .order_by(recipient.c.id)
                    .limit(2)
                )
            )
    finally:
        store.close()


def status(folder: Path, **settings: str):  # type: ignore[no-untyped-def]
    """`messagerie status` on an empty store (its outbox is not stuck), data folder `folder`."""
    url = f"sqlite:///{folder / 'etat.sqlite3'}"
    env = {"MESSAGERIE_DB": url, "MESSAGERIE_DATA_DIR": str(folder), "MESSAGERIE_CLAMD": "off"}
    if not (folder / "etat.sqlite3").exists():
        open_store(url, upgrade=True).close()  # (not a command: a Python start-up less)
    return messagerie("status", env=env | settings)


def write_ar(url: str, folder: Path, name: str = "ar.pdf", **settings: str):  # type: ignore[no-untyped-def]
    """`messagerie ar` for the first opened recipient, with `folder` as the data folder."""
    out = folder / name
    env = {"MESSAGERIE_DB": url, "MESSAGERIE_DATA_DIR": str(folder), **settings}
    done = messagerie("ar", str(opened_recipients(url)[0].id), "--out", str(out), env=env)
    return done, out


def test_the_ar_is_signed_pades_valid_for_pdfsig_until_one_byte_changes(live_demo_url, tmp_path):
    done, out = write_ar(live_demo_url, tmp_path)
    assert done.returncode == 0, done.stderr
    report = pdfsig(out)
    assert report_line(report, "Signature Validation") == "Signature is Valid."
    assert report_line(report, "Signer Certificate Common Name") == DEMO_CN
    assert report_line(report, "Signature Type") == "ETSI.CAdES.detached"  # PAdES
    assert "- Total document signed" in report

    # Still PDF/A-3b, its metadata consistent (the Info producer is the XMP's).
    pdf = out.read_bytes()
    xmp, producer = xmp_and_info(pdf)
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert f'pdf:Producer="{producer}"' in xmp

    # One byte of the signed content changed (in a stream of the document as drawn).
    at = pdf.index(b"stream\n", 1000) + 20
    forged = tmp_path / "falsifie.pdf"
    forged.write_bytes(pdf[:at] + bytes([pdf[at] ^ 1]) + pdf[at + 1 :])
    tampered = pdfsig(forged)
    assert VALID not in tampered
    assert report_line(tampered, "Signature Validation") == "Digest Mismatch."


def test_the_demonstration_certificate_is_made_once_private_and_reused(live_demo_url, tmp_path):
    before = status(tmp_path)
    assert before.returncode == 0, before.stdout + before.stderr
    assert (
        "Certificat de signature : démonstration, créé au premier AR dans "
        f"« {tmp_path / 'signature'} »"
    ) in before.stdout
    assert not (tmp_path / "signature").exists()  # asking never makes one

    first, first_pdf = write_ar(live_demo_url, tmp_path, "premier.pdf")
    assert first.returncode == 0, first.stderr
    key = tmp_path / DEMO_KEY
    assert key.stat().st_mode & 0o777 == 0o600
    made = key.read_bytes(), (tmp_path / DEMO_CERT).read_bytes()
    second, second_pdf = write_ar(live_demo_url, tmp_path, "second.pdf")
    assert second.returncode == 0, second.stderr
    assert (key.read_bytes(), (tmp_path / DEMO_CERT).read_bytes()) == made

    fingerprint = openssl_fingerprint(tmp_path / DEMO_CERT)
    assert signer_fingerprint(first_pdf) == signer_fingerprint(second_pdf) == fingerprint
    after = status(tmp_path)
    assert after.returncode == 0
    lines = after.stdout.splitlines()
    (named,) = [line for line in lines if line.startswith("Certificat de signature")]
    assert named.startswith(f"Certificat de signature : CN={DEMO_CN},")
    assert "(démonstration) (autosigné), expire le " in named
    assert f"Empreinte SHA-256 : {fingerprint}" in lines


def test_two_processes_starting_together_share_one_certificate(tmp_path):
    source = CertificateSource(demo_dir=tmp_path / "signature")
    fingerprints: list[str] = []

    def start() -> None:
        fingerprints.append(platform_signer(source).info.fingerprint)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fingerprints) == 4 and len(set(fingerprints)) == 1
    assert fingerprints[0] == openssl_fingerprint(tmp_path / DEMO_CERT)


def test_with_a_timestamping_authority_the_signature_is_timestamped(live_demo_url, tmp_path):
    with local_tsa(tmp_path) as (url, stamped):
        done, out = write_ar(live_demo_url, tmp_path, MESSAGERIE_TSA_URL=url)
    assert done.returncode == 0, done.stderr
    assert stamped, "the timestamping authority was never asked"
    report = pdfsig(out)
    assert report_line(report, "Signature Validation") == "Signature is Valid."
    # pdfsig 22 does not list timestamps: its dump of the signature, read by openssl.
    dumped = dumped_signature(out)
    printed = openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in", str(dumped))
    unsigned = printed[printed.index("unsignedAttrs:") :]
    assert "id-smime-aa-timeStampToken" in unsigned and TSA_NAME in unsigned

    silent = f"http://127.0.0.1:{free_port()}/"
    refused, nothing = write_ar(live_demo_url, tmp_path, "sans.pdf", MESSAGERIE_TSA_URL=silent)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert f"L'autorité d'horodatage {silent} (MESSAGERIE_TSA_URL) n'a pas répondu" in (
        refused.stderr
    )
    assert not nothing.exists()


def test_an_ar_stamped_by_another_authority_than_messagerie_tsa_cert_is_not_written(
    live_demo_url, tmp_path
):
    """A token from whoever answered at MESSAGERIE_TSA_URL (over HTTP, anyone in between) is
    refused when MESSAGERIE_TSA_CERT names the authority; its own token passes."""
    stamper(tmp_path / "attendue", "Horodatage attendu")
    expected = {"MESSAGERIE_TSA_CERT": str(tmp_path / "attendue" / "tsa-certificat.pem")}
    with local_tsa(tmp_path / "tsa") as (url, stamped):
        refused, nothing = write_ar(
            live_demo_url, tmp_path, "refuse.pdf", MESSAGERIE_TSA_URL=url, **expected
        )
        own = {"MESSAGERIE_TSA_CERT": str(tmp_path / "tsa" / "tsa-certificat.pem")}
        done, out = write_ar(live_demo_url, tmp_path, MESSAGERIE_TSA_URL=url, **own)
    assert stamped, "the timestamping authority was never asked"
    assert refused.returncode == 1 and not nothing.exists()
    assert refused.stderr == (
        f"messagerie : L'autorité d'horodatage {url} a répondu par un jeton signé par "
        f"« CN={TSA_NAME} », qui n'est pas une autorité de MESSAGERIE_TSA_CERT : rien n'a été "
        "signé.\n"
    )
    assert done.returncode == 0, done.stderr
    assert report_line(pdfsig(out), "Signature Validation") == "Signature is Valid."


@pytest.mark.parametrize("form", ["pem", "p12"])
def test_the_platforms_own_certificate_signs_instead(live_demo_url, tmp_path, form):
    key, certificate = made_by_openssl(tmp_path / "cles", "Mairie de Recette")
    if form == "pem":
        settings = {"MESSAGERIE_SIGNING_KEY": str(key), "MESSAGERIE_SIGNING_CERT": str(certificate)}
    else:
        p12 = tmp_path / "cles" / "plateforme.p12"
        openssl("pkcs12", "-export", "-inkey", str(key), "-in", str(certificate),
                "-out", str(p12), "-passout", "pass:s3cret")  # fmt: skip
        settings = {"MESSAGERIE_SIGNING_P12": str(p12), "MESSAGERIE_SIGNING_P12_PASSWORD": "s3cret"}
    done, out = write_ar(live_demo_url, tmp_path, **settings)
    assert done.returncode == 0, done.stderr
    report = pdfsig(out)
    assert report_line(report, "Signature Validation") == "Signature is Valid."
    assert report_line(report, "Signer Certificate Common Name") == "Mairie de Recette"
    assert signer_fingerprint(out) == openssl_fingerprint(certificate)
    assert not (tmp_path / "signature").exists()  # no demonstration certificate

    named = status(tmp_path, **settings)
    assert named.returncode == 0, named.stdout
    assert "Certificat de signature : CN=Mairie de Recette,O=Recette, expire le " in named.stdout
    assert f"Empreinte SHA-256 : {openssl_fingerprint(certificate)}" in named.stdout


def test_a_wrong_key_or_password_is_refused_in_french(live_demo_url, tmp_path):
    key, _ = made_by_openssl(tmp_path / "un", "Un")
    _, other = made_by_openssl(tmp_path / "autre", "Autre")
    mismatch = {"MESSAGERIE_SIGNING_KEY": str(key), "MESSAGERIE_SIGNING_CERT": str(other)}
    done, out = write_ar(live_demo_url, tmp_path, **mismatch)
    assert done.returncode == 1 and not out.exists()
    assert done.stderr.strip() == (
        f"messagerie : La clé privée « {key} » ne correspond pas au certificat de signature."
    )
    unusable = status(tmp_path, **mismatch)
    assert unusable.returncode == 1
    assert unusable.stdout.splitlines()[-1] == "État : CERTIFICAT DE SIGNATURE INUTILISABLE"

    p12 = tmp_path / "un" / "plateforme.p12"
    openssl("pkcs12", "-export", "-inkey", str(key), "-in", str(tmp_path / "un" / "certificat.pem"),
            "-out", str(p12), "-passout", "pass:bon")  # fmt: skip
    wrong = {"MESSAGERIE_SIGNING_P12": str(p12), "MESSAGERIE_SIGNING_P12_PASSWORD": "mauvais"}
    done, out = write_ar(live_demo_url, tmp_path, **wrong)
    assert done.returncode == 1 and not out.exists()
    assert "mot de passe (MESSAGERIE_SIGNING_P12_PASSWORD) incorrect" in done.stderr
    assert re.fullmatch(r"messagerie : .*\n", done.stderr)  # one line, no traceback


async def test_the_tracking_screen_downloads_a_signed_ar(
    workspace, workspace_app, tmp_path, monkeypatch
):
    from textual.widgets import DataTable

    from messagerie.screens.tracking import TrackingScreen
    from tests.helpers.pilot import settle
    from tests.helpers.saving import save_as

    monkeypatch.setenv("MESSAGERIE_DATA_DIR", str(tmp_path / "donnees"))
    opened = opened_recipients(workspace.engine.url.render_as_string(hide_password=False))[0]
    target = tmp_path / "ar.pdf"
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        await settle(pilot)
        pilot.app.push_screen(TrackingScreen(opened.consultation_id))
        for _ in range(2):  # the screen, then its rows
            await settle(pilot)
        table = pilot.app.screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(str(opened.id)))
        await save_as(pilot, "p", target)
    report = pdfsig(target)
    assert report_line(report, "Signature Validation") == "Signature is Valid."
    assert report_line(report, "Signer Certificate Common Name") == DEMO_CN
    assert (tmp_path / "donnees" / DEMO_KEY).stat().st_mode & 0o777 == 0o600
