"""The demo's documents as rows: DCE versions written as `models.dce.save_dce_changes` writes
them, and the files joined to replies as `models.inbound.record_reply` keeps them.

The rows go into the builder's tables, the bytes into `files` (by SHA-256): `seed_demo` puts
them in the store's blob store. The changes of a DCE version are staged with the app's own
`DceChanges`, so that a version lists its pieces, kept or new, exactly as the app would.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from messagerie.models.consultations.dce import (
    ACTION_VERSION,
    DceChanges,
    DceVersionView,
    NewFile,
    PieceView,
)
from messagerie.models.rules.zipcheck import DEFAULT_LIMITS, read_members
from messagerie.models.store import audit
from messagerie.models.store.blobs import sha256_hex
from messagerie.models.store.documents import ZIP, NewDocument, StoredBytes, detect_media_type
from messagerie.models.store.enums import AntivirusVerdict, DocumentOrigin

Rows = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class _Piece:
    """A piece of the version being written: its path, document and children."""

    path: str
    document: int
    children: tuple[_Piece, ...] = ()


class DemoDocuments:
    """Writes document, dce_version, dce_piece and audit rows into `tables`."""

    def __init__(self, tables: Rows, files: dict[str, bytes]) -> None:
        self.tables = tables
        self.files = files

    def add(
        self,
        file: NewFile,
        *,
        origin: DocumentOrigin,
        consultation_id: int,
        actor: str,
        at: datetime,
        antivirus: AntivirusVerdict,
    ) -> int:
        """A document row for `file` (its bytes kept for the blob store); returns its id."""
        sha256 = sha256_hex(file.data)
        self.files[sha256] = file.data
        stored = StoredBytes(sha256, len(file.data), detect_media_type(file.data, file.filename))
        document = NewDocument(
            stored=stored,
            filename=file.filename,
            origin=origin,
            consultation_id=consultation_id,
            actor=actor,
            antivirus=antivirus,
            created_at=at,
        )
        document_id = len(self.tables["document"]) + 1
        self.tables["document"].append({"id": document_id, **document.row()})
        return document_id

    def save_dce(
        self,
        consultation_id: int,
        changes: DceChanges,
        *,
        at: datetime,
        author: str,
        comment: str | None = None,
    ) -> DceVersionView:
        """Version N+1 of the DCE, with every piece it lists, and its audit row.

        As the app records it: new files (and each file of a new zip) get document rows of
        origin DCE, not scanned; kept pieces point at the documents they had.
        """
        number = (changes.base_version or 0) + 1
        version_id = len(self.tables["dce_version"]) + 1
        self.tables["dce_version"].append(
            {
                "id": version_id,
                "consultation_id": consultation_id,
                "number": number,
                "created_at": at,
                "author": author,
                "comment": (comment or "").strip() or None,
            }
        )
        pieces = []
        for entry in changes.entries:
            if entry.file is not None:
                pieces.append(self._new_piece(entry.file, consultation_id, author, at))
            else:
                assert entry.piece is not None
                pieces.append(_kept(entry.piece))
        views = self._write_pieces(version_id, pieces)
        self.tables["audit_log"] += audit.rows(
            action=ACTION_VERSION,
            actor=author,
            at=at,
            consultation_id=consultation_id,
            detail=self._version_detail(number, changes, pieces),
        )
        return DceVersionView(number, at, author, (comment or "").strip() or None, views)

    def _new_piece(self, file: NewFile, consultation_id: int, author: str, at: datetime) -> _Piece:
        def document(filename: str, data: bytes) -> int:
            return self.add(
                NewFile(filename, data),
                origin=DocumentOrigin.DCE,
                consultation_id=consultation_id,
                actor=author,
                at=at,
                antivirus=AntivirusVerdict.NOT_SCANNED,
            )

        top = document(file.filename, file.data)
        children: tuple[_Piece, ...] = ()
        if detect_media_type(file.data, file.filename) == ZIP:
            children = tuple(
                _Piece(member.path, document(posixpath.basename(member.path), data))
                for member, data in read_members(file.data, DEFAULT_LIMITS)
            )
        return _Piece(file.filename, top, children)

    def _write_pieces(self, version_id: int, pieces: list[_Piece]) -> tuple[PieceView, ...]:
        """Top-level pieces first, then their children (the app's two inserts), as views."""
        rows = self.tables["dce_piece"]

        def row(piece: _Piece, parent: int | None, position: int) -> PieceView:
            piece_id = len(rows) + 1
            rows.append(
                {
                    "id": piece_id,
                    "version_id": version_id,
                    "document_id": piece.document,
                    "parent_id": parent,
                    "path": piece.path,
                    "position": position,
                }
            )
            document = self.tables["document"][piece.document - 1]
            return PieceView(
                piece_id,
                piece.path,
                document["size"],
                document["sha256"],
                document["media_type"],
                piece.document,
            )

        tops = [row(piece, None, position) for position, piece in enumerate(pieces)]
        return tuple(
            replace(top, children=tuple(row(child, top.id, n) for n, child in enumerate(kids)))
            for top, kids in zip(tops, (piece.children for piece in pieces), strict=True)
        )

    def _version_detail(self, number: int, changes: DceChanges, pieces: list[_Piece]) -> str:
        """The audit text save_dce_changes writes: the version, each change, new SHA-256."""
        fingerprints = [
            f"SHA-256 de {piece.path} : {self.tables['document'][piece.document - 1]['sha256']}"
            for piece, entry in zip(pieces, changes.entries, strict=True)
            if entry.file is not None
        ]
        base = f"version {changes.base_version}" if changes.base_version else "aucun DCE"
        return "\n".join(
            [f"Version {number} du DCE (base : {base})", *changes.summary(), *fingerprints]
        )


def _kept(piece: PieceView) -> _Piece:
    return _Piece(piece.path, piece.document_id, tuple(_kept(child) for child in piece.children))
