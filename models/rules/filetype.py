"""Files are what they claim to be: one check for every file that comes in (the pieces of a
DCE, the message form's attachments, the files of a company's reply, by page or by e-mail).

What a file is comes from its content, read with puremagic (and, for archives, from their
members); its extension only says what the content must be (`EXTENSIONS`; an extension not
in the table promises nothing, and text files are any content without NUL or binary control
characters). Anything a zip tool would open — an end record found anywhere in the file, or a
local header at its first byte — is inspected as an archive whatever its name or first bytes
(`zipcheck`: names, sizes, bombs, hidden entries), and must be the whole file: a PDF with a
zip appended, or a zip behind other bytes, holds two formats and is refused. The files inside
an archive are checked the same way, up to `ZipLimits.max_depth` archives deep, sharing one
budget; the files of a .zip (they become pieces of the DCE) must also match their own
extensions, while the parts of an office document (XML, images, embedded objects) are only
checked as archives.
"""

from __future__ import annotations

import codecs
import posixpath
import re
import unicodedata
from dataclasses import dataclass

import puremagic

from messagerie.models.errors import Refusal
from messagerie.models.rules.zipcheck import (
    DEFAULT_LIMITS,
    LOCAL_SIGNATURE,
    Budget,
    CheckedZip,
    ZipLimits,
    ZipMember,
    ZipRefused,
    ZipSpan,
    locate_zip,
    printable,
)

_OLE_SIGNATURE = bytes.fromhex("d0cf11e0a1b11ae1")
_APPLE_DOUBLE_SIGNATURE = b"\x00\x05\x16\x07"
_BINARY_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x19\x1c-\x1f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0e-\x19\x1c-\x1f]")
_CONTENT_TYPES = "[Content_Types].xml"


class FileRefused(Refusal):
    """A file that is not what its name says, or unsafe; the message (French) names it and
    says what to do."""


@dataclass(frozen=True)
class Kind:
    """What a content is, as the buyer reads it after « son contenu est »."""

    label: str


EMPTY = Kind("vide")
TEXT = Kind("du texte")
BINARY = Kind("d'un format inconnu (données binaires)")
PDF = Kind("un PDF")
ZIP = Kind("une archive zip")
WORD = Kind("un document Word (.docx)")
EXCEL = Kind("un classeur Excel (.xlsx)")
POWERPOINT = Kind("une présentation PowerPoint (.pptx)")
ODT = Kind("un texte OpenDocument (.odt)")
ODS = Kind("un classeur OpenDocument (.ods)")
ODP = Kind("une présentation OpenDocument (.odp)")
OLE = Kind("un document Office 97-2003 (.doc, .xls ou .ppt)")
RTF = Kind("un document RTF")
PNG = Kind("une image PNG")
JPEG = Kind("une image JPEG")
GIF = Kind("une image GIF")
TIFF = Kind("une image TIFF")
BMP = Kind("une image BMP")
WEBP = Kind("une image WebP")
APPLE_DOUBLE = Kind("des métadonnées macOS (AppleDouble)")
ARCHIVES = frozenset({ZIP, WORD, EXCEL, POWERPOINT, ODT, ODS, ODP})

# The kinds puremagic recognises, by the extension it gives them.
_MAGIC_KINDS = {
    ".pdf": PDF,
    ".png": PNG,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".jfif": JPEG,
    ".jpe": JPEG,
    ".gif": GIF,
    ".tif": TIFF,
    ".tiff": TIFF,
    ".bmp": BMP,
    ".dib": BMP,
    ".webp": WEBP,
    ".rtf": RTF,
}
# Office Open XML: the folder of the main part tells the application; OpenDocument files
# name their type in a "mimetype" member.
_OOXML_FOLDERS = (("word/", WORD), ("xl/", EXCEL), ("ppt/", POWERPOINT))
_ODF_TYPES = {
    "application/vnd.oasis.opendocument.text": ODT,
    "application/vnd.oasis.opendocument.spreadsheet": ODS,
    "application/vnd.oasis.opendocument.presentation": ODP,
}


@dataclass(frozen=True)
class Expected:
    """What an extension promises: `label` (« n'est pas un PDF »), how to save a document so
    (« Enregistrez le document au format PDF »), the kinds that fit, and whether text fits."""

    label: str
    save_as: str
    kinds: frozenset[Kind]
    text: bool = False

    @property
    def office(self) -> bool:
        return bool(self.kinds) and self.kinds <= ARCHIVES - {ZIP}


def _expect(label: str, save_as: str, *kinds: Kind, text: bool = False) -> Expected:
    return Expected(label, save_as, frozenset(kinds), text)


