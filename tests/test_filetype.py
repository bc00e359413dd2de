"""Files are what they claim to be (issue 17, point 2): DCE pieces, the message form's
attachments and the replies' files are typed by their content; anything that opens as a zip
is inspected as one whatever its name or first bytes; two formats in one file are refused.

Every file is real: PDFs from weasyprint, office documents and zips built with zipfile (the
hostile ones by editing their bytes), the demo's own files; the attachments go through the
real intake path and the tests' clamd.
"""

from __future__ import annotations

import functools
import io
import time
import zipfile
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messagerie.letters.intake.antivirus import AntivirusRefusal, check_attachment
from messagerie.letters.intake.files import take_attachment
from messagerie.models.consultations.dce import (
    DceChanges,
    DceError,
    NewFile,
    current_dce,
    save_dce_changes,
)
from messagerie.models.rules import filetype
from messagerie.models.rules.filetype import FileRefused, check_file
from messagerie.models.store.blobs import BlobStore
from messagerie.models.store.database import open_store
from messagerie.models.store.documents import document_space
from messagerie.models.store.enums import ConsultationStatus, DocumentOrigin
from messagerie.models.store.tables import DceVersion, Document, table_of
from tests.conftest import demo_documents
from tests.helpers.antivirus import intake
from tests.helpers.examples import examples
from tests.helpers.factories import add_consultations
from tests.helpers.zips import (
    CONTENT_TYPES,
    GIF,
    JPEG,
    OLE,
    PNG,
    docx,
    hide_entry,
    make_zip,
    opendocument,
    pptx,
    xlsx,
)

FAUX_PDF = (
    "Le fichier « faux.pdf » n'est pas un PDF : son contenu est du texte. Enregistrez le "
    "document au format PDF puis déposez à nouveau le fichier."
)
TEXT = b"Ceci est un simple texte, enregistre avec l'extension .pdf.\n"
BOMB = 300 * 1024**2  # bytes of zeros: about 300 KB once deflated


@functools.cache
def real_pdf() -> bytes:
    from tests.helpers.zips import weasyprint_pdf

    return weasyprint_pdf("Règlement de la consultation")


def refused(data: bytes, name: str) -> str:
    with pytest.raises(FileRefused) as caught:
        check_file(data, name)
    return caught.value.message


@functools.cache
def measured_dce_v1() -> bytes:
    """The DCE v1 that was stored on main: seen as Word, it skipped every zip check."""
    return make_zip(
        [
            ("[Content_Types].xml", CONTENT_TYPES),
            ("word/document.xml", b"<document/>"),
            ("../../../evil.bat", b"@echo off\r\ndel /q C:\\*\r\n"),
            ("bombe.bin", bytes(BOMB)),
        ]
    )


@functools.cache
def bomb_docx() -> bytes:
    return docx(("word/media/bombe.bin", bytes(BOMB)))


# --- What is accepted --------------------------------------------------------------------


def test_a_real_pdf_is_accepted_as_a_pdf_and_a_text_named_pdf_is_not():
    assert check_file(real_pdf(), "RC.pdf").kind is filetype.PDF
    assert refused(TEXT, "faux.pdf") == FAUX_PDF


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (docx(), "Mémoire technique.docx", filetype.WORD),
        (xlsx(), "BPU.xlsx", filetype.EXCEL),
        (pptx(), "Soutenance.pptx", filetype.POWERPOINT),
        (opendocument("text"), "CCTP.odt", filetype.ODT),
        (opendocument("spreadsheet"), "DPGF.ods", filetype.ODS),
        (opendocument("presentation"), "Visite.odp", filetype.ODP),
        (
            make_zip({"RC.pdf": b"%PDF-1.7 rc", "CCAP.pdf": b"%PDF-1.7 ccap"}),
            "DCE.zip",
            filetype.ZIP,
        ),
        (docx(), "offre.zip", filetype.WORD),  # a .zip may be any archive
        (PNG, "plan.png", filetype.PNG),
        (JPEG, "photo du site.JPG", filetype.JPEG),
        (GIF, "logo.gif", filetype.GIF),
        (OLE, "ancien.doc", filetype.OLE),
        (OLE, "ancien.xls", filetype.OLE),
        (b"{\\rtf1\\ansi Lettre}", "lettre.rtf", filetype.RTF),
        (b"{\\rtf1\\ansi Lettre}", "lettre.doc", filetype.RTF),  # Word saves RTF as .doc
        ("Désignation;Prix\r\nLot 1;12,50 €\r\n".encode("cp1252"), "DQE.csv", filetype.TEXT),
        ("Désignation\tPrix\n".encode("utf-16"), "DQE.txt", filetype.TEXT),
        (b"<table><tr><td>1</td></tr></table>", "export.xls", filetype.TEXT),
        (b'<?xml version="1.0"?><avis/>', "avis.xml", filetype.TEXT),
        (b"0\x82\x05\x1a\x06\t*\x86H\x86\xf7\r\x01\x07\x02", "RC.pdf.p7s", None),  # no promise
        (b"", "vide.txt", filetype.EMPTY),
    ],
)
def test_legitimate_files_are_accepted_as_what_they_are(data, name, kind):
    checked = check_file(data, name)  # an extension the table does not know promises nothing
    assert kind is None or checked.kind is kind
    if kind is filetype.ZIP:
        assert [member.path for member in checked.members] == ["RC.pdf", "CCAP.pdf"]


