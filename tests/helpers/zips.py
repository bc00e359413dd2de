"""Real files for the type and archive checks, built here: zips (plain, streamed with data
descriptors, zip64, tampered), office documents made by hand with zipfile, images, PDFs."""

from __future__ import annotations

import base64
import io
import struct
import warnings
import zipfile

Members = dict[str, bytes] | list[tuple[str | zipfile.ZipInfo, bytes]]

_END_RECORD = struct.Struct("<4s4H2LH")


def make_zip(
    members: Members, method: int = zipfile.ZIP_DEFLATED, *, comment: bytes = b""
) -> bytes:
    buffer = io.BytesIO()
    items = members.items() if isinstance(members, dict) else members
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(buffer, "w", compression=method) as archive:
            for name, data in items:
                archive.writestr(_dated(name, method), data)
            archive.comment = comment
    return buffer.getvalue()


def _dated(name: str | zipfile.ZipInfo, method: int) -> str | zipfile.ZipInfo:
    """A member written as zipfile writes one by name, but with a fixed date: the same call
    gives the same bytes (pytest's test ids hold them; xdist workers must agree)."""
    if isinstance(name, zipfile.ZipInfo):
        return name
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 5, 9, 30, 0))
    info.compress_type = method
    info.external_attr = (0o40775 << 16 | 0x10) if name.endswith("/") else 0o600 << 16
    return info


class _Pipe(io.RawIOBase):
    """A stream that cannot seek: zipfile then writes each size after the data (bit 3)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[no-untyped-def,override]
        self.chunks.append(bytes(data))
        return len(data)


def streamed_zip(members: dict[str, bytes], *, zip64: bool = False) -> bytes:
    """An archive as a tool writing to a pipe makes it: data descriptors after each file
    (with zip64 fields when asked)."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            with archive.open(name, "w", force_zip64=zip64) as member:
                member.write(data)
    return b"".join(pipe.chunks)


def central_records(data: bytes) -> tuple[int, list[bytes]]:
    """The offset of the central directory and its records, one per entry."""
    end = data.rindex(b"PK\x05\x06")
    _, _, _, _, _, size, offset, _ = _END_RECORD.unpack_from(data, end)
    directory, records, position = data[offset : offset + size], [], 0
    while position < len(directory):
        name_length, extra_length, comment_length = struct.unpack_from(
            "<3H", directory, position + 28
        )
        length = 46 + name_length + extra_length + comment_length
        records.append(directory[position : position + length])
        position += length
    return offset, records


def with_records(data: bytes, offset: int, records: list[bytes]) -> bytes:
    """The archive with its central directory replaced by `records` (end record rewritten)."""
    directory = b"".join(records)
    end = _END_RECORD.pack(
        b"PK\x05\x06", 0, 0, len(records), len(records), len(directory), offset, 0
    )
    return data[:offset] + directory + end


def hide_entry(data: bytes, name: str) -> bytes:
    """The archive with `name` still among its local entries but left out of its central
    directory: zip tools do not list it, `jar x` extracts it."""
    offset, records = central_records(data)
    kept = [record for record in records if record[46 : 46 + len(name.encode())] != name.encode()]
    assert len(kept) == len(records) - 1
    return with_records(data, offset, kept)


CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/></Types>'
)


def office(main_folder: str, *extra: tuple[str, bytes]) -> bytes:
    """An Office Open XML package as Word, Excel or PowerPoint write it (main part in
    `main_folder`: word/, xl/, ppt/)."""
    main_part = {"word/": "document.xml", "xl/": "workbook.xml", "ppt/": "presentation.xml"}
    return make_zip(
        [
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", b'<?xml version="1.0"?><Relationships/>'),
            ("docProps/core.xml", b'<?xml version="1.0"?><coreProperties/>'),
            (main_folder + main_part[main_folder], b'<?xml version="1.0"?><document/>' * 50),
            *extra,
        ]
    )


def docx(*extra: tuple[str, bytes]) -> bytes:
    return office("word/", *extra)


def xlsx(*extra: tuple[str, bytes]) -> bytes:
    return office("xl/", *extra)


def pptx() -> bytes:
    return office("ppt/")


def opendocument(kind: str) -> bytes:
    """An OpenDocument file: its "mimetype" member first and stored, as LibreOffice writes it."""
    mimetype = zipfile.ZipInfo("mimetype")
    mimetype.compress_type = zipfile.ZIP_STORED
    return make_zip(
        [
            (mimetype, f"application/vnd.oasis.opendocument.{kind}".encode()),
            ("content.xml", b'<?xml version="1.0"?><office:document-content/>'),
            ("META-INF/manifest.xml", b'<?xml version="1.0"?><manifest:manifest/>'),
        ]
    )


PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(64)
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04" + bytes(20)
OLE = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504)


def weasyprint_pdf(text: str) -> bytes:
    """A real PDF, as the app's letters are made."""
    from weasyprint import HTML

    return HTML(string=f"<h1>{text}</h1><p>{text}</p>").write_pdf()
