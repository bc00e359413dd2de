"""The DCE of a consultation: its versions, staged changes, deadline changes and rule 3.

Every validated change of the DCE adds a version listing all its pieces; unchanged pieces
point at the same documents, so earlier versions stay whole and readable (history is never
overwritten). Files inside a zip piece are stored as their own documents and listed as
children of the zip's piece, as the platform shows them (guide, case C).
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from messagerie.models.consultations.detail import lock_consultation
from messagerie.models.errors import Refusal
from messagerie.models.formatting import as_utc, paris_as_typed, paris_minutes
from messagerie.models.rules import filetype
from messagerie.models.rules.checks import WRITTEN_OUT, written_reason
from messagerie.models.rules.zipcheck import DEFAULT_LIMITS, ZipLimits, read_members
from messagerie.models.store import audit
from messagerie.models.store.accounts import authorize, authorize_reading
from messagerie.models.store.blobs import BlobStore
from messagerie.models.store.database import Store
from messagerie.models.store.documents import (
    FILENAME_MAX,
    ZIP,
    DocumentRefused,
    NewDocument,
    check_filename,
    detect_media_type,
    insert_documents,
    put_bytes,
)
from messagerie.models.store.engine import unique_key_refused
from messagerie.models.store.enums import DocumentOrigin, Right
from messagerie.models.store.rows import from_row
from messagerie.models.store.tables import consultation as consultation_table
from messagerie.models.store.tables import (
    dce_piece,
    dce_version,
    deadline_change,
    utc_now,
)
from messagerie.models.store.tables import document as document_table

PATH_MAX = 500  # DcePiece.path
ACTION_VERSION = "dce.version"
ACTION_DEADLINE = "consultation.deadline"


class DceError(Refusal):
    """A DCE or deadline change that is refused; the message (French) says why and what to do."""


class DceConflict(DceError):
    """Someone saved another version of the DCE after these changes were started."""


# --- Views -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PieceView:
    id: int
    path: str
    size: int
    sha256: str
    media_type: str
    document_id: int
    children: tuple[PieceView, ...] = ()


@dataclass(frozen=True)
class DceVersionView:
    number: int
    created_at: datetime
    author: str
    comment: str | None
    pieces: tuple[PieceView, ...]


@dataclass(frozen=True)
class DeadlineChangeView:
    previous_deadline: datetime
    new_deadline: datetime
    reason: str
    at: datetime
    author: str


def current_dce(store: Store, consultation_id: int, *, actor: str) -> DceVersionView | None:
    """The latest version of the DCE, or None if it was never set; ConsultationNotFound for a
    consultation `actor` does not see, as for one that does not exist."""
    with store.engine.connect() as connection:
        authorize_reading(connection, actor, consultation_id)
        return _latest_version(connection, consultation_id)


def dce_history(store: Store, consultation_id: int, *, actor: str) -> tuple[DceVersionView, ...]:
    """Every version, newest first, each with its full list of pieces (as `current_dce`)."""
    with store.engine.connect() as connection:
        authorize_reading(connection, actor, consultation_id)
        return dce_versions(connection, consultation_id)


def dce_versions(connection: Connection, consultation_id: int) -> tuple[DceVersionView, ...]:
    """`dce_history` for a caller that checked the account already (the proof bundle)."""
    return _load_versions(connection, consultation_id)


def deadline_history(
    store: Store, consultation_id: int, *, actor: str
) -> tuple[DeadlineChangeView, ...]:
    """The changes of the bid deadline, newest first, with their reasons, for an `actor` who
    sees the consultation (ConsultationNotFound otherwise, as for one that does not exist)."""
    with store.engine.connect() as connection:
        authorize_reading(connection, actor, consultation_id)
        return deadline_changes(connection, consultation_id)


def deadline_changes(
    connection: Connection, consultation_id: int
) -> tuple[DeadlineChangeView, ...]:
    """`deadline_history` for a caller that checked the account already (the proof bundle)."""
    columns = [deadline_change.c[name] for name in DeadlineChangeView.__dataclass_fields__]
    rows = connection.execute(
        sa.select(*columns)
        .where(deadline_change.c.consultation_id == consultation_id)
        .order_by(deadline_change.c.at.desc(), deadline_change.c.id.desc())
    ).all()
    return tuple(from_row(DeadlineChangeView, row) for row in rows)


def _latest_version(connection: Connection, consultation_id: int) -> DceVersionView | None:
    versions = _load_versions(connection, consultation_id, latest_only=True)
    return versions[0] if versions else None


def _load_versions(
    connection: Connection, consultation_id: int, *, latest_only: bool = False
) -> tuple[DceVersionView, ...]:
    query = (
        sa.select(dce_version)
        .where(dce_version.c.consultation_id == consultation_id)
        .order_by(dce_version.c.number.desc())
    )
    versions = connection.execute(query.limit(1) if latest_only else query).all()
    if not versions:
        return ()
    pieces = _load_pieces(connection, [version.id for version in versions])
    return tuple(
        from_row(DceVersionView, version, pieces=pieces.get(version.id, ())) for version in versions
    )


def _load_pieces(
    connection: Connection, version_ids: list[int]
) -> dict[int, tuple[PieceView, ...]]:
    """The top-level pieces of each version, with their children, in their order."""
    rows = connection.execute(
        sa.select(
            dce_piece.c.id,
            dce_piece.c.version_id,
            dce_piece.c.parent_id,
            dce_piece.c.path,
            document_table.c.id.label("document_id"),
            document_table.c.sha256,
            document_table.c.size,
            document_table.c.media_type,
        )
        .join(document_table, document_table.c.id == dce_piece.c.document_id)
        .where(dce_piece.c.version_id.in_(version_ids))
        .order_by(dce_piece.c.version_id, dce_piece.c.position, dce_piece.c.id)
    ).all()
    tops: dict[int, list[Any]] = defaultdict(list)
    children: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        if row.parent_id is None:
            tops[row.version_id].append(row)
        else:
            children[row.parent_id].append(row)

    def view(row: Any) -> PieceView:
        return from_row(
            PieceView, row, children=tuple(view(child) for child in children.get(row.id, ()))
        )

    return {version_id: tuple(map(view, top_rows)) for version_id, top_rows in tops.items()}


# --- Staged changes -----------------------------------------------------------------------


@dataclass(frozen=True)
class NewFile:
    filename: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class _Entry:
    """One top-level piece of the DCE being prepared: kept, replaced or new."""

    piece: PieceView | None  # the piece of the base version it continues; None when added
    file: NewFile | None = None  # its new content; None when kept as it is
    whole_dce: bool = False  # the zip given to "Remplacer le DCE"

    @property
    def name(self) -> str:
        if self.file is not None:
            return self.file.filename
        assert self.piece is not None
        return self.piece.path


@dataclass(frozen=True)
class DceChanges:
    """The changes a buyer prepares on one version of the DCE, saved at once.

    Start from `DceChanges.starting_from(current_dce(...))`: the changes then know the pieces
    they act on. Immutable: each method returns new changes, or raises DceError (French) for a
    change that cannot be made, so the dialog can say so at once.
    """

    base_version: int | None
    base_pieces: tuple[PieceView, ...] = ()
    entries: tuple[_Entry, ...] = ()
    deleted: tuple[PieceView, ...] = ()

    @classmethod
    def starting_from(cls, version: DceVersionView | None) -> DceChanges:
        if version is None:
            return cls(base_version=None)
        return cls(
            base_version=version.number,
            base_pieces=version.pieces,
            entries=tuple(_Entry(piece=piece) for piece in version.pieces),
        )

    def add(self, file: NewFile) -> DceChanges:
        self._check_name_free(file.filename)
        return dataclasses.replace(self, entries=(*self.entries, _Entry(piece=None, file=file)))

    def delete(self, piece_id: int) -> DceChanges:
        index = self._index_of(piece_id)
        piece = self.entries[index].piece
        assert piece is not None
        return dataclasses.replace(
            self,
            entries=self.entries[:index] + self.entries[index + 1 :],
            deleted=(*self.deleted, piece),
        )

    def replace(self, piece_id: int, file: NewFile) -> DceChanges:
        index = self._index_of(piece_id)
        self._check_name_free(file.filename, ignoring=index)
        entry = dataclasses.replace(self.entries[index], file=file)
        return dataclasses.replace(
            self, entries=(*self.entries[:index], entry, *self.entries[index + 1 :])
        )

    def replace_all(self, zip_file: NewFile) -> DceChanges:
        """The platform's "Remplacer le DCE": the DCE becomes this zip, its files its children."""
        if detect_media_type(zip_file.data, zip_file.filename) != ZIP:
            raise DceError(
                f"« {zip_file.filename} » n'est pas une archive zip : « Remplacer le DCE » "
                "attend le DCE complet au format zip."
            )
        return dataclasses.replace(
            self, entries=(_Entry(piece=None, file=zip_file, whole_dce=True),), deleted=()
        )

    def is_empty(self) -> bool:
        return not self.deleted and all(entry.file is None for entry in self.entries)

    def summary(self) -> tuple[str, ...]:
        """The changes in French, one per line: "Ajout : RC_v2.pdf", "Suppression : CCAP.pdf"."""
        lines = []
        for entry in self.entries:
            if entry.whole_dce:
                lines.append(f"Remplacement du DCE : {entry.name}")
            elif entry.piece is None:
                lines.append(f"Ajout : {entry.name}")
            elif entry.file is not None:
                lines.append(f"Remplacement : {entry.piece.path} → {entry.name}")
        lines.extend(f"Suppression : {piece.path}" for piece in self.deleted)
        return tuple(lines)

    def new_files(self) -> tuple[NewFile, ...]:
        return tuple(entry.file for entry in self.entries if entry.file is not None)

    def _index_of(self, piece_id: int) -> int:
        for index, entry in enumerate(self.entries):
            if entry.piece is not None and entry.piece.id == piece_id:
                return index
        for piece in self.base_pieces:
            for child in piece.children:
                if child.id == piece_id:
                    raise DceError(
                        f"« {child.path} » fait partie de l'archive « {piece.path} » : "
                        "remplacez l'archive entière, ou tout le DCE."
                    )
        raise DceError("Cette pièce ne fait plus partie du DCE en préparation.")

    def _check_name_free(self, filename: str, ignoring: int | None = None) -> None:
        wanted = filename.casefold()
        for index, entry in enumerate(self.entries):
            if index != ignoring and entry.name.casefold() == wanted:
                raise DceError(
                    f"Le DCE contient déjà une pièce nommée « {entry.name} » : remplacez-la "
                    "plutôt que d'en ajouter une seconde."
                )