def test_a_name_from_outside_is_shown_with_its_control_characters_escaped():
    """An e-mailed reply's file name reaches the check unfiltered."""
    assert refused(TEXT, "faux\x1b[2J.pdf").startswith("Le fichier « faux\\x1b[2J.pdf » n'est")


def test_a_pdf_saved_with_a_txt_name_is_text_and_accepted():
    """The message form's own case: a PDF written in plain ASCII is text as well."""
    ascii_pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
    assert check_file(ascii_pdf, "annexe.txt").kind is filetype.PDF


# --- Mismatches, named -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "said"),
    [
        (docx(), "BPU.xlsx", "n'est pas un classeur Excel (.xlsx) : son contenu est un document "),
        (make_zip({"a.txt": b"x"}), "offre.docx", "son contenu est une archive zip. Enregistrez "),
        (
            b"%PDF-1.7 rc",
            "offre.docx",
            "n'est pas un document Word (.docx) : son contenu est un PDF",
        ),
        (JPEG, "plan.png", "n'est pas une image PNG : son contenu est une image JPEG."),
        (
            xlsx(),
            "CCTP.odt",
            "n'est pas un texte OpenDocument (.odt) : son contenu est un classeur",
        ),
        (
            bytes(range(256)),
            "notes.txt",
            "n'est pas du texte : son contenu est d'un format inconnu",
        ),
        (b"MZ\x90\x00\x03" + bytes(60), "facture.pdf", "son contenu est d'un autre format ("),
        (b"", "vide.pdf", "n'est pas un PDF : son contenu est vide."),
        (b"texte", "scan.tiff", "n'est pas une image TIFF : son contenu est du texte."),
    ],
)
def test_a_content_that_is_not_what_its_name_says_is_refused_naming_it(data, name, said):
    message = refused(data, name)
    assert message.startswith(f"Le fichier « {name} » n'est pas ")
    assert said in message
    assert message.endswith("puis déposez à nouveau le fichier.")


# --- Anything that opens as a zip is inspected as one --------------------------------------


@pytest.mark.parametrize("name", ["dce.zip", "dce.bin", "RC.pdf", "sans-extension"])
def test_a_zip_behind_one_junk_byte_is_found_and_refused(name):
    """Seen as octet-stream on main, so no zip check ran; zip tools open it all the same."""
    hostile = b"\x00" + make_zip({"../../../evil.bat": b"@echo off"})
    assert zipfile.ZipFile(io.BytesIO(hostile)).namelist() == ["../../../evil.bat"]
    assert refused(hostile, name) == (
        f"Le fichier « {name} » cache une archive zip derrière 1 octet d'un autre contenu : un "
        "fichier ne doit avoir qu'un seul format. Déposez à part le document et l'archive."
    )


def test_a_pdf_with_a_zip_appended_is_refused():
    polyglot = real_pdf() + make_zip({"evil.bat": b"@echo off"})
    assert refused(polyglot, "RC.pdf").startswith(
        f"Le fichier « RC.pdf » cache une archive zip derrière {len(real_pdf())} octets d'un "
        "autre contenu (un PDF) : un fichier ne doit avoir qu'un seul format."
    )
    appended = make_zip({"RC.pdf": real_pdf()}) + real_pdf()
    assert "contient une archive zip suivie de" in refused(appended, "dce.zip")


def test_a_file_that_starts_as_a_zip_but_is_none_is_refused():
    truncated = make_zip({"RC.pdf": real_pdf()})[:-30]
    assert "commence comme une archive zip mais n'en est pas une lisible" in refused(
        truncated, "notes"
    )


