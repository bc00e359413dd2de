"""What names a consultation wherever it is shown or printed: the "Référence | Intitulé",
"Objet" and "Organisme | Entité d'achat" lines of the platform's context block, of every
letter, AR and Q/A document, of the dashboard's rows and of the screens' titles.

Plain data, no SQL (the start-up snapshot reads it before SQLAlchemy is imported): how a
query reads it is in `identity_query`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConsultationIdentity:
    reference: str
    title: str
    object: str
    organisation: str
    entity: str  # the purchasing entity ("entité d'achat") within the organisation

    @property
    def reference_and_title(self) -> str:
        """The "Référence | Intitulé" line, as the platform prints it in titles and lists."""
        return f"{self.reference} | {self.title}"

    @property
    def publisher(self) -> str:
        """The "Organisme | Entité d'achat" line."""
        return f"{self.organisation} | {self.entity}"
