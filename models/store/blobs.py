"""Content-addressed file storage under the data folder.

A blob is stored once, under the SHA-256 of its bytes (root/ab/cdef…), and never rewritten:
a new blob is written to a temporary file in the same folder, flushed to disk, then renamed
into place. Reading checks the hash again, so that an altered or missing file is detected
rather than handed on (LEGAL.md rule 11: detectable tampering).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from messagerie.models.atomic_write import writing_beside
from messagerie.models.errors import Refusal

_SHA256 = re.compile(r"[0-9a-f]{64}")
# Blobs are evidence: once written they are read-only for everyone (their folders let no
# other account in).
_BLOB_MODE = 0o444
PRIVATE_FOLDER = 0o700


class BlobCorrupted(Refusal):
    """A stored file is missing or no longer matches its SHA-256; the message is in French."""

    def __init__(self, message: str, sha256: str) -> None:
        super().__init__(message)
        self.sha256 = sha256


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    """Files named by their SHA-256 under `root` (e.g. settings.data_dir / "documents")."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """Where the blob of `sha256` lives (whether or not it exists)."""
        if not _SHA256.fullmatch(sha256):
            raise ValueError(f"not a lowercase SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:]

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put(self, data: bytes) -> str:
        """Store `data` (once) and return its SHA-256; an existing blob is left untouched."""
        digest = sha256_hex(data)
        target = self.path(digest)
        if not target.exists():
            private_folder(target.parent)
            _write_new_file(target, data)
        return digest

    def read(self, sha256: str) -> bytes:
        """The bytes of `sha256`, checked against it; BlobCorrupted if missing or altered."""
        target = self.path(sha256)
        try:
            data = target.read_bytes()
        except FileNotFoundError:
            raise BlobCorrupted(
                f"Le fichier d'empreinte SHA-256 {sha256} est introuvable dans le dossier des "
                f"documents ({target}) : restaurez-le depuis une sauvegarde.",
                sha256,
            ) from None
        found = sha256_hex(data)
        if found != sha256:
            raise BlobCorrupted(
                f"Le fichier {target} a été altéré : son empreinte SHA-256 est {found} au lieu "
                f"de {sha256}. Il n'est pas utilisé ; restaurez-le depuis une sauvegarde.",
                sha256,
            )
        return data


def private_folder(folder: Path) -> None:
    """Make `folder` and its missing parents 0700, whatever the umask (the XDG rule for a
    user's data). A folder that exists keeps its mode: `messagerie status` says when other
    accounts can read it."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for each in reversed(missing):
        try:
            each.mkdir(mode=PRIVATE_FOLDER)
        except FileExistsError:  # another process made it meanwhile: theirs to set
            continue
        os.chmod(each, PRIVATE_FOLDER)


def _write_new_file(target: Path, data: bytes) -> None:
    """Write `data` whole beside `target`, read-only, then rename it into place."""
    with writing_beside(target) as temporary:
        temporary.write_bytes(data)
        os.chmod(temporary, _BLOB_MODE)  # whatever the umask
