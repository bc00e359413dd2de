"""What reading an attached file costs (LEGAL rule 4 looks for the askers in it), for a
buyer's Q/A document and for files built to make a reader work without end.

- a Q/A PDF of `--pages` pages, as weasyprint writes one;
- a PDF whose 300 pages share one content stream that draws nothing (pypdf reads it again on
  every page, and no text ever reaches the character bound);
- a PDF whose 300 pages call one form XObject 5,000 times each;
- a Word file whose 8 MB document part holds a "<" never closed, then words.
Not a test: it prints medians (the hostile ones: one run, they are long by design).

    python bench/attachment_text.py [--pages 40] [--runs 5] [--hostile-pages 300]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
import zipfile
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable from anywhere

from messagerie.models.rules.document_text import document_text
from messagerie.models.store.documents import DOCX, PDF

FONT = b"/Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >>"


def qa_pdf(pages: int) -> bytes:
    from weasyprint import HTML

    body = "".join(
        f'<h2 style="page-break-before: always">Question {n}</h2><p>'
        + "Le candidat demande si la variante est autorisée pour ce lot. " * 40
        + "</p><p>Réponse : oui, dans les conditions du règlement de consultation.</p>"
        for n in range(1, pages + 1)
    )
    return HTML(string=f"<html><body>{body}</body></html>").write_pdf()


def raw_pdf(page_content: bytes, pages: int, form: bytes | None = None) -> bytes:
    """A PDF of `pages` pages sharing one content stream (and one form XObject, if given)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    first_page = 5 if form is not None else 4
    kids = " ".join(f"{first_page + n} 0 R" for n in range(pages)).encode()
    objects.append(b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages)
    objects.append(_stream(page_content))
    resources = b"<< " + FONT + b" >>"
    if form is not None:
        objects.append(_stream(form, b"/Type /XObject /Subtype /Form /BBox [0 0 600 800] "
                               b"/Resources << " + FONT + b" >>"))  # fmt: skip
        resources = b"<< /XObject << /X0 4 0 R >> " + FONT + b" >>"
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 600 800] /Contents 3 0 R /Resources "
    objects += [page + resources + b" >>"] * pages
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    return bytes(out + b"startxref\n%d\n%%%%EOF\n" % xref)


def _stream(data: bytes, keys: bytes = b"") -> bytes:
    packed = zlib.compress(data, 9)
    head = b"<< " + keys + b"/Length %d /Filter /FlateDecode >>\nstream\n" % len(packed)
    return head + packed + b"\nendstream"


def unclosed_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:t" + "<abc " * 1_600_000)
    return buffer.getvalue()


def seconds(data: bytes, kind: str, runs: int) -> tuple[float, int]:
    timings, length = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        length = len(document_text(data, kind) or "")
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), length


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for option, default in (("--pages", 40), ("--runs", 5), ("--hostile-pages", 300)):
        parser.add_argument(option, type=int, default=default)
    options = parser.parse_args()
    hostile = options.hostile_pages
    drawing_nothing = b"BT /F1 12 Tf () Tj ET\n"
    stream = raw_pdf(drawing_nothing * 270_000, hostile)
    forms = raw_pdf(b"q /X0 Do Q\n" * 5000, hostile, drawing_nothing * 4500)
    cases = (
        (f"Q/A PDF, {options.pages} pages", qa_pdf(options.pages), PDF, options.runs),
        (f"{hostile} pages, one 6 MB stream", stream, PDF, 1),
        (f"{hostile} pages x 5,000 forms", forms, PDF, 1),
        ("docx, an unclosed tag", unclosed_docx(), DOCX, 1),
    )
    for label, data, kind, runs in cases:
        taken, length = seconds(data, kind, runs)
        print(f"{label + ':':32}{len(data):>10,} bytes {taken:8.2f} s {length:>10,} characters")


if __name__ == "__main__":
    main()
