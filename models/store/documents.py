"""Documents: a row of the document space plus its bytes in the blob store.

The media type is read from the content, never from the file name: a PDF named ".txt" is a
PDF, a text named ".pdf" is text. Simple formats are recognised by their magic bytes; zip-based
office formats (docx, xlsx, pptx, odt, ods, odp) by the members of the zip. Measured against
`puremagic` 1.30 (which calls any zip a docx) and `filetype` 1.2 (which misses a docx whose
"word/" part is not near the start), this small table is the more exact, so no library is used.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from messagerie.models.errors import Refusal
from messagerie.models.rules.zipcheck import DAMAGED_ZIP_ERRORS
from messagerie.models.store.accounts import authorize_reading, seen_by
from messagerie.models.store.blobs import BlobStore
from messagerie.models.store.database import Store
from messagerie.models.store.enums import AntivirusVerdict, DocumentOrigin
from messagerie.models.store.tables import consultation as consultation_table
from messagerie.models.store.tables import document as document_table
from messagerie.models.store.tables import utc_now
from messagerie.models.text import control_character

PDF = "application/pdf"
ZIP = "application/zip"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
TEXT = "text/plain"
BINARY = "application/octet-stream"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODF_TYPES = frozenset(
    {
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
    }
)

_MAGIC = (
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# Office Open XML: the folder of the main part tells the application.
_OOXML_FOLDERS = (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX))
FILENAME_MAX = 255


class DocumentRefused(Refusal):
    """A file that cannot be stored as given; the message (French) says why."""


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    filename: str
    sha256: str
    size: int
    media_type: str
    antivirus: AntivirusVerdict
    origin: DocumentOrigin
    created_at: datetime


_INFO_FIELDS = tuple(item.name for item in fields(DocumentInfo))


@dataclass(frozen=True)
class StoredBytes:
    """Bytes already in the blob store, with what the document row needs to know of them."""

    sha256: str
    size: int
    media_type: str


def detect_media_type(data: bytes, filename: str) -> str:
    """The media type of `data`, from its content only.

    `filename` is accepted so that callers pass what they have, but it is never trusted.
    """
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if data.startswith(_ZIP_MAGIC):
        return _zip_media_type(data)
    if data and b"\x00" not in data and _is_utf8(data):
        return TEXT
    return BINARY


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _zip_media_type(data: bytes) -> str:
    """An office document if the zip's members say so, else a plain zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" in names:
                for folder, media_type in _OOXML_FOLDERS:
                    if any(name.startswith(folder) for name in names):
                        return media_type
            if "mimetype" in names:
                return _odf_media_type(archive) or ZIP
    except (*DAMAGED_ZIP_ERRORS, NotImplementedError, RuntimeError):
        pass
    return ZIP


def _odf_media_type(archive: zipfile.ZipFile) -> str | None:
    """OpenDocument files hold their type, uncompressed, in a tiny "mimetype" member."""
    info = archive.getinfo("mimetype")
    if info.compress_type != zipfile.ZIP_STORED or info.file_size > 100:
        return None
    declared = archive.read(info).decode("ascii", errors="replace").strip()
    return declared if declared in ODF_TYPES else None


def check_filename(filename: str) -> str:
    """`filename` if it can name a stored document, else DocumentRefused (French)."""
    if not filename.strip():
        raise DocumentRefused("Le nom du fichier est vide.")
    if len(filename) > FILENAME_MAX:
        raise DocumentRefused(
            f"Le nom « {filename[:40]}… » dépasse {FILENAME_MAX} caractères : raccourcissez-le."
        )
    # Controls (C0, DEL, C1) and bidi overrides: « facture\u202efdp.exe » shows as an .exe.
    if "/" in filename or "\\" in filename or control_character(filename):
        shown = "".join("?" if control_character(c) else c for c in filename)
        raise DocumentRefused(
            f"Le nom « {shown} » contient un caractère interdit "
            "(« / », « \\ » ou un caractère de contrôle)."
        )
    if filename in {".", ".."}:
        raise DocumentRefused(f"« {filename} » n'est pas un nom de fichier.")
    return filename


# Characters a name from outside loses: controls (C0, DEL, C1), invisible formatting (bidi
# overrides that disguise an extension), line and paragraph separators, lone surrogates.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_KEPT_EXTENSION = 16  # a longer "extension" is text, not a type


def safe_filename(filename: str, fallback: str = "piece-jointe") -> str:
    """A name that passes check_filename, made from one that came from outside (an e-mailed
    attachment): slashes and backslashes (and what NFKC reads as such) become « - »,
    controls and invisible characters go, a name over FILENAME_MAX characters is shortened
    with « … », keeping its extension; an empty or dot-only name becomes `fallback`."""
    kept = []
    for character in filename:
        if unicodedata.category(character) in _DROPPED_CATEGORIES:
            continue
        folded = unicodedata.normalize("NFKC", character)
        kept.append("-" if "/" in folded or "\\" in folded else character)
    name = "".join(kept).strip()
    if not name.strip("."):
        name = fallback
    if len(name) > FILENAME_MAX:
        stem, dot, suffix = name.rpartition(".")
        if not (dot and stem and len(suffix) <= _KEPT_EXTENSION):
            stem, suffix = name, ""
        tail = f"….{suffix}" if suffix else "…"
        name = stem[: FILENAME_MAX - len(tail)].rstrip() + tail
    return check_filename(name)


