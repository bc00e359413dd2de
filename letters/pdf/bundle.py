"""The proof bundle of one consultation, as a zip, and its verification.

The zip holds what `models.bundle.bundle_items` lists — the consultation, every message with
its recipients' events, replies and files, the AR of each recipient who opened an "avec AR"
message, the DCE history with its files, the registers and the audit log — then
`manifest.json`, which gives the size and SHA-256 of every other file, and, last,
`manifest.json.p7s`, the platform's detached CMS signature of the manifest. `verify_bundle`
detects a file altered, removed or added after the export (LEGAL.md rule 11), and a manifest
rewritten to match: its signature no longer matches it, or is made by another certificate than
the platform's (« non authentique »). It also checks what the files say of themselves, even
under a manifest re-signed with the platform's key: each recipient's events, listed in
message.json with their hashes, are recomputed as the chain ending at the head recorded
beside them (models/store/chain.py; an edit must rewrite the whole chain, whose head the
store and each AR also hold), and each AR's PAdES signature is validated by pyHanko against
the platform's certificate.

The ARs are drawn and signed in worker processes, one per core (weasyprint and pyHanko hold
the GIL: threads would not run them side by side), a few ahead of the entry being written;
the zip is written by this process alone, in the same order and with the same entries as a
serial export.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import multiprocessing
import os
import re
import signal
import sys
import zipfile
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from asn1crypto import keys, x509

from messagerie.letters.pdf.ar import signed_ar
from messagerie.letters.pdf.certificate import CertificateInfo, KeyPair, fingerprint
from messagerie.letters.pdf.sign import (
    PlatformSigner,
    UnreadableSignature,
    pdf_signature_problem,
    read_detached,
    sign_detached,
    signer_of,
    stamp_problem,
)
from messagerie.models.atomic_write import writing_beside
from messagerie.models.clock import utc_now
from messagerie.models.consultations.detail import consultation_detail
from messagerie.models.errors import Refusal, os_problem, write_problem
from messagerie.models.formatting import as_utc
from messagerie.models.messages.ar import ArData, ArRefused, ar_data
from messagerie.models.messages.bundle import (
    ArItem,
    BundleItem,
    JsonItem,
    ManifestSignature,
    StoredFileItem,
    ar_count,
    bundle_items,
    find_consultation,
    utc_iso,
)
from messagerie.models.store.accounts import Account
from messagerie.models.store.anchor import Anchor
from messagerie.models.store.chain import SENT_CHANGED, listed_chain_problem
from messagerie.models.store.database import Store, store_identity
from messagerie.models.store.enums import EventKind, SendMode
from messagerie.models.store.seal import content_seal, seal_of

MANIFEST = "manifest.json"
SIGNATURE = MANIFEST + ".p7s"  # detached CMS (PKCS#7) signature of the manifest
FORMAT = "messagerie/lot-de-preuves/2"  # 2: each recipient's events carry their hash chain
CHAINLESS_FORMAT = "messagerie/lot-de-preuves/1"  # exported before the chains: none to check
MESSAGE_JSON = re.compile(r"messages/\d+/message\.json")
AR_PDF = re.compile(r"messages/\d+/ar/AR-(\d+)\.pdf")
DISTRIBUTION = "messagerie-securisee"
CHUNK = 1 << 20  # verification reads members by the megabyte, whatever their size
AHEAD = 4  # ARs asked for per worker beyond the one being written: workers never wait on it
# A spawned worker costs about as much as seven ARs before its first one (its imports and its
# first drawing; `python bench/export.py --recipients 8`: the pool 1.3× slower than serial).
# By default a bundle gets one worker per this many ARs, up to one per core.
ARS_PER_WORKER = 16
# Reading a member of a zip from outside can fail beyond a missing name: damaged data (each
# decompressor has its error: bz2 raises OSError), or a compression method or an encryption
# that zipfile cannot undo.
DAMAGED = (
    zipfile.BadZipFile, zlib.error, OSError, lzma.LZMAError, EOFError, NotImplementedError,
    RuntimeError,
)  # fmt: skip
# A manifest, a message.json or an AR is read whole (a manifest lists about 150 bytes a file,
# an AR weighs some 60 kB): a larger one is a zip bomb's, and is not read.
MEMBER_LIMIT = 64 << 20
Progress = Callable[[int, int], object]  # (ARs written, ARs in the bundle)


class BundleUnreadable(Refusal):
    """The file is not a zip that can be read at all; str() says why, in French."""


@dataclass(frozen=True)
class ManifestEntry:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    files: int  # besides the manifest and its signature
    ars: int
    size: int  # of the zip, in bytes
    manifest_sha256: str  # to note elsewhere: it seals the manifest itself
    signer: CertificateInfo  # whose certificate signed the manifest and the ARs


@dataclass(frozen=True)
class BundleCheck:
    checked: int  # files listed in the manifest
    problems: tuple[str, ...]  # one French line per problem, naming the file
    signature: ManifestSignature | None = None  # None: absent or unreadable (a problem)

    @property
    def intact(self) -> bool:
        return not self.problems


def export_bundle(
    store: Store,
    reference: str,
    out: Path,
    *,
    signer: PlatformSigner,
    account: Account | None = None,
    organisation: str | None = None,
    anchor: Anchor | None = None,
    now: datetime | None = None,
    max_workers: int | None = None,
    progress: Progress | None = None,
) -> ExportSummary:
    """Write the proof bundle of consultation `reference` (of `organisation`, when several
    have one of that reference) to `out`; `signer` signs each AR and the manifest, whose
    histories are compared with `anchor` (the platform's last). `account` (None: a store
    without accounts) needs the `export` right, and another organisation's reference is
    « introuvable » (`find_consultation`).

    The ARs are drawn in `max_workers` processes (default: one per core, fewer when there
    are few ARs, see `ARS_PER_WORKER`; 1: in this process, one after the other), and
    `progress(done, total)` is called as each is written, from (0, total) to (total, total).
    Files go into the zip one at a time, so memory holds a few ARs and one other file at most.
    The zip is written beside `out` and renamed at the end: a failure never leaves half a
    bundle."""
    consultation_id = find_consultation(store, reference, account, organisation=organisation)
    organisation = consultation_detail(store, consultation_id).identity.organisation
    origin = store_identity(store, create=True)
    now = now or utc_now()
    signer.ensure_valid(now)  # before any AR is drawn: refused at once, not at the end
    drawer = ArDrawer(signer, ar_count(store, consultation_id), max_workers, progress)
    try:
        with (
            writing_beside(out) as partial,
            drawer,
            zipfile.ZipFile(partial, "w") as archive,
        ):
            entries = [
                _write(archive, item.path, data, now)
                for item, data in _contents(store, consultation_id, drawer, now, anchor)
            ]
            manifest = _json_bytes(_manifest(reference, organisation, origin, now, entries))
            _write(archive, MANIFEST, manifest, now)
            _write(archive, SIGNATURE, sign_detached(manifest, signer, now=now), now)
        size = out.stat().st_size
    except OSError as error:
        raise Refusal(write_problem(out, error)) from error
    return ExportSummary(
        out, len(entries), drawer.done, size, hashlib.sha256(manifest).hexdigest(), signer.info
    )


def _contents(
    store: Store, consultation_id: int, drawer: ArDrawer, now: datetime, anchor: Anchor | None
) -> Iterator[tuple[BundleItem, bytes]]:
    """Every entry with its bytes, in the bundle's order; a recipient without an AR to show
    (not opened yet) is left out. An AR is asked for as soon as it is listed and written when
    its turn comes; any other entry is written at once unless an AR is waited for before it."""
    waiting: deque[tuple[BundleItem, Drawing | None]] = deque()
    asked = 0  # ARs in `waiting`
    for item in bundle_items(store, consultation_id):
        drawing = None
        if isinstance(item, ArItem):
            try:
                data = ar_data(store, item.recipient_id, now=now, anchor=anchor)
            except ArRefused:  # not opened (yet): no AR rather than a misleading one
                continue
            drawing, asked = drawer.draw(data), asked + 1
        waiting.append((item, drawing))
        while waiting and (waiting[0][1] is None or asked > drawer.ahead):
            asked -= waiting[0][1] is not None
            yield _received(store, drawer, *waiting.popleft())
    while waiting:
        yield _received(store, drawer, *waiting.popleft())


def _received(
    store: Store, drawer: ArDrawer, item: BundleItem, drawing: Drawing | None
) -> tuple[BundleItem, bytes]:
    if isinstance(item, JsonItem):
        return item, _json_bytes(item.content)
    if isinstance(item, StoredFileItem):
        return item, store.blobs.read(item.sha256)  # checked against its SHA-256 on the way
    assert drawing is not None, "an AR is asked for as soon as it is listed"
    return item, drawer.received(drawing)


# --- The ARs, in worker processes ------------------------------------------------------------


class Drawing(Protocol):
    """An AR on its way: a worker's future, or one drawn here when asked."""

    def result(self) -> bytes: ...


