"""Proof bundles taken apart and put back together by someone holding the platform's own key
(so that only what the files say of themselves can give the forgery away), and signing
certificates with chosen dates, made with `cryptography`."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from messagerie.letters.pdf.bundle import MANIFEST, SIGNATURE
from messagerie.letters.pdf.certificate import self_signed_pair
from messagerie.letters.pdf.sign import PlatformSigner, sign_detached
from messagerie.models.messages.portal import record_opening
from tests.helpers.messages import A, row_of, sent_message

CLIENT_ADDRESS, USER_AGENT = "203.0.113.7", "Mozilla/5.0 Test"


async def opened_by_a(store) -> int:  # type: ignore[no-untyped-def]
    """tests/helpers/messages' message sent "avec AR" to A and B through a real relay, opened
    by A with the page's button five minutes later (so A has an AR): A's id."""
    await sent_message(store)
    a = row_of(store, A)
    record_opening(store, a.id, client_address=CLIENT_ADDRESS, user_agent=USER_AGENT,
                   at=a.sent_at + timedelta(minutes=5))  # fmt: skip
    return a.id


def members(bundle: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def json_bytes(content: Any) -> bytes:
    return (json.dumps(content, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def resealed(content: dict[str, bytes], out: Path, signer: PlatformSigner) -> Path:
    """`content` zipped with a manifest recomputed to match it and signed by `signer`."""
    files = {name: data for name, data in content.items() if name not in (MANIFEST, SIGNATURE)}
    manifest = json.loads(content[MANIFEST])
    manifest["files"] = [
        {"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for name, data in files.items()
    ]
    sealed = json_bytes(manifest)
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(MANIFEST, sealed)
        archive.writestr(SIGNATURE, sign_detached(sealed, signer))
    return out


def dated_pair(folder: Path, name: str, start: datetime, end: datetime) -> tuple[Path, Path]:
    """An EC key and its self-signed certificate valid from `start` to `end`, as PEM files
    (what a platform configures in MESSAGERIE_SIGNING_KEY and MESSAGERIE_SIGNING_CERT)."""
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    key_pem, cert_pem = self_signed_pair(key, subject, start, end)
    key_path, cert_path = folder / "cle.pem", folder / "certificat.pem"
    key_path.write_bytes(key_pem)
    cert_path.write_bytes(cert_pem)
    return key_path, cert_path
