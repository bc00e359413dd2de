"""The message form ("Messagerie sécurisée"): what the buyer typed, its checks, and the store.

The screen hands a `FormInput` (the fields as typed) to `check_form`, which returns the wrong
fields (`FieldError`, in French) and the verdicts of the LEGAL.md rules; `queue_message`
runs the same checks again and commits message, recipients, lots, attachments and audit rows
in one transaction. Everything here is plain data: no Textual, no SMTP.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from messagerie.models.clock import utc_now
from messagerie.models.consultations.detail import (
    ConsultationDetail,
    consultation_detail,
    lock_consultation,
)
from messagerie.models.consultations.registers import RegisterAddress, register_addresses
from messagerie.models.errors import Refusal
from messagerie.models.formatting import paris_minutes
from messagerie.models.messages.drafts import (
    DraftRecipient,
    Override,
    insert_recipients,
    sender_domain,
    unique_recipients,
)
from messagerie.models.rules.anonymise import identity_leaks
from messagerie.models.rules.checks import MessageFacts, RuleVerdict, check_message
from messagerie.models.rules.presets import BODY_PLACEHOLDER, PRESETS, SUBJECT_PLACEHOLDER
from messagerie.models.rules.validation import (
    FieldError,
    ValidationFailed,
    check_email,
    parse_paris_datetime,
)
from messagerie.models.store import audit
from messagerie.models.store.database import Store
from messagerie.models.store.documents import DocumentInfo, document_infos
from messagerie.models.store.enums import (
    DeliveryState,
    MessageState,
    MessageType,
    RegisterKind,
    SendMode,
)
from messagerie.models.store.tables import (
    attachment,
    company,
    lot,
    message,
    message_lot,
    recipient,
    register_entry,
    suite_candidate,
)
from messagerie.models.text import search_text

SUBJECT_MAX = 300  # models/tables.py Message.subject
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # tabs and line feeds are text in a body

FORM_LABELS = {
    "type": "Type de message",
    "lots": "Lot(s) concerné(s) par ce message",
    "recipients": "Destinataires",
    "send_mode": "Modalité d'envoi",
    "reply_deadline": "Date limite de réponse",
    "subject": "Objet du message",
    "body": "Corps du message",
    "attachments": "Pièces jointes",
    "bid_deadline": "Date et heure limite de remise des plis",
}


@dataclass(frozen=True)
class MentionField:
    """A mandatory mention of a type (LEGAL.md rules 6, 7, 8, 10): typed in the form, printed
    in the message after the body."""

    key: str
    label: str
    required: bool = True
    kind: str = "text"  # "text", "date" (JJ/MM/AAAA) or "flag" (oui / empty)


MENTIONS: dict[MessageType, tuple[MentionField, ...]] = {
    MessageType.INVITATION: (
        MentionField("notice_reference", "Référence de l'avis publié"),
        MentionField("submission", "Adresse et modalités de remise des offres"),
        MentionField("documents", "Documents à fournir"),
    ),
    MessageType.REJECTION: (
        MentionField("reasons", "Motifs du rejet"),
        MentionField("awarded", "Courrier envoyé après attribution", False, "flag"),
        MentionField("awardee", "Attributaire", False),
        MentionField("award_reasons", "Motifs du choix de l'attributaire", False),
        MentionField(
            "signature_date", "Date à partir de laquelle le marché peut être signé", False, "date"
        ),
    ),
    MessageType.NOTIFICATION: (
        MentionField("exemption_reason", "Motif de dispense du délai de suspension", False),
    ),
    MessageType.CANCELLATION: (MentionField("reasons", "Motifs de la déclaration sans suite"),),
}
for _fields in MENTIONS.values():
    FORM_LABELS.update({mention.key: mention.label for mention in _fields})

# Who a type is addressed to when the buyer has not chosen (LEGAL.md rules 1 and 10; the
# guide's cases D and G address the dépôts; an invitation goes to the suite's candidates).
ALL_REGISTERS = tuple(RegisterKind)
PRESET_REGISTERS: dict[MessageType, tuple[RegisterKind, ...]] = {
    MessageType.MODIFICATION: ALL_REGISTERS,
    MessageType.ANSWER: ALL_REGISTERS,
    MessageType.CANCELLATION: ALL_REGISTERS,
    MessageType.COMPLEMENT_REQUEST: (RegisterKind.DEPOSIT,),
    MessageType.REJECTION: (RegisterKind.DEPOSIT,),
}
# Sent while bids are being prepared: a reply deadline after the bid deadline is illogical.
BEFORE_BIDS = frozenset({MessageType.ANSWER, MessageType.MODIFICATION, MessageType.INVITATION})


# --- What the form holds -----------------------------------------------------------------------


@dataclass(frozen=True)
class FormInput:
    """The message form as typed; `draft_id` once it has been saved."""

    consultation_id: int
    type: MessageType
    recipients: tuple[DraftRecipient, ...] = ()
    lot_numbers: tuple[int, ...] = ()  # empty: "Tous les lots"
    send_mode: SendMode = SendMode.WITH_AR
    reply_allowed: bool = False
    reply_deadline: str = ""  # "JJ/MM/AAAA HH:MM", Paris time; empty: none
    subject: str = ""
    body: str = ""
    mentions: Mapping[str, str] = field(default_factory=dict)
    attachment_ids: tuple[int, ...] = ()
    # "Générer le courrier": (recipient's e-mail, document) attached to that copy alone
    letters: tuple[tuple[str, int], ...] = ()
    overrides: tuple[Override, ...] = ()
    draft_id: int | None = None
    revision: int = 0  # of the draft as this form last read or saved it

    def mention(self, key: str) -> str:
        return self.mentions.get(key, "").strip()


@dataclass(frozen=True)
class ComposeContext:
    """What the form needs of the store: the consultation, its registers, candidates, and the
    rejection letters already sent (rule 8)."""

    detail: ConsultationDetail
    addresses: tuple[RegisterAddress, ...]  # the three registers, one per address
    candidates: tuple[DraftRecipient, ...]  # a suite's admitted candidates
    rejections: tuple[tuple[frozenset[int], datetime], ...]  # (lots, empty = all; queued at)
    askers: tuple[tuple[str, str, str, str], ...]  # (company, SIRET, e-mail, contact), rule 4
    awardees: tuple[DraftRecipient, ...] = ()  # recipients of the award letters already sent

    def register_recipients(self, kinds: tuple[RegisterKind, ...]) -> tuple[DraftRecipient, ...]:
        return tuple(
            DraftRecipient(address.email, address.company_id, address.contact_name)
            for address in self.addresses
            if address.kinds & set(kinds)
        )


def load_context(store: Store, consultation_id: int) -> ComposeContext:
    detail = consultation_detail(store, consultation_id)
    with store.engine.connect() as connection:
        candidates = _draft_recipients(
            connection,
            sa.select(
                suite_candidate.c.contact_email.label("email"),
                suite_candidate.c.company_id,
                suite_candidate.c.contact_name,
            )
            .where(suite_candidate.c.consultation_id == consultation_id)
            .order_by(suite_candidate.c.id),
        )
        askers = tuple(
            (row.name, row.siret, row.contact_email, row.contact_name)
            for row in connection.execute(
                sa.select(company.c.name, company.c.siret, register_entry.c.contact_email,
                          register_entry.c.contact_name)
                .join(company, company.c.id == register_entry.c.company_id)
                .where(
                    register_entry.c.consultation_id == consultation_id,
                    register_entry.c.kind == RegisterKind.QUESTION,
                )
                .distinct()
            )
        )  # fmt: skip
        rejections = _rejections(connection, consultation_id)
        awardees = _draft_recipients(
            connection,
            sa.select(recipient.c.email, recipient.c.company_id, recipient.c.contact_name)
            .join(message, message.c.id == recipient.c.message_id)
            .where(
                message.c.consultation_id == consultation_id,
                message.c.type == MessageType.AWARD,
                message.c.state == MessageState.QUEUED,
            )
            .order_by(recipient.c.id),
        )
    return ComposeContext(
        detail=detail,
        addresses=register_addresses(store, consultation_id, ALL_REGISTERS),
        candidates=candidates,
        rejections=rejections,
        askers=askers,
        awardees=unique_recipients(awardees),
    )


def _draft_recipients(connection: Connection, query: sa.Select) -> tuple[DraftRecipient, ...]:
    """Recipients from rows with email, company_id and contact_name columns."""
    return tuple(
        DraftRecipient(row.email, row.company_id, row.contact_name)
        for row in connection.execute(query)
    )


def _rejections(
    connection: Connection, consultation_id: int
) -> tuple[tuple[frozenset[int], datetime], ...]:
    """The latest rejection letter queued for all lots, and for each lot (LEGAL rule 8 only
    needs the latest), computed in SQL: a busy consultation has thousands of letters."""
    rejected = sa.and_(
        message.c.consultation_id == consultation_id,
        message.c.type == MessageType.REJECTION,
        message.c.state == MessageState.QUEUED,
    )
    all_lots = connection.execute(
        sa.select(sa.func.max(message.c.queued_at)).where(rejected, message.c.all_lots)
    ).scalar_one()
    per_lot = connection.execute(
        sa.select(lot.c.number, sa.func.max(message.c.queued_at))
        .join(message_lot, message_lot.c.message_id == message.c.id)
        .join(lot, lot.c.id == message_lot.c.lot_id)
        .where(rejected, ~message.c.all_lots)
        .group_by(lot.c.number)
    ).all()
    latest = [(frozenset({number}), at) for number, at in per_lot]
    return tuple(latest + ([(frozenset(), all_lots)] if all_lots else []))


# --- Presets -----------------------------------------------------------------------------------


def preset_form(context: ComposeContext, message_type: MessageType) -> FormInput:
    """A new form of `message_type` as the platform preselects it."""
    preset = PRESETS[message_type]
    return FormInput(
        consultation_id=context.detail.id,
        type=message_type,
        recipients=preset_recipients(context, message_type),
        send_mode=preset.send_mode,
        reply_allowed=preset.reply_allowed,
        subject=preset.subject,
        body=preset_body(context, message_type),
    )


def preset_recipients(
    context: ComposeContext, message_type: MessageType
) -> tuple[DraftRecipient, ...]:
    """Who the type goes to when the buyer has not chosen. Once an award letter has been
    sent, the notification goes to its recipient and the rejections to the other dépôts."""
    if message_type is MessageType.INVITATION and context.candidates:
        return context.candidates
    if message_type is MessageType.NOTIFICATION:
        return context.awardees
    registered = context.register_recipients(PRESET_REGISTERS.get(message_type, ()))
    if message_type is MessageType.REJECTION:
        retained = {awardee.email.casefold() for awardee in context.awardees}
        return tuple(r for r in registered if r.email.casefold() not in retained)
    return registered


def preset_body(context: ComposeContext, message_type: MessageType) -> str:
    """The type's template; an invitation is preformatted with the restricted access code."""
    detail = context.detail
    if message_type is MessageType.INVITATION and detail.access_code:
        return (
            "Bonjour,\n\n"
            "Votre candidature a été retenue : vous êtes invité(e) à présenter une offre pour "
            "la consultation citée en référence.\n\n"
            f"Code d'accès restreint : {detail.access_code}\n\n"
            "Ce code vous permet de consulter les documents de la consultation et de déposer "
            f"votre offre sur la plateforme avant le {paris_minutes(detail.bid_deadline)}.\n\n"
            "Merci de votre intérêt pour cette consultation citée en référence."
        )
    return PRESETS[message_type].body


