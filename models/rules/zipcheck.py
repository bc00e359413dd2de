"""Refusing unsafe zip archives (a DCE is usually one zip that every candidate downloads).

Nothing in an archive is trusted: names are checked before anything is read, and every member
is decompressed, in bounded chunks, to measure its real size and let zipfile verify its
CRC-32. Sizes and ratios are counted on the bytes actually produced, never taken from the
headers. Only the "stored" and "deflate" methods are accepted: zipfile hands bzip2 and LZMA
data to a decompressor without an output bound, so a few kilobytes could expand to gigabytes
in memory before any check runs; every common zip tool writes deflate.
"""

from __future__ import annotations

import io
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from messagerie.models.errors import Refusal

_MiB = 1024**2
_CHUNK = 64 * 1024
_UTF8_NAMES = 0x800
_ENCRYPTED = 0x1
_STRONG_ENCRYPTION = 0x40
_ACCEPTED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
_METHOD_NAMES = {
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "LZMA",
    9: "Deflate64",
    93: "Zstandard",
    99: "AES",
}
_DRIVE = re.compile(r"[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# What zipfile and the decompressors raise on damaged data.
DAMAGED_ZIP_ERRORS = (zipfile.BadZipFile, EOFError, OSError, ValueError, struct.error, zlib.error)


@dataclass(frozen=True)
class ZipLimits:
    max_members: int = 1000
    max_total_uncompressed: int = 500 * _MiB
    max_ratio: float = 100.0
    max_member_size: int = 200 * _MiB
    # Below this many decompressed bytes the ratio is not judged: small text or XML files
    # legitimately compress more than 100 times, and cannot make a bomb.
    ratio_floor: int = 1 * _MiB


DEFAULT_LIMITS = ZipLimits()


@dataclass(frozen=True)
class ZipMember:
    path: str
    size: int


class ZipRefused(Refusal):
    """The archive is refused; `message` (French) says why and names the member at fault.

    The message is the reason alone ("« ../evil.txt » remonte dans l'arborescence (« .. »)."),
    so that a caller can introduce it with the archive's own name.
    """

    def __init__(self, message: str, member: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.member = member


def inspect_zip(data: bytes, limits: ZipLimits = ZipLimits()) -> tuple[ZipMember, ...]:
    """The files of a safe archive (directories left out), or ZipRefused."""
    return tuple(member for member, _ in _walk(data, limits, keep=False))


def read_members(data: bytes, limits: ZipLimits = ZipLimits()) -> Iterator[tuple[ZipMember, bytes]]:
    """Each file of the archive with its bytes, one at a time, under the same checks."""
    for member, content in _walk(data, limits, keep=True):
        yield member, content or b""


def extract_member(data: bytes, path: str, limits: ZipLimits = ZipLimits()) -> bytes:
    """The bytes of the file `path` (as listed by inspect_zip), checked like any member."""
    with _open_archive(data) as archive:
        for info in archive.infolist():
            if member_name(info) == path and not info.is_dir():
                _check_entry(info, path)
                meter = _Meter(limits, len(data))
                return _read(archive, info, path, meter, keep=True) or b""
    raise ZipRefused(f"L'archive ne contient pas de fichier « {_shown(path)} ».", path)


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author wrote it.

    Names without the UTF-8 flag are decoded by zipfile as CP437 (what Windows writes); many
    tools write UTF-8 without setting the flag, so such a name that is valid UTF-8 is read so.
    """
    name = info.orig_filename
    if info.flag_bits & _UTF8_NAMES or name.isascii():
        return name
    try:
        return name.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name


def _walk(
    data: bytes, limits: ZipLimits, *, keep: bool
) -> Iterator[tuple[ZipMember, bytes | None]]:
    with _open_archive(data) as archive:
        entries = archive.infolist()
        if len(entries) > limits.max_members:
            first_extra = member_name(entries[limits.max_members])
            raise ZipRefused(
                f"L'archive contient {len(entries)} éléments, la limite est de "
                f"{limits.max_members} : « {_shown(first_extra)} » et les suivants sont de trop.",
                first_extra,
            )
        meter = _Meter(limits, len(data))
        seen: dict[str, str] = {}
        for info in entries:
            name = member_name(info)
            _check_entry(info, name)
            _check_unique(name, seen)
            if info.is_dir():
                continue
            content = _read(archive, info, name, meter, keep=keep)
            yield ZipMember(path=name, size=info.file_size), content


def _open_archive(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except DAMAGED_ZIP_ERRORS:
        raise ZipRefused(
            "Ce fichier n'est pas une archive zip lisible : ce n'est pas un zip, ou l'archive "
            "est tronquée ou corrompue."
        ) from None


def _check_entry(info: zipfile.ZipInfo, name: str) -> None:
    """Refuse a member whose name, kind, encryption or method is unsafe, before reading it."""
    reason = _unsafe_name_reason(name) or _unsafe_kind_reason(info)
    if reason:
        raise ZipRefused(f"« {_shown(name)} » {reason}.", name)


def _unsafe_name_reason(name: str) -> str | None:
    if not name:
        return "a un nom vide"
    if _CONTROL.search(name):
        return "contient un caractère de contrôle dans son nom"
    if "\\" in name:
        return "contient une barre oblique inverse (« \\ ») dans son chemin"
    if name.startswith("/"):
        return "a un chemin absolu"
    if _DRIVE.match(name):
        return "commence par une lettre de lecteur"
    segments = name.removesuffix("/").split("/")
    if ".." in segments:
        return "remonte dans l'arborescence (« .. »)"
    if any(segment in {"", "."} for segment in segments):
        return "a un chemin mal formé (élément vide ou « . »)"
    return None


def _unsafe_kind_reason(info: zipfile.ZipInfo) -> str | None:
    if info.flag_bits & (_ENCRYPTED | _STRONG_ENCRYPTION):
        return (
            "est chiffré (protégé par un mot de passe), alors que les pièces doivent être "
            "lisibles par tous les candidats"
        )
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        return "est un lien symbolique"
    if kind not in {0, stat.S_IFREG, stat.S_IFDIR}:
        return "n'est pas un fichier ordinaire"
    if not info.is_dir() and info.compress_type not in _ACCEPTED_METHODS:
        method = _METHOD_NAMES.get(info.compress_type, f"n°{info.compress_type}")
        return (
            f"utilise une méthode de compression non acceptée ({method}) ; "
            "recréez l'archive au format zip standard (Deflate)"
        )
    return None


def _check_unique(name: str, seen: dict[str, str]) -> None:
    """Refuse two members that would land on the same file (case and accents as Windows/macOS)."""
    key = unicodedata.normalize("NFC", name).removesuffix("/").casefold()
    if key in seen:
        raise ZipRefused(
            f"« {_shown(name)} » figure deux fois dans l'archive (doublon de "
            f"« {_shown(seen[key])} »).",
            name,
        )
    seen[key] = name


class _Meter:
    """Counts decompressed bytes against the limits, for one member and for the archive."""

    def __init__(self, limits: ZipLimits, archive_size: int) -> None:
        self.limits = limits
        self.archive_size = max(archive_size, 1)
        self.total = 0

    def count(self, name: str, member_size: int, compressed_size: int, added: int) -> None:
        limits = self.limits
        self.total += added
        if member_size > limits.max_member_size:
            self._refuse(
                name, f"dépasse la taille maximale d'un fichier ({_size(limits.max_member_size)})"
            )
        if self.total > limits.max_total_uncompressed:
            self._refuse(
                name,
                "fait dépasser la taille totale décompressée autorisée "
                f"({_size(limits.max_total_uncompressed)})",
            )
        if member_size > limits.ratio_floor and member_size / max(compressed_size, 1) > (
            limits.max_ratio
        ):
            self._refuse(
                name,
                f"se décompresse plus de {limits.max_ratio:g} fois sa taille "
                "(bombe de décompression)",
            )
        if self.total > limits.ratio_floor and self.total / self.archive_size > limits.max_ratio:
            self._refuse(
                name,
                f"porte l'archive à plus de {limits.max_ratio:g} fois sa taille une fois "
                "décompressée (bombe de décompression)",
            )

    @staticmethod
    def _refuse(name: str, reason: str) -> None:
        raise ZipRefused(f"« {_shown(name)} » {reason}.", name)


def _read(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, meter: _Meter, *, keep: bool
) -> bytes | None:
    """Decompress one member in bounded chunks, to its end (so that zipfile checks the CRC)."""
    parts: list[bytes] = []
    size = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                meter.count(name, size, info.compress_size, len(chunk))
                if keep:
                    parts.append(chunk)
    except DAMAGED_ZIP_ERRORS as error:
        raise ZipRefused(
            f"« {_shown(name)} » est illisible ({_damage(error)}) : l'archive est corrompue.",
            name,
        ) from None
    if size != info.file_size:
        raise ZipRefused(
            f"« {_shown(name)} » ne fait pas la taille annoncée par l'archive ({size} octets "
            f"au lieu de {info.file_size}) : l'archive est corrompue.",
            name,
        )
    return b"".join(parts) if keep else None


def _damage(error: Exception) -> str:
    """What went wrong while reading a member, in French."""
    text = str(error)
    if "CRC" in text:
        return "somme de contrôle CRC-32 incorrecte"
    if "differ" in text:
        return "nom différent dans l'en-tête local et dans le répertoire de l'archive"
    return "données compressées invalides ou tronquées"


def _shown(name: str) -> str:
    """A member name fit to print: control characters written as escapes."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", name)


def _size(number: int) -> str:
    return f"{number / _MiB:g} Mio" if number >= _MiB else f"{number} octets"
