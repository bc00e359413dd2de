"""The outbox's bookkeeping: claim queued recipients, then record what the relay answered.

Each recipient moves queued → claimed (with a lease) → accepted or refused, and each move is
committed on its own, around the hand-off to the relay. A worker that dies leaves claimed
recipients whose lease runs out: they are claimed again and resent with the same Message-ID,
the only duplicate possible (the relay accepted, the worker died before committing). Claims
use `FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite the single conditional UPDATE is atomic
because writers are serialised.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from messagerie.models.clock import utc_now
from messagerie.models.consultations.detail import ConsultationDetail, consultation_detail
from messagerie.models.messages.recipient_secrets import new_address_tokens
from messagerie.models.store.accounts import Account, NoAccount, visible_consultations
from messagerie.models.store.chain import append_events
from messagerie.models.store.database import Store
from messagerie.models.store.documents import DocumentInfo, stored_documents
from messagerie.models.store.enums import (
    DeliveryState,
    EventKind,
    MessageState,
    MessageType,
    RecipientStatus,
    SendMode,
)
from messagerie.models.store.seal import current_seals, sealed_detail
from messagerie.models.store.tables import (
    attachment,
    consultation,
    event,
    message,
    recipient,
)

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=1)  # then doubled at each attempt: 1, 2, 4, 8 minutes


@dataclass(frozen=True)
class OutgoingRecipient:
    id: int
    email: str
    contact_name: str | None
    token: str  # the personal page's: only ever in the body of an "avec AR" e-mail
    reply_token: str
    bounce_token: str
    message_id_header: str
    attempts: int
    seal: str  # what this copy carries (models/store/seal.py), for its "envoyé" event


@dataclass(frozen=True)
class OutgoingMessage:
    id: int
    type: MessageType
    subject: str
    body: str
    send_mode: SendMode
    reply_allowed: bool
    reply_deadline: datetime | None
    mentions: dict[str, str]
    consultation: ConsultationDetail
    attachments: tuple[DocumentInfo, ...]


@dataclass(frozen=True)
class Claimed:
    message: OutgoingMessage
    recipients: tuple[OutgoingRecipient, ...]
    lease_until: datetime  # also the claim's mark: another worker's claim has another one


def _due(now: datetime) -> sa.ColumnElement[bool]:
    queued = sa.and_(
        recipient.c.delivery_state == DeliveryState.QUEUED,
        sa.or_(recipient.c.next_attempt_at.is_(None), recipient.c.next_attempt_at <= now),
    )
    abandoned = sa.and_(
        recipient.c.delivery_state == DeliveryState.CLAIMED, recipient.c.lease_until < now
    )
    return sa.or_(queued, abandoned)


def claim(
    store: Store, *, limit: int = 100, now: datetime | None = None, lease: timedelta = LEASE
) -> tuple[Claimed, ...]:
    """Claim up to `limit` due recipients (oldest first), grouped by message."""
    now = now or utc_now()
    lease_until = now + lease
    with store.engine.begin() as connection:
        candidates = (
            sa.select(recipient.c.id)
            .where(_due(now))
            .order_by(recipient.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed_ids = (
            connection.execute(
                sa.update(recipient)
                .where(recipient.c.id.in_(candidates.scalar_subquery()), _due(now))
                .values(
                    delivery_state=DeliveryState.CLAIMED,
                    lease_until=lease_until,
                    attempts=recipient.c.attempts + 1,
                    updated_at=now,
                )
                .returning(recipient.c.id)
            )
            .scalars()
            .all()
        )
        if not claimed_ids:
            return ()
        _give_address_tokens(connection, claimed_ids)
        rows = connection.execute(
            sa.select(recipient).where(recipient.c.id.in_(claimed_ids)).order_by(recipient.c.id)
        ).all()
        seals = current_seals(connection, claimed_ids)  # for the batch: two queries
    by_message: dict[int, list[OutgoingRecipient]] = {}
    for row in rows:
        by_message.setdefault(row.message_id, []).append(
            OutgoingRecipient(
                row.id,
                row.email,
                row.contact_name,
                row.token,
                row.reply_token,
                row.bounce_token,
                row.message_id_header,
                row.attempts,
                seals[row.id],
            )
        )
    return tuple(
        Claimed(load_outgoing(store, message_id), tuple(items), lease_until)
        for message_id, items in by_message.items()
    )


def _give_address_tokens(connection: Connection, recipient_ids: Sequence[int]) -> None:
    """Rows written before migration 0005 have no address tokens: they get theirs before
    their next e-mail, so that no new e-mail carries the page's token in a header. Such a row
    has not been delivered (queued before the upgrade, retried after a 4xx, or resent after
    « Non délivré »): no e-mail in a mailbox loses its reply address."""
    missing = connection.execute(
        sa.select(recipient.c.id).where(
            recipient.c.id.in_(recipient_ids),
            sa.or_(recipient.c.reply_token.is_(None), recipient.c.bounce_token.is_(None)),
        )
    ).scalars()
    for recipient_id in missing.all():
        connection.execute(
            sa.update(recipient)
            .where(recipient.c.id == recipient_id)
            .values(**new_address_tokens())
        )


def renew(
    store: Store, recipient_ids: list[int], lease_until: datetime, new_lease_until: datetime
) -> set[int]:
    """Extend the lease of the recipients still held under `lease_until`; returns their ids.
    A recipient missing from the answer was reclaimed by another worker after our lease ran
    out: it must not be handed over by us any more."""
    if not recipient_ids:
        return set()
    with store.engine.begin() as connection:
        return set(
            connection.execute(
                sa.update(recipient)
                .where(
                    recipient.c.id.in_(recipient_ids),
                    recipient.c.delivery_state == DeliveryState.CLAIMED,
                    recipient.c.lease_until == lease_until,
                )
                .values(lease_until=new_lease_until)
                .returning(recipient.c.id)
            ).scalars()
        )


def load_outgoing(store: Store, message_id: int) -> OutgoingMessage:
    """The message as the outbox sends it. Not checked against an account: the services
    (outbox, page) work for every organisation under their own database role, and the
    buyer's reads reach it only through `message_detail`, which checks the account first."""
    with store.engine.connect() as connection:
        row = connection.execute(sa.select(message).where(message.c.id == message_id)).one()
        document_ids = (
            connection.execute(
                sa.select(attachment.c.document_id)
                .where(attachment.c.message_id == message_id, attachment.c.recipient_id.is_(None))
                .order_by(attachment.c.id)
            )
            .scalars()
            .all()
        )
        attachments = stored_documents(connection, document_ids)
    return OutgoingMessage(
        id=row.id,
        type=MessageType(row.type),
        subject=row.subject,
        body=row.body,
        send_mode=SendMode(row.send_mode),
        reply_allowed=row.reply_allowed,
        reply_deadline=row.reply_deadline,
        mentions=dict(row.mentions or {}),
        consultation=consultation_detail(store, row.consultation_id),
        attachments=attachments,
    )