@pytest.mark.parametrize(
    ("name", "introduced"),
    [
        ("offre.docx", "Le document « offre.docx » est refusé."),
        ("dce.zip", "L'archive « dce.zip » est refusée."),
    ],
)
def test_an_office_document_is_inspected_like_any_archive(name, introduced):
    """[Content_Types].xml made it "Word" on main, and nothing in it was looked at."""
    traversal = docx(("../../../evil.bat", b"@echo off"))
    assert refused(traversal, name) == (
        f"{introduced} « ../../../evil.bat » remonte dans l'arborescence (« .. »)."
    )
    started = time.monotonic()
    bomb = bomb_docx()
    assert len(bomb) < 400 * 1024
    message = refused(bomb, name)
    assert "« word/media/bombe.bin » se décompresse plus de 100 fois sa taille" in message
    assert time.monotonic() - started < 30  # refused after the first megabytes


def test_a_hidden_local_entry_in_an_office_document_is_refused():
    package = hide_entry(docx(("evil.sh", b"#!/bin/sh\n")), "evil.sh")
    assert refused(package, "offre.docx").startswith(
        "Le document « offre.docx » est refusé. « evil.sh » est dans l'archive sans figurer "
        "dans son répertoire central"
    )


# --- Files inside archives -----------------------------------------------------------------


def test_files_of_a_zip_must_be_what_their_names_say():
    dce = make_zip({"Pièces/RC.pdf": real_pdf(), "Pièces/faux.pdf": TEXT})
    assert refused(dce, "dce.zip") == (
        "L'archive « dce.zip » est refusée. Le fichier « Pièces/faux.pdf » n'est pas un PDF : "
        "son contenu est du texte. Enregistrez le document au format PDF puis recréez l'archive."
    )


def test_archives_inside_archives_are_inspected_to_a_depth():
    inner = make_zip({"../x.txt": b"x"})
    assert refused(make_zip({"Annexes/annexes.zip": inner}), "dce.zip") == (
        "L'archive « dce.zip » est refusée. L'archive « Annexes/annexes.zip » est refusée. "
        "« ../x.txt » remonte dans l'arborescence (« .. »)."
    )
    # A DCE zip › a folder zip › a Word document › the workbook embedded in it: accepted.
    offer = docx(("word/embeddings/Feuille.xlsx", xlsx()))
    nested = make_zip({"Dossier/lot1.zip": make_zip({"offre.docx": offer})})
    assert [member.path for member in check_file(nested, "dce.zip").members] == ["Dossier/lot1.zip"]
    deeper = make_zip({"encore.zip": nested})
    assert "est une archive contenue dans plus de 3 autres" in refused(deeper, "dce.zip")


def test_the_parts_of_an_office_document_and_macos_leftovers_are_not_judged_by_name():
    """Word's own parts are Word's business; "._" files are the metadata macOS adds."""
    assert check_file(docx(("word/media/image1.png", JPEG)), "offre.docx").kind is filetype.WORD
    apple = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X" + bytes(60)
    dce = make_zip({"DCE/RC.pdf": real_pdf(), "__MACOSX/DCE/._RC.pdf": apple})
    assert len(check_file(dce, "dce.zip").members) == 2


# --- Through the real paths: DCE, attachment, replies ---------------------------------------


@pytest.fixture
def consultation(store) -> int:
    deadline = datetime(2027, 2, 14, 11, 0, tzinfo=UTC)
    (cid,) = add_consultations(
        store, [("2027FT", "Types de fichiers", ConsultationStatus.OPEN, deadline)]
    )
    return cid


def test_the_dce_refuses_what_is_not_what_it_claims_and_stores_nothing(
    store, consultation, tmp_path
):
    blobs = BlobStore(tmp_path / "documents")

    def save(file: NewFile) -> object:
        changes = DceChanges.starting_from(
            current_dce(store, consultation, actor="marie.dupont")
        ).add(file)
        return save_dce_changes(store, blobs, consultation, changes, actor="marie.dupont")

    for file, message in [
        (NewFile("faux.pdf", TEXT), FAUX_PDF),
        (NewFile("dce.zip", measured_dce_v1()), "« ../../../evil.bat » remonte"),
        (NewFile("dce.zip", b"\x00" + make_zip({"RC.pdf": real_pdf()})), "cache une archive"),
        (NewFile("RC.pdf", real_pdf() + make_zip({"x.bat": b"x"})), "cache une archive zip"),
    ]:
        with pytest.raises(DceError) as caught:
            save(file)
        assert message in caught.value.message
    assert current_dce(store, consultation, actor="marie.dupont") is None
    assert not blobs.root.exists()
    version = save(NewFile("Mémoire.docx", docx()))
    assert [piece.path for piece in version.pieces] == ["Mémoire.docx"]


