"""The message form in the store: drafts saved and reopened, messages queued.

`queue_message` runs the form's checks again and commits message, recipients, lots,
attachments and audit rows in one transaction; a draft opened on an older revision is
refused, never merged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from messagerie.models.clock import utc_now
from messagerie.models.consultations.detail import (
    lock_consultation,
)
from messagerie.models.errors import Refusal
from messagerie.models.formatting import paris_as_typed
from messagerie.models.messages.drafts import (
    DROPPED_NOTE,
    KEPT_AT_HANG_UP,
    SAVED,
    Override,
    dropped_deadline,
    insert_recipients,
    link_lots,
    sender_domain,
    unique_recipients,
)
from messagerie.models.messages.files import read_attachments
from messagerie.models.messages.form import (
    AttachedText,
    ComposeContext,
    FormCheck,
    FormInput,
    LetterBasis,
    check_form,
    draft_recipients,
    load_context,
)
from messagerie.models.messages.rows import message_row
from messagerie.models.messages.tracking import MessageNotFound, message_consultation
from messagerie.models.rules.checks import VerdictKey
from messagerie.models.rules.validation import (
    ValidationFailed,
    parse_paris_datetime,
)
from messagerie.models.store import audit
from messagerie.models.store.accounts import Account, authorize, authorize_reading, require
from messagerie.models.store.database import Store
from messagerie.models.store.documents import document_infos
from messagerie.models.store.enums import (
    DeliveryState,
    MessageState,
    MessageType,
    Right,
    SendMode,
)
from messagerie.models.store.tables import (
    attachment,
    lot,
    message,
    message_lot,
    recipient,
)


class FormRefused(Refusal):
    """The form cannot be queued: wrong fields or a rule that blocks; str() says what to fix.
    With the store as the checks read it at that moment (`context`, `readings`): the form
    shows what refused it without reading it again."""

    def __init__(
        self,
        message: str,
        check: FormCheck | None = None,
        context: ComposeContext | None = None,
        readings: tuple[AttachedText, ...] = (),
    ) -> None:
        super().__init__(message)
        self.check = check
        self.context = context
        self.readings = readings


@dataclass(frozen=True)
class QueuedMessage:
    message_id: int
    recipients: int
    type: MessageType


def save_draft(store: Store, form: FormInput, *, actor: str, detail: str = SAVED) -> FormInput:
    """Store the form as a draft (created or replaced) and return it with its `draft_id` and
    new `revision`."""
    with store.engine.begin() as connection:
        authorize_forms(connection, (form,), actor)
        message_id = _write(connection, form, MessageState.DRAFT, actor, utc_now())
        _audit(connection, form, message_id, actor, "draft.save", detail, form.overrides)
    revision = form.revision + 1 if form.draft_id is not None else 0
    return replace(form, draft_id=message_id, revision=revision)


def keep_typing(store: Store, form: FormInput, *, actor: str, at_hang_up: bool = True) -> FormInput:
    """The form as typed when the app ended (the terminal gone, or Ctrl+Q and « Enregistrer
    et quitter »), kept as a draft: over its own draft when that is still the one the form
    read, as a new draft when another window saved or sent it meanwhile (what was typed here
    is kept all the same). At a hang-up, a reply deadline that cannot be read is left out, and
    the audit says which (asked, Ctrl+Q shows the problem instead, with the typing kept)."""
    detail = KEPT_AT_HANG_UP if at_hang_up else SAVED
    if at_hang_up and (unreadable := _unreadable_deadline(form)):
        form = replace(form, reply_deadline="")
        detail = f"{detail}{DROPPED_NOTE}{dropped_deadline(unreadable)}"
    try:
        return save_draft(store, form, actor=actor, detail=detail)
    except FormRefused:
        alone = replace(form, draft_id=None, revision=0)
        return save_draft(store, alone, actor=actor, detail=detail)


def queue_message(
    store: Store,
    form: FormInput,
    *,
    actor: str,
    now: datetime | None = None,
    seen: frozenset[VerdictKey] | None = None,
) -> QueuedMessage:
    """Check the form again, then commit everything in one transaction, state "queued".

    A form already queued (a second press, another window on the same draft) is refused:
    a message is never queued twice. With `seen`, the warnings the buyer was shown
    (`FormCheck.warned`), a warning that has come up since (another buyer notified the lot
    meanwhile) refuses it too: a letter never leaves on a warning nobody read.
    """
    return queue_messages(store, (form,), actor=actor, now=now, seen=seen)[0]


def queue_messages(
    store: Store,
    forms: Sequence[FormInput],
    *,
    actor: str,
    now: datetime | None = None,
    seen: frozenset[VerdictKey] | None = None,
) -> tuple[QueuedMessage, ...]:
    """Several messages of one consultation (a mail-merge), all queued or none: every form
    is checked first, then one transaction writes them all."""
    readings = _readings(store, forms, actor)  # before the transaction: it takes a while
    with store.engine.begin() as connection:
        return queue_within(
            connection, store, forms, actor=actor, now=now, seen=seen, readings=readings
        )


def queue_within(
    connection: Connection,
    store: Store,
    forms: Sequence[FormInput],
    *,
    actor: str,
    now: datetime | None = None,
    seen: frozenset[VerdictKey] | None = None,
    readings: tuple[AttachedText, ...] | None = None,
) -> tuple[QueuedMessage, ...]:
    """`queue_messages` inside the caller's transaction, for a caller that writes more with
    the messages (a mail-merge's letters): a refusal rolls back what it wrote too. `readings`:
    what the attachments say, read by the caller before its transaction (None: read here)."""
    now = now or utc_now()
    queued = []
    # The rights first: an account that may not send is told so, not what to fix.
    account = authorize_forms(connection, forms, actor)
    if readings is None:
        readings = _readings(store, forms, actor)
    # The consultations held before the checks read them: a letter another buyer queues at
    # the same moment (a rejection that starts the standstill, a notification of the same
    # lot) is either seen by these checks or written after these messages, never between.
    for consultation_id in sorted({form.consultation_id for form in forms}):
        lock_consultation(connection, consultation_id)
    checks = _checks(store, forms, account, now, readings, seen)
    for form, check in zip(forms, checks, strict=True):
        message_id = _write(connection, form, MessageState.QUEUED, actor, now)
        recipients = connection.execute(
            sa.update(recipient)
            .where(recipient.c.message_id == message_id)
            .values(delivery_state=DeliveryState.QUEUED, updated_at=now)
        ).rowcount
        overrides = tuple(o for o in form.overrides if o.rule in check.overridden)
        _audit(connection, form, message_id, actor, "message.queue",
               f"{form.type.label}, {recipients} destinataire(s)", overrides,
               check.exemption)  # fmt: skip
        queued.append(QueuedMessage(message_id, recipients, form.type))
    return tuple(queued)


def authorize_forms(
    connection: Connection, forms: Sequence[FormInput], actor: str
) -> Account | None:
    """The account of `actor`, once it may send each form (`authorize_sending`)."""
    account = None
    for consultation_id, message_type in dict.fromkeys((f.consultation_id, f.type) for f in forms):
        account = authorize_sending(connection, actor, consultation_id, message_type)
    return account


def authorize_sending(
    connection: Connection, actor: str, consultation_id: int, message_type: MessageType
) -> Account | None:
    """`authorize` for sending a message: `send` on a consultation the account sees, and
    `decide` too for a decision letter (rejection, award, notification, cancellation)."""
    account = authorize(connection, actor, Right.SEND, consultation_id)
    if message_type.decision:
        require(account, Right.DECIDE)
    return account


def _readings(store: Store, forms: Sequence[FormInput], actor: str) -> tuple[AttachedText, ...]:
    """What the attachments of the forms sent to several companies say (rule 4), read before
    the consultations are held: a long PDF takes a while."""
    ids = [i for f in forms if len(unique_recipients(f.recipients)) > 1 for i in f.attachment_ids]
    documents = document_infos(store, list(dict.fromkeys(ids)), actor=actor)
    return read_attachments(store, documents)


def _checks(
    store: Store,
    forms: Sequence[FormInput],
    account: Account | None,
    now: datetime,
    readings: tuple[AttachedText, ...],
    seen: frozenset[VerdictKey] | None,
) -> list[FormCheck]:
    """Every form checked against its consultation as `account` sees it; FormRefused with
    the first form's problems (named by its first recipient in a mail-merge), or with the
    warnings not in `seen` (None: any warning goes)."""
    checks = []
    contexts: dict[int, ComposeContext] = {}  # a mail-merge: one consultation, read once
    for form in forms:
        cid = form.consultation_id
        context = contexts.get(cid) or contexts.setdefault(cid, load_context(store, cid, account))
        check = check_form(form, context, now, readings)
        problems = [e.message for e in check.errors] or [v.message for v in check.blocks]
        unseen = [v.message for v in check.verdicts if not v.blocks and v.key not in (seen or ())]
        if problems:
            whom = f"{form.recipients[0].email} : " if len(forms) > 1 and form.recipients else ""
            raise FormRefused(whom + "\n".join(problems), check, context, readings)
        if seen is not None and unseen:
            raise FormRefused(UNSEEN_WARNING + "\n".join(unseen), check, context, readings)
        checks.append(check)
    return checks


UNSEEN_WARNING = (
    "Rien n'a été envoyé : ce qui suit est apparu depuis la vérification du message (un autre "
    "acheteur a pu écrire dans la consultation entre-temps, une pièce jointe venait d'être "
    "lue, ou l'heure a passé une limite). Lisez-le, puis appuyez de nouveau sur Ctrl+E si "
    "le message doit partir quand même :\n"
)


def _write(
    connection: Connection, form: FormInput, state: MessageState, actor: str, now: datetime
) -> int:
    values = message_row(
        form.consultation_id,
        form.type,
        form.subject.strip(),
        form.body,
        send_mode=form.send_mode,
        reply_allowed=form.reply_allowed,
        all_lots=not form.lot_numbers,
        state=state,
        reply_deadline=_deadline_or_none(form.reply_deadline),
        queued_at=now if state is MessageState.QUEUED else None,
        mentions={k: v.strip() for k, v in form.mentions.items() if v.strip()},
        letters_basis=(
            form.letters_basis.to_json() if form.letters and form.letters_basis else None
        ),
    )
    if form.draft_id is None:
        message_id = connection.execute(
            sa.insert(message)
            .values(**values, author=actor, created_at=now)
            .returning(message.c.id)
        ).scalar_one()
    else:
        message_id = form.draft_id
        updated = connection.execute(
            sa.update(message)
            .where(
                message.c.id == message_id,
                # a draft of this consultation only: never one of a consultation not checked
                message.c.consultation_id == form.consultation_id,
                message.c.state == MessageState.DRAFT,
                message.c.revision == form.revision,  # nobody saved it since we read it
            )
            .values(**values, revision=form.revision + 1)
        ).rowcount
        if not updated:
            raise _stale_draft(connection, message_id)
        for table in (message_lot, attachment, recipient):
            connection.execute(sa.delete(table).where(table.c.message_id == message_id))
    _write_parts(connection, form, message_id, now)
    return message_id


def _write_parts(connection: Connection, form: FormInput, message_id: int, now: datetime) -> None:
    """The message's lots, attachments, recipients and personalised letters."""
    link_lots(connection, message_id, form.consultation_id, form.lot_numbers)
    if form.attachment_ids:
        connection.execute(
            sa.insert(attachment),
            [{"message_id": message_id, "document_id": i} for i in form.attachment_ids],
        )
    insert_recipients(
        connection,
        message_id,
        unique_recipients(form.recipients),
        sender_domain(connection, form.consultation_id),
        now,
    )
    if form.letters:
        copies = dict(
            connection.execute(
                sa.select(sa.func.lower(recipient.c.email), recipient.c.id).where(
                    recipient.c.message_id == message_id
                )
            ).all()
        )
        connection.execute(
            sa.insert(attachment),
            [
                {"message_id": message_id, "document_id": document_id, "recipient_id": copy}
                for email, document_id in form.letters
                if (copy := copies.get(email.lower())) is not None
            ],
        )


def _stale_draft(connection: Connection, message_id: int) -> FormRefused:
    """Why a draft could not be written: sent meanwhile, or saved by someone else."""
    found = connection.execute(
        sa.select(message.c.state).where(message.c.id == message_id)
    ).scalar_one_or_none()
    if found == MessageState.DRAFT:
        return FormRefused(
            "Ce brouillon a été modifié entre-temps depuis un autre poste : rien n'a été "
            "écrasé. Votre saisie reste à l'écran ; rouvrez le brouillon pour voir l'autre "
            "version, puis reportez-y vos changements."
        )
    return FormRefused(
        "Ce message a déjà été envoyé (ou son brouillon supprimé) : il n'est pas renvoyé. "
        "Consultez le suivi des messages."
    )


def _deadline_or_none(text: str) -> datetime | None:
    return parse_paris_datetime(text, field="reply_deadline") if text.strip() else None


def _unreadable_deadline(form: FormInput) -> str | None:
    """The reply deadline as typed, when it names no time the store can keep."""
    try:
        _deadline_or_none(form.reply_deadline)
    except ValidationFailed:
        return form.reply_deadline.strip()
    return None


def _audit(
    connection: Connection,
    form: FormInput,
    message_id: int,
    actor: str,
    action: str,
    detail: str,
    overrides: tuple[Override, ...] = (),
    exemption: str = "",
) -> None:
    """The action, and each override not yet recorded for this message (drafts are saved
    again and again; the AR prints each override once). With them, the standstill exemption
    a notification was queued with (LEGAL.md rule 8), recorded as an override is, with its
    reason: what lifted the block can be proved later, and the AR prints it."""
    recorded = set(_recorded_overrides(connection, message_id))
    at = utc_now()
    audit.append(
        connection,
        action=action,
        actor=actor,
        at=at,
        consultation_id=form.consultation_id,
        message_id=message_id,
        detail=detail,
        overrides=tuple(
            {"rule": o.rule, "override_reason": o.reason}
            for o in dict.fromkeys(overrides)
            if o.reason.strip() and o not in recorded
        ),
    )
    if exemption:
        reason = f"Dispense du délai de suspension (article R2182-1) : {exemption}"
        audit.append(connection, action=audit.EXEMPTION, actor=actor, at=at, rule=8,
                     override_reason=reason, consultation_id=form.consultation_id,
                     message_id=message_id)  # fmt: skip


def _recorded_overrides(connection: Connection, message_id: int) -> tuple[Override, ...]:
    return tuple(
        Override(row.rule, row.override_reason)
        for row in connection.execute(
            sa.select(audit.audit_entry.c.rule, audit.audit_entry.c.override_reason)
            .where(
                audit.audit_entry.c.message_id == message_id,
                audit.audit_entry.c.action == audit.OVERRIDE,
            )
            .order_by(audit.audit_entry.c.id)
        )
    )


def load_form(store: Store, message_id: int, *, actor: str) -> FormInput:
    """A stored draft, as the form shows it again, for an `actor` who sees its consultation
    (MessageNotFound otherwise, as for a message that does not exist)."""
    with store.engine.connect() as connection:
        authorize_reading(connection, actor, message_consultation(message_id),
                          missing=MessageNotFound.numbered(message_id))  # fmt: skip
        row = connection.execute(sa.select(message).where(message.c.id == message_id)).one()
        if row.state != MessageState.DRAFT:
            raise FormRefused("Ce message a déjà été envoyé : il ne peut plus être modifié.")
        recipients = draft_recipients(
            connection,
            sa.select(recipient.c.email, recipient.c.company_id, recipient.c.contact_name)
            .where(recipient.c.message_id == message_id)
            .order_by(recipient.c.id),
        )
        lot_numbers = tuple(
            connection.execute(
                sa.select(lot.c.number)
                .join(message_lot, message_lot.c.lot_id == lot.c.id)
                .where(message_lot.c.message_id == message_id)
                .order_by(lot.c.number)
            ).scalars()
        )
        attachment_ids = tuple(
            connection.execute(
                sa.select(attachment.c.document_id)
                .where(attachment.c.message_id == message_id, attachment.c.recipient_id.is_(None))
                .order_by(attachment.c.id)
            ).scalars()
        )
        letters = tuple(
            (email, document_id)
            for email, document_id in connection.execute(
                sa.select(recipient.c.email, attachment.c.document_id)
                .join(recipient, recipient.c.id == attachment.c.recipient_id)
                .where(attachment.c.message_id == message_id)
                .order_by(attachment.c.id)
            )
        )
        overrides = _recorded_overrides(connection, message_id)
    return FormInput(
        consultation_id=row.consultation_id,
        type=MessageType(row.type),
        recipients=recipients,
        lot_numbers=lot_numbers,
        send_mode=SendMode(row.send_mode),
        reply_allowed=row.reply_allowed,
        reply_deadline=paris_as_typed(row.reply_deadline) if row.reply_deadline else "",
        subject=row.subject,
        body=row.body,
        mentions=dict(row.mentions or {}),
        attachment_ids=attachment_ids,
        letters=letters,
        letters_basis=LetterBasis.from_json(row.letters_basis),
        overrides=overrides,
        draft_id=message_id,
        revision=row.revision,
    )
