"""Independent checkers of the platform's signatures: Poppler's `pdfsig` for the PDFs, the
`openssl` command for CMS signatures and for certificates made outside the application."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest

from tests.helpers.clock import SHIFT_VARIABLE

VALID = "Signature Validation: Signature is Valid."


def pdfsig(pdf: Path, *options: str) -> str:
    """pdfsig's report of every signature of `pdf` (its exit code says nothing of validity)."""
    done = subprocess.run(
        ["pdfsig", *options, str(pdf)], capture_output=True, text=True, timeout=60, check=False
    )
    return done.stdout + done.stderr


def dumped_signature(pdf: Path) -> Path:
    """The CMS of the PDF's (first) signature as `pdfsig -dump` extracts it, beside the PDF."""
    subprocess.run(["pdfsig", "-dump", pdf.name], cwd=pdf.parent, capture_output=True,
                   timeout=60, check=True)  # fmt: skip
    return pdf.parent / f"{pdf.name}.sig0"


def signer_fingerprint(pdf: Path) -> str:
    """The signer's certificate as pdfsig extracts it, fingerprinted by openssl."""
    pem = openssl("pkcs7", "-inform", "DER", "-in", str(dumped_signature(pdf)), "-print_certs")
    certificate = pdf.with_name(pdf.name + ".crt.pem")
    certificate.write_text(pem)
    return openssl_fingerprint(certificate)


def report_line(report: str, label: str) -> str:
    """The value of one line of pdfsig's report: "Signature Validation" → "Signature is
    Valid."."""
    prefix = f"- {label}: "
    (line,) = [line.strip() for line in report.splitlines() if line.strip().startswith(prefix)]
    return line.removeprefix(prefix)


def openssl(*arguments: str, data: bytes | None = None) -> str:
    """The openssl command at the session's time: under --shift-days, through libfaketime
    (which works for openssl, not for Python here), so that a certificate it makes starts
    when the application's clock says it is, and a verification happens at that time too."""
    shift = os.environ.get(SHIFT_VARIABLE)
    clock = ["faketime", "-f", f"{int(shift):+d}d"] if shift else []
    if clock and shutil.which("faketime") is None:
        pytest.fail("faketime is missing (Debian package faketime): scripts/test installs it.")
    done = subprocess.run(
        [*clock, "openssl", *arguments], input=data, capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return (done.stdout + done.stderr).decode(errors="replace")


def made_by_openssl(folder: Path, common_name: str) -> tuple[Path, Path]:
    """An RSA key and its self-signed certificate, made by the openssl command."""
    folder.mkdir(parents=True, exist_ok=True)
    key, certificate = folder / "cle.pem", folder / "certificat.pem"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "400",
            "-subj", f"/O=Recette/CN={common_name}",
            "-keyout", str(key), "-out", str(certificate))  # fmt: skip
    return key, certificate


def openssl_fingerprint(certificate: Path) -> str:
    """ "AB:CD:…", the SHA-256 fingerprint as `openssl x509 -fingerprint` prints it."""
    text = openssl("x509", "-in", str(certificate), "-noout", "-fingerprint", "-sha256")
    return text.strip().partition("=")[2]


def xmp_and_info(pdf: bytes) -> tuple[str, str | None]:
    """The PDF's XMP packet (as text) and its Info dictionary's producer."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    metadata = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    info = reader.trailer.get("/Info")
    return metadata, str(info.get_object()["/Producer"]) if info else None