_WORD = _expect("un document Word (.docx)", "le document au format Word (.docx)", WORD)
_EXCEL = _expect("un classeur Excel (.xlsx)", "le classeur au format Excel (.xlsx)", EXCEL)
_POWERPOINT = _expect(
    "une présentation PowerPoint (.pptx)",
    "la présentation au format PowerPoint (.pptx)",
    POWERPOINT,
)
_TEXT = _expect("du texte", "le fichier en texte brut", text=True)
_JPEG = _expect("une image JPEG", "l'image au format JPEG", JPEG)
_TIFF = _expect("une image TIFF", "l'image au format TIFF", TIFF)

EXTENSIONS: dict[str, Expected] = {
    "pdf": _expect("un PDF", "le document au format PDF", PDF),
    "zip": Expected("une archive zip", "les fichiers dans une archive zip", ARCHIVES),
    "docx": _WORD,
    "docm": _WORD,
    "dotx": _WORD,
    "xlsx": _EXCEL,
    "xlsm": _EXCEL,
    "xltx": _EXCEL,
    "pptx": _POWERPOINT,
    "pptm": _POWERPOINT,
    "ppsx": _POWERPOINT,
    "odt": _expect("un texte OpenDocument (.odt)", "le document au format .odt", ODT),
    "ods": _expect("un classeur OpenDocument (.ods)", "le classeur au format .ods", ODS),
    "odp": _expect("une présentation OpenDocument (.odp)", "la présentation au format .odp", ODP),
    # Word 97-2003 opens RTF saved as .doc, and Excel the HTML or CSV tables saved as .xls.
    "doc": _expect("un document Word 97-2003 (.doc)", "le document au format Word", OLE, RTF),
    "xls": _expect(
        "un classeur Excel 97-2003 (.xls)", "le classeur au format Excel", OLE, text=True
    ),
    "ppt": _expect(
        "une présentation PowerPoint 97-2003 (.ppt)", "la présentation au format PowerPoint", OLE
    ),
    "rtf": _expect("un document RTF", "le document au format RTF", RTF),
    "txt": _TEXT,
    "csv": _TEXT,
    "tsv": _TEXT,
    "xml": _TEXT,
    "png": _expect("une image PNG", "l'image au format PNG", PNG),
    "jpg": _JPEG,
    "jpeg": _JPEG,
    "gif": _expect("une image GIF", "l'image au format GIF", GIF),
    "tif": _TIFF,
    "tiff": _TIFF,
    "bmp": _expect("une image BMP", "l'image au format BMP", BMP),
    "webp": _expect("une image WebP", "l'image au format WebP", WEBP),
}


@dataclass(frozen=True)
class FileCheck:
    """What a file accepted by check_file is, and (for an archive) the files it holds."""

    kind: Kind
    members: tuple[ZipMember, ...] = ()


def check_file(data: bytes, filename: str, limits: ZipLimits = DEFAULT_LIMITS) -> FileCheck:
    """What `data` is, once it is known to be what `filename` says and safe to keep; else
    FileRefused (French), naming the file (and the member at fault) and saying what to do.

    Any bytes give one or the other: never another exception.
    """
    return _Inspection(limits).check(data, filename, depth=0, named=True)


def content_kind(data: bytes) -> Kind:
    """What `data` is, archives aside (they are told by their members: see check_file)."""
    if not data:
        return EMPTY
    matches = _magic(data)
    for match in matches:
        if match.byte_match.startswith(_OLE_SIGNATURE):
            return OLE
        if match.extension in _MAGIC_KINDS:
            return _MAGIC_KINDS[match.extension]
    if is_text(data):
        return TEXT
    if data.startswith(_APPLE_DOUBLE_SIGNATURE):
        return APPLE_DOUBLE
    if matches:
        return Kind(f"d'un autre format ({matches[0].name})")
    return BINARY


def is_text(data: bytes) -> bool:
    """Text in any common encoding: no NUL, no control character but layout ones (UTF-16 is
    read as such when it starts with its byte order mark)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return not _TEXT_CONTROL.search(data.decode("utf-16"))
        except UnicodeDecodeError:
            return False
    return not _BINARY_CONTROL.search(data)


def extension(filename: str) -> str:
    """The extension as Windows reads it: case, width and trailing dots or spaces aside."""
    name = posixpath.basename(unicodedata.normalize("NFKC", filename)).rstrip(" .")
    stem, dot, suffix = name.rpartition(".")
    return suffix.casefold() if dot and stem else ""


def _magic(data: bytes) -> list[puremagic.PureMagicWithConfidence]:
    """puremagic's matches at the start of `data`, best first."""
    try:
        matches = puremagic.magic_string(data)
    except (puremagic.PureError, ValueError):
        return []
    return [match for match in matches if match.offset >= 0]