# Fields a type change may fill; the screen says which of them the buyer touched.
PRESET_FIELDS = ("recipients", "send_mode", "reply", "subject", "body")


def change_type(
    form: FormInput, context: ComposeContext, new_type: MessageType, touched: frozenset[str]
) -> FormInput:
    """The form with `new_type` and its presets, except in the fields the buyer touched: a
    type change never wipes what was typed or chosen."""
    preset = preset_form(context, new_type)
    changes: dict[str, object] = {"type": new_type}
    if "recipients" not in touched:
        changes["recipients"] = preset.recipients
    if "send_mode" not in touched:
        changes["send_mode"] = preset.send_mode
    if "reply" not in touched:
        changes["reply_allowed"] = preset.reply_allowed
    for name in ("subject", "body"):
        if name not in touched:
            changes[name] = getattr(preset, name)
    return replace(form, **changes)  # type: ignore[arg-type]


# --- Checks ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormCheck:
    errors: tuple[FieldError, ...]  # input to fix: nothing is queued while there is one
    verdicts: tuple[RuleVerdict, ...]  # LEGAL.md rules, warnings and blocks
    overridden: tuple[int, ...]  # rules whose block the buyer passed, with a written reason

    @property
    def blocks(self) -> tuple[RuleVerdict, ...]:
        return tuple(v for v in self.verdicts if v.blocks and v.rule not in self.overridden)

    @property
    def ready(self) -> bool:
        return not self.errors and not self.blocks


