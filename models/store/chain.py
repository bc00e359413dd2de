"""Each recipient's events hash-chained: an edited, reordered or deleted event shows.

Every event stores the SHA-256 of the previous event of its recipient (`previous_hash`, the
first one names GENESIS) and its own (`hash`), computed over its fields and that previous
hash; the recipient row keeps the last one (`chain_head`), which each AR and each proof
bundle carries. `verify_chains` walks every chain and names each recipient whose history no
longer matches. Events are chained in the order they were written (their ids), not by their
time: a late delivery report dated earlier still goes at the end.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from messagerie.models.formatting import paris_seconds
from messagerie.models.store.anchor import IDENTITY_COLUMNS, Anchor, recipient_identity
from messagerie.models.store.database import Store
from messagerie.models.store.enums import EventKind
from messagerie.models.store.locking import locked_rows
from messagerie.models.store.seal import current_seals, reply_seal_of, reply_seals, seal_of
from messagerie.models.store.tables import event, recipient, store_meta

GENESIS = "0" * 64
SENT_CHANGED = (
    "ce qui a été envoyé (adresse, objet, texte, mentions, délai de réponse ou pièces) a été "
    "modifié depuis l'envoi"
)
REPLY_CHANGED = (
    "la réponse n°{number} (texte, pièces, date, canal, statut, expéditeur ou signature DKIM) a "
    "été modifiée ou supprimée depuis sa réception"
)
ANCHOR_REWRITTEN = (
    "son historique ancré le {at} n'est plus dans sa chaîne : il a été réécrit ou coupé depuis"
)
ANCHOR_REMOVED = "ce destinataire, ancré le {at}, a été supprimé de la base"
ANCHOR_BACKDATED = "l'événement n°{number}, ajouté après l'ancrage du {at}, est daté d'avant lui"
ANCHOR_IDENTITY = (
    "ce n'est plus le destinataire ancré le {at} : son message, son adresse, son entreprise "
    "ou son contact ont été changés"
)
ANCHOR_PREDATED = (
    "l'ancrage du {at} contient l'événement n°{number}, postérieur à lui : cet ancrage a été "
    "antidaté"
)
ORPHANED = "ce destinataire a été supprimé de la base, ses événements y sont restés"
# An outbox batch commits its events up to a lease (5 min) after the time they carry, and
# servers' clocks differ a little: an event added after an anchor may be dated that much
# before it, no more.
LATE_COMMIT = timedelta(minutes=15)
# The events whose detail ends with a reply's seal: R, and a reply kept without R.
REPLY_SEALED = (EventKind.REPLIED, EventKind.REPLY_KEPT)
HASHED_FIELDS = ("recipient_id", "kind", "at", "detail", "client_address", "user_agent")


def event_hash(previous: str, fields: Mapping[str, Any]) -> str:
    """The SHA-256 of one event: its previous hash and its fields, as canonical JSON."""
    values = [previous, *(_canonical(fields.get(name)) for name in HASHED_FIELDS)]
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return _aware(value).astimezone(UTC).isoformat(timespec="microseconds")
    return str(value) if value is not None and not isinstance(value, int) else value


def chain_rows(rows: Iterable[dict[str, Any]], heads: MutableMapping[int, str | None]) -> None:
    """Give each event row, in order, its `previous_hash` and `hash`; `heads` (the recipients'
    chain heads, None for none yet) moves to the last hash of each recipient."""
    for row in rows:
        previous = heads.get(row["recipient_id"]) or GENESIS
        row["previous_hash"] = previous
        row["hash"] = heads[row["recipient_id"]] = event_hash(previous, row)


def append_events(
    connection: sa.Connection,
    rows: Sequence[Mapping[str, Any]],
    heads: Mapping[int, str | None] | None = None,
) -> None:
    """Insert events at the end of their recipients' chains, in one statement per table.

    The heads are read under the write lock (`_locked_heads`), so that two processes adding
    to one history never fork its chain. A caller that has just
    updated those rows in this transaction (they are locked) and read their `chain_head` back
    with RETURNING passes them as `heads`: one query less on the outbox's hot path.
    """
    if not rows:
        return
    written = [{name: None for name in HASHED_FIELDS} | dict(row) for row in rows]
    ids = sorted({row["recipient_id"] for row in written})
    known = dict(heads or {})
    if not known.keys() >= set(ids):
        known = _locked_heads(connection, ids)
    moved = {rid: known.get(rid) for rid in ids}
    chain_rows(written, moved)
    connection.execute(_INSERT_EVENTS, written)
    if len(moved) == 1:  # the outbox's case: a plain UPDATE, not an executemany
        ((rid, head),) = moved.items()
        connection.execute(_SET_HEAD, {"recipient": rid, "head": head})
    else:
        heads_moved = [{"recipient": rid, "head": head} for rid, head in moved.items()]
        connection.execute(_SET_HEAD, heads_moved)


def _locked_heads(connection: sa.Connection, ids: list[int]) -> dict[int, str | None]:
    """The recipients' chain heads, read once no other writer can move them (one query on
    PostgreSQL, as before the lock served SQLite too)."""
    columns = (recipient.c.id, recipient.c.chain_head)
    rows = locked_rows(connection, recipient, recipient.c.id.in_(ids), *columns)
    return {row.id: row.chain_head for row in rows}


# Built once: the outbox runs them for every recipient, and building costs more than running.
_INSERT_EVENTS = sa.insert(event)
_SET_HEAD = (
    sa.update(recipient)
    .where(recipient.c.id == sa.bindparam("recipient"))
    .values(chain_head=sa.bindparam("head"))
)


@dataclass(frozen=True)
class BrokenChain:
    """A recipient whose history no longer matches its chain, and how (in French)."""

    recipient_id: int
    reason: str


def verify_chains(
    connection: sa.Connection,
    recipient_ids: Collection[int] | None = None,
    anchors: Sequence[Anchor] = (),
) -> tuple[int, list[BrokenChain]]:
    """Walk every recipient's chain (or those of `recipient_ids`): how many recipients were
    checked, and the broken ones. Each head of `anchors` (of recipients walked) must still be
    in its recipient's chain."""
    columns = [event.c[name] for name in HASHED_FIELDS]
    chosen_events = sa.select(event.c.id, event.c.previous_hash, event.c.hash, *columns)
    # Who each recipient is, read only to compare with what anchors say of it.
    identity = IDENTITY_COLUMNS if anchors else ()
    chosen_heads = sa.select(recipient.c.id, recipient.c.chain_head, *identity)
    if recipient_ids is not None:
        chosen_events = chosen_events.where(event.c.recipient_id.in_(recipient_ids))
        chosen_heads = chosen_heads.where(recipient.c.id.in_(recipient_ids))
    events = connection.execute(chosen_events.order_by(event.c.recipient_id, event.c.id))
    recipients = {row.id: row for row in connection.execute(chosen_heads)}
    heads = {rid: row.chain_head for rid, row in recipients.items()}
    broken: dict[int, str] = {}
    last: dict[int, str] = {}
    sealed: dict[int, str] = {}  # what each copy carried, as its "envoyé" event says
    replies: dict[int, list[tuple[int, str]]] = {}  # each reply's number and seal
    against = _AnchorCheck(anchors, recipient_ids)
    for row in events:
        rid = row.recipient_id
        previous = last.get(rid, GENESIS)
        if rid not in broken:
            problem = _problem(row, previous)
            if problem:
                broken[rid] = problem
        last[rid] = row.hash or ""
        against.see(row, broken)
        if row.kind == EventKind.SENT and (seal := seal_of(row.detail)):
            sealed[rid] = seal
        elif row.kind in REPLY_SEALED and (answered := reply_seal_of(row.detail)):
            replies.setdefault(rid, []).append(answered)
    for rid, head in heads.items():
        if rid not in broken and (head or GENESIS) != last.get(rid, GENESIS):
            broken[rid] = "la fin de l'historique a été coupée ou ajoutée hors chaîne"
    for rid in last.keys() - heads.keys():  # events whose recipient row is gone
        broken[rid] = ORPHANED
    against.finish(recipients, broken)
    _compare_seals(connection, sealed, replies, broken)
    found = [BrokenChain(rid, reason) for rid, reason in sorted(broken.items())]
    return len(heads), found