# --- Saving --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Planned:
    """A piece of the version being saved: an existing document, or one to insert."""

    path: str
    document: int | NewDocument
    children: tuple[_Planned, ...] = ()


def save_dce_changes(
    store: Store,
    blobs: BlobStore,
    consultation_id: int,
    changes: DceChanges,
    *,
    actor: str,
    comment: str | None = None,
    limits: ZipLimits = DEFAULT_LIMITS,
    within: Callable[[Connection], object] | None = None,
) -> DceVersionView:
    """Validate every new file, store them, and record version N+1 in one transaction, once
    `actor` may modify the DCE; `within` writes what goes with the version in the same one.

    Raises DceError (French) for a refused file or state, and DceConflict when another version
    was saved since `changes` were started; nothing is recorded then.
    """
    validate_dce_changes(store, consultation_id, changes, actor=actor, limits=limits)
    plan = tuple(
        _plan_entry(entry, blobs, consultation_id, actor, limits) for entry in changes.entries
    )
    with store.engine.begin() as connection:
        authorize(connection, actor, Right.DCE, consultation_id)
        version_id, number = _claim_version(connection, consultation_id, changes, actor, comment)
        _insert_pieces(connection, version_id, plan)
        audit.append(
            connection,
            action=ACTION_VERSION,
            actor=actor,
            consultation_id=consultation_id,
            detail=_version_detail(number, changes, plan),
        )
        if within is not None:
            within(connection)
        version = _latest_version(connection, consultation_id)
    assert version is not None and version.number == number
    return version


