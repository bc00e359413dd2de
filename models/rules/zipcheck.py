"""Refusing unsafe zip archives (a DCE is usually one zip that every candidate downloads).

Nothing in an archive is trusted. Its end record is looked for in the whole file, and the
archive must be the whole file: nothing before its first entry, nothing after its end. Its
local headers are then walked from the first byte to the central directory, as a streaming
extractor (`jar x`, libarchive) reads them: each entry met must be one the central directory
lists, under the same name, method and sizes, and no byte may belong to no entry (a hidden
entry, or two entries sharing their bytes, is refused). Names are checked as Windows, macOS
and Linux would write them, before anything is read. Every member is then decompressed here,
in bounded chunks, to measure its real size and check its CRC-32: sizes and ratios are counted
on the bytes actually produced, never taken from the headers, and a deflate stream must end
exactly where its entry ends. Only the "stored" and "deflate" methods are accepted: the
standard library's bzip2 and LZMA decompressors cannot be bounded the same way, and every
common zip tool writes deflate.

Archives inside archives (an office document in a DCE zip…) are checked by the caller
(`models.rules.filetype`), sharing one `Budget` so that the whole check stays bounded.
"""

from __future__ import annotations

import io
import posixpath
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace

from messagerie.models.errors import Refusal
from messagerie.models.text import escaped_controls

_MiB = 1024**2
_CHUNK = 64 * 1024
_UTF8_NAMES = 0x800
_ENCRYPTED = 0x1
_DESCRIPTOR = 0x8
_STRONG_ENCRYPTION = 0x40
_ACCEPTED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
_METHOD_NAMES = {
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "LZMA",
    9: "Deflate64",
    93: "Zstandard",
    99: "AES",
}
LOCAL_SIGNATURE = b"PK\x03\x04"
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_END_SIGNATURE = b"PK\x05\x06"
_END64_SIGNATURE = b"PK\x06\x06"
_LOCATOR64_SIGNATURE = b"PK\x06\x07"
_DESCRIPTOR_SIGNATURE = b"PK\x07\x08"
# signature, version, flags, method, time, date, CRC-32, compressed size, size, name and
# extra field lengths
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
# signature, disk, disk of the directory, entries on this disk, entries, directory size and
# offset, comment length
_END_RECORD = struct.Struct("<4s4H2LH")
_LOCATOR64 = struct.Struct("<4sLQL")
_END64_RECORD = struct.Struct("<4sQ2H2L4Q")
# A data descriptor after the compressed bytes: CRC-32 and sizes, on 4 or (zip64) 8 bytes.
_DESCRIPTORS = (struct.Struct("<3L"), struct.Struct("<L2Q"))
_CENTRAL_ENTRY_SIZE = 46
_ZIP64_EXTRA = 0x0001
_MAX32 = 0xFFFFFFFF
_AND_CENTRAL = "et dans le répertoire central"
_DRIVE = re.compile(r"[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOT_ON_WINDOWS = re.compile(r'[<>"|?*]')
_RESERVED_ON_WINDOWS = frozenset(
    {
        "CON",
        "PRN",
        "AUX",
        "NUL",
        "CONIN$",
        "CONOUT$",
        *(f"COM{n}" for n in range(1, 10)),
        *(f"LPT{n}" for n in range(1, 10)),
    }
)
# What zipfile and the decompressors raise on damaged data.
DAMAGED_ZIP_ERRORS = (
    zipfile.BadZipFile,
    EOFError,
    OSError,
    ValueError,
    struct.error,
    zlib.error,
    NotImplementedError,
)


@dataclass(frozen=True)
class ZipLimits:
    max_members: int = 1000
    max_total_uncompressed: int = 500 * _MiB
    max_ratio: float = 100.0
    max_member_size: int = 200 * _MiB
    # Below this many decompressed bytes the ratio is not judged: small text or XML files
    # legitimately compress more than 100 times, and cannot make a bomb.
    ratio_floor: int = 1 * _MiB
    # The longest path of a member, and the longest name in it (what the store can keep).
    max_path: int = 500
    max_name: int = 255
    # Archives within archives: how deep (a DCE zip › a folder zip › a .docx › its embedded
    # .xlsx is 3), and what all of them together may hold.
    max_depth: int = 3
    max_nested_uncompressed: int = 2048 * _MiB
    max_nested_members: int = 20_000


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
        self.member = member