class _AnchorCheck:
    """Each anchored head must be in its recipient's chain, and what follows the last one
    reached dated after its anchor, as the chain is walked event by event."""

    def __init__(self, anchors: Sequence[Anchor], recipient_ids: Collection[int] | None) -> None:
        # recipient → anchored head → the first and the last time it was anchored
        self.anchored: dict[int, dict[str, tuple[datetime, datetime]]] = {}
        # recipient → who it was anchored as → the first time it was
        self.identities: dict[int, dict[str, datetime]] = {}
        for anchor in sorted(anchors, key=lambda anchor: anchor.at):
            for rid, head in anchor.heads.items():
                if recipient_ids is None or rid in recipient_ids:
                    first, _ = self.anchored.setdefault(rid, {}).get(head, (anchor.at,) * 2)
                    self.anchored[rid][head] = (first, anchor.at)
                    self.identities.setdefault(rid, {}).setdefault(
                        anchor.identities[rid], anchor.at
                    )
        self.unseen = {rid: set(listed) for rid, listed in self.anchored.items()}
        self.reached: dict[int, datetime] = {}  # the last anchor each history has reached

    def see(self, row: sa.Row, broken: MutableMapping[int, str]) -> None:
        rid = row.recipient_id
        if rid not in self.anchored:
            return
        if times := self.anchored[rid].get(row.hash or ""):
            self.unseen[rid].discard(row.hash)
            self.reached[rid] = times[1]
            if rid not in broken and _aware(row.at) > times[0] + LATE_COMMIT:
                # An anchor holds what the store held when it was taken: one holding a later
                # event was dated back, the key holder's way around the stamped ones' rule.
                broken[rid] = ANCHOR_PREDATED.format(number=row.id, at=paris_seconds(times[0]))
            return
        reached = self.reached.get(rid)
        if reached and rid not in broken and _aware(row.at) < reached - LATE_COMMIT:
            broken[rid] = ANCHOR_BACKDATED.format(number=row.id, at=paris_seconds(reached))

    def finish(self, recipients: Mapping[int, sa.Row], broken: MutableMapping[int, str]) -> None:
        """Name each recipient whose anchored heads were not all met, that is gone, or that
        is no longer who it was (its message, address, company or contact)."""
        for rid, missing in self.unseen.items():
            first = min(self.anchored[rid][head][0] for head in missing or self.anchored[rid])
            if rid not in recipients:  # anchored, and its row is gone (with its events or not)
                broken[rid] = ANCHOR_REMOVED.format(at=paris_seconds(first))
            elif missing and rid not in broken:
                broken[rid] = ANCHOR_REWRITTEN.format(at=paris_seconds(first))
            elif rid not in broken and (changed := self.changed(rid, recipients[rid])):
                broken[rid] = ANCHOR_IDENTITY.format(at=paris_seconds(changed))

    def changed(self, rid: int, row: sa.Row) -> datetime | None:
        """The first anchor that knew the recipient `row` as someone else, if any."""
        now = recipient_identity(row)
        anchored = self.identities.get(rid, {})
        return min((at for identity, at in anchored.items() if identity != now), default=None)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _compare_seals(
    connection: sa.Connection,
    sent: Mapping[int, str],
    replies: Mapping[int, list[tuple[int, str]]],
    broken: MutableMapping[int, str],
) -> None:
    """Name in `broken` each whole history whose sealed copy or reply the store no longer
    holds as it was (models/store/seal.py)."""
    for rid, seal in current_seals(connection, sent.keys() - broken.keys()).items():
        if seal != sent[rid]:
            broken[rid] = SENT_CHANGED
    kept = reply_seals(connection, [number for listed in replies.values() for number, _ in listed])
    for rid, listed in replies.items():
        changed = [reply_id for reply_id, seal in listed if kept.get(reply_id) != seal]
        if changed and rid not in broken:
            broken[rid] = REPLY_CHANGED.format(number=changed[0])


