"""A signature by a certificate out of its dates proves nothing: the platform's own certificate,
expired or not valid yet, is refused with its dates and how to renew it, and never replaced;
the demonstration certificate renews itself. The clock is moved with time-machine."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pypdf
import pytest
import time_machine

from messagerie.letters.pdf.certificate import (
    DEMO_CERT,
    DEMO_KEY,
    DEMO_YEARS,
    CertificateOutOfDate,
    CertificateSource,
)
from messagerie.letters.pdf.sign import (
    pdf_signature_problem,
    platform_signer,
    sign_detached,
    sign_pdf,
)
from messagerie.models.clock import utc_now
from messagerie.models.formatting import PARIS
from tests.helpers.cli import messagerie
from tests.helpers.proofs import dated_pair, opened_by_a

START, END = datetime(2025, 3, 1, 12, tzinfo=UTC), datetime(2026, 3, 1, 12, tzinfo=UTC)
RENEW = (
    "renouvelez-le auprès de votre autorité de certification, puis indiquez le nouveau "
    "certificat et sa clé dans MESSAGERIE_SIGNING_CERT et MESSAGERIE_SIGNING_KEY (ou "
    "MESSAGERIE_SIGNING_P12)."
)


def blank_pdf() -> bytes:
    writer = pypdf.PdfWriter()
    writer.add_blank_page(200, 200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_the_platforms_certificate_signs_only_within_its_dates(tmp_path):
    key, cert = dated_pair(tmp_path / "cles", "Mairie de Recette", START, END)
    kept = key.read_bytes(), cert.read_bytes()
    source = CertificateSource(key=key, cert=cert)
    with time_machine.travel(END - timedelta(days=1), tick=False):
        signer = platform_signer(source)
        assert pdf_signature_problem(sign_pdf(blank_pdf(), signer), signer.certificate) is None

    with time_machine.travel(END + timedelta(seconds=1), tick=False):
        with pytest.raises(CertificateOutOfDate) as expired:
            sign_pdf(blank_pdf(), platform_signer(source))
        with pytest.raises(CertificateOutOfDate):
            sign_detached(b"manifeste", signer)
    assert str(expired.value) == (
        "Le certificat de signature « CN=Mairie de Recette » (valable du 01/03/2025 au "
        "01/03/2026) a expiré le 01/03/2026 : rien n'a été signé ; " + RENEW
    )

    with (
        time_machine.travel(START - timedelta(days=2), tick=False),
        pytest.raises(CertificateOutOfDate) as early,
    ):
        sign_pdf(blank_pdf(), signer)
    assert "n'est pas encore valable : rien n'a été signé ; vérifiez l'horloge" in str(early.value)
    # Never replaced behind the platform's back, nor a demonstration one made beside it.
    assert (key.read_bytes(), cert.read_bytes()) == kept
    assert sorted(path.name for path in (tmp_path / "cles").iterdir()) == [
        "certificat.pem",
        "cle.pem",
    ]


def test_the_demonstration_certificate_renews_itself_when_it_expires(tmp_path):
    folder = tmp_path / "signature"
    first = platform_signer(CertificateSource(demo_dir=folder))
    later = utc_now() + timedelta(days=365 * DEMO_YEARS + 10)
    with time_machine.travel(later, tick=False):
        with pytest.raises(CertificateOutOfDate) as stale:  # a process started before
            sign_pdf(blank_pdf(), first)
        assert "relancez messagerie : le certificat de démonstration" in str(stale.value)

        renewed = platform_signer(CertificateSource(demo_dir=folder))
        assert renewed.info.fingerprint != first.info.fingerprint
        assert renewed.info.not_after > later
        signed = sign_pdf(blank_pdf(), renewed)
    assert pdf_signature_problem(signed, renewed.certificate) is None
    end = first.info.not_after.strftime("%Y%m%d")
    aside = {path.name for path in folder.iterdir()} - {DEMO_KEY, DEMO_CERT, ".verrou"}
    assert aside == {
        f"plateforme-demonstration.expire-{end}.key.pem",
        f"plateforme-demonstration.expire-{end}.crt.pem",
    }
    assert (folder / f"plateforme-demonstration.expire-{end}.key.pem").stat().st_mode & 0o777 == (
        0o600
    )


@pytest.mark.services  # a send through aiosmtpd, clamd, the `messagerie` command
async def test_the_export_command_refuses_an_expired_certificate(store, tmp_path):
    await opened_by_a(store)
    end = utc_now() - timedelta(days=2)
    key, cert = dated_pair(tmp_path / "cles", "Mairie de Recette", end - timedelta(days=400), end)
    env = {
        "MESSAGERIE_DB": store.engine.url.render_as_string(hide_password=False),
        "MESSAGERIE_DATA_DIR": str(tmp_path / "donnees"),
        "MESSAGERIE_SIGNING_KEY": str(key),
        "MESSAGERIE_SIGNING_CERT": str(cert),
    }
    out = tmp_path / "preuves.zip"
    done = messagerie("export", "2026WEB", "--out", str(out), env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    expired_on = end.astimezone(PARIS).strftime("%d/%m/%Y")
    assert done.stderr.strip().endswith(f"a expiré le {expired_on} : rien n'a été signé ; {RENEW}")
    assert not out.exists() and not list(tmp_path.glob("preuves.zip*"))


def test_status_names_a_certificate_out_of_its_dates_and_not_the_renewing_demo_one(tmp_path):
    from messagerie.tui.cli import signing_status
    from messagerie.tui.settings import Settings

    key, cert = dated_pair(tmp_path / "cles", "Mairie de Recette", START, END)
    platform = Settings(data_dir=tmp_path / "donnees", signing_key=key, signing_cert=cert)
    with time_machine.travel(START - timedelta(days=2), tick=False):
        lines, early = signing_status(platform)
    assert early == "CERTIFICAT DE SIGNATURE PAS ENCORE VALIDE (à partir du 01/03/2025 13:00)"
    with time_machine.travel(END - timedelta(days=1), tick=False):
        assert signing_status(platform)[1] is None
    with time_machine.travel(END + timedelta(seconds=1), tick=False):
        assert signing_status(platform)[1] == (
            "CERTIFICAT DE SIGNATURE EXPIRÉ — les AR ne sont plus signés"
        )

    demo = Settings(data_dir=tmp_path / "demo")
    platform_signer(CertificateSource(demo_dir=demo.signing_dir))
    with time_machine.travel(utc_now() + timedelta(days=365 * DEMO_YEARS + 10), tick=False):
        lines, problem = signing_status(demo)
    assert problem is None  # the next AR makes a new one: nothing is stopped
    assert lines[-1] == "Il n'est plus valide : un nouveau sera créé au prochain AR."