@dataclass(frozen=True)
class SignerMaterial:
    """The platform's signer as plain bytes, pickled to each worker process, which rebuilds
    it once (a signer holds pyHanko objects that are not meant to cross processes)."""

    key: bytes = field(repr=False)  # PKCS#8 DER: it goes to our own children only, by pipe
    certificate: bytes
    chain: tuple[bytes, ...]
    demo: bool
    tsa_url: str | None
    tsa_authorities: tuple[bytes, ...] = ()

    @classmethod
    def of(cls, signer: PlatformSigner) -> SignerMaterial:
        inner = signer.signer
        return cls(
            key=inner.signing_key.dump(),
            certificate=signer.certificate.dump(),
            chain=tuple(certificate.dump() for certificate in inner.cert_registry),
            demo=signer.demo,
            tsa_url=signer.tsa_url,
            tsa_authorities=tuple(authority.dump() for authority in signer.tsa_authorities),
        )

    def signer(self) -> PlatformSigner:
        pair = KeyPair(
            keys.PrivateKeyInfo.load(self.key),
            x509.Certificate.load(self.certificate),
            tuple(x509.Certificate.load(certificate) for certificate in self.chain),
            self.demo,
        )
        authorities = [x509.Certificate.load(one) for one in self.tsa_authorities]
        return signer_of(pair, self.tsa_url, authorities)


