"""The "Questions / Réponses" document a buyer adds to the DCE to answer every candidate.

Guide, case A: copy the question, anonymise it, add the answer, save as PDF; a later
document replaces the earlier one ("Version n°2"). LEGAL.md rule 4: the questions and the
answers come here already anonymised (the editor checks both with
`models.rules.anonymise.identity_leaks`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from messagerie.letters.pdf.render import render_pdf
from messagerie.models.consultations.identity import ConsultationIdentity

TEMPLATE = "questions_reponses.html"


@dataclass(frozen=True)
class QaItem:
    number: int
    question: str  # already anonymised by the buyer
    answer: str  # so is the answer: it goes to every candidate too
    asked_at: datetime | None = None


@dataclass(frozen=True)
class QaDocument:
    consultation: ConsultationIdentity
    bid_deadline: datetime
    items: tuple[QaItem, ...]
    issued_at: datetime  # "Document mis à jour le …"
    version: int = 1  # "Version n°2" when it replaces an earlier Q/A document

    def __post_init__(self) -> None:
        if self.version < 1:
            raise ValueError(f"version must be 1 or more, not {self.version}")


def qa_context(document: QaDocument) -> dict[str, Any]:
    """What `questions_reponses.html` reads."""
    issued = (
        document.issued_at if document.issued_at.tzinfo else document.issued_at.replace(tzinfo=UTC)
    )
    return {
        **asdict(document.consultation),  # reference, title, object, organisation, entity
        "bid_deadline": document.bid_deadline,
        "items": document.items,
        "issued_at": document.issued_at,
        "version": document.version,
        # The PDF's creation date is the document's date, so the same document gives the same
        # bytes whenever it is rendered.
        "created_w3c": issued.replace(microsecond=0).isoformat(),
    }


def render_qa_document(document: QaDocument) -> bytes:
    """The PDF of the Q/A document."""
    return render_pdf(TEMPLATE, qa_context(document))


_UNSAFE = re.compile(r"[^A-Za-z0-9._]+")


def qa_filename(reference: str, version: int) -> str:
    """A safe ASCII file name: "Questions-reponses_202601_v2.pdf"."""
    ascii_reference = (
        unicodedata.normalize("NFKD", reference.replace("°", "o"))
        .encode("ascii", "ignore")
        .decode("ascii")
    )
    safe = _UNSAFE.sub("-", ascii_reference)[:60].strip(".-_") or "consultation"
    return f"Questions-reponses_{safe}_v{version}.pdf"
