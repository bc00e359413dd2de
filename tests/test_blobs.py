"""Content-addressed blobs on disk, and documents (row + bytes, type read from the content)."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
import sqlalchemy as sa

from messagerie.models.store.blobs import BlobCorrupted, BlobStore
from messagerie.models.store.documents import (
    DOCX,
    XLSX,
    DocumentRefused,
    detect_media_type,
    store_document,
)
from messagerie.models.store.enums import AntivirusVerdict, DocumentOrigin
from messagerie.models.store.tables import Document

PDF_BYTES = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


@pytest.fixture
def blobs(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "documents")


def blob_files(blobs: BlobStore) -> list[str]:
    return sorted(
        str(path.relative_to(blobs.root)) for path in blobs.root.rglob("*") if path.is_file()
    )


# --- Blobs -------------------------------------------------------------------------------


def test_put_then_read_round_trip(blobs):
    digest = blobs.put(PDF_BYTES)
    assert digest == hashlib.sha256(PDF_BYTES).hexdigest()
    assert blobs.path(digest) == blobs.root / digest[:2] / digest[2:]
    assert blobs.read(digest) == PDF_BYTES
    assert blob_files(blobs) == [f"{digest[:2]}/{digest[2:]}"]


def test_put_is_idempotent_and_stores_the_same_content_once(blobs):
    first = blobs.put(PDF_BYTES)
    stat_before = blobs.path(first).stat()
    assert blobs.put(PDF_BYTES) == first
    assert blobs.put(b"autre contenu") != first
    assert len(blob_files(blobs)) == 2
    stat_after = blobs.path(first).stat()
    assert (stat_after.st_ino, stat_after.st_mtime_ns) == (
        stat_before.st_ino,
        stat_before.st_mtime_ns,
    )


def test_an_existing_blob_is_never_rewritten(blobs):
    digest = blobs.put(PDF_BYTES)
    path = blobs.path(digest)
    path.chmod(0o644)
    path.write_bytes(b"altered")
    blobs.put(PDF_BYTES)
    assert path.read_bytes() == b"altered"


def test_empty_content_is_a_blob_like_any_other(blobs):
    assert blobs.read(blobs.put(b"")) == b""


def test_blobs_are_read_only_and_leave_no_temporary_file(blobs):
    digest = blobs.put(PDF_BYTES)
    assert blobs.path(digest).stat().st_mode & 0o777 == 0o444
    assert [path for path in blobs.root.rglob("*") if path.is_file()] == [blobs.path(digest)]


def test_tampering_is_detected_on_read(blobs):
    digest = blobs.put(PDF_BYTES)
    path = blobs.path(digest)
    path.chmod(0o644)
    path.write_bytes(PDF_BYTES.replace(b"Catalog", b"Catalug"))
    with pytest.raises(BlobCorrupted) as caught:
        blobs.read(digest)
    assert "a été altéré" in caught.value.message
    assert caught.value.sha256 == digest


def test_a_missing_blob_is_reported(blobs):
    digest = blobs.put(PDF_BYTES)
    blobs.path(digest).unlink()
    with pytest.raises(BlobCorrupted, match="est introuvable"):
        blobs.read(digest)


def test_a_malformed_hash_never_becomes_a_path(blobs):
    for bad in ("../../etc/passwd", "A" * 64, "abc"):
        with pytest.raises(ValueError):
            blobs.path(bad)


# --- Media types --------------------------------------------------------------------------


def zip_bytes(members: dict[str, bytes], stored_first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if stored_first:
            archive.writestr(stored_first, members.pop(stored_first), zipfile.ZIP_STORED)
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/"/>'


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (PDF_BYTES, "questions-reponses.txt", "application/pdf"),
        ("Réponse à la question n°1".encode(), "reponse.pdf", "text/plain"),
        (b"\x89PNG\r\n\x1a\n" + bytes(20), "plan.pdf", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "photo.png", "image/jpeg"),
        (b"GIF89a" + bytes(10), "logo.jpg", "image/gif"),
        (zip_bytes({"RC.pdf": PDF_BYTES}), "dce.docx", "application/zip"),
        (
            zip_bytes(
                {
                    "[Content_Types].xml": CONTENT_TYPES,
                    "docProps/app.xml": bytes(30_000),
                    "word/document.xml": b"<w:document/>",
                }
            ),
            "ccap.zip",
            DOCX,
        ),
        (
            zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "xl/workbook.xml": b"<workbook/>"}),
            "bpu.pdf",
            XLSX,
        ),
        (
            zip_bytes(
                {
                    "mimetype": b"application/vnd.oasis.opendocument.text",
                    "content.xml": b"<office:document-content/>",
                },
                stored_first="mimetype",
            ),
            "cctp.zip",
            "application/vnd.oasis.opendocument.text",
        ),
        (b"PK\x03\x04 but not really a zip", "x.zip", "application/zip"),
        (b"texte\x00avec NUL", "a.txt", "application/octet-stream"),
        ("Latin-1 : é".encode("latin-1"), "a.txt", "application/octet-stream"),
        (b"", "vide.txt", "application/octet-stream"),
        (b"\x00\x01\x02\x03", "a.pdf", "application/octet-stream"),
    ],
    ids=[
        "pdf-named-txt",
        "text-named-pdf",
        "png",
        "jpeg",
        "gif",
        "zip-named-docx",
        "docx-with-late-word-part",
        "xlsx",
        "odt",
        "damaged-zip",
        "nul-bytes",
        "not-utf8",
        "empty",
        "binary",
    ],
)
def test_media_type_comes_from_the_content(data, filename, expected):
    assert detect_media_type(data, filename) == expected


# --- Documents ----------------------------------------------------------------------------


def test_store_document_keeps_the_row_and_the_bytes(store, blobs):
    info = store_document(
        store,
        blobs,
        filename="questions-reponses.txt",
        data=PDF_BYTES,
        origin=DocumentOrigin.ATTACHMENT,
        consultation_id=None,
        actor="acheteur@alsace.example",
    )
    assert (info.filename, info.size, info.media_type) == (
        "questions-reponses.txt",
        len(PDF_BYTES),
        "application/pdf",
    )
    assert info.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert info.antivirus is AntivirusVerdict.NOT_SCANNED
    assert info.created_at.utcoffset() is not None
    assert blobs.read(info.sha256) == PDF_BYTES
    table = Document.__table__  # type: ignore[attr-defined]
    with store.engine.connect() as connection:
        row = connection.execute(sa.select(table).where(table.c.id == info.id)).one()
    assert row.sha256 == info.sha256
    assert row.origin == DocumentOrigin.ATTACHMENT
    assert row.created_by == "acheteur@alsace.example"


def test_store_document_refuses_a_bad_filename_before_storing_anything(store, blobs):
    for bad in ("", "dossier/RC.pdf", "x" * 256, ".."):
        with pytest.raises(DocumentRefused):
            store_document(
                store,
                blobs,
                filename=bad,
                data=PDF_BYTES,
                origin=DocumentOrigin.ATTACHMENT,
                consultation_id=None,
                actor="acheteur",
            )
    assert not blobs.root.exists()