def check_form(form: FormInput, context: ComposeContext, now: datetime) -> FormCheck:
    errors: list[FieldError] = []

    def wrong(name: str, text: str) -> None:
        errors.append(FieldError(name, FORM_LABELS[name], text))

    recipients = unique_recipients(form.recipients)
    if not recipients:
        wrong("recipients", "Ajoutez au moins un destinataire.")
    for one in recipients:
        try:
            check_email(one.email, field="recipients")
        except ValidationFailed as failed:
            errors.extend(failed.errors)
    subject = form.subject.strip()
    if not subject:
        wrong("subject", "L'objet du message est obligatoire.")
    elif "\r" in form.subject or "\n" in form.subject or _CONTROL.search(form.subject):
        wrong("subject", "L'objet ne doit contenir ni retour à la ligne ni caractère de contrôle.")
    elif SUBJECT_PLACEHOLDER in subject:
        wrong("subject", f"Adaptez l'objet : remplacez « {SUBJECT_PLACEHOLDER} ».")
    elif len(subject) > SUBJECT_MAX:
        wrong("subject", f"L'objet dépasse {SUBJECT_MAX} caractères : raccourcissez-le.")
    if not form.body.strip():
        wrong("body", "Le corps du message est obligatoire.")
    elif BODY_PLACEHOLDER in form.body:
        wrong("body", f"Remplacez « {BODY_PLACEHOLDER} » par le contenu du message.")
    elif _CONTROL.search(form.body):
        wrong("body", "Le corps du message contient un caractère de contrôle : retirez-le.")
    _check_letters(form, recipients, wrong)
    reply_deadline = _reply_deadline(form, context, now, errors)
    signature_date = _mention_dates(form, errors)
    for mention in MENTIONS.get(form.type, ()):
        if _CONTROL.search(form.mention(mention.key)):
            wrong(mention.key, f"« {mention.label} » contient un caractère de contrôle.")
    facts = _facts(form, context, recipients, reply_deadline, signature_date)
    verdicts = check_message(facts, now)
    blocking = {verdict.rule for verdict in verdicts if verdict.blocks}
    overridden = tuple(o.rule for o in form.overrides if o.rule in blocking and o.reason.strip())
    return FormCheck(tuple(errors), verdicts, overridden)