def validate_dce_changes(
    store: Store,
    consultation_id: int,
    changes: DceChanges,
    *,
    actor: str,
    limits: ZipLimits = DEFAULT_LIMITS,
) -> None:
    """Every check save_dce_changes makes before storing anything; stores nothing.

    Call it first when something else must happen only if the DCE can be saved (such as
    moving the bid deadline); save_dce_changes checks again anyway. `actor` must see the
    consultation and may modify its DCE, checked first: the conflict's refusal names the
    author of the current version, which another organisation must not read.
    """
    with store.engine.connect() as connection:  # refused before any file is read or stored
        authorize_reading(connection, actor, consultation_id, right=Right.DCE)
        _check_changes(connection, consultation_id, changes)
    for file in changes.new_files():
        check_new_file(file, limits)


def _check_changes(connection: Connection, consultation_id: int, changes: DceChanges) -> None:
    """Refuse, before any work, empty changes, an empty DCE or changes of another version."""
    if changes.is_empty():
        raise DceError("Aucune modification du DCE à enregistrer.")
    if not changes.entries:
        raise DceError(
            "Le DCE ne peut pas être vide : ajoutez au moins une pièce, ou remplacez le DCE."
        )
    current = _latest_version(connection, consultation_id)
    current_number = current.number if current else None
    if current_number != changes.base_version:
        raise _conflict(changes.base_version, current)
    if current and tuple(p.id for p in current.pieces) != tuple(p.id for p in changes.base_pieces):
        raise DceError(
            "Ces modifications n'ont pas été préparées à partir du DCE actuel : "
            "rechargez le DCE et refaites-les."
        )


