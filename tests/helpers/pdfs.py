"""Reading back the PDFs the application writes, with pypdf, as a reader's tool would."""

from __future__ import annotations

import io

import pypdf


def pdf_text(pdf: bytes) -> str:
    """The document's text with one space between words (extraction wraps lines anywhere)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())