def _reply_deadline(
    form: FormInput, context: ComposeContext, now: datetime, errors: list[FieldError]
) -> datetime | None:
    text = form.reply_deadline.strip()
    if not text:
        return None

    def wrong(message: str) -> None:
        errors.append(FieldError("reply_deadline", FORM_LABELS["reply_deadline"], message))

    try:
        moment = parse_paris_datetime(text, field="reply_deadline")
    except ValidationFailed as failed:
        wrong(failed.errors[0].message)
        return None
    if not form.reply_allowed:
        wrong(
            "Une date limite de réponse suppose que le destinataire puisse répondre : "
            "choisissez « Oui » ou effacez la date.",
        )
    elif moment <= now:
        wrong(f"La date limite de réponse ({text}) est déjà passée.")
    elif form.type in BEFORE_BIDS and moment > context.detail.bid_deadline:
        wrong(
            f"La date limite de réponse ({text}) est postérieure à la date limite de remise "
            f"des plis ({paris_minutes(context.detail.bid_deadline)}).",
        )
    return moment


def _mention_dates(form: FormInput, errors: list[FieldError]) -> date | None:
    text = form.mention("signature_date")
    if form.type is not MessageType.REJECTION or not text:
        return None
    try:
        return parse_day(text)
    except ValueError:
        errors.append(
            FieldError(
                "signature_date",
                FORM_LABELS["signature_date"],
                f"« {text} » n'est pas une date : écrivez JJ/MM/AAAA.",
            )
        )
        return None


def parse_day(text: str) -> date:
    return datetime.strptime(text.strip(), "%d/%m/%Y").date()