def _conflict(base: int | None, current: Any) -> DceConflict:
    """The refusal of changes started on `base`; `current` is the latest version (or None)."""
    done_by = (
        f" (version {current.number}, enregistrée par {current.author} le "
        f"{paris_minutes(current.created_at)})"
        if current
        else ""
    )
    started = f"de la version {base}" if base else "d'un DCE vide"
    return DceConflict(
        f"Le DCE a été modifié entre-temps{done_by} alors que vos modifications partaient "
        f"{started}. Rien n'a été enregistré : rechargez le DCE et refaites vos modifications."
    )


def check_new_file(file: NewFile, limits: ZipLimits = DEFAULT_LIMITS) -> None:
    """Refuse a file (and, for a zip, any of its members) before anything is stored: when
    it is chosen, and again when the DCE is saved."""
    try:
        check_filename(file.filename)
    except DocumentRefused as error:
        raise DceError(error.message) from error
    if not file.data:
        raise DceError(f"Le fichier « {file.filename} » est vide.")
    try:  # its type, and any archive in it (the paths of its files must fit a DcePiece)
        checked = filetype.check_file(
            file.data,
            file.filename,
            dataclasses.replace(limits, max_path=PATH_MAX, max_name=FILENAME_MAX),
        )
    except filetype.FileRefused as error:
        raise DceError(error.message) from error
    if checked.kind is filetype.ZIP and not checked.members:
        raise DceError(f"L'archive « {file.filename} » ne contient aucun fichier.")


def _plan_entry(
    entry: _Entry, blobs: BlobStore, consultation_id: int, actor: str, limits: ZipLimits
) -> _Planned:
    """What the new version lists for one entry; new bytes go to the blob store now."""
    if entry.file is None:
        assert entry.piece is not None
        return _kept(entry.piece)
    return _new_piece(entry.file, blobs, consultation_id, actor, limits)


def _kept(piece: PieceView) -> _Planned:
    return _Planned(
        path=piece.path,
        document=piece.document_id,
        children=tuple(_kept(child) for child in piece.children),
    )


def _new_piece(
    file: NewFile, blobs: BlobStore, consultation_id: int, actor: str, limits: ZipLimits
) -> _Planned:
    def document(filename: str, data: bytes) -> NewDocument:
        return NewDocument(
            stored=put_bytes(blobs, data, filename),
            filename=filename,
            origin=DocumentOrigin.DCE,
            consultation_id=consultation_id,
            actor=actor,
        )

    top = document(file.filename, file.data)
    children: tuple[_Planned, ...] = ()
    if top.stored.media_type == ZIP:
        children = tuple(
            _Planned(path=member.path, document=document(posixpath.basename(member.path), data))
            for member, data in read_members(file.data, limits)
        )
    return _Planned(path=file.filename, document=top, children=children)


def _claim_version(
    connection: Connection,
    consultation_id: int,
    changes: DceChanges,
    actor: str,
    comment: str | None,
) -> tuple[int, int]:
    """Insert the next version row, if the DCE is still at `changes.base_version`."""
    lock_consultation(connection, consultation_id)
    current = connection.execute(
        sa.select(dce_version.c.number, dce_version.c.author, dce_version.c.created_at)
        .where(dce_version.c.consultation_id == consultation_id)
        .order_by(dce_version.c.number.desc())
        .limit(1)
    ).first()
    if (current.number if current else None) != changes.base_version:
        raise _conflict(changes.base_version, current)
    number = (current.number if current else 0) + 1
    try:
        version_id = connection.execute(
            sa.insert(dce_version)
            .values(
                consultation_id=consultation_id,
                number=number,
                created_at=utc_now(),
                author=actor,
                comment=(comment or "").strip() or None,
            )
            .returning(dce_version.c.id)
        ).scalar_one()
    except IntegrityError as error:
        if not unique_key_refused(error):
            raise
        # Another session took this number between our check and our insert.
        raise _conflict(changes.base_version, None) from None
    return version_id, number


def _insert_pieces(connection: Connection, version_id: int, plan: Sequence[_Planned]) -> None:
    new_documents = [doc for doc in _documents(plan) if isinstance(doc, NewDocument)]
    document_ids = iter(info.id for info in insert_documents(connection, new_documents))
    resolved = [_resolve(piece, document_ids) for piece in plan]
    top_ids = connection.execute(
        sa.insert(dce_piece).returning(dce_piece.c.id, sort_by_parameter_order=True),
        [_piece_row(version_id, piece, None, position) for position, piece in enumerate(resolved)],
    ).scalars()
    child_rows = [
        _piece_row(version_id, child, parent_id, position)
        for piece, parent_id in zip(resolved, top_ids, strict=True)
        for position, child in enumerate(piece.children)
    ]
    if child_rows:
        connection.execute(sa.insert(dce_piece), child_rows)


