"""The bytes of the demo's documents: small valid PDFs, text files and DCE zip archives.

Everything is a function of its arguments (no clock, no random draw), so that the same demo
day always gives the same bytes, hence the same SHA-256 in the document rows. The PDFs are
written by hand (one Helvetica text page per 52 lines, WinAnsi encoding): enough for
`models.documents.detect_media_type`, for pypdf to read their text back, and for a buyer to
open them, without the cost of weasyprint for a hundred files.
"""

from __future__ import annotations

import io
import re
import textwrap
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from messagerie.models.consultations.dce import NewFile
from messagerie.models.consultations.identity import ConsultationIdentity
from messagerie.models.demo import corpus

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4, in points
MARGIN = 56
LINES_PER_PAGE = 52
WRAP = 95  # characters of 10-point Helvetica in the text width
FILE_MODE = 0o100644
FOLDER_MODE = 0o40755
MSDOS_FOLDER = 0x10
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


# --- PDF ------------------------------------------------------------------------------------


def pdf_document(title: str, lines: Sequence[str]) -> bytes:
    """A PDF whose first page starts with `title` in bold, then `lines` wrapped to the page."""
    wrapped = [part for line in lines for part in (textwrap.wrap(line, WRAP) or [""])]
    pages = [wrapped[i : i + LINES_PER_PAGE] for i in range(0, len(wrapped), LINES_PER_PAGE)]
    streams = [
        _page_stream(title if n == 0 else None, page) for n, page in enumerate(pages or [[]])
    ]
    first_page = 6  # objects 1-5: catalog, pages, two fonts, info
    kids = " ".join(f"{first_page + 2 * n} 0 R" for n in range(len(streams)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(streams)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Title "
        + _utf16_string(title)
        + b" /Producer "
        + _utf16_string(corpus.PRODUCER)
        + b" >>",
    ]
    for n, stream in enumerate(streams):
        page = first_page + 2 * n
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
            f"/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {page + 1} 0 R >>".encode()
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
    return _assemble(objects)


def _page_stream(title: str | None, lines: Sequence[str]) -> bytes:
    """The drawing operators of one page: the title, then lines 14 points apart."""
    operators = [f"BT {MARGIN} {PAGE_HEIGHT - MARGIN} Td 14 TL".encode()]
    if title is not None:
        operators += [b"/F1 14 Tf", _pdf_string(title) + b" Tj", b"T* T*"]
    operators.append(b"/F2 10 Tf")
    operators += [_pdf_string(line) + b" Tj T*" for line in lines]
    operators.append(b"ET")
    return b"\n".join(operators)


def _pdf_string(text: str) -> bytes:
    """A literal string in WinAnsi (what the fonts are declared with)."""
    encoded = text.encode("cp1252", errors="replace")
    escaped = encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped + b")"


def _utf16_string(text: str) -> bytes:
    """A text string for the document information (any character), as UTF-16 hex."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def _assemble(objects: Sequence[bytes]) -> bytes:
    """The numbered objects, the cross-reference table and the trailer."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 5 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# --- Zip ------------------------------------------------------------------------------------


def zip_archive(members: Sequence[tuple[str, bytes]], at: datetime) -> bytes:
    """A deflated zip of `members` (path, bytes), with an entry for each folder, dated `at`.

    Paths use "/"; folders are listed before their files, as archivers write them.
    """
    stamp = at.astimezone(corpus.PARIS).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        folders: set[str] = set()
        for path, data in members:
            parts = path.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                folder = "/".join(parts[:depth]) + "/"
                if folder not in folders:
                    folders.add(folder)
                    info = zipfile.ZipInfo(folder, stamp)
                    info.external_attr = (FOLDER_MODE << 16) | MSDOS_FOLDER
                    archive.writestr(info, b"")
            info = zipfile.ZipInfo(path, stamp)
            info.external_attr = FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def safe_name(text: str) -> str:
    """An ASCII piece of a file name: "Questions-reponses_{safe_name(reference)}_v2.pdf"."""
    ascii_text = unicodedata.normalize("NFKD", text.replace("°", "o"))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii")
    return _UNSAFE.sub("-", ascii_text)[:60].strip(".-_") or "consultation"


# --- What the demo's documents say ----------------------------------------------------------


@dataclass(frozen=True)
class DceContext:
    """What the pieces of a DCE print about their consultation."""

    consultation: ConsultationIdentity
    procedure: str
    deadline: str  # "22/02/2027 à 09:55"
    lots: tuple[str, ...]  # "Lot n°1 - Chocolat au lait"


def dce_members(
    context: DceContext, corrected: frozenset[str] = frozenset()
) -> list[tuple[str, bytes]]:
    """The files of a DCE archive, in folders: RC, AE, CCAP, CCTP, BPU, DQE and a read-me.

    `corrected` names the pieces (corpus.DCE_PIECES keys) of a later, corrected edition.
    """
    fields = {
        **asdict(context.consultation),
        "procedure": context.procedure,
        "deadline": context.deadline,
        "lots": ", ".join(context.lots) or "marché non alloti",
    }
    members = []
    for key, piece in corpus.DCE_PIECES.items():
        name = piece.name.format(ref=safe_name(context.consultation.reference))
        path = f"{piece.folder}/{name}" if piece.folder else name
        lines = [line.format(**fields) for line in piece.lines]
        if key in corrected:
            lines = [corpus.CORRECTED_EDITION, "", *lines]
        if name.endswith(".pdf"):
            members.append((path, pdf_document(piece.title.format(**fields), lines)))
        else:
            members.append((path, ("\n".join(lines) + "\n").encode()))
    return members


def qa_document(context: DceContext, items: Sequence[tuple[str, str]], version: int) -> NewFile:
    """The "Questions / réponses" PDF of case A, named as letters.qa.qa_filename names it."""
    lines = [
        f"Consultation {context.consultation.reference} - {context.consultation.title}",
        f"Date et heure limite de remise des plis : {context.deadline}",
        f"Document n°{version}",
        "",
    ]
    for number, (question, answer) in enumerate(items, start=1):
        lines += [f"Question n°{number} : {question}", f"Réponse : {answer}", ""]
    filename = f"Questions-reponses_{safe_name(context.consultation.reference)}_v{version}.pdf"
    return NewFile(filename, pdf_document("Questions / Réponses", lines))


def standalone_piece(key: str, context: DceContext, version: int = 1) -> NewFile:
    """A piece added to the DCE beside its archive (corpus.EXTRA_PIECES), in its `version`."""
    piece = corpus.EXTRA_PIECES[key]
    suffix = "" if version == 1 else f"_v{version}"
    identity = context.consultation
    filename = piece.name.format(ref=safe_name(identity.reference), suffix=suffix)
    lines = [line.format(**asdict(identity)) for line in piece.lines]
    if version > 1:
        lines = [corpus.CORRECTED_EDITION, "", *lines]
    if filename.endswith(".pdf"):
        return NewFile(filename, pdf_document(piece.title, lines))
    return NewFile(filename, ("\n".join(lines) + "\n").encode())


def reply_file(kind: str, company: str, siret: str, contact: str, at: datetime) -> NewFile:
    """A file a company joins to its reply (corpus.REPLY_FILES): an attestation, a form."""
    spec = corpus.REPLY_FILES[kind]
    day = f"{at.astimezone(corpus.PARIS):%d/%m/%Y}"
    lines = [
        line.format(company=company, siret=siret, contact=contact, day=day, year=at.year)
        for line in spec.lines
    ]
    return NewFile(
        spec.filename, pdf_document(spec.title, [*lines, "", corpus.NOT_A_REAL_DOCUMENT])
    )