def _facts(
    form: FormInput,
    context: ComposeContext,
    recipients: tuple[DraftRecipient, ...],
    reply_deadline: datetime | None,
    signature_date: date | None,
) -> MessageFacts:
    detail = context.detail
    lots = frozenset(form.lot_numbers)
    text = f"{form.subject}\n{form.body}"
    leaks: list[str] = []
    if len(recipients) > 1:
        for name, siret, email, contact in context.askers:
            leaks.extend(
                identity_leaks(text, company_name=name, siret=siret, email=email,
                               contact_name=contact)
            )  # fmt: skip
    return MessageFacts(
        type=form.type,
        formalised=detail.procedure.formalised,
        urgent=detail.urgent,
        bid_deadline=detail.bid_deadline,
        send_mode=form.send_mode,
        body=form.body,
        recipients=len(recipients),
        register_addresses=len(context.addresses),
        asker_leaks=tuple(dict.fromkeys(leaks)),
        dce_changed=form.type is MessageType.MODIFICATION,
        reply_deadline=reply_deadline,
        batch_reply_deadlines=(reply_deadline,),
        access_code=detail.access_code,
        contextual_block=True,  # always appended (letters.mail.ContextBlock)
        notice_reference=form.mention("notice_reference"),
        submission=form.mention("submission"),
        documents=form.mention("documents"),
        reasons=form.mention("reasons"),
        awarded=bool(form.mention("awarded")),
        awardee=form.mention("awardee"),
        award_reasons=form.mention("award_reasons"),
        signature_date=signature_date,
        rejections_sent_at=tuple(
            at for rejected, at in context.rejections if not rejected or not lots or rejected & lots
        ),
        exemption_reason=form.mention("exemption_reason"),
    )


# --- Store -------------------------------------------------------------------------------------


class FormRefused(Refusal):
    """The form cannot be queued: wrong fields or a rule that blocks; str() says what to fix."""

    def __init__(self, message: str, check: FormCheck | None = None) -> None:
        super().__init__(message)
        self.check = check


@dataclass(frozen=True)
class QueuedMessage:
    message_id: int
    recipients: int
    type: MessageType


def save_draft(store: Store, form: FormInput, *, actor: str) -> FormInput:
    """Store the form as a draft (created or replaced) and return it with its `draft_id` and
    new `revision`."""
    with store.engine.begin() as connection:
        message_id = _write(connection, form, MessageState.DRAFT, actor, utc_now())
        _audit(connection, form, message_id, actor, "draft.save", "brouillon enregistré",
               form.overrides)  # fmt: skip
    revision = form.revision + 1 if form.draft_id is not None else 0
    return replace(form, draft_id=message_id, revision=revision)


def queue_message(
    store: Store, form: FormInput, *, actor: str, now: datetime | None = None
) -> QueuedMessage:
    """Check the form again, then commit everything in one transaction, state "queued".

    A form already queued (a second press, another window on the same draft) is refused:
    a message is never queued twice.
    """
    return queue_messages(store, (form,), actor=actor, now=now)[0]


def queue_messages(
    store: Store, forms: Sequence[FormInput], *, actor: str, now: datetime | None = None
) -> tuple[QueuedMessage, ...]:
    """Several messages of one consultation (a mail-merge), all queued or none: every form
    is checked first, then one transaction writes them all."""
    now = now or utc_now()
    checks = []
    contexts: dict[int, ComposeContext] = {}  # a mail-merge: one consultation, read once
    for form in forms:
        cid = form.consultation_id
        context = contexts.get(cid) or contexts.setdefault(cid, load_context(store, cid))
        check = check_form(form, context, now)
        problems = [e.message for e in check.errors] or [v.message for v in check.blocks]
        if problems:
            whom = f"{form.recipients[0].email} : " if len(forms) > 1 and form.recipients else ""
            raise FormRefused(whom + "\n".join(problems), check)
        checks.append(check)
    queued = []
    with store.engine.begin() as connection:
        for form, check in zip(forms, checks, strict=True):
            lock_consultation(connection, form.consultation_id)
            message_id = _write(connection, form, MessageState.QUEUED, actor, now)
            recipients = connection.execute(
                sa.update(recipient)
                .where(recipient.c.message_id == message_id)
                .values(delivery_state=DeliveryState.QUEUED, updated_at=now)
            ).rowcount
            overrides = tuple(o for o in form.overrides if o.rule in check.overridden)
            _audit(connection, form, message_id, actor, "message.queue",
                   f"{form.type.label}, {recipients} destinataire(s)", overrides)  # fmt: skip
            queued.append(QueuedMessage(message_id, recipients, form.type))
    return tuple(queued)


