"""Anchors as files: every history's head (models/store/anchor.py), signed by the platform
(a detached CMS signature beside it, with its RFC 3161 timestamp when MESSAGERIE_TSA_URL is
set), in a folder meant to be copied off the server; and read back, each checked against its
signature and the platform's certificate, for `verify-store`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from asn1crypto import x509

from messagerie.letters.pdf.certificate import fingerprint
from messagerie.letters.pdf.sign import (
    PlatformSigner,
    UnreadableSignature,
    read_detached,
    sign_detached,
)
from messagerie.models.atomic_write import write_whole
from messagerie.models.errors import Refusal
from messagerie.models.store import audit
from messagerie.models.store.anchor import (
    Anchor,
    AnchorUnreadable,
    anchor_bytes,
    anchor_files,
    file_name,
    read_anchor,
    take_anchor,
)
from messagerie.models.store.database import Store, store_identity

SIGNATURE = ".p7s"  # beside the anchor: ancrage-….json.p7s
LARGEST = 256 << 20  # some 80 bytes a recipient: three million of them


@dataclass(frozen=True)
class AnchorWritten:
    path: Path
    recipients: int
    sha256: str  # of the anchor file: to note elsewhere
    stamped: bool  # an RFC 3161 timestamp is in its signature


def write_anchor(
    store: Store, folder: Path, signer: PlatformSigner, *, actor: str, now: datetime
) -> AnchorWritten:
    """Anchor every history now: the file and its signature in `folder` (made 0700), the
    anchor's SHA-256 in the audit log. The signature is written first: a file without one
    never stands there alone, and an existing anchor is never replaced."""
    origin = store_identity(store, create=True)
    with store.engine.connect() as connection:
        anchor = take_anchor(connection, origin, now)
    data = anchor_bytes(anchor)
    signature = sign_detached(data, signer, now=now)
    path = folder / file_name(anchor.at)
    sha256 = hashlib.sha256(data).hexdigest()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        write_whole(path.with_name(path.name + SIGNATURE), signature, overwrite=False)
        write_whole(path, data, overwrite=False)
    except FileExistsError:
        raise Refusal(
            f"« {path} » existe déjà : un ancrage a été écrit à la même seconde. Relancez."
        ) from None
    detail = f"{len(anchor.heads)} historique(s), {path.name}, SHA-256 {sha256}"
    with store.engine.begin() as connection:
        audit.append(connection, action="chains.anchor", actor=actor, at=now, detail=detail)
    return AnchorWritten(path, len(anchor.heads), sha256, signer.timestamper is not None)


@dataclass
class AnchorsRead:
    """The anchors of a folder that hold (signed by the platform, of this store), and a French
    line for each file that does not: such a file proves nothing, and says so."""

    anchors: list[Anchor] = field(default_factory=list)
    stamped: list[datetime] = field(default_factory=list)  # their timestamps' times
    problems: list[str] = field(default_factory=list)


def read_anchors(folder: Path, platform: x509.Certificate | None, store: str | None) -> AnchorsRead:
    """Every anchor file of `folder`, checked against its signature, the platform's
    certificate and this store's identity."""
    read = AnchorsRead()
    for path in anchor_files(folder):
        try:
            anchor, stamped_at = _checked(path, platform, store)
        except Refusal as problem:
            read.problems.append(f"Ancrage « {path.name} » : {problem}.")
        else:
            read.anchors.append(anchor)
            if stamped_at is not None:
                read.stamped.append(stamped_at)
    return read


def _checked(
    path: Path, platform: x509.Certificate | None, store: str | None
) -> tuple[Anchor, datetime | None]:
    """The anchor of `path` and its timestamp's time; a Refusal saying why it cannot count."""
    signature_path = path.with_name(path.name + SIGNATURE)
    try:
        if path.stat().st_size > LARGEST:
            raise Refusal(f"plus de {LARGEST >> 20} Mio, ce n'est pas un ancrage")
        data = path.read_bytes()
        signature = signature_path.read_bytes()
    except FileNotFoundError:
        missing = signature_path.name if path.exists() else path.name
        raise Refusal(f"« {missing} » manque : il ne prouve rien") from None
    except OSError as error:
        raise Refusal(f"illisible ({error.strerror or error})") from None
    try:
        found = read_detached(data, signature)
    except UnreadableSignature as error:
        raise Refusal(str(error)) from None
    if not found.intact:
        raise Refusal("il ne correspond plus à sa signature (modifié après son écriture)")
    if platform is None:
        raise Refusal("aucun certificat de la plateforme à comparer à sa signature")
    if found.fingerprint != fingerprint(platform):
        raise Refusal(
            f"signé par un autre certificat que celui de la plateforme ({found.fingerprint})"
        )
    try:
        anchor = read_anchor(data)
    except AnchorUnreadable as error:
        raise Refusal(f"illisible : {error}") from None
    if anchor.store != store:
        raise Refusal(
            f"il est d'une autre base ({anchor.store}, celle-ci est {store}) : vérifiez le "
            "dossier des ancrages"
        )
    return anchor, found.stamped_at