_worker_signer: PlatformSigner | None = None  # in a worker process: its own, built once


def _start_worker(material: SignerMaterial) -> None:
    """A worker process's start: its signer; Ctrl+C is for the exporting process to handle
    (it stops the workers), not for each worker to print its own traceback."""
    global _worker_signer
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_signer = material.signer()


def _draw_in_worker(data: ArData) -> bytes:
    assert _worker_signer is not None, "started without its signer"
    return signed_ar(data, _worker_signer)


@dataclass
class _DrawnHere:
    """The serial export's AR: drawn when its turn to be written comes, as before."""

    data: ArData
    signer: PlatformSigner

    def result(self) -> bytes:
        return signed_ar(self.data, self.signer)


def start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker before a pool of spawned workers. It hands
    `sys.stderr`'s descriptor to its process, and in the TUI `sys.stderr` is Textual's capture,
    whose descriptor is -1: the first export of a TUI process failed with « bad value(s) in
    fds_to_keep ». There, the tracker gets /dev/null instead (it only writes warnings)."""
    from multiprocessing import resource_tracker

    try:
        usable = sys.stderr is not None and sys.stderr.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        usable = False
    if usable:
        resource_tracker.ensure_running()
        return
    saved = sys.stderr
    with open(os.devnull, "w") as quiet:
        sys.stderr = quiet  # the process's, for the moment the tracker is started
        try:
            resource_tracker.ensure_running()
        finally:
            sys.stderr = saved


class ArDrawer:
    """Draws and signs the bundle's ARs, counts them and reports the progress: in a pool of
    worker processes (spawned, not forked: the TUI exports from a thread), or here when one
    worker is asked for or there is at most one AR."""

    def __init__(
        self,
        signer: PlatformSigner,
        total: int,
        max_workers: int | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.signer, self.total, self.progress = signer, total, progress
        self.done = 0
        if max_workers is None:
            max_workers = min(os.cpu_count() or 1, total // ARS_PER_WORKER)
        workers = min(max_workers, total)
        self.pool: ProcessPoolExecutor | None = None
        if workers > 1:
            start_resource_tracker()
            self.pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(SignerMaterial.of(signer),),
            )
        self.ahead = AHEAD * workers if self.pool else 0

    def __enter__(self) -> ArDrawer:
        self._report()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.pool is not None:  # after a failure, what was not started is dropped
            self.pool.shutdown(wait=True, cancel_futures=True)
        if kind is None and self.total != self.done:  # one counted but not opened after all
            self.total = self.done
            self._report()

    def draw(self, data: ArData) -> Drawing:
        if self.pool is None:
            return _DrawnHere(data, self.signer)
        return self.pool.submit(_draw_in_worker, data)

    def received(self, drawing: Drawing) -> bytes:
        data = drawing.result()
        self.done += 1
        self.total = max(self.total, self.done)  # a recipient who opened it meanwhile
        self._report()
        return data

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self.done, self.total)


def _json_bytes(content: Any) -> bytes:
    return (json.dumps(content, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _write(archive: zipfile.ZipFile, path: str, data: bytes, now: datetime) -> ManifestEntry:
    info = zipfile.ZipInfo(path, date_time=now.astimezone(UTC).timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16  # readable once unpacked
    info.file_size = len(data)  # lets zipfile choose ZIP64 for a member over 2 GiB
    with archive.open(info, "w") as member:
        member.write(data)
    return ManifestEntry(path, len(data), hashlib.sha256(data).hexdigest())


def _manifest(
    reference: str,
    organisation: str,
    origin: str | None,
    now: datetime,
    entries: list[ManifestEntry],
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "reference": reference,
        "organisation": organisation,  # a reference is unique in its organisation only
        "store": origin,  # which store exported it (`check_verifiable`)
        "exported_at": utc_iso(now),
        "tool": {"name": "messagerie", "version": tool_version()},
        "files": [
            {"path": entry.path, "size": entry.size, "sha256": entry.sha256} for entry in entries
        ],
    }


def tool_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "inconnue"


# --- Verification ----------------------------------------------------------------------------


def verify_bundle(
    path: Path,
    platform: x509.Certificate | None,
    authorities: Sequence[x509.Certificate] = (),
) -> BundleCheck:
    """Every file of the bundle against the manifest, and the manifest against its signature,
    which must be made by `platform` (the platform's certificate; None: none known, so the
    bundle cannot be recognised as authentic); the timestamps, when they are, against the
    timestamping `authorities` (none: whose they are is not judged). `BundleUnreadable` when
    the zip itself cannot be read."""
    try:
        with zipfile.ZipFile(path) as archive:
            check = _check(archive)
            signature, problem = _check_signature(archive, platform, authorities)
            problems = (problem, *check.problems) if problem else check.problems
            problems += tuple(_check_evidence(archive, platform, authorities))
            return BundleCheck(check.checked, problems, signature)
    except FileNotFoundError:
        raise BundleUnreadable(f"Lot de preuves « {path} » introuvable.") from None
    except OSError as error:
        raise BundleUnreadable(
            f"Lot de preuves « {path} » illisible : {os_problem(error)}."
        ) from None
    except zipfile.BadZipFile:
        raise BundleUnreadable(
            f"Lot de preuves « {path} » illisible : ce n'est pas une archive zip intacte."
        ) from None


@dataclass(frozen=True)
class BundleOrigin:
    """Whose a bundle says it is; None for what cannot be read (the verification then says
    why), or was not named yet (the store, the organisation: older bundles)."""

    reference: str | None = None
    organisation: str | None = None
    store: str | None = None


def bundle_origin(path: Path) -> BundleOrigin:
    """The consultation a bundle's manifest names (its reference and organisation) and the
    store that exported it."""
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = _json_member(archive, MANIFEST)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return BundleOrigin()
    if not isinstance(manifest, dict):
        return BundleOrigin()
    said = {key: manifest.get(key) for key in ("reference", "organisation", "store")}
    return BundleOrigin(**{key: value for key, value in said.items() if isinstance(value, str)})


def _check(archive: zipfile.ZipFile) -> BundleCheck:
    read = _read_manifest(archive)
    if isinstance(read, str):
        return BundleCheck(0, (read,))
    _, listed = read
    names = Counter(info.filename for info in archive.infolist() if not info.is_dir())
    problems = [
        f"« {name} » : figure plusieurs fois dans le lot." for name, n in names.items() if n > 1
    ]
    for entry in listed:
        if entry.path not in names:
            problems.append(f"« {entry.path} » : fichier manquant (listé dans le manifeste).")
            continue
        found = _measure(archive, entry.path)
        if found is None:
            problems.append(f"« {entry.path} » : fichier altéré (données illisibles).")
        elif found != (entry.size, entry.sha256):
            size, sha256 = found
            problems.append(
                f"« {entry.path} » : fichier altéré ({size} octets, SHA-256 {sha256} ; le "
                f"manifeste indique {entry.size} octets, SHA-256 {entry.sha256})."
            )
    known = {entry.path for entry in listed} | {MANIFEST, SIGNATURE}
    problems.extend(
        f"« {name} » : fichier absent du manifeste (ajouté au lot)."
        for name in sorted(names.keys() - known)
    )
    return BundleCheck(len(listed), tuple(problems))


def _json_member(archive: zipfile.ZipFile, name: str) -> Any:
    """The JSON value of one member: KeyError when it is absent, ValueError when it cannot be
    read, is over MEMBER_LIMIT or is not JSON (nested deeper than Python's stack included)."""
    data = _read_member(archive, name)
    if data is None:
        raise ValueError(f"{name}: damaged, or over {MEMBER_LIMIT} bytes")
    try:
        return json.loads(data)
    except RecursionError as error:
        raise ValueError(f"{name}: nested too deep") from error


def _read_manifest(archive: zipfile.ZipFile) -> tuple[dict[str, Any], list[ManifestEntry]] | str:
    """The manifest and its list of files, or the French line saying why it cannot be used."""
    try:
        manifest = _json_member(archive, MANIFEST)
    except KeyError:
        return f"« {MANIFEST} » : manquant, aucun fichier du lot ne peut être vérifié."
    except ValueError:
        return f"« {MANIFEST} » : illisible (altéré), le lot ne peut être vérifié."
    files = manifest.get("files") if isinstance(manifest, dict) else None
    entries = [_manifest_entry(one) for one in files] if isinstance(files, list) else [None]
    if None in entries:
        return (
            f"« {MANIFEST} » : illisible (champ manquant ou altéré), le lot ne peut être vérifié."
        )
    return manifest, [entry for entry in entries if entry is not None]


def _manifest_entry(listed: object) -> ManifestEntry | None:
    """One file of the manifest; None unless its three fields are there, of their types."""
    if not isinstance(listed, dict):
        return None
    path, size, sha256 = listed.get("path"), listed.get("size"), listed.get("sha256")
    if isinstance(path, str) and type(size) is int and size >= 0 and isinstance(sha256, str):
        return ManifestEntry(path, size, sha256)
    return None


def _measure(archive: zipfile.ZipFile, name: str) -> tuple[int, str] | None:
    """Size and SHA-256 of one member, read in chunks; None when its data is damaged."""
    digest, size = hashlib.sha256(), 0
    try:
        with archive.open(name) as member:
            while chunk := member.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except DAMAGED:
        return None
    return size, digest.hexdigest()


def _check_signature(
    archive: zipfile.ZipFile,
    platform: x509.Certificate | None,
    authorities: Sequence[x509.Certificate],
) -> tuple[ManifestSignature | None, str | None]:
    """The manifest's signature, and the French line saying why the bundle is refused on its
    account (None when it is the platform's, over this very manifest)."""
    if MANIFEST not in archive.namelist():
        return None, None  # the manifest's own check says so
    try:
        manifest, signature = _read_member(archive, MANIFEST), _read_member(archive, SIGNATURE)
    except KeyError:
        return None, f"« {SIGNATURE} » : manquant, le manifeste n'est pas signé."
    if manifest is None:
        return None, None  # the manifest's own check says so
    if signature is None:
        return None, f"« {SIGNATURE} » : illisible (altéré)."
    try:
        found = read_detached(manifest, signature, authorities)
    except UnreadableSignature as error:
        return None, f"« {SIGNATURE} » : {error}."
    info = found.info
    facts = ManifestSignature(
        signer=info.subject,
        fingerprint=info.fingerprint,
        signed_at=found.signed_at,
        intact=found.intact,
        expected=fingerprint(platform) if platform is not None else None,
        stamp=found.stamp,
    )
    if not facts.intact:
        return facts, (
            f"« {MANIFEST} » : ne correspond plus à sa signature (modifié après l'export)."
        )
    if facts.expected is None:
        return facts, (
            "Authenticité invérifiable : aucun certificat de la plateforme à comparer "
            "(MESSAGERIE_SIGNING_CERT, ou --cert FICHIER)."
        )
    if not facts.authentic:
        return facts, (
            f"Lot de preuves « non authentique » : signé par un autre certificat que celui de "
            f"la plateforme (empreinte attendue {facts.expected})."
        )
    if problem := stamp_problem(found.stamp, found.signed_at):
        return facts, f"« {SIGNATURE} » : {problem}."
    return facts, None


def _check_evidence(
    archive: zipfile.ZipFile,
    platform: x509.Certificate | None,
    authorities: Sequence[x509.Certificate],
) -> Iterator[str]:
    """What the files listed say of themselves: each recipient's events recomputed as a hash
    chain up to the head recorded beside them, an AR for each opening of a message sent "avec
    AR", each AR's own PAdES signature checked against the platform's certificate (without
    one, against the AR's own signer: only its integrity is checked then, the manifest's line
    says the rest). A file that cannot be read is named here too, for what it could not show
    (the manifest's check names it for its bytes; a member over MEMBER_LIMIT passes that one)."""
    read = _read_manifest(archive)
    if isinstance(read, str):
        return
    manifest, entries = read
    listed = {entry.path for entry in entries}
    chained = manifest.get("format") != CHAINLESS_FORMAT
    present = listed & set(archive.namelist())
    for name in sorted(present):
        if chained and MESSAGE_JSON.fullmatch(name):
            yield from _chain_problems(archive, name, listed)
        elif found := AR_PDF.fullmatch(name):
            data = _read_member(archive, name)
            reason = (
                "illisible (altéré, ou de plus de 64 Mio)"
                if data is None
                else pdf_signature_problem(data, platform, authorities)
            )
            if reason:
                yield f"« {name} » : AR du destinataire n° {found[1]} {reason}."


def _chain_problems(archive: zipfile.ZipFile, name: str, listed: set[str]) -> Iterator[str]:
    """Each recipient of one message.json whose listed events are not its whole chain, and
    each who opened it (L) without its AR in the bundle, when it was sent "avec AR"."""
    try:
        record = _json_member(archive, name)
        with_ar = record["send_mode"] == SendMode.WITH_AR
        recipients = [
            (one["id"], str(one["email"]), one["chain_head"], one["events"])
            for one in record["recipients"]
        ]
        if not all(type(recipient[0]) is int for recipient in recipients):
            raise ValueError(f"{name}: a recipient's id is not a whole number")
    except (KeyError, ValueError, TypeError):
        yield f"« {name} » : historique des destinataires illisible (champ manquant ou altéré)."
        return
    for recipient_id, email, head, written in recipients:
        try:
            events = [{**one, "at": as_utc(datetime.fromisoformat(one["at"]))} for one in written]
            reason = listed_chain_problem(recipient_id, events, head) or _sent_problem(
                record, recipient_id, email, events
            )
            opened = any(one["kind"] == EventKind.READ for one in events)
        except (KeyError, ValueError, TypeError, AttributeError, OverflowError):
            reason, opened = "un événement est illisible", False  # OverflowError: year 1 in UTC
        if reason:
            yield (
                f"« {name} » : destinataire n° {recipient_id} ({email}), historique des "
                f"événements altéré : {reason}."
            )
        ar = f"{name.removesuffix('message.json')}ar/AR-{recipient_id}.pdf"
        if with_ar and opened and ar not in listed:  # listed but not there: said already
            yield f"« {ar} » : AR manquant (le destinataire n° {recipient_id} a ouvert le message)."


def _sent_problem(
    record: dict[str, Any], recipient_id: int, email: str, events: list[dict[str, Any]]
) -> str | None:
    """SENT_CHANGED when the copy's "envoyé" event seals other content than message.json
    holds: the store was edited before this bundle was drawn from it, and signed as it was."""
    sealed = [
        seal for one in events if one["kind"] == EventKind.SENT and (seal := seal_of(one["detail"]))
    ]
    if not sealed:
        return None  # sent before the seal (or the demo's)
    deadline = record["reply_deadline"]
    carried = content_seal(
        email=email,
        kind=record["type"],
        subject=record["subject"],
        body=record["body"],
        mentions=record["mentions"],
        send_mode=record["send_mode"],
        reply_allowed=record["reply_allowed"],
        reply_deadline=datetime.fromisoformat(deadline) if deadline else None,
        files=[(one["filename"], one["sha256"]) for one in record["attachments"]
               if one["recipient_id"] in (None, recipient_id)],
    )  # fmt: skip
    return SENT_CHANGED if sealed[-1] != carried else None


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes | None:
    """One member's bytes; None when they cannot be read or are over MEMBER_LIMIT. KeyError
    when it is absent."""
    try:
        with archive.open(name) as member:
            data = member.read(MEMBER_LIMIT + 1)
    except DAMAGED:
        return None
    return data if len(data) <= MEMBER_LIMIT else None