def _problem(row: sa.Row, previous: str) -> str | None:
    """Why one event does not hold in its chain, or None."""
    if row.hash is None:
        return f"l'événement n°{row.id} a été ajouté hors chaîne"
    if row.previous_hash != previous:
        return f"un événement avant le n°{row.id} a été supprimé ou déplacé"
    if event_hash(previous, dict(row._mapping)) != row.hash:
        return f"l'événement n°{row.id} a été modifié"
    return None


def listed_chain_problem(
    recipient_id: int, events: Sequence[Mapping[str, Any]], head: str | None
) -> str | None:
    """Why one recipient's events, as a proof bundle lists them (in time order, each with
    `previous_hash` and `hash`, `at` as an aware datetime), are not the whole chain ending at `head`
    (in French), or None when they are: an event edited, removed, added or moved shows."""
    following: dict[str, int] = {}  # previous hash → the listed event that follows it
    for index, listed in enumerate(events):
        own, previous = listed.get("hash"), listed.get("previous_hash")
        if not own or not previous:
            return f"{_nth(index)} a été ajouté hors chaîne"
        if event_hash(previous, {**listed, "recipient_id": recipient_id}) != own:
            return f"{_nth(index)} a été modifié"
        if previous in following:
            return f"{_nth(index)} a été ajouté ou un événement avant lui supprimé"
        following[previous] = index
    chain: list[int] = []  # the listed events in chain order, from the first one
    current = GENESIS
    while current in following and len(chain) < len(events):
        chain.append(following[current])
        current = events[chain[-1]]["hash"]
    if current != (head or GENESIS):
        if head in {events[index]["hash"] for index in chain}:
            return "des événements ont été ajoutés après la fin de l'historique"
        return "un événement a été supprimé (la chaîne n'atteint pas sa fin)"
    if len(chain) != len(events):
        return "un événement a été ajouté hors chaîne"
    rank = {index: position for position, index in enumerate(chain)}
    in_time = sorted(rank, key=lambda index: (events[index]["at"], rank[index]))
    if in_time != list(range(len(events))):
        return "l'ordre des événements a été modifié"
    return None


