"""Anchors: every history's head at one moment, in a file that leaves the store.

The hash chain (chain.py) shows an event edited, moved or cut by hand. It cannot show a
history that someone who knows `event_hash` rewrote and chained again, or cut back to one of
its earlier heads: the store then holds a whole chain again. An anchor lists each
recipient's head at one moment, and who the recipient was (its message, address, company and
contact: a history moved onto another company shows too); signed (and timestamped) by
letters/pdf/anchor.py and kept off the server, it cannot be rewritten with the store. A head
anchored then and no longer in its recipient's chain shows that history rewritten or cut
since (`verify_chains`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from messagerie.models.errors import Refusal
from messagerie.models.formatting import as_utc
from messagerie.models.store.tables import audit_entry, recipient

FORMAT = "messagerie-ancrage/1"
FILE_NAME = "ancrage-%Y%m%dT%H%M%SZ.json"  # its time, in UTC: the folder lists them in order
LAST_YEAR = 9000
AUDIT_ACTION = "chains.anchor"
AUDITED = re.compile(r"(ancrage-\d{8}T\d{6}Z\.json), SHA-256 ([0-9a-f]{64})")
HEAD = re.compile(r"[0-9a-f]{64}")
RECIPIENT = re.compile(r"[1-9][0-9]{0,18}")  # an id, as the database counts them
_FIELDS = {"format", "store", "at", "recipients", "heads", "identities"}


@dataclass(frozen=True)
class Anchor:
    at: datetime  # aware, UTC
    store: str | None  # store_identity of the store it was taken from
    heads: dict[int, str]  # recipient id → the hash of its last event then
    identities: dict[int, str]  # recipient id → its `recipient_identity` then

    def about(self, recipient_id: int) -> Anchor | None:
        """What this anchor says of one recipient alone; None when it does not hold it."""
        if recipient_id not in self.heads:
            return None
        return Anchor(
            self.at,
            self.store,
            {recipient_id: self.heads[recipient_id]},
            {recipient_id: self.identities[recipient_id]},
        )


class AnchorUnreadable(Refusal):
    """Not an anchor this program wrote; str() says why, in French."""


IDENTITY_COLUMNS = (
    recipient.c.message_id,
    recipient.c.email,
    recipient.c.company_id,
    recipient.c.contact_name,
)


def recipient_identity(row: sa.Row) -> str:
    """The SHA-256 of who a recipient row is (`IDENTITY_COLUMNS`): none of them changes once
    the copy exists (a resend to a corrected address makes a new row)."""
    values = [getattr(row, column.name) for column in IDENTITY_COLUMNS]
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()


def take_anchor(connection: sa.Connection, store: str | None, at: datetime) -> Anchor:
    """Every recipient's head and identity, as this connection sees the store (one query:
    one moment)."""
    rows = connection.execute(
        sa.select(recipient.c.id, recipient.c.chain_head, *IDENTITY_COLUMNS)
        .where(recipient.c.chain_head.is_not(None))
        .order_by(recipient.c.id)
    ).all()
    heads = {row.id: row.chain_head for row in rows}
    return Anchor(as_utc(at), store, heads, {row.id: recipient_identity(row) for row in rows})


def file_name(at: datetime) -> str:
    return as_utc(at).strftime(FILE_NAME)


def time_of(name: str) -> datetime | None:
    """When the anchor file `name` says it was written; None for another file's name."""
    try:
        return _plausible(datetime.strptime(name, FILE_NAME).replace(tzinfo=UTC))
    except ValueError:
        return None


def _plausible(moment: datetime) -> datetime | None:
    """`moment`, unless too far on for a date to be written (Paris time overflows year 9999)."""
    return moment if moment.year <= LAST_YEAR else None


