"""DCE files: small PDFs, ZIP archives of them, and the guide's DCE archive."""

from __future__ import annotations

import io
import zipfile

from messagerie.models.consultations.dce import NewFile


def pdf(text: str) -> bytes:
    return f"%PDF-1.7\n% {text}\n".encode() * 20


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


DCE_MEMBERS = {
    "AE_P_JLT20240229-1_L01-02.pdf": pdf("acte d'engagement"),
    "CCAP_JLT20240229-1.pdf": pdf("cahier des clauses administratives"),
    "RC_P_JLT20240229-1.pdf": pdf("règlement de consultation"),
}
DCE_ZIP = NewFile("dce12027816979540161188.zip", zip_of(DCE_MEMBERS))