def _nth(index: int) -> str:
    return "le 1er événement" if index == 0 else f"le {index + 1}e événement"


CLEAN_RUN_KEY = "chains_verified_clean_at"  # a run that found every chain whole
ALTERED_RUN_KEY = "chains_found_altered"  # "<time> <recipients>" of a run that did not


@dataclass(frozen=True)
class ChainCheck:
    """What the last `verify_store` found: when, how many histories were altered, and how
    many anchors proved nothing (the histories were then not checked against them)."""

    at: datetime
    altered: int
    doubtful_anchors: int = 0

    @property
    def clean(self) -> bool:
        return not self.altered and not self.doubtful_anchors


def verify_store(
    store: Store, now: datetime, anchors: Sequence[Anchor] = (), *, doubtful_anchors: int = 0
) -> tuple[int, list[BrokenChain]]:
    """`verify_chains` on the whole store (against `anchors`; `doubtful_anchors` proved
    nothing), its result noted for `messagerie status`: a run that found histories altered
    was not noted, and the status went on saying « jamais vérifiés » to the probe that
    watches it; one that could not use an anchor is not clean either."""
    with store.snapshot() as connection:
        checked, broken = verify_chains(connection, anchors=anchors)
    key, value = (
        (ALTERED_RUN_KEY, f"{now.isoformat()} {len(broken)} {doubtful_anchors}")
        if broken or doubtful_anchors
        else (CLEAN_RUN_KEY, now.isoformat())
    )
    try:
        with store.engine.begin() as connection:
            runs = store_meta.c.key.in_((CLEAN_RUN_KEY, ALTERED_RUN_KEY))
            connection.execute(sa.delete(store_meta).where(runs))
            connection.execute(sa.insert(store_meta).values(key=key, value=value))
    except sa.exc.IntegrityError:
        pass  # another run noted its own result at the same moment
    return checked, broken


def last_check(store: Store) -> ChainCheck | None:
    """What the last `verify_store` found, if it ever ran."""
    if altered := store.meta(ALTERED_RUN_KEY):
        at, count, *doubtful = altered.split()  # runs before anchors wrote two fields
        return ChainCheck(datetime.fromisoformat(at), int(count), sum(map(int, doubtful)))
    clean = store.meta(CLEAN_RUN_KEY)
    return ChainCheck(datetime.fromisoformat(clean), 0) if clean else None
