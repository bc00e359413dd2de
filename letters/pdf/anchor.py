"""Anchors as files: every history's head (models/store/anchor.py), signed by the platform
(a detached CMS signature beside it, with its RFC 3161 timestamp when MESSAGERIE_TSA_URL is
set), in a folder meant to be copied off the server; and read back, each checked against its
signature and the platform's certificate, for `verify-store`."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

from asn1crypto import x509

from messagerie.letters.pdf.sign import (
    PlatformSigner,
    UnreadableSignature,
    carries_timestamp,
    read_detached,
    sign_detached,
    stamp_problem,
)
from messagerie.models.atomic_write import write_whole
from messagerie.models.errors import Refusal, os_problem
from messagerie.models.formatting import paris_seconds
from messagerie.models.regular_file import read_regular
from messagerie.models.store import audit
from messagerie.models.store.anchor import (
    AUDIT_ACTION,
    Anchor,
    AnchorUnreadable,
    anchor_bytes,
    anchor_files,
    audit_detail,
    file_name,
    read_anchor,
    take_anchor,
)
from messagerie.models.store.database import Store, store_identity
from messagerie.models.timestamp import Stamp

SIGNATURE = ".p7s"  # beside the anchor: ancrage-….json.p7s
LARGEST = 256 << 20  # some 80 bytes a recipient: three million of them
SIGNATURE_LARGEST = 1 << 20  # a signature, its certificate and a timestamp: a few kB
UNSTAMPED_SINCE = (
    "Ancrage « {name} » : sans horodatage, alors que les ancrages sont horodatés depuis le "
    "{at} : sa date et son contenu ne reposent que sur la clé de la plateforme, il ne prouve "
    "rien (MESSAGERIE_TSA_URL a-t-il été retiré ?)."
)


@dataclass(frozen=True)
class AnchorWritten:
    path: Path
    recipients: int
    sha256: str  # of the anchor file: to note elsewhere
    stamp: Stamp | None  # the RFC 3161 timestamp in its signature


def write_anchor(
    store: Store, folder: Path, signer: PlatformSigner, *, actor: str, now: datetime
) -> AnchorWritten:
    """Anchor every history now: the file and its signature in `folder` (made 0700), the
    anchor's SHA-256 in the audit log. The signature is written first: a file without one
    never stands there alone, and an existing anchor is never replaced."""
    if signer.timestamper is None and (last := _last_stamped(folder)) is not None:
        raise Refusal(
            f"Le dernier ancrage de « {folder} », « {last} », est horodaté : sans "
            "MESSAGERIE_TSA_URL, celui-ci ne prouverait rien (verify-store le refuserait). "
            "Rien n'a été écrit."
        )
    origin = store_identity(store, create=True)
    with store.engine.connect() as connection:
        anchor = take_anchor(connection, origin, now)
    data = anchor_bytes(anchor)
    signature = sign_detached(data, signer, now=now)
    path = folder / file_name(anchor.at)
    sha256 = hashlib.sha256(data).hexdigest()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        write_whole(signature_of(path), signature, overwrite=False)
        write_whole(path, data, overwrite=False)
    except FileExistsError:
        raise Refusal(
            f"« {path} » existe déjà : un ancrage a été écrit à la même seconde. Relancez."
        ) from None
    detail = audit_detail(anchor, sha256)
    with store.engine.begin() as connection:
        audit.append(connection, action=AUDIT_ACTION, actor=actor, at=now, detail=detail)
    stamp = read_detached(data, signature, signer.tsa_authorities).stamp
    return AnchorWritten(path, len(anchor.heads), sha256, stamp)


def signature_of(anchor_path: Path) -> Path:
    """The detached signature beside an anchor: ancrage-….json.p7s."""
    return anchor_path.with_name(anchor_path.name + SIGNATURE)


def _last_stamped(folder: Path) -> str | None:
    """The name of the last anchor of `folder` when it carries a timestamp."""
    files = anchor_files(folder)
    if not files:
        return None
    try:
        signature = read_regular(signature_of(files[-1]), SIGNATURE_LARGEST, follow_links=False)
    except OSError:
        return None  # verify-store names it
    return files[-1].name if carries_timestamp(signature) else None


@dataclass
class AnchorsRead:
    """The anchors of a folder that hold (signed by the platform, of this store), and a French
    line for each file that does not: such a file proves nothing, and says so."""

    anchors: list[Anchor] = field(default_factory=list)
    stamped: list[datetime] = field(default_factory=list)  # their timestamps' times
    problems: list[str] = field(default_factory=list)
    authorities_judged: bool = False  # the timestamps' authorities were checked (TSA_CERT)


def read_anchors(
    folder: Path,
    platform: Sequence[x509.Certificate],
    store: str | None,
    written: Mapping[str, str] = MappingProxyType({}),
    authorities: Sequence[x509.Certificate] = (),
) -> AnchorsRead:
    """Every anchor file of `folder`, checked against its signature, the platform's
    certificates (its current one, and those it had before: an anchor signed by a key of
    theirs counts), this store's identity and, when it is stamped, the timestamping
    `authorities` given; and each anchor the audit log says was `written` (name → SHA-256),
    looked for there."""
    read = AnchorsRead(authorities_judged=bool(authorities))
    try:
        paths = anchor_files(folder)
    except OSError as error:
        unreadable = f"Le dossier des ancrages « {folder} » est illisible : {os_problem(error)}."
        read.problems.append(unreadable)
        return read
    found: dict[str, str] = {}
    held: list[tuple[str, Anchor, datetime | None]] = []
    for path in paths:
        try:
            anchor, stamped_at, found[path.name] = _checked(path, platform, store, authorities)
        except Refusal as problem:
            read.problems.append(f"Ancrage « {path.name} » : {problem}.")
        else:
            held.append((path.name, anchor, stamped_at))
    first_stamped = min((anchor.at for _, anchor, at in held if at is not None), default=None)
    for name, anchor, stamped_at in held:
        if stamped_at is None and first_stamped is not None and anchor.at > first_stamped:
            # The anchors were stamped from then on: one without a token since is the key
            # holder's alone, who could write it with any history and any date.
            read.problems.append(UNSTAMPED_SINCE.format(name=name, at=paris_seconds(first_stamped)))
            continue
        read.anchors.append(anchor)
        if stamped_at is not None:
            read.stamped.append(stamped_at)
    present = {path.name for path in paths}
    for name, sha256 in sorted(written.items()):
        if name not in present:
            read.problems.append(
                f"Ancrage « {name} » : écrit d'après le journal d'audit, il manque dans ce dossier."
            )
        elif name in found and found[name] != sha256:
            read.problems.append(
                f"Ancrage « {name} » : ce n'est pas le fichier noté au journal d'audit."
            )
    return read


def last_anchor(
    folder: Path,
    platform: Sequence[x509.Certificate],
    store: str | None,
    authorities: Sequence[x509.Certificate] = (),
) -> Anchor | None:
    """The newest anchor of `folder` when it holds (as `read_anchors` checks it), for an AR
    to say that its history is the one anchored; None otherwise (verify-store names why)."""
    try:
        files = anchor_files(folder)
        return _checked(files[-1], platform, store, authorities)[0] if files else None
    except (OSError, Refusal):
        return None


def _checked(
    path: Path,
    platform: Sequence[x509.Certificate],
    store: str | None,
    authorities: Sequence[x509.Certificate],
) -> tuple[Anchor, datetime | None, str]:
    """The anchor of `path`, its timestamp's time and the file's SHA-256; a Refusal saying
    why it cannot count."""
    signature_path = signature_of(path)
    try:
        data = read_regular(path, LARGEST, follow_links=False)
        signature = read_regular(signature_path, SIGNATURE_LARGEST, follow_links=False)
    except FileNotFoundError:
        missing = signature_path.name if path.exists() else path.name
        raise Refusal(f"« {missing} » manque : il ne prouve rien") from None
    except OSError as error:
        raise Refusal(f"illisible : {os_problem(error)}") from None
    if len(data) > LARGEST or len(signature) > SIGNATURE_LARGEST:
        raise Refusal("trop gros pour être un ancrage et sa signature")
    try:
        found = read_detached(data, signature, authorities)
    except UnreadableSignature as error:
        raise Refusal(str(error)) from None
    if not found.intact:
        raise Refusal("il ne correspond plus à sa signature (modifié après son écriture)")
    if not platform:
        raise Refusal("aucun certificat de la plateforme à comparer à sa signature")
    # The key signs: a certificate renewed on the same key still recognises its anchors.
    if found.certificate.public_key.dump() not in {one.public_key.dump() for one in platform}:
        raise Refusal(
            f"signé par une autre clé que celle de la plateforme (certificat {found.fingerprint}"
            " ; si c'est un certificat qu'elle avait avant, donnez-le avec --cert FICHIER)"
        )
    try:
        anchor = read_anchor(data)
    except AnchorUnreadable as error:
        raise Refusal(f"illisible : {error}") from None
    if anchor.store != store:
        raise Refusal(
            f"il a été pris sur la base « {anchor.store} », et cette base se nomme "
            f"« {store or '(sans identifiant)'} » : l'identifiant de la base (store_id) a-t-il "
            "été changé ? Sinon, vérifiez le dossier des ancrages"
        )
    if file_name(anchor.at) != path.name:
        raise Refusal(f"son nom ne correspond pas à sa date signée ({file_name(anchor.at)})")
    if problem := stamp_problem(found.stamp, anchor.at):
        raise Refusal(problem)
    stamped_at = found.stamp.at if found.stamp else None
    return anchor, stamped_at, hashlib.sha256(data).hexdigest()