@dataclass(frozen=True)
class ZipSpan:
    """Where the archive a zip tool would open lies in a file.

    `start` is where its offsets count from (0 unless other bytes come first), `directory`
    where its central directory starts, `end` one past its end record and comment.
    """

    start: int
    directory: int
    end: int
    entries: int


class Budget:
    """What one check has decompressed and listed so far, archives within archives included."""

    def __init__(self) -> None:
        self.uncompressed = 0
        self.members = 0


def locate_zip(data: bytes) -> ZipSpan | None:
    """The archive in `data`: the last plausible end record found anywhere in it, or None.

    Plausible means what a zip tool needs to open the archive: one disk, as many entries on it
    as in all, a comment that fits, and a central directory where the record says.
    """
    position = data.rfind(_END_SIGNATURE)
    while position != -1:
        span = _span_at(data, position)
        if span is not None:
            return span
        position = data.rfind(_END_SIGNATURE, 0, position)
    return None


def _span_at(data: bytes, position: int) -> ZipSpan | None:
    try:
        _, disk, directory_disk, here, entries, size, offset, comment = _END_RECORD.unpack_from(
            data, position
        )
    except struct.error:
        return None
    directory_end = position
    zip64 = _zip64_end(data, position)
    if zip64 is not None:
        disk, directory_disk, here, entries, size, offset = zip64
        directory_end -= _LOCATOR64.size + _END64_RECORD.size
    directory = directory_end - size
    end = position + _END_RECORD.size + comment
    if disk or directory_disk or here != entries or end > len(data) or directory < offset:
        return None
    if size < entries * _CENTRAL_ENTRY_SIZE or (entries == 0) != (size == 0):
        return None
    if entries and not data.startswith(_CENTRAL_SIGNATURE, directory):
        return None
    return ZipSpan(start=directory - offset, directory=directory, end=end, entries=entries)


def _zip64_end(data: bytes, position: int) -> tuple[int, int, int, int, int, int] | None:
    """The zip64 end record's fields, read where zipfile reads them (just before the locator)."""
    locator = position - _LOCATOR64.size
    record = locator - _END64_RECORD.size
    if record < 0 or not data.startswith(_LOCATOR64_SIGNATURE, locator):
        return None
    fields = _END64_RECORD.unpack_from(data, record)
    if fields[0] != _END64_SIGNATURE:
        return None
    return fields[4], fields[5], fields[6], fields[7], fields[8], fields[9]


def inspect_zip(data: bytes, limits: ZipLimits = DEFAULT_LIMITS) -> tuple[ZipMember, ...]:
    """The files of a safe archive (directories left out), or ZipRefused."""
    archive = CheckedZip(data, limits)
    for _ in archive.contents(keep=False):
        pass
    return archive.members


def read_members(
    data: bytes, limits: ZipLimits = DEFAULT_LIMITS
) -> Iterator[tuple[ZipMember, bytes]]:
    """Each file of the archive with its bytes, one at a time, under the same checks."""
    yield from CheckedZip(data, limits).contents(keep=True)


def extract_member(data: bytes, path: str, limits: ZipLimits = DEFAULT_LIMITS) -> bytes:
    """The bytes of the file `path` (as listed by inspect_zip), checked like any member."""
    return CheckedZip(data, limits).read(path)


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


@dataclass(frozen=True)
class _Entry:
    info: zipfile.ZipInfo
    name: str
    start: int = 0  # where its compressed bytes begin


