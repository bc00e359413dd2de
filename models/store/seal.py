"""What a recipient was sent, and what it answered, sealed in its history: an edit shows.

When the relay accepts a copy, its "envoyé" event says, after the relay's answer, the SHA-256
of what the copy carried: the address, the type, the subject, the body, the mandatory
mentions, the reply terms and each file (name and SHA-256). That detail is in the recipient's
hash chain (models/store/chain.py): `verify_chains` compares it with what the store holds
now (and `verify` of a proof bundle with its message.json), and names a body, an address, a
deadline or a file changed with a plain UPDATE. Someone who also recomputes the chain is not
caught here: that takes an anchor outside the store. Copies sent before this seal (and the
demo's) carry none, and are not compared.

Likewise the "répondu" event of a reply received in time ends with the reply's number and
the SHA-256 of its text, time, channel, disposition, sender and files (and of what its DKIM
signature said, for a reply e-mailed since that was checked); a reply that gives no R (late,
automatic…) has a "réponse reçue, sans R" event that ends the same way (since 2026-12-06:
an older one is not compared).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from messagerie.models.store.tables import (
    attachment,
    document,
    message,
    recipient,
    reply,
    reply_attachment,
)

SEAL_MARK = " — empreinte du contenu envoyé : "
REPLY_MARK = " — empreinte de la réponse n°{number} : "
SENT_SEAL = re.compile(re.escape(SEAL_MARK) + "([0-9a-f]{64})$")
# The mark with its number as a group, then the seal.
REPLY_SEAL = re.compile(re.escape(REPLY_MARK).replace(r"\{number\}", r"(\d+)") + "([0-9a-f]{64})$")


def sealed_detail(answer: str, seal: str) -> str:
    """The "envoyé" event's detail: the relay's answer, then the seal."""
    return f"{answer}{SEAL_MARK}{seal}"


def seal_of(detail: str | None) -> str | None:
    """The seal an "envoyé" detail ends with, if it has one."""
    found = SENT_SEAL.search(detail or "")
    return found[1] if found else None


def sealed_reply_detail(how: str, reply_id: int, seal: str) -> str:
    """The "répondu" event's detail: how the reply came, then its number and seal."""
    return how + REPLY_MARK.format(number=reply_id) + seal


def reply_seal_of(detail: str | None) -> tuple[int, str] | None:
    """The reply's number and seal a "répondu" detail ends with, if it has them."""
    found = REPLY_SEAL.search(detail or "")
    return (int(found[1]), found[2]) if found else None


CHUNK = 1000  # ids per query: SQLite caps the parameters of one statement
# The message's columns a seal covers, named as `content_seal`'s arguments.
SEALED_COLUMNS = ("subject", "body", "mentions", "send_mode", "reply_allowed", "reply_deadline")


def _chunks(ids: Collection[int]) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def current_seals(connection: sa.Connection, recipient_ids: Collection[int]) -> dict[int, str]:
    """The seal of what each recipient's copy holds now (two queries per thousand)."""
    found: dict[int, str] = {}
    for chunk in _chunks(recipient_ids):
        found.update(_seals(connection, chunk))
    return found


def _seals(connection: sa.Connection, ids: list[int]) -> dict[int, str]:
    copies = connection.execute(
        sa.select(
            recipient.c.id,
            recipient.c.email,
            recipient.c.message_id,
            message.c.type,
            *(message.c[name] for name in SEALED_COLUMNS),
        )
        .join(message, message.c.id == recipient.c.message_id)
        .where(recipient.c.id.in_(ids))
    ).all()
    files: dict[tuple[int, int | None], list[tuple[str, str]]] = {}
    rows = connection.execute(
        sa.select(
            attachment.c.message_id,
            attachment.c.recipient_id,
            document.c.filename,
            document.c.sha256,
        )
        .join(document, document.c.id == attachment.c.document_id)
        .where(attachment.c.message_id.in_({copy.message_id for copy in copies}))
    )
    for row in rows:
        files.setdefault((row.message_id, row.recipient_id), []).append((row.filename, row.sha256))
    seals = {}
    for copy in copies:  # the message's files and the copy's own letter
        carried = files.get((copy.message_id, None), []) + files.get((copy.message_id, copy.id), [])
        seals[copy.id] = _seal(copy, carried)
    return seals


def _seal(copy: sa.Row, files: list[tuple[str, str]]) -> str:
    columns = {name: getattr(copy, name) for name in SEALED_COLUMNS}
    return content_seal(email=copy.email, kind=copy.type, files=files, **columns)


def content_seal(
    *,
    email: str,
    kind: object,
    subject: str,
    body: str,
    mentions: Mapping[str, str] | None,
    send_mode: object,
    reply_allowed: bool,
    reply_deadline: datetime | None,
    files: Iterable[tuple[str, str]],
) -> str:
    """The seal of one copy from its values: the store's rows, or a proof bundle's
    message.json (`verify` recomputes it there, without the store)."""
    values: list[Any] = [
        email.casefold(),
        getattr(kind, "value", kind),
        subject,
        body,
        dict(mentions or {}),
        getattr(send_mode, "value", send_mode),
        bool(reply_allowed),
        reply_deadline.astimezone(UTC).isoformat(timespec="seconds") if reply_deadline else None,
        sorted([name, sha256] for name, sha256 in files),
    ]
    return _digest(values)


def reply_seals(connection: sa.Connection, reply_ids: Collection[int]) -> dict[int, str]:
    """The seal of each reply as the store holds it now (a deleted one has none)."""
    found: dict[int, str] = {}
    for chunk in _chunks(reply_ids):
        files: dict[int, list[tuple[str, str]]] = {}
        rows = connection.execute(
            sa.select(reply_attachment.c.reply_id, document.c.filename, document.c.sha256)
            .join(document, document.c.id == reply_attachment.c.document_id)
            .where(reply_attachment.c.reply_id.in_(chunk))
        )
        for row in rows:
            files.setdefault(row.reply_id, []).append((row.filename, row.sha256))
        replies = connection.execute(sa.select(reply).where(reply.c.id.in_(chunk)))
        for one in replies:
            values = [
                one.recipient_id,
                one.received_at.astimezone(UTC).isoformat(timespec="microseconds"),
                getattr(one.channel, "value", one.channel),
                getattr(one.disposition, "value", one.disposition),
                one.body,
                one.sender,
                sorted(files.get(one.id, [])),
            ]
            if one.dkim is not None:  # checked since migration 0014: what it said is sealed too
                values += [getattr(one.dkim, "value", one.dkim), one.dkim_domain]
            found[one.id] = _digest(values)
    return found


def _digest(values: list[Any]) -> str:
    text = json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