def _write(
    connection: Connection, form: FormInput, state: MessageState, actor: str, now: datetime
) -> int:
    values = {
        "consultation_id": form.consultation_id,
        "type": form.type,
        "subject": form.subject.strip(),
        "body": form.body,
        "send_mode": form.send_mode,
        "reply_allowed": form.reply_allowed,
        "reply_deadline": _deadline_or_none(form.reply_deadline),
        "all_lots": not form.lot_numbers,
        "state": state,
        "queued_at": now if state is MessageState.QUEUED else None,
        "mentions": {k: v.strip() for k, v in form.mentions.items() if v.strip()},
        "search_text": search_text(form.subject, form.body),
    }
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
                message.c.state == MessageState.DRAFT,
                message.c.revision == form.revision,  # nobody saved it since we read it
            )
            .values(**values, revision=form.revision + 1)
        ).rowcount
        if not updated:
            raise _stale_draft(connection, message_id)
        for table in (message_lot, attachment, recipient):
            connection.execute(sa.delete(table).where(table.c.message_id == message_id))
    lot_ids = (
        connection.execute(
            sa.select(lot.c.id).where(
                lot.c.consultation_id == form.consultation_id, lot.c.number.in_(form.lot_numbers)
            )
        )
        .scalars()
        .all()
    )
    if lot_ids:
        connection.execute(
            sa.insert(message_lot), [{"message_id": message_id, "lot_id": i} for i in lot_ids]
        )
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
    return message_id


def _check_letters(
    form: FormInput,
    recipients: tuple[DraftRecipient, ...],
    wrong: Callable[[str, str], None],
) -> None:
    """Personal letters go only where each company reads its own: one per recipient, sent
    "avec AR" (a simple e-mail carries the message's common attachments only)."""
    if not form.letters:
        return
    if form.send_mode is SendMode.SIMPLE:
        wrong(
            "attachments",
            "Les courriers personnalisés partent avec accusé de réception : choisissez ce mode "
            "d'envoi, ou retirez les courriers.",
        )
    if {email.lower() for email, _ in form.letters} != {r.email.lower() for r in recipients}:
        wrong(
            "attachments",
            "Les destinataires ont changé depuis la génération des courriers : générez-les de "
            "nouveau (Ctrl+G).",
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


def _audit(
    connection: Connection,
    form: FormInput,
    message_id: int,
    actor: str,
    action: str,
    detail: str,
    overrides: tuple[Override, ...] = (),
) -> None:
    """The action, and each override not yet recorded for this message (drafts are saved
    again and again; the AR prints each override once)."""
    recorded = set(_recorded_overrides(connection, message_id))
    audit.append(
        connection,
        action=action,
        actor=actor,
        consultation_id=form.consultation_id,
        message_id=message_id,
        detail=detail,
        overrides=tuple(
            {"rule": o.rule, "override_reason": o.reason}
            for o in dict.fromkeys(overrides)
            if o.reason.strip() and o not in recorded
        ),
    )


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


def load_form(store: Store, message_id: int) -> FormInput:
    """A stored draft, as the form shows it again."""
    with store.engine.connect() as connection:
        row = connection.execute(sa.select(message).where(message.c.id == message_id)).one()
        if row.state != MessageState.DRAFT:
            raise FormRefused("Ce message a déjà été envoyé : il ne peut plus être modifié.")
        recipients = _draft_recipients(
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
        reply_deadline=paris_minutes(row.reply_deadline) if row.reply_deadline else "",
        subject=row.subject,
        body=row.body,
        mentions=dict(row.mentions or {}),
        attachment_ids=attachment_ids,
        letters=letters,
        overrides=overrides,
        draft_id=message_id,
        revision=row.revision,
    )


def form_attachments(store: Store, form: FormInput) -> tuple[DocumentInfo, ...]:
    return document_infos(store, form.attachment_ids)


def form_letters(store: Store, form: FormInput) -> tuple[tuple[str, DocumentInfo], ...]:
    """The generated letters of a draft, each with the recipient whose copy carries it."""
    documents = {d.id: d for d in document_infos(store, [i for _, i in form.letters])}
    return tuple((email, documents[i]) for email, i in form.letters if i in documents)