class CheckedZip:
    """An archive whose layout, names and kinds of entries are checked (ZipRefused otherwise);
    its files are decompressed, and measured against the limits, only when read."""

    def __init__(
        self, data: bytes, limits: ZipLimits = DEFAULT_LIMITS, budget: Budget | None = None
    ) -> None:
        self.data, self.limits = data, limits
        self.budget = budget or Budget()
        self._files = [entry for entry in _entries(data, limits, self.budget) if not _is_dir(entry)]
        self.members = tuple(ZipMember(entry.name, entry.info.file_size) for entry in self._files)

    def contents(self, *, keep: bool = True) -> Iterator[tuple[ZipMember, bytes]]:
        """Each file with its bytes (empty unless `keep`), checked as it is read."""
        meter = _Meter(self.limits, len(self.data), self.budget)
        for member, entry in zip(self.members, self._files, strict=True):
            yield member, _read(self.data, entry, meter, keep=keep)

    def read(self, path: str) -> bytes:
        for member, entry in zip(self.members, self._files, strict=True):
            if member.path == path:
                return _read(self.data, entry, _Meter(self.limits, len(self.data), self.budget))
        raise ZipRefused(f"L'archive ne contient pas de fichier « {printable(path)} ».", path)


def _is_dir(entry: _Entry) -> bool:
    return entry.info.is_dir()


def _entries(data: bytes, limits: ZipLimits, budget: Budget) -> list[_Entry]:
    """The archive's entries, in the central directory's order, once all of them are checked."""
    infos, directory = _central_directory(data)
    _check_count(infos, limits, budget)
    entries = [_Entry(info, member_name(info)) for info in infos]
    names = _Names()
    for entry in entries:
        _check_entry(entry.info, entry.name, limits)
        names.add(entry.name)
    starts = _walk_local_headers(data, infos, directory)
    return [replace(entry, start=starts[entry.info.header_offset]) for entry in entries]