# --- What the relay answered -----------------------------------------------------------------


OUTBOX_STATUSES = (RecipientStatus.PENDING, RecipientStatus.SENT)
# The relay's answer moves the status only from « En attente » or « Envoyé »: a copy sent
# again after its worker died may have been read (L) or delivered (D) from its first sending.
_NEW_STATUS = sa.cast(sa.bindparam("new_status"), recipient.c.status.type)  # typed for PG
_STATUS_AFTER = sa.case(
    (sa.and_(_NEW_STATUS.is_not(None), recipient.c.status.in_(OUTBOX_STATUSES)), _NEW_STATUS),
    else_=recipient.c.status,
)
# Built once, run for every recipient the relay answers for: the other columns set are those
# of the parameters given (building the statement each time cost more than running it).
_MOVE_CLAIMED = (
    sa.update(recipient)
    .where(
        recipient.c.id == sa.bindparam("recipient"),
        recipient.c.delivery_state == DeliveryState.CLAIMED,
    )
    .values(status=_STATUS_AFTER)
    .returning(recipient.c.chain_head)
)
# The same for the worker holding the claim, while its lease is still the one it holds: once
# the lease ran out, another worker may have claimed the copy, and answers for it itself.
_MOVE_HELD = _MOVE_CLAIMED.where(recipient.c.lease_until == sa.bindparam("held_until"))


def _move(
    connection: Connection,
    recipient_id: int,
    values: dict[str, object],
    *events: tuple,
    held_until: datetime | None = None,
) -> bool:
    """Apply `values` to a recipient still claimed (under the lease `held_until`, when
    given); False when it is no longer ours. The UPDATE locks the row and hands back its
    chain's head, so that the events are chained without reading it again."""
    changes = dict(values)
    parameters = {"recipient": recipient_id, "new_status": changes.pop("status", None), **changes}
    if held_until is None:
        moved = connection.execute(_MOVE_CLAIMED, parameters).first()
    else:
        moved = connection.execute(_MOVE_HELD, {**parameters, "held_until": held_until}).first()
    if moved is not None:
        append_events(
            connection,
            [
                {"recipient_id": recipient_id, "kind": k, "at": at, "detail": d}
                for k, at, d in events
            ],
            heads={recipient_id: moved.chain_head},
        )
    return moved is not None


