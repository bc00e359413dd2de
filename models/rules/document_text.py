"""The words of a file attached to a message, for LEGAL.md rule 4 to look for the asker in a
document sent to several companies: a PDF's text, annotations, form fields and metadata
(pypdf), the text, tracked changes, comments, authors and properties of an office file (docx,
xlsx, pptx, OpenDocument), a text file.

The file is the buyer's, or a company's forwarded: outside input. It was checked at intake
(type, zip bombs); this only reads it, within bounds (pages, time, characters, bytes of a zip
member, pypdf's work per stream), and a file it cannot read gives None, never an error.
"""

from __future__ import annotations

import codecs
import html
import io
import logging
import re
import time
import zipfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

from messagerie.models.store.documents import DOCX, ODF_TYPES, PDF, PPTX, TEXT, XLSX

if TYPE_CHECKING:
    import pypdf

MAX_PAGES = 300  # of a PDF: a Q/A document is far shorter
# Reading stops there, between two pages: against a hostile file (pypdf's limits bound a
# page, not the pages), far above a long one (40 pages in 1.6 s, bench/message_form.py).
PDF_SECONDS = 30.0
MAX_CHARS = 2_000_000  # of text kept, whatever the file
# pypdf's limits while reading: a hostile stream or form repeated on every page costs a page
# seconds instead of hours (its defaults let one page run for days).
PDF_LIMITS = {
    "zlib_maximum_output_length": 5_000_000,
    "stream_parsing_work_maximum_count": 100_000,
    "xform_maximum_invocations_per_extraction": 10,
}

# The members of an office file that hold what a reader sees, and who wrote it.
_MEMBERS = {
    DOCX: r"word/(document|header\d*|footer\d*|footnotes|endnotes|comments\w*|people)\.xml",
    XLSX: r"xl/(sharedStrings|comments\d*|worksheets/sheet\d+|persons/person)\.xml",
    PPTX: r"ppt/(slides/slide\d+|notesSlides/notesSlide\d+|comments/\w+|commentAuthors|authors)"
    r"\.xml",
    **{odf: r"(content|styles|meta)\.xml" for odf in ODF_TYPES},
}
_PROPERTIES = r"docProps/(core|app|custom)\.xml"  # OOXML's author, company, title
# Tags that may cut a word in two (Word splits a word into runs: <w:r><w:t>Dup</w:t></w:r>
# <w:r><w:t>ont</w:t></w:r>) go without a trace; the end of any other element (a paragraph,
# a cell, a deleted run, a property) is a line break, so that two texts never run together.
_INLINE = frozenset(
    {"w:t", "w:r", "w:rPr", "w:hyperlink", "w:smartTag", "w:fldSimple", "a:t", "a:r", "a:rPr",
     "t", "r", "rPr", "text:span", "text:a"}
)  # fmt: skip
_SPACE = frozenset({"w:tab", "w:br", "w:cr", "a:br", "text:s", "text:tab", "text:line-break"})
# [^<>] and not [^>]: a "<" never closed made each later "<" scan to the end (quadratic).
_TAG = re.compile(r"</?([\w:.-]*+)[^<>]*+>")
_AUTHOR = re.compile(r"\b(?:w:)?(?:author|initials)=\"([^\"<>]*)\"")


def document_text(data: bytes, media_type: str) -> str | None:
    """What the file says, as text (at most MAX_CHARS); None for a kind it does not read
    (images, archives) or a file it cannot read."""
    if media_type == PDF:
        text = _pdf_text(data)
    elif media_type in _MEMBERS:
        text = _office_text(data, _MEMBERS[media_type])
    elif media_type == TEXT:
        text = _plain_text(data[: MAX_CHARS * 4])
    else:
        return None
    return None if text is None else text[:MAX_CHARS]


def _plain_text(data: bytes) -> str:
    """UTF-16 by its BOM, else UTF-8, else Windows-1252 (what filetype.is_text accepts)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _pdf_text(data: bytes) -> str | None:
    import pypdf  # imported when a PDF is read: the form opens without it

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # a damaged file is said by None
    parts: list[str] = []
    try:
        with pypdf.apply_configuration(None, **PDF_LIMITS):
            reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                return None  # opened with a password only: nothing to read
            for text in _pdf_parts(reader):
                parts.append(text)
                if sum(map(len, parts)) >= MAX_CHARS:
                    break
    except Exception:  # pypdf fails in many ways on a malformed file
        return "\n".join(parts) if parts else None
    return "\n".join(parts)


def _pdf_parts(reader: pypdf.PdfReader) -> Iterator[str]:
    """Who wrote it (information and XMP metadata), the form's fields, then each page's
    text and notes, until MAX_PAGES or PDF_SECONDS."""
    import pypdf

    metadata = reader.metadata or pypdf.DocumentInformation()
    yield from (str(metadata[key]) for key in metadata)
    if reader.xmp_metadata is not None:
        yield _xml_words(reader.xmp_metadata.stream.get_data().decode("utf-8", "replace"))
    yield from (str(value) for value in (reader.get_form_text_fields() or {}).values())
    stop = time.monotonic() + PDF_SECONDS
    for page in reader.pages[:MAX_PAGES]:
        yield page.extract_text()
        for note in page.get("/Annots") or ():
            yield str(note.get_object().get("/Contents") or "")
        if time.monotonic() > stop:
            return


def _office_text(data: bytes, members: str) -> str | None:
    wanted = re.compile(f"{members}|{_PROPERTIES}")
    parts: list[str] = []
    length = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                if length >= MAX_CHARS or not wanted.fullmatch(name):
                    continue
                with archive.open(name) as member:  # a member read up to what is kept
                    xml = member.read(MAX_CHARS * 4 - length).decode("utf-8", errors="replace")
                parts.append(_xml_words(xml))
                length += len(parts[-1])
    except Exception:  # a damaged zip, a method or a stream zipfile cannot read
        return None
    return "\n".join(parts)


def _xml_words(xml: str) -> str:
    """The text of an office XML part: its elements' contents, each block on its line, and
    the authors its attributes name (comments, tracked changes)."""
    authors = "\n".join(dict.fromkeys(_AUTHOR.findall(xml)))
    return html.unescape(_TAG.sub(_tag_break, xml)) + ("\n" + authors if authors else "")


def _tag_break(tag: re.Match[str]) -> str:
    """A tab or a break is a space; an inline tag or an empty element (<w:b/> between two
    runs of a word), nothing; the start or end of any other element (a paragraph, a cell, a
    deleted run, a property), a line."""
    name = tag[1]
    if name in _SPACE:
        return " "
    return "" if name in _INLINE or tag[0].endswith("/>") else "\n"