def put_bytes(blobs: BlobStore, data: bytes, filename: str) -> StoredBytes:
    """Store the bytes in the blob store and detect their type (no database involved)."""
    return StoredBytes(
        sha256=blobs.put(data), size=len(data), media_type=detect_media_type(data, filename)
    )


@dataclass(frozen=True)
class NewDocument:
    """A document row about to be inserted (its bytes are already in the blob store)."""

    stored: StoredBytes
    filename: str
    origin: DocumentOrigin
    consultation_id: int | None
    actor: str
    antivirus: AntivirusVerdict = AntivirusVerdict.NOT_SCANNED
    created_at: datetime = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        check_filename(self.filename)

    def row(self) -> dict[str, object]:
        return {
            "filename": self.filename,
            "sha256": self.stored.sha256,
            "size": self.stored.size,
            "media_type": self.stored.media_type,
            "origin": self.origin,
            "antivirus": self.antivirus,
            "consultation_id": self.consultation_id,
            "created_at": self.created_at,
            "created_by": self.actor,
        }

    def info(self, document_id: int) -> DocumentInfo:
        return _info({**self.row(), "id": document_id})


def insert_documents(
    connection: Connection, documents: Sequence[NewDocument]
) -> tuple[DocumentInfo, ...]:
    """Insert the rows inside the caller's transaction, in one statement; same order back."""
    if not documents:
        return ()
    ids = connection.execute(
        sa.insert(document_table).returning(document_table.c.id, sort_by_parameter_order=True),
        [document.row() for document in documents],
    ).scalars()
    return tuple(
        document.info(document_id) for document, document_id in zip(documents, ids, strict=True)
    )


def store_document(
    store: Store,
    blobs: BlobStore,
    *,
    filename: str,
    data: bytes,
    origin: DocumentOrigin,
    consultation_id: int | None,
    actor: str,
    antivirus: AntivirusVerdict = AntivirusVerdict.NOT_SCANNED,
) -> DocumentInfo:
    """Store the bytes, then the document row; returns the stored document."""
    check_filename(filename)
    document = NewDocument(
        stored=put_bytes(blobs, data, filename),
        filename=filename,
        origin=origin,
        consultation_id=consultation_id,
        actor=actor,
        antivirus=antivirus,
    )
    with store.engine.begin() as connection:
        (info,) = insert_documents(connection, [document])
    return info


# --- Reading: the "espace documentaire" -------------------------------------------------------

# What the documentary space reads of a document: DocumentInfo's fields, same names.
DOCUMENT_COLUMNS = tuple(document_table.c[name] for name in _INFO_FIELDS)


def _info(row: Mapping[Any, Any]) -> DocumentInfo:
    """The document in a row that holds DocumentInfo's fields (DOCUMENT_COLUMNS, or
    NewDocument.row() and its id); the database gives the enumerations back as text."""
    values = {name: row[name] for name in _INFO_FIELDS}
    return DocumentInfo(
        **{
            **values,
            "antivirus": AntivirusVerdict(values["antivirus"]),
            "origin": DocumentOrigin(values["origin"]),
        }
    )


def document_infos(store: Store, ids: Sequence[int], *, actor: str) -> tuple[DocumentInfo, ...]:
    """The documents `ids` that `actor` sees, in that order: one of a consultation it does
    not see is left out, as a missing one is (so that ids cannot probe another organisation's
    files)."""
    if not ids:
        return ()
    with store.engine.connect() as connection:
        return _documents(connection, ids, seen_by(actor))


def stored_documents(connection: Connection, ids: Sequence[int]) -> tuple[DocumentInfo, ...]:
    """`document_infos` for a caller that checked the account already (a message's detail)
    or a service, which works for every organisation (the outbox)."""
    return _documents(connection, ids, sa.true()) if ids else ()


def _documents(
    connection: Connection, ids: Sequence[int], seen: sa.ColumnElement[bool]
) -> tuple[DocumentInfo, ...]:
    rows = connection.execute(
        sa.select(*DOCUMENT_COLUMNS)
        .outerjoin(consultation_table, consultation_table.c.id == document_table.c.consultation_id)
        .where(document_table.c.id.in_(ids), seen)
    ).all()
    found = {row.id: _info(row._mapping) for row in rows}
    return tuple(found[i] for i in ids if i in found)


def document_space(
    store: Store, consultation_id: int, *, actor: str, text: str = "", limit: int = 50
) -> tuple[DocumentInfo, ...]:
    """The consultation's "espace documentaire" (DCE pieces, generated letters, earlier
    attachments), newest first, filtered by file name; one SQL page of `limit` rows, for an
    `actor` who sees the consultation (ConsultationNotFound otherwise, as a missing one).
    Infected files never reach the store, so every row here can be attached."""

    query = sa.select(*DOCUMENT_COLUMNS).where(
        document_table.c.consultation_id == consultation_id,
        document_table.c.origin != DocumentOrigin.REPLY,
    )
    for word in text.split():
        query = query.where(document_table.c.filename.icontains(word, autoescape=True))
    with store.engine.connect() as connection:
        authorize_reading(connection, actor, consultation_id)
        rows = connection.execute(
            query.order_by(document_table.c.created_at.desc(), document_table.c.id.desc()).limit(
                limit
            )
        ).all()
    return tuple(_info(row._mapping) for row in rows)