# The relay holds the copy once it said 250: a database busy (SQLite waits 5 s per attempt)
# or unreachable for a moment is waited out, 15 s more at most; giving up put the copy back
# in the queue, and it was sent a second time.
ACCEPTED_WRITE_ATTEMPTS = 6


def record_accepted(
    store: Store, recipient_id: int, *, answer: str, final_mailbox: bool,
    at: datetime | None = None, seal: str | None = None, held_until: datetime | None = None,
) -> bool:  # fmt: skip
    """E: the relay accepted the recipient; D at once when the relay is the final mailbox.
    The event carries the `seal` of what was sent (the claim's; read here when not given).
    `held_until`: the lease the worker holds it under (another's claim since is not moved)."""
    at = at or utc_now()
    values: dict[str, object] = {
        "delivery_state": DeliveryState.ACCEPTED,
        "status": RecipientStatus.SENT,
        "sent_at": at,
        "lease_until": None,
        "updated_at": at,
    }
    if final_mailbox:
        values.update(status=RecipientStatus.DELIVERED, delivered_at=at)
    for attempt in range(1, ACCEPTED_WRITE_ATTEMPTS + 1):
        try:
            with store.engine.begin() as connection:
                # What the copy carried, sealed in its history (models/store/seal.py).
                seal = seal or current_seals(connection, [recipient_id]).get(recipient_id)
                events = [(EventKind.SENT, at, sealed_detail(answer, seal) if seal else answer)]
                if final_mailbox:
                    events.append((EventKind.DELIVERED, at, "Remis dans la boîte du destinataire"))
                return _move(connection, recipient_id, values, *events, held_until=held_until)
        except sa.exc.OperationalError:
            if attempt == ACCEPTED_WRITE_ATTEMPTS:
                raise
            time.sleep(attempt)
    raise AssertionError("unreachable")


def record_failure(
    store: Store,
    recipient_id: int,
    *,
    answer: str,
    permanent: bool,
    attempts: int,
    at: datetime | None = None,
    held_until: datetime | None = None,
) -> bool:
    """A refusal: "Non délivré" when permanent or out of attempts, else a retry with backoff
    (`held_until` as for `record_accepted`). Returns True when it will be tried again."""
    at = at or utc_now()
    retry = not permanent and attempts < MAX_ATTEMPTS
    with store.engine.begin() as connection:
        if retry:
            _move(
                connection,
                recipient_id,
                {
                    "delivery_state": DeliveryState.QUEUED,
                    "next_attempt_at": at + FIRST_RETRY * 2 ** (attempts - 1),
                    "lease_until": None,
                    "updated_at": at,
                },
                (EventKind.RETRY, at, f"Tentative {attempts} : {answer}"),
                held_until=held_until,
            )
        else:
            _move(
                connection,
                recipient_id,
                {
                    "delivery_state": DeliveryState.REFUSED,
                    "status": RecipientStatus.NOT_DELIVERED,
                    "not_delivered_at": at,
                    "lease_until": None,
                    "updated_at": at,
                },
                (EventKind.NOT_DELIVERED, at, answer),
                held_until=held_until,
            )
    return retry


def release(store: Store, held: Mapping[int, datetime], *, marks: Sequence[datetime] = ()) -> None:
    """Give claimed recipients back to the queue untouched (the relay could not be reached,
    or the worker was stopped: nothing was attempted, so no attempt is counted): those
    `held` (id → the lease the worker holds it under: one another worker claimed since is
    not its to give back), and those still bearing one of the worker's claim `marks` (its
    lease_until when it claimed them: a stop between a claim's commit and its answer leaves
    recipients the worker never heard of)."""
    if not held and not marks:
        return
    owned = sa.tuple_(recipient.c.id, recipient.c.lease_until).in_(list(held.items()))
    with store.engine.begin() as connection:
        connection.execute(
            sa.update(recipient)
            .where(
                sa.or_(owned, recipient.c.lease_until.in_(marks)),
                recipient.c.delivery_state == DeliveryState.CLAIMED,
            )
            .values(
                delivery_state=DeliveryState.QUEUED,
                lease_until=None,
                attempts=recipient.c.attempts - 1,
            )
        )