class _Inspection:
    """One check of one file, the archives within it included: the limits and the budget."""

    def __init__(self, limits: ZipLimits) -> None:
        self.limits, self.budget = limits, Budget()

    def check(self, data: bytes, name: str, *, depth: int, named: bool) -> FileCheck:
        """`named`: the content must fit the extension of `name` (a file, a file of a .zip)."""
        expected = EXTENSIONS.get(extension(name)) if named else None
        if expected is not None and _apple_double(name, data):
            expected = None
        shown = printable(name)  # names come from outside: control characters escaped
        if _zip_span_of(data, shown) is None:
            kind = content_kind(data) if expected is not None or depth == 0 else BINARY
            _check_fits(data, shown, kind, expected, depth)
            return FileCheck(kind)
        if depth > self.limits.max_depth:
            raise FileRefused(
                f"« {shown} » est une archive contenue dans plus de {self.limits.max_depth} "
                "autres : ouvrez les archives et déposez leurs fichiers."
            )
        try:
            archive = CheckedZip(data, self.limits, self.budget)
            kind = _archive_kind(archive)
        except ZipRefused as error:
            raise _archive_refused(shown, expected, error.message) from error
        _check_fits(data, shown, kind, expected, depth)
        self._check_members(archive, name, expected, depth)
        return FileCheck(kind, archive.members)

    def _check_members(
        self, archive: CheckedZip, name: str, expected: Expected | None, depth: int
    ) -> None:
        """Each file of the archive, as a file of its own; those of a .zip by their names."""
        named = extension(name) == "zip"
        try:
            for member, content in archive.contents():
                self.check(content, member.path, depth=depth + 1, named=named)
        except (ZipRefused, FileRefused) as error:
            raise _archive_refused(printable(name), expected, error.message) from error


def _zip_span_of(data: bytes, name: str) -> ZipSpan | None:
    """The archive in `data` if a zip tool would open one; FileRefused when it is not the whole
    file (two formats in one) or when the file starts as a zip that cannot be read."""
    span = locate_zip(data)
    if span is None:
        if data.startswith(LOCAL_SIGNATURE):
            raise FileRefused(
                f"Le fichier « {name} » commence comme une archive zip mais n'en est pas une "
                "lisible (elle est tronquée ou corrompue) : recréez-la."
            )
        return None
    if span.start:
        before = content_kind(data[: span.start])
        seen = f" ({before.label})" if before in _NAMED_BEFORE else ""
        raise FileRefused(
            f"Le fichier « {name} » cache une archive zip derrière {_octets(span.start)} d'un "
            f"autre contenu{seen} : un fichier ne doit avoir qu'un seul format. Déposez à part "
            "le document et l'archive."
        )
    if span.end < len(data):
        raise FileRefused(
            f"Le fichier « {name} » contient une archive zip suivie de "
            f"{_octets(len(data) - span.end)} d'autres données : un fichier ne doit avoir "
            f"qu'un seul format. Recréez l'archive seule."
        )
    return span


_NAMED_BEFORE = frozenset(_MAGIC_KINDS.values()) | {OLE, TEXT}


def _archive_kind(archive: CheckedZip) -> Kind:
    names = {member.path for member in archive.members}
    if _CONTENT_TYPES in names:
        for folder, kind in _OOXML_FOLDERS:
            if any(name.startswith(folder) for name in names):
                return kind
    sizes = {member.path: member.size for member in archive.members}
    if sizes.get("mimetype", 101) <= 100:
        declared = archive.read("mimetype").decode("ascii", "replace").strip()
        return _ODF_TYPES.get(declared, ZIP)
    return ZIP


def _check_fits(data: bytes, name: str, kind: Kind, expected: Expected | None, depth: int) -> None:
    if expected is None or kind in expected.kinds or (expected.text and is_text(data)):
        return
    raise FileRefused(
        f"Le fichier « {name} » n'est pas {expected.label} : son contenu est {kind.label}. "
        f"Enregistrez {expected.save_as} puis {_again(depth)}."
    )


def _archive_refused(name: str, expected: Expected | None, reason: str) -> FileRefused:
    if expected is not None and expected.office:
        return FileRefused(f"Le document « {name} » est refusé. {reason}")
    return FileRefused(f"L'archive « {name} » est refusée. {reason}")


def _apple_double(name: str, data: bytes) -> bool:
    """The "._" companion files macOS adds to the archives it makes: no content of their own."""
    return posixpath.basename(name).startswith("._") and data.startswith(_APPLE_DOUBLE_SIGNATURE)


def _again(depth: int) -> str:
    return "déposez à nouveau le fichier" if depth == 0 else "recréez l'archive"


def _octets(number: int) -> str:
    return "1 octet" if number == 1 else f"{number} octets"