def _documents(plan: Sequence[_Planned]) -> Iterator[int | NewDocument]:
    """Every document of the plan, each piece before its children (the order _resolve uses)."""
    for piece in plan:
        yield piece.document
        yield from _documents(piece.children)


def _resolve(piece: _Planned, document_ids: Iterator[int]) -> _Planned:
    """The piece with its new documents replaced by the ids they were inserted under."""
    document = piece.document if isinstance(piece.document, int) else next(document_ids)
    children = tuple(_resolve(child, document_ids) for child in piece.children)
    return _Planned(path=piece.path, document=document, children=children)


def _piece_row(
    version_id: int, piece: _Planned, parent_id: int | None, position: int
) -> dict[str, object]:
    return {
        "version_id": version_id,
        "document_id": piece.document,
        "parent_id": parent_id,
        "path": piece.path,
        "position": position,
    }


def _version_detail(number: int, changes: DceChanges, plan: Sequence[_Planned]) -> str:
    """The audit text: the version, each change, and the SHA-256 of each new file."""
    fingerprints = [
        f"SHA-256 de {piece.path} : {piece.document.stored.sha256}"
        for piece in plan
        if isinstance(piece.document, NewDocument)
    ]
    base = f"version {changes.base_version}" if changes.base_version else "aucun DCE"
    return "\n".join(
        [f"Version {number} du DCE (base : {base})", *changes.summary(), *fingerprints]
    )


# --- Bid deadline and LEGAL rule 3 ----------------------------------------------------------


def change_bid_deadline(store: Store, consultation_id: int, *moved: Any, **how: Any) -> None:
    """`move_bid_deadline` (the new deadline; reason, actor, now) in its own transaction."""
    with store.engine.begin() as connection:
        move_bid_deadline(connection, consultation_id, *moved, **how)


def check_deadline_change(new_deadline: datetime, reason: str, now: datetime) -> None:
    """What a deadline change needs before anything is read: a written reason, a future date."""
    if not written_reason(reason):
        raise DceError(
            "Indiquez le motif du report de la date limite de remise des plis (il est conservé "
            f"dans le journal){WRITTEN_OUT}"
        )
    if as_utc(new_deadline) <= as_utc(now):
        raise DceError(
            f"La nouvelle date limite de remise des plis ({paris_minutes(new_deadline)}) est "
            "déjà passée : choisissez une date à venir."
        )


def move_bid_deadline(
    connection: Connection,
    consultation_id: int,
    new_deadline: datetime,
    *,
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> None:
    """Move the bid deadline, recording the change and its reason (LEGAL.md rule 3), once
    `actor` may modify the DCE, in the caller's transaction."""
    reason, new_deadline = reason.strip(), as_utc(new_deadline)
    now = as_utc(now) if now else utc_now()
    check_deadline_change(new_deadline, reason, now)
    authorize(connection, actor, Right.DCE, consultation_id)
    lock_consultation(connection, consultation_id)
    # Read the previous deadline in the insert itself: atomic on SQLite too.
    previous = connection.execute(
        sa.insert(deadline_change)
        .values(
            consultation_id=consultation_id,
            previous_deadline=sa.select(consultation_table.c.bid_deadline)
            .where(consultation_table.c.id == consultation_id)
            .scalar_subquery(),
            new_deadline=new_deadline,
            reason=reason,
            at=now,
            author=actor,
        )
        .returning(deadline_change.c.previous_deadline)
    ).scalar_one()
    if new_deadline <= previous:  # R2151-4: extended in proportion, never brought forward
        raise DceError(
            f"La nouvelle date limite de remise des plis ({paris_as_typed(new_deadline)}) "
            f"n'est pas postérieure à l'actuelle ({paris_as_typed(previous)}) : un report "
            "la repousse (article R2151-4), il ne l'avance jamais."
        )
    connection.execute(
        sa.update(consultation_table)
        .where(consultation_table.c.id == consultation_id)
        .values(bid_deadline=new_deadline)
    )
    audit.append(
        connection,
        action=ACTION_DEADLINE,
        actor=actor,
        at=now,
        consultation_id=consultation_id,
        rule=3,
        detail=(
            f"Date limite de remise des plis : {paris_minutes(previous)} → "
            f"{paris_minutes(new_deadline)}\nMotif : {reason}"
        ),
    )