def _central_directory(data: bytes) -> tuple[list[zipfile.ZipInfo], int]:
    """The central directory, read by zipfile where the end record found here puts it, and
    where it starts."""
    span = locate_zip(data)
    if span is None:
        raise _unreadable()
    if span.start:
        raise ZipRefused(
            f"{_octets(span.start)} d'autres données précèdent l'archive : ce fichier n'est pas "
            "qu'une archive zip. Recréez l'archive seule."
        )
    if span.end < len(data):
        raise ZipRefused(
            f"{_octets(len(data) - span.end)} d'autres données suivent la fin de l'archive : ce "
            "fichier n'est pas qu'une archive zip. Recréez l'archive seule."
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos, directory = archive.infolist(), archive.start_dir
    except DAMAGED_ZIP_ERRORS:
        raise _unreadable() from None
    if directory != span.directory or len(infos) != span.entries:
        raise ZipRefused(
            "Le répertoire central de l'archive ne se trouve pas où sa fin l'annonce, ou ne "
            "compte pas les éléments qu'elle annonce : l'archive est corrompue ou falsifiée."
        )
    return infos, directory


def _unreadable() -> ZipRefused:
    return ZipRefused(
        "Ce fichier n'est pas une archive zip lisible : ce n'est pas un zip, ou l'archive "
        "est tronquée ou corrompue."
    )


def _check_count(infos: list[zipfile.ZipInfo], limits: ZipLimits, budget: Budget) -> None:
    if len(infos) > limits.max_members:
        first_extra = member_name(infos[limits.max_members])
        raise ZipRefused(
            f"L'archive contient {len(infos)} éléments, la limite est de "
            f"{limits.max_members} : « {printable(first_extra)} » et les suivants sont de trop.",
            first_extra,
        )
    budget.members += len(infos)
    if budget.members > limits.max_nested_members:
        raise ZipRefused(
            f"Les archives contenues les unes dans les autres comptent plus de "
            f"{limits.max_nested_members} éléments en tout."
        )


def _check_entry(info: zipfile.ZipInfo, name: str, limits: ZipLimits) -> None:
    """Refuse a member whose name, kind, encryption or method is unsafe, before reading it."""
    reason = _unsafe_name_reason(name) or _unsafe_kind_reason(info)
    if reason:
        raise _refused(name, reason)
    if len(name) > limits.max_path or len(posixpath.basename(name)) > limits.max_name:
        raise ZipRefused(
            f"Le chemin « {printable(name[:60])}… » est trop long ({limits.max_path} caractères "
            f"au plus, dont {limits.max_name} pour le nom du fichier).",
            name,
        )


def _unsafe_name_reason(name: str) -> str | None:
    """Why `name` is unsafe to extract, judged on its NFKC form (full-width dots are dots)."""
    if not name:
        return "a un nom vide"
    if _CONTROL.search(name):
        return "contient un caractère de contrôle dans son nom"
    folded = unicodedata.normalize("NFKC", name)
    if "\\" in folded:
        return "contient une barre oblique inverse (« \\ ») dans son chemin"
    if folded.startswith("/"):
        return "a un chemin absolu"
    if _DRIVE.match(folded):
        return "commence par une lettre de lecteur"
    if ":" in folded:
        return (
            "contient un deux-points (« : »), qui désigne sous Windows un flux caché du "
            "fichier (NTFS)"
        )
    if forbidden := _NOT_ON_WINDOWS.search(folded):
        return f"contient « {forbidden.group()} », un caractère interdit dans les noms Windows"
    return _unsafe_segment_reason(folded.removesuffix("/").split("/"))


def _unsafe_segment_reason(segments: list[str]) -> str | None:
    if ".." in segments:
        return "remonte dans l'arborescence (« .. »)"
    if any(segment in {"", "."} for segment in segments):
        return "a un chemin mal formé (élément vide ou « . »)"
    for segment in segments:
        if not segment.strip(" ."):
            return (
                f"a un élément « {segment} » que Windows lit comme « . » ou « .. » (il ignore "
                "les points et les espaces finaux) : le fichier sortirait de son dossier"
            )
        if segment.endswith((".", " ")):
            return (
                f"a un élément « {segment} » qui finit par un point ou une espace : Windows "
                "les supprime, et ce fichier en écraserait un autre"
            )
        if segment.split(".")[0].rstrip(" ").upper() in _RESERVED_ON_WINDOWS:
            return f"porte un nom réservé par Windows (« {segment} »)"
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


class _Names:
    """The paths met so far, compared as Windows and macOS compare them (case, accents, width);
    two entries landing on the same file, or on a file and a folder, are refused."""

    def __init__(self) -> None:
        self.entries: dict[str, str] = {}
        self.files: dict[str, str] = {}
        self.folders: dict[str, str] = {}

    def add(self, name: str) -> None:
        key = unicodedata.normalize("NFKC", name).removesuffix("/").casefold()
        if key in self.entries:
            raise _refused(
                name,
                f"figure deux fois dans l'archive (doublon de « {printable(self.entries[key])} »)",
            )
        self.entries[key] = name
        parts = key.split("/")
        parents = ["/".join(parts[:depth]) for depth in range(1, len(parts))]
        clash = next((self.files[p] for p in parents if p in self.files), None)
        if not name.endswith("/"):
            clash = clash or self.folders.get(key)
            self.files[key] = name
        for parent in parents:
            self.folders.setdefault(parent, name)
        if clash is not None:
            raise _refused(
                name, f"et « {printable(clash)} » font d'un même nom un fichier et un dossier"
            )


def _walk_local_headers(
    data: bytes, infos: list[zipfile.ZipInfo], directory: int
) -> dict[int, int]:
    """Where each entry's compressed bytes start, by the offset of its local header.

    The local headers are followed one after the other from the first byte up to the central
    directory, as a streaming extractor reads them: each one met must be listed, and each
    listed one met once.
    """
    listed: dict[int, zipfile.ZipInfo] = {}
    for info in infos:
        other = listed.setdefault(info.header_offset, info)
        if other is not info:
            shared = printable(member_name(other))
            raise _falsified(member_name(info), f"partage ses données avec « {shared} »")
    starts: dict[int, int] = {}
    position = 0
    while position < directory:
        met = listed.pop(position, None)
        if met is None:
            raise _stray(data, position)
        starts[position], position = _local_entry(data, position, met)
    if position > directory or listed:
        late = next(iter(listed.values()), infos[-1])
        raise _falsified(member_name(late), "chevauche un autre élément de l'archive")
    return starts


def _local_entry(data: bytes, position: int, info: zipfile.ZipInfo) -> tuple[int, int]:
    """Where the entry at `position` has its bytes, and where the next one begins; the local
    header must describe it as the central directory does."""
    name = member_name(info)
    try:
        header = _LOCAL_HEADER.unpack_from(data, position)
    except struct.error:
        raise _falsified(name, "a un en-tête local tronqué") from None
    flags, method, crc, compressed, size, name_length, extra_length = header[2:4] + header[6:]
    name_start = position + _LOCAL_HEADER.size
    start = name_start + name_length + extra_length
    if data[name_start : name_start + name_length] != _raw_name(info):
        raise _falsified(
            name, "porte un autre nom dans son en-tête local que dans le répertoire central"
        )
    if method != info.compress_type or (flags ^ info.flag_bits) & (_ENCRYPTED | _DESCRIPTOR):
        raise _falsified(
            name, f"n'est pas décrit de la même façon dans son en-tête local {_AND_CENTRAL}"
        )
    if not flags & _DESCRIPTOR:
        extra = data[name_start + name_length : start]
        if (crc, *_local_sizes(compressed, size, extra)) != (
            info.CRC,
            info.compress_size,
            info.file_size,
        ):
            raise _falsified(name, f"n'a pas la même taille dans son en-tête local {_AND_CENTRAL}")
        return start, start + info.compress_size
    return start, _after_descriptor(data, start + info.compress_size, info)


def _raw_name(info: zipfile.ZipInfo) -> bytes:
    """The name's bytes as the central directory holds them."""
    return info.orig_filename.encode("utf-8" if info.flag_bits & _UTF8_NAMES else "cp437")


def _local_sizes(compressed: int, size: int, extra: bytes) -> tuple[int, int]:
    """The sizes a local header gives (its zip64 field's when it says so)."""
    if _MAX32 not in (compressed, size):
        return compressed, size
    while len(extra) >= 4:
        kind, length = struct.unpack_from("<2H", extra)
        if kind == _ZIP64_EXTRA and length >= 16:
            size, compressed = struct.unpack_from("<2Q", extra, 4)
            break
        extra = extra[4 + length :]
    return compressed, size


def _after_descriptor(data: bytes, end: int, info: zipfile.ZipInfo) -> int:
    """Where the data descriptor after an entry's bytes ends; it must repeat the directory's."""
    offset = end + 4 if data.startswith(_DESCRIPTOR_SIGNATURE, end) else end
    expected = (info.CRC, info.compress_size, info.file_size)
    for layout in _DESCRIPTORS:
        if offset + layout.size <= len(data) and layout.unpack_from(data, offset) == expected:
            return offset + layout.size
    raise _falsified(
        member_name(info), "a un descripteur de données qui contredit le répertoire central"
    )


def _stray(data: bytes, position: int) -> ZipRefused:
    """The refusal of bytes, at `position`, that no entry of the central directory claims."""
    if not data.startswith(LOCAL_SIGNATURE, position):
        return ZipRefused(
            f"L'archive contient des données qui n'appartiennent à aucun de ses fichiers (à "
            f"l'octet {position}) : elle est corrompue ou falsifiée."
        )
    header = _LOCAL_HEADER.unpack_from(data, position) if position + 30 <= len(data) else None
    raw = data[position + 30 : position + 30 + header[9]] if header else b""
    hidden = raw.decode("utf-8" if header and header[2] & _UTF8_NAMES else "cp437", "replace")
    return ZipRefused(
        f"« {printable(hidden)} » est dans l'archive sans figurer dans son répertoire central : "
        "certains outils extrairaient ce fichier caché sans que personne l'ait vu. L'archive "
        "est falsifiée : recréez-la.",
        hidden,
    )


class _Meter:
    """Counts decompressed bytes against the limits: the member, the archive, and all the
    archives of one check together."""

    def __init__(self, limits: ZipLimits, archive_size: int, budget: Budget) -> None:
        self.limits, self.budget = limits, budget
        self.archive_size = max(archive_size, 1)
        self.total = 0

    def count(self, name: str, member_size: int, compressed_size: int, added: int) -> None:
        limits = self.limits
        self.total += added
        self.budget.uncompressed += added
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
        if self.budget.uncompressed > limits.max_nested_uncompressed:
            self._refuse(
                name,
                "fait dépasser la taille décompressée autorisée pour des archives contenues "
                f"les unes dans les autres ({_size(limits.max_nested_uncompressed)})",
            )

    @staticmethod
    def _refuse(name: str, reason: str) -> None:
        raise _refused(name, reason)


def _read(data: bytes, entry: _Entry, meter: _Meter, *, keep: bool = True) -> bytes:
    """Decompress one member in bounded chunks, to its end, checking its size and CRC-32
    (the bytes come back only when `keep`)."""
    info, name = entry.info, entry.name
    raw = memoryview(data)[entry.start : entry.start + info.compress_size]
    if len(raw) != info.compress_size:
        raise _damaged(name)
    chunks = _inflated(raw, name) if info.compress_type == zipfile.ZIP_DEFLATED else _slices(raw)
    parts: list[bytes] = []
    size = crc = 0
    for chunk in chunks:
        size += len(chunk)
        if size > info.file_size:
            raise _refused(
                name,
                f"se décompresse en plus des {info.file_size} octets annoncés par l'archive : "
                "l'archive est corrompue",
            )
        meter.count(name, size, info.compress_size, len(chunk))
        crc = zlib.crc32(chunk, crc)
        if keep:
            parts.append(bytes(chunk))
    if size != info.file_size:
        raise _refused(
            name,
            f"ne fait pas la taille annoncée par l'archive ({size} octets au lieu de "
            f"{info.file_size}) : l'archive est corrompue",
        )
    if crc != info.CRC:
        raise _refused(
            name, "est illisible (somme de contrôle CRC-32 incorrecte) : l'archive est corrompue"
        )
    return b"".join(parts)


def _slices(raw: memoryview) -> Iterator[memoryview]:
    for start in range(0, len(raw), _CHUNK):
        yield raw[start : start + _CHUNK]


def _inflated(raw: memoryview, name: str) -> Iterator[bytes]:
    """The bytes of one deflate stream, in chunks of at most 64 KiB; the stream must end
    exactly with `raw` (bytes after it would be a place to hide an entry)."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        for piece in _slices(raw):
            if inflater.eof:
                raise _refused(name, "est suivi de données cachées dans l'archive")
            pending: bytes | memoryview = piece
            while pending:
                yield inflater.decompress(pending, _CHUNK)
                pending = inflater.unconsumed_tail
        while not inflater.eof and (rest := inflater.decompress(b"", _CHUNK)):
            yield rest
    except zlib.error:
        raise _damaged(name) from None
    if not inflater.eof:
        raise _damaged(name)
    if inflater.unused_data:
        raise _refused(name, "est suivi de données cachées dans l'archive")


def _refused(name: str, reason: str) -> ZipRefused:
    return ZipRefused(f"« {printable(name)} » {reason}.", name)


def _falsified(name: str, reason: str) -> ZipRefused:
    return _refused(name, f"{reason} : l'archive est corrompue ou falsifiée")


def _damaged(name: str) -> ZipRefused:
    return _refused(
        name, "est illisible (données compressées invalides ou tronquées) : l'archive est corrompue"
    )


def printable(name: str) -> str:
    """A member name fit to print: control characters written as escapes."""
    return escaped_controls(name)


def _size(number: int) -> str:
    return f"{number / _MiB:g} Mio" if number >= _MiB else f"{number} octets"


def _octets(number: int) -> str:
    return "1 octet" if number == 1 else f"{number} octets"
