"""The words of a file attached to a message, for LEGAL.md rule 4 to look for the asker in a
document sent to several companies: a PDF's text and metadata (pypdf), the paragraphs,
comments and properties of an office file (docx, xlsx, pptx, OpenDocument), a text file.

The file is the buyer's, or a company's forwarded: outside input. It was checked at intake
(type, zip bombs); this only reads it, within bounds (pages, characters, bytes of a zip
member), and a file it cannot read gives None, never an error.
"""

from __future__ import annotations

import html
import io
import logging
import re
import zipfile

from messagerie.models.store.documents import DOCX, ODF_TYPES, PDF, PPTX, TEXT, XLSX

MAX_PAGES = 300  # of a PDF: a Q/A document is far shorter
MAX_CHARS = 2_000_000  # of text kept, whatever the file
MAX_MEMBER_BYTES = 20 * 1024**2  # read of one zip member

# The members of an office file that hold what a reader sees, and who wrote it.
_MEMBERS = {
    DOCX: r"word/(document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml",
    XLSX: r"xl/(sharedStrings|comments\d*)\.xml",
    PPTX: r"ppt/(slides/slide\d+|notesSlides/notesSlide\d+|comments/comment\d+)\.xml",
    **{odf: r"(content|styles|meta)\.xml" for odf in ODF_TYPES},
}
_PROPERTIES = r"docProps/(core|app)\.xml"  # OOXML's author, company, title
# An element that ends a paragraph, a cell or a property: a line break, so that words of two
# paragraphs do not run together. Any other tag goes without a space: Word splits a word into
# runs (<w:t>Dup</w:t><w:t>ont</w:t>).
_LINE_END = re.compile(r"</(?:w:p|a:p|text:p|text:h|si|table:table-cell|dc:[a-z]+|cp:[a-z]+)>")
_SPACE = re.compile(r"<(?:w:tab|w:br|w:cr|a:br|text:s|text:tab|text:line-break)\b[^>]*/?>")
_TAG = re.compile(r"<[^>]*>")


def document_text(data: bytes, media_type: str) -> str | None:
    """What the file says, as text (at most MAX_CHARS); None for a kind it does not read
    (images, archives) or a file it cannot read."""
    if media_type == PDF:
        text = _pdf_text(data)
    elif media_type in _MEMBERS:
        text = _office_text(data, _MEMBERS[media_type])
    elif media_type == TEXT:
        text = data[: MAX_CHARS * 4].decode("utf-8", errors="replace")
    else:
        return None
    return None if text is None else text[:MAX_CHARS]


def _pdf_text(data: bytes) -> str | None:
    import pypdf  # imported when a PDF is read: the form opens without it

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # a damaged file is said by None
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return None  # opened with a password only: nothing to read
        metadata = reader.metadata or pypdf.DocumentInformation()
        parts = [str(metadata[key]) for key in metadata]  # author, title: who wrote it
        length = sum(map(len, parts))
        for page in reader.pages[:MAX_PAGES]:
            parts.append(page.extract_text())
            length += len(parts[-1])
            if length >= MAX_CHARS:
                break
    except Exception:  # pypdf fails in many ways on a malformed file
        return None
    return "\n".join(parts)


def _office_text(data: bytes, members: str) -> str | None:
    wanted = re.compile(f"{members}|{_PROPERTIES}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [name for name in archive.namelist() if wanted.fullmatch(name)]
            xml = []
            for name in names:
                with archive.open(name) as member:
                    xml.append(member.read(MAX_MEMBER_BYTES).decode("utf-8", errors="replace"))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError,
            RuntimeError, ValueError):  # fmt: skip
        return None
    return "\n".join(_xml_words(part) for part in xml)


def _xml_words(xml: str) -> str:
    """The text of an office XML part: its elements' contents, paragraphs on their lines."""
    lines = _SPACE.sub(" ", _LINE_END.sub("\n", xml))
    return html.unescape(_TAG.sub("", lines))