def anchor_files(folder: Path) -> list[Path]:
    """The anchor files of `folder`, oldest first (none when it does not exist); OSError when
    it cannot be read (glob said « none » for a folder one may not list)."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    return sorted(folder / name for name in names if time_of(name))


def anchors_written(connection: sa.Connection) -> dict[str, str]:
    """Each anchor file written from this store, by name, with its SHA-256, as the audit log
    noted them (`chains.anchor`): a file deleted from the folder since is missed."""
    rows = connection.execute(
        sa.select(audit_entry.c.detail).where(audit_entry.c.action == AUDIT_ACTION)
    )
    return {found[1]: found[2] for (detail,) in rows if (found := AUDITED.search(detail or ""))}


def last_anchored(connection: sa.Connection) -> datetime | None:
    """When the last anchor the audit log noted was taken; None before the first."""
    rows = connection.execute(
        sa.select(audit_entry.c.detail)
        .where(audit_entry.c.action == AUDIT_ACTION)
        .order_by(audit_entry.c.id.desc())
    )
    for (detail,) in rows:  # the newest first: the first that names its file is the last
        if (found := AUDITED.search(detail or "")) and (at := time_of(found[1])) is not None:
            return at
    return None


def audit_detail(anchor: Anchor, sha256: str) -> str:
    return f"{len(anchor.heads)} historique(s), {file_name(anchor.at)}, SHA-256 {sha256}"


def anchor_bytes(anchor: Anchor) -> bytes:
    """The anchor as its file holds it: JSON, one head a line (a diff shows what moved)."""
    document = {
        "format": FORMAT,
        "store": anchor.store,
        "at": anchor.at.isoformat(timespec="microseconds"),
        "recipients": len(anchor.heads),
        "heads": {str(rid): head for rid, head in sorted(anchor.heads.items())},
        "identities": {str(rid): sha for rid, sha in sorted(anchor.identities.items())},
    }
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode()


def read_anchor(data: bytes) -> Anchor:
    """The anchor a file holds; AnchorUnreadable, saying what is wrong, for anything else."""
    try:
        found = json.loads(data.decode("utf-8"), object_pairs_hook=_once_each)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise AnchorUnreadable(f"ce n'est pas du JSON lisible ({type(error).__name__})") from None
    if not isinstance(found, dict) or set(found) != _FIELDS or found["format"] != FORMAT:
        raise AnchorUnreadable(f"ce n'est pas un ancrage (format {FORMAT} attendu)")
    store, at, count, listed = found["store"], found["at"], found["recipients"], found["heads"]
    if store is not None and not isinstance(store, str):
        raise AnchorUnreadable("l'identifiant de la base n'est pas un texte")
    moment = _aware(at)
    if moment is None:
        raise AnchorUnreadable("sa date n'est pas une date ISO 8601 avec son fuseau")
    identities = found["identities"]
    if not _digests(listed) or not _digests(identities):
        raise AnchorUnreadable("chaque historique doit être « numéro » : empreinte SHA-256")
    if type(count) is not int or count != len(listed) or listed.keys() != identities.keys():
        raise AnchorUnreadable("le nombre d'historiques annoncé n'est pas celui de la liste")
    return Anchor(
        moment,
        store,
        {int(rid): head for rid, head in listed.items()},
        {int(rid): sha for rid, sha in identities.items()},
    )


def _digests(listed: object) -> bool:
    """Whether `listed` maps recipient numbers to SHA-256 digests, as an anchor does."""
    return isinstance(listed, dict) and all(
        RECIPIENT.fullmatch(rid) and isinstance(sha, str) and HEAD.fullmatch(sha)
        for rid, sha in listed.items()
    )


def _once_each(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object whose names are all different: json.loads kept the last of two alike."""
    found = dict(pairs)
    if len(found) != len(pairs):
        raise ValueError("a name twice in one object")
    return found


def _aware(text: object) -> datetime | None:
    """An ISO 8601 time with its offset, in UTC; None for anything else."""
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
        return _plausible(as_utc(moment)) if moment.tzinfo is not None else None
    except (ValueError, OverflowError):  # « 0001-01-01T00:00+01:00 » is before year 1 in UTC
        return None
