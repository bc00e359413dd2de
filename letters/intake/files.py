"""Taking in an attachment of the message form: size, name, antivirus, type, store.

A file is stored only once clamd has called it clean, or when the antivirus was turned off
deliberately (MESSAGERIE_CLAMD=off: the document is then "non analysé" wherever it appears),
and once its content is what its name says, any archive in it inspected
(models.rules.filetype).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from messagerie.letters.intake.antivirus import ClamdAddress, check_attachment, parse_clamd_address
from messagerie.models.errors import os_problem
from messagerie.models.formatting import MEGABYTE, size_text
from messagerie.models.store.accounts import authorize
from messagerie.models.store.database import Store
from messagerie.models.store.documents import (
    DocumentInfo,
    DocumentRefused,
    check_filename,
    store_document,
)
from messagerie.models.store.enums import DocumentOrigin, Right

DEFAULT_MAX_BYTES = 20 * MEGABYTE


@dataclass(frozen=True)
class IntakeOptions:
    """The antivirus address (None: "off") and the size limit of one attachment."""

    clamd: ClamdAddress | None = None
    max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def from_settings(cls, clamd: str, max_megabytes: float) -> IntakeOptions:
        return cls(parse_clamd_address(clamd), int(max_megabytes * MEGABYTE))

    @property
    def limit_text(self) -> str:
        """The size limit as every place states it (« 20 Mo »)."""
        return size_text(self.max_bytes)


def check_size(filename: str, size: int, options: IntakeOptions) -> None:
    if size > options.max_bytes:
        raise DocumentRefused(
            f"Le fichier « {filename} » pèse {size_text(size)} : la limite est de "
            f"{options.limit_text} par pièce jointe."
        )


def read_attachment(path: Path, options: IntakeOptions) -> bytes:
    """The file's bytes, or DocumentRefused (French) when it cannot or must not be read."""
    try:
        check_size(path.name, path.stat().st_size, options)
        return path.read_bytes()
    except OSError as error:
        raise DocumentRefused(
            f"Le fichier « {path.name} » ne peut pas être lu ({os_problem(error)})."
        ) from error


def take_attachment(
    store: Store,
    *,
    filename: str,
    data: bytes,
    options: IntakeOptions,
    consultation_id: int,
    actor: str,
) -> DocumentInfo:
    """Scan the file and check that it is what its name says (check_attachment: the check of
    every file that comes in, replies included), then store it as an attachment of the
    consultation's document space — once `actor` may send messages on that consultation
    (refused before the file is scanned or stored)."""
    with store.engine.connect() as connection:
        authorize(connection, actor, Right.SEND, consultation_id)
    check_filename(filename)
    check_size(filename, len(data), options)
    if not data:
        raise DocumentRefused(f"Le fichier « {filename} » est vide.")
    verdict = check_attachment(data, filename, options.clamd)
    return store_document(
        store,
        store.blobs,
        filename=filename,
        data=data,
        origin=DocumentOrigin.ATTACHMENT,
        consultation_id=consultation_id,
        actor=actor,
        antivirus=verdict,
    )


def attach_file(
    store: Store, path: Path, *, options: IntakeOptions, consultation_id: int, actor: str
) -> DocumentInfo:
    return take_attachment(
        store,
        filename=path.name,
        data=read_attachment(path, options),
        options=options,
        consultation_id=consultation_id,
        actor=actor,
    )
