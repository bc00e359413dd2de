"""The consultation workspace's compound steps: a DCE change with its deadline rule, and the
"Information de modification" draft to every company of the registers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from messagerie.models.clock import utc_now
from messagerie.models.consultations.dce import (
    DceChanges,
    DceVersionView,
    check_deadline_change,
    move_bid_deadline,
    save_dce_changes,
)
from messagerie.models.consultations.detail import consultation_detail
from messagerie.models.consultations.registers import register_addresses
from messagerie.models.errors import Refusal
from messagerie.models.messages.drafts import (
    DraftRecipient,
    DraftRequest,
    DraftView,
    Override,
    create_draft,
)
from messagerie.models.rules.checks import modification_window_check, too_short, written_reason
from messagerie.models.store.accounts import authorize
from messagerie.models.store.audit import record_override
from messagerie.models.store.blobs import BlobStore
from messagerie.models.store.database import Store
from messagerie.models.store.enums import MessageType, RegisterKind, Right


@dataclass(frozen=True)
class DceUpdate:
    """Staged DCE changes, with how LEGAL rule 3 was met when inside the 6-day window."""

    consultation_id: int
    changes: DceChanges
    new_deadline: datetime | None = None
    reason: str = ""  # of the deadline change, or why the deadline is not moved


def publish_dce_update(
    store: Store,
    blobs: BlobStore,
    update: DceUpdate,
    actor: str,
    now: datetime | None = None,
    within: Callable[[Connection], object] | None = None,
) -> DceVersionView:
    """Check rule 3, move the deadline if asked, save the new DCE version (with what `within`
    writes, in its transaction), log any override; `actor` must have the right to modify
    the DCE."""
    now = now or utc_now()
    with store.engine.connect() as connection:  # refused before any check or file is read
        account = authorize(connection, actor, Right.DCE, update.consultation_id)
    detail = consultation_detail(store, update.consultation_id, account)
    verdict = modification_window_check(detail.bid_deadline, now)
    if verdict is not None and not written_reason(update.reason):
        raise Refusal(verdict.message + too_short(update.reason))
    new_deadline = update.new_deadline
    if new_deadline is not None:  # refused before any file is stored
        check_deadline_change(new_deadline, update.reason.strip(), now)

    def with_the_version(connection: Connection) -> None:
        # The deadline moves with the version, or not at all: refused for a version another
        # buyer saved first, it had moved all the same.
        if new_deadline is not None:
            move_bid_deadline(connection, update.consultation_id, new_deadline,
                              reason=update.reason, actor=actor, now=now)  # fmt: skip
        if within is not None:
            within(connection)

    version = save_dce_changes(
        store,
        blobs,
        update.consultation_id,
        update.changes,
        actor=actor,
        comment=update.reason or None,
        within=with_the_version,
    )
    if verdict is not None and update.new_deadline is None:
        record_override(
            store,
            consultation_id=update.consultation_id,
            rule=3,
            reason=update.reason,
            actor=actor,
            detail=f"DCE version {version.number} sans report de la date limite",
        )
    return version


def all_register_recipients(
    store: Store, consultation_id: int, *, actor: str
) -> tuple[DraftRecipient, ...]:
    """LEGAL rule 1: every company of the three registers, once per address."""
    return tuple(
        DraftRecipient(address.email, address.company_id, address.contact_name)
        for address in register_addresses(store, consultation_id, tuple(RegisterKind), actor=actor)
    )


def prepare_modification_draft(
    store: Store,
    consultation_id: int,
    *,
    actor: str,
    origin: str,
    overrides: tuple[Override, ...] = (),
) -> DraftView:
    """The draft "Information de modification de la consultation" to all registers."""
    return create_draft(
        store,
        DraftRequest(
            consultation_id=consultation_id,
            type=MessageType.MODIFICATION,
            recipients=all_register_recipients(store, consultation_id, actor=actor),
            overrides=overrides,
            origin=origin,
        ),
        actor=actor,
    )
