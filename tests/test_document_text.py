"""What an attached file says (rule 4 looks for the asker in it): real PDFs from weasyprint
and pypdf, office files as their applications lay them out, and any bytes at all."""

import io
import zipfile

import pypdf
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf.annotations import FreeText
from weasyprint import HTML

from messagerie.models.rules.anonymise import identity_leaks
from messagerie.models.rules.document_text import document_text
from messagerie.models.store.documents import (
    BINARY,
    DOCX,
    ODF_TYPES,
    PDF,
    PNG,
    TEXT,
    XLSX,
    ZIP,
    detect_media_type,
)

ODT = "application/vnd.oasis.opendocument.text"
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def pdf_of(body: str, author: str = "") -> bytes:
    meta = f'<meta name="author" content="{author}">' if author else ""
    return HTML(string=f"<html><head>{meta}</head><body>{body}</body></html>").write_pdf()


def zipped(members: dict[str, str], stored_first: tuple[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if stored_first:
            archive.writestr(stored_first[0], stored_first[1], zipfile.ZIP_STORED)
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def docx(paragraphs: str, creator: str = "") -> bytes:
    return zipped(
        {
            "[Content_Types].xml": "<Types/>",
            "word/document.xml": f"<w:document {W}><w:body>{paragraphs}</w:body></w:document>",
            "docProps/core.xml": f"<cp:coreProperties><dc:creator>{creator}</dc:creator>"
            "<dc:title>Questions</dc:title></cp:coreProperties>",
        }
    )


def test_a_pdf_s_pages_and_author_are_read():
    data = pdf_of("<p>Question n°3 posée par DUPONT CHOCOLATS.</p>", author="Jeanne Martin")
    assert detect_media_type(data, "qr.pdf") == PDF
    text = document_text(data, PDF)
    assert text is not None
    assert "DUPONT CHOCOLATS" in text and "Jeanne Martin" in text
    leaks = identity_leaks(
        text, company_name="Dupont Chocolats SAS", siret="", email="", contact_name="Jeanne Martin"
    )
    assert leaks == (
        "le nom de l'entreprise « Dupont Chocolats SAS »",
        "le nom de la personne qui a posé la question « Jeanne Martin »",
    )


def test_a_pdf_opened_with_a_password_only_reads_as_nothing():
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf_of("<p>Dupont</p>"))))
    writer.encrypt(user_password="secret", owner_password="owner")
    locked = io.BytesIO()
    writer.write(locked)
    assert document_text(locked.getvalue(), PDF) is None
    assert document_text(b"%PDF-1.7\n1 0 obj<<>>\n", PDF) in (None, "")  # cut short


def test_a_word_split_into_runs_reads_as_one_word_and_paragraphs_stay_apart():
    data = docx(
        "<w:p><w:r><w:t>Société Dup</w:t></w:r><w:r><w:t>ont &amp; Fils</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>SIRET</w:t><w:tab/><w:t>732 829 320 00074</w:t></w:r></w:p>",
        creator="jeanne.martin@dupont.example",
    )
    assert detect_media_type(data, "qr.docx") == DOCX
    text = document_text(data, DOCX)
    assert text is not None
    assert "Société Dupont & Fils\n" in text and "SIRET 732 829 320 00074" in text
    assert "jeanne.martin@dupont.example" in text


def test_what_an_anonymised_word_file_still_holds_is_read():
    """The name deleted with Track Changes on is still in the file, and so are the company
    in its properties and the author of a change: none runs into the next word."""
    data = zipped(
        {
            "[Content_Types].xml": "<Types/>",
            "word/document.xml": f"<w:document {W}><w:body><w:p>"
            '<w:del w:author="Jeanne Martin"><w:r><w:delText>Dupont Chocolats</w:delText></w:r>'
            "</w:del><w:ins><w:r><w:t>Le candidat</w:t></w:r></w:ins>"
            "<w:r><w:rPr><w:b/></w:rPr><w:t>demande</w:t></w:r></w:p></w:body></w:document>",
            "docProps/app.xml": "<Properties><Company>Dupont Chocolats</Company>"
            "<SharedDoc>false</SharedDoc></Properties>",
        }
    )
    text = document_text(data, DOCX) or ""
    lines = [line for line in text.splitlines() if line]
    assert lines.count("Dupont Chocolats") == 2 and "Jeanne Martin" in lines
    assert "Le candidat" in lines and "demande" in lines  # a change stands apart
    leaks = identity_leaks(
        text, company_name="Dupont Chocolats SAS", siret="", email="", contact_name="Jeanne Martin"
    )
    assert len(leaks) == 2


