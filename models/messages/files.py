"""The files of a message being written: attachments, sent to every recipient, and the
generated letters, each sent to one recipient only. The form lists both in one box; they
stay two collections, so that removing a line never has to work out which one it was in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from messagerie.models.messages.form import (
    Askers,
    AttachedText,
    FormInput,
    LetterBasis,
    attachment_leaks,
)
from messagerie.models.rules.document_text import document_text
from messagerie.models.store.blobs import BlobCorrupted, BlobStore
from messagerie.models.store.database import Store
from messagerie.models.store.documents import DocumentInfo, document_infos

T = TypeVar("T")


@dataclass(frozen=True)
class MessageFiles:
    attachments: tuple[DocumentInfo, ...] = ()
    letters: tuple[tuple[str, DocumentInfo], ...] = ()  # (recipient, its own letter)
    letters_basis: LetterBasis | None = None  # the form they were drawn from

    def holds(self, document: DocumentInfo) -> bool:
        """Already attached: the same stored document, or the same bytes under another name."""
        return any(d.id == document.id or d.sha256 == document.sha256 for d in self.attachments)

    def attach(self, document: DocumentInfo) -> MessageFiles:
        return replace(self, attachments=(*self.attachments, document))

    def without_attachment(self, index: int) -> MessageFiles:
        return replace(self, attachments=_without(self.attachments, index))

    def without_letter(self, index: int) -> MessageFiles:
        return replace(self, letters=_without(self.letters, index))

    def with_letters(
        self, letters: Iterable[tuple[str, DocumentInfo]], basis: LetterBasis
    ) -> MessageFiles:
        """Generated again: the new letters, drawn from `basis`, replace the earlier ones."""
        return replace(self, letters=tuple(letters), letters_basis=basis)

    @property
    def attachment_ids(self) -> tuple[int, ...]:
        return tuple(document.id for document in self.attachments)

    @property
    def letter_ids(self) -> tuple[tuple[str, int], ...]:
        return tuple((email, document.id) for email, document in self.letters)


def load_message_files(store: Store, form: FormInput, *, actor: str) -> MessageFiles:
    """The files of a saved draft (a document no longer stored, or not `actor`'s to see,
    is left out)."""
    attachments = document_infos(store, form.attachment_ids, actor=actor)
    letter_ids = [i for _, i in form.letters]
    documents = {d.id: d for d in document_infos(store, letter_ids, actor=actor)}
    letters = tuple((email, documents[i]) for email, i in form.letters if i in documents)
    return MessageFiles(attachments, letters, form.letters_basis)


def read_attachments(
    store: Store, documents: Iterable[DocumentInfo], askers: Askers = ()
) -> tuple[AttachedText, ...]:
    """What each document says, for rule 4 (`check_form`'s readings). A blob missing or
    altered reads as nothing here: sending it is refused where it is read for the mail.
    With `askers` (the context's), what identifies them is looked for at once, off the
    screen's thread, so that the live checks find it done."""
    readings = []
    for document in documents:
        try:
            text = _text_of(store.blobs.root, document.sha256, document.media_type)
        except (BlobCorrupted, OSError):  # missing, altered, or a folder not readable
            text = None
        reading = AttachedText(document.id, document.filename, document.sha256, text)
        if text and askers:
            attachment_leaks(reading, askers)
        readings.append(reading)
    return tuple(readings)


def merged_readings(
    kept: tuple[AttachedText, ...], read: Iterable[AttachedText]
) -> tuple[AttachedText, ...]:
    """`kept` and the readings of `read` whose document is not among them: one reading a
    document (a reading cancelled by a newer one may still arrive)."""
    return tuple({reading.document_id: reading for reading in (*read, *kept)}.values())


@lru_cache(maxsize=8)
def _text_of(documents: Path, sha256: str, media_type: str) -> str | None:
    """A stored file's text, read once: the form reads it when it is attached, Envoyer
    again (a 40-page PDF takes over a second, bench/message_form.py). Its bytes cannot
    change under their SHA-256; a blob missing or altered raises, and is not kept."""
    return document_text(BlobStore(documents).read(sha256), media_type)


def _without(items: tuple[T, ...], index: int) -> tuple[T, ...]:
    return items[:index] + items[index + 1 :]