def test_the_measured_dce_v1_is_refused_whatever_its_name(store, consultation, tmp_path):
    for name in ("dce.zip", "dce.docx", "DCE"):
        changes = DceChanges.starting_from(None).add(NewFile(name, measured_dce_v1()))
        with pytest.raises(DceError, match=r"« \.\./\.\./\.\./evil\.bat » remonte"):
            save_dce_changes(
                store, BlobStore(tmp_path / "d"), consultation, changes, actor="marie.dupont"
            )
    with store.engine.connect() as connection:
        versions = connection.execute(sa.select(sa.func.count()).select_from(table_of(DceVersion)))
        assert versions.scalar() == 0


@pytest.mark.services  # the tests' clamd
def test_an_attachment_that_is_not_what_it_claims_is_refused(store, consultation):
    for name, data, message in [
        ("faux.pdf", TEXT, FAUX_PDF),
        ("annexes.zip", b"\x00" + make_zip({"a.pdf": real_pdf()}), "cache une archive zip"),
        ("offre.docx", docx(("../evil.bat", b"x")), "« ../evil.bat » remonte"),
    ]:
        with pytest.raises(AntivirusRefusal) as caught:
            take_attachment(
                store,
                filename=name,
                data=data,
                options=intake(),
                consultation_id=consultation,
                actor="marie.dupont",
            )
        assert message in str(caught.value)
    assert document_space(store, consultation, actor="marie.dupont") == ()
    kept = take_attachment(
        store,
        filename="RC.pdf",
        data=real_pdf(),
        options=intake(),
        consultation_id=consultation,
        actor="marie.dupont",
    )
    assert kept.media_type == "application/pdf"


@pytest.mark.services  # the tests' clamd
def test_replies_by_page_or_e_mail_meet_the_same_check():
    """The page and the mail listener both take files through check_attachment: a refusal
    is an AntivirusRefusal, which the page shows and the listener sets aside, named."""
    for clamd in (intake().clamd, None):
        with pytest.raises(AntivirusRefusal, match=FAUX_PDF):
            check_attachment(TEXT, "faux.pdf", clamd)
        assert check_attachment(real_pdf(), "kbis.pdf", clamd) is not None


@pytest.mark.services  # builds the demo once per run
def test_every_file_of_the_demo_is_accepted(demo_url):
    """The demo's DCE pieces (zips and their files), letters and replies' files."""
    demo = open_store(demo_url, documents_dir=demo_documents(demo_url))
    document = table_of(Document)
    with demo.engine.connect() as connection:
        rows = connection.execute(
            sa.select(document.c.filename, document.c.sha256, document.c.origin).distinct()
        ).all()
    demo.close()
    blobs = BlobStore(demo_documents(demo_url))
    origins = {DocumentOrigin(row.origin) for row in rows}
    assert {DocumentOrigin.DCE, DocumentOrigin.REPLY} <= origins
    for row in rows:
        check_file(blobs.read(row.sha256), row.filename)


# --- Any bytes, any name: an answer or a French refusal -----------------------------------

NAMES = st.sampled_from(
    ["RC.pdf", "dce.zip", "offre.docx", "BPU.xlsx", "CCTP.odt", "notes.txt", "plan.png", "x"]
) | st.text(max_size=30)
SEEDS = st.sampled_from([b"", PNG, JPEG, OLE, b"%PDF-1.7\n", make_zip({"a.txt": b"a"}), docx()])


@settings(max_examples=examples(500), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048), NAMES)
def test_any_bytes_are_accepted_or_refused_in_french(data, name):
    try:
        assert isinstance(check_file(data, name).kind, filetype.Kind)
    except FileRefused as refusal:
        assert refusal.message.endswith(".")


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=64), SEEDS, st.binary(max_size=64), NAMES)
def test_any_bytes_around_a_known_format_are_accepted_or_refused(before, seed, after, name):
    try:
        check_file(before + seed + after, name)
    except FileRefused as refusal:
        assert refusal.message.endswith(".")