def test_a_pdf_s_notes_and_a_text_file_in_any_encoding_are_read():
    reader = pypdf.PdfReader(io.BytesIO(pdf_of("<p>Questions et réponses</p>")))
    writer = pypdf.PdfWriter(clone_from=reader)
    note = FreeText(text="Question de Dupont Chocolats", rect=(50, 550, 200, 650))
    writer.add_annotation(page_number=0, annotation=note)
    annotated = io.BytesIO()
    writer.write(annotated)
    assert "Question de Dupont Chocolats" in (document_text(annotated.getvalue(), PDF) or "")
    for encoded in ("Société Générale".encode("cp1252"), "Société Générale".encode("utf-16")):
        assert document_text(encoded, TEXT) == "Société Générale"


def test_an_invisible_hyphen_does_not_hide_a_name():
    assert identity_leaks("Du\u00adpont Cho\u200bcolats", company_name="Dupont Chocolats",
                          siret="", email="")  # fmt: skip


def test_an_opendocument_and_a_spreadsheet_are_read():
    odt = zipped(
        {"content.xml": "<office:text><text:p>Dupont<text:s/>Fils</text:p></office:text>"},
        stored_first=("mimetype", ODT),
    )
    assert detect_media_type(odt, "qr.odt") == ODT and ODT in ODF_TYPES
    assert "Dupont Fils" in (document_text(odt, ODT) or "")
    xlsx = zipped(
        {
            "[Content_Types].xml": "<Types/>",
            "xl/sharedStrings.xml": "<sst><si><t>Question</t></si><si><t>Dupont</t></si></sst>",
        }
    )
    assert detect_media_type(xlsx, "qr.xlsx") == XLSX
    assert (document_text(xlsx, XLSX) or "").split() == ["Question", "Dupont"]


def test_what_it_does_not_read_is_none_and_text_is_text():
    assert document_text(b"Question de Dupont\n", TEXT) == "Question de Dupont\n"
    for kind in (PNG, ZIP, BINARY):
        assert document_text(b"\x89PNG\r\n\x1a\nDupont", kind) is None
    assert document_text(b"PK\x03\x04 not a zip", DOCX) is None


KINDS = st.sampled_from([PDF, DOCX, XLSX, ODT, TEXT, PNG, ZIP, BINARY])


@given(data=st.binary(max_size=4096), kind=KINDS)
def test_any_bytes_read_as_text_or_nothing(data, kind):
    assert isinstance(document_text(data, kind), str | None)


@given(
    members=st.dictionaries(
        st.sampled_from(["word/document.xml", "docProps/core.xml", "xl/sharedStrings.xml",
                         "content.xml", "word/header1.xml", "other.xml"]),
        st.text(max_size=300),
        max_size=4,
    ),
    kind=st.sampled_from([DOCX, XLSX, ODT]),
)  # fmt: skip
def test_any_office_file_reads_as_text_or_nothing(members, kind):
    assert isinstance(document_text(zipped(members), kind), str)  # a zip read is never None


@pytest.mark.parametrize("size", [10, 301])
def test_a_long_pdf_is_read_to_its_bounds(size):
    data = pdf_of("".join(f'<p style="page-break-after: always">Page {n}</p>' for n in range(size)))
    text = document_text(data, PDF)
    assert text is not None and "Page 0" in text
    assert ("Page 299" in text) == (size > 299) and "Page 300" not in text