def outbox_counts(store: Store, consultation_id: int | None = None) -> dict[DeliveryState, int]:
    """How many recipients of queued messages (of one consultation, or all) are in each
    outbox state: what the TUI shows as the outbox's progress."""
    query = (
        sa.select(recipient.c.delivery_state, sa.func.count())
        .join(message, message.c.id == recipient.c.message_id)
        .where(message.c.state == MessageState.QUEUED)
        .group_by(recipient.c.delivery_state)
    )
    if consultation_id is not None:
        query = query.where(message.c.consultation_id == consultation_id)
    with store.engine.connect() as connection:
        rows = connection.execute(query).all()
    counts = dict.fromkeys(DeliveryState, 0)
    counts.update({DeliveryState(state): number for state, number in rows})
    return counts


def progress_text(counts: dict[DeliveryState, int]) -> str:
    """ "File d'envoi : 3 en attente · 1 en cours · 120 envoyés · 2 non délivrés"."""
    return (
        f"File d'envoi : {counts[DeliveryState.QUEUED]} en attente · "
        f"{counts[DeliveryState.CLAIMED]} en cours · {counts[DeliveryState.ACCEPTED]} envoyé(s) · "
        f"{counts[DeliveryState.REFUSED]} non délivré(s)"
    )


# --- Health, for `messagerie status` ----------------------------------------------------------

STUCK_AFTER = timedelta(minutes=15)  # due and not sent for this long: no outbox is running


@dataclass(frozen=True)
class OutboxHealth:
    counts: dict[DeliveryState, int]
    oldest_due: datetime | None  # the longest-waiting recipient that could be sent now
    expired_claims: int  # claimed by a worker whose lease ran out (it died)
    last_sent: datetime | None
    last_problem: tuple[datetime, str] | None

    def stuck(self, now: datetime) -> str | None:
        """Why the outbox looks stuck (French), or None."""
        if self.oldest_due is not None and now - _aware(self.oldest_due) > STUCK_AFTER:
            waited = int((now - _aware(self.oldest_due)).total_seconds() // 60)
            return f"un destinataire attend l'envoi depuis {waited} min : aucun envoi ne tourne ?"
        if self.expired_claims:
            return (
                f"{self.expired_claims} destinataire(s) réservé(s) par un envoi interrompu "
                "(ils repartiront au prochain passage)"
            )
        return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# In place of an incident's detail (a relay's answer often quotes the recipient's address)
# for whoever does not see its consultation.
DETAIL_HIDDEN = "détail réservé aux comptes qui voient cette consultation"


def outbox_health(
    store: Store, now: datetime | None = None, *, viewer: Account | NoAccount | None = None
) -> OutboxHealth:
    """The outbox's counts and health for `messagerie status`: the last incident's detail
    only for a `viewer` who sees its consultation (None: a store without accounts)."""
    now = now or utc_now()
    shown = visible_consultations(viewer)
    with store.engine.connect() as connection:
        oldest_due = connection.execute(
            sa.select(
                sa.func.min(sa.func.coalesce(recipient.c.next_attempt_at, message.c.queued_at))
            )
            .join(message, message.c.id == recipient.c.message_id)
            .where(
                recipient.c.delivery_state == DeliveryState.QUEUED,
                sa.or_(recipient.c.next_attempt_at.is_(None), recipient.c.next_attempt_at <= now),
            )
        ).scalar_one()
        expired = connection.execute(
            sa.select(sa.func.count()).where(
                recipient.c.delivery_state == DeliveryState.CLAIMED, recipient.c.lease_until < now
            )
        ).scalar_one()
        last_sent = connection.execute(sa.select(sa.func.max(recipient.c.sent_at))).scalar_one()
        problem = connection.execute(
            sa.select(event.c.at, event.c.detail, shown.label("shown"))
            .join(recipient, recipient.c.id == event.c.recipient_id)
            .join(message, message.c.id == recipient.c.message_id)
            .join(consultation, consultation.c.id == message.c.consultation_id)
            .where(event.c.kind.in_([EventKind.RETRY, EventKind.NOT_DELIVERED]))
            .order_by(event.c.at.desc())
            .limit(1)
        ).first()
    return OutboxHealth(
        counts=outbox_counts(store),
        oldest_due=oldest_due,
        expired_claims=expired,
        last_sent=last_sent,
        last_problem=(problem.at, (problem.detail or "") if problem.shown else DETAIL_HIDDEN)
        if problem
        else None,
    )
