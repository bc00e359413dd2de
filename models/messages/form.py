"""The message form ("Messagerie sécurisée"): what the buyer typed and its checks.

The screen hands a `FormInput` (the fields as typed) to `check_form`, which returns the wrong
fields (`FieldError`, in French) and the verdicts of the LEGAL.md rules. The presets of each
type are in `presets`, the store (drafts, queueing) in `queue`. Everything here is plain
data: no Textual, no SMTP.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from messagerie.models.clock import paris_today
from messagerie.models.consultations.detail import (
    ConsultationDetail,
    consultation_detail,
)
from messagerie.models.consultations.registers import RegisterAddress, addresses_of
from messagerie.models.formatting import paris_minutes
from messagerie.models.messages.drafts import (
    DraftRecipient,
    Override,
    unique_recipients,
)
from messagerie.models.rules.anonymise import identity_leaks
from messagerie.models.rules.checks import (
    MessageFacts,
    RuleVerdict,
    VerdictKey,
    answer_in_time,
    check_message,
    standstill_exempted,
    written_reason,
)
from messagerie.models.rules.presets import BODY_PLACEHOLDER, SUBJECT_PLACEHOLDER
from messagerie.models.rules.standstill import (
    RejectionSent,
    Standstill,
    concerns_lots,
    lot_standstill,
)
from messagerie.models.rules.validation import (
    FieldError,
    ValidationFailed,
    check_email,
    parse_paris_datetime,
    parse_paris_day,
)
from messagerie.models.store.accounts import Account
from messagerie.models.store.database import Store
from messagerie.models.store.enums import (
    MessageState,
    MessageType,
    RecipientStatus,
    RegisterKind,
    SendMode,
)
from messagerie.models.store.tables import (
    company,
    lot,
    message,
    message_lot,
    recipient,
    register_entry,
    register_entry_lot,
    suite_candidate,
)
from messagerie.models.text import control_character

SUBJECT_MAX = 300  # models/tables.py Message.subject
# "ci-joint", "Ci-jointe", "ci joints"…: the body promises a file.
ANNOUNCED_ATTACHMENT = re.compile(r"\bci[-\s]?joint(e|s|es)?\b", re.IGNORECASE)

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
    hint: str = ""  # how to type it, shown in the form only (the label is printed)


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
    # R2144-7: the pieces the awardee gives before signing, and by when (both or neither).
    MessageType.AWARD: (
        MentionField("pieces", "Pièces à fournir", False, hint="séparées par « ; »"),
        MentionField("pieces_deadline", "Date limite de remise des pièces", False, "date"),
    ),
    MessageType.NOTIFICATION: (
        MentionField("exemption_reason", "Motif de dispense du délai de suspension", False),
    ),
    MessageType.CANCELLATION: (MentionField("reasons", "Motifs de la déclaration sans suite"),),
}
for _fields in MENTIONS.values():
    FORM_LABELS.update({mention.key: mention.label for mention in _fields})


def field_label(name: str, kind: MessageType) -> str:
    """A field's French label; a mention's as `kind` names it (« reasons » are a rejection's
    « Motifs du rejet » and a cancellation's « Motifs de la déclaration sans suite »)."""
    named = {mention.key: mention.label for mention in MENTIONS.get(kind, ())}
    return named.get(name) or FORM_LABELS.get(name, name)


ALL_REGISTERS = tuple(RegisterKind)  # every register of a consultation
Askers = tuple[tuple[str, str, str, str], ...]  # (company, SIRET, e-mail, contact), rule 4
# Sent while bids are being prepared: while bids are open, a reply deadline after the bid
# deadline is illogical (the limit no longer holds once the bid deadline has passed).
BEFORE_BIDS = frozenset({MessageType.ANSWER, MessageType.MODIFICATION, MessageType.INVITATION})


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
    letters_basis: LetterBasis | None = None  # what they were drawn from
    overrides: tuple[Override, ...] = ()
    draft_id: int | None = None
    revision: int = 0  # of the draft as this form last read or saved it

    def mention(self, key: str) -> str:
        return self.mentions.get(key, "").strip()


@dataclass(frozen=True)
class LetterBasis:
    """What the generated letters were drawn from. A letter drawn before the buyer corrected
    an amount, a reason or a lot would say what the form no longer says: the letters go only
    while these are unchanged (the recipients are checked letter by letter)."""

    type: MessageType
    lot_numbers: tuple[int, ...]
    mentions: Mapping[str, str]
    attachment_ids: tuple[int, ...]  # the files a letter calls « ci-joint »
    # The day the letters bear (Paris): a rejection counts its signature date from it, a
    # notification its standstill. None: drawn before letters recorded it.
    dated: date | None = None

    @classmethod
    def of(cls, form: FormInput, *, dated: date | None = None) -> LetterBasis:
        return cls(
            form.type,
            tuple(sorted(form.lot_numbers)),
            {key: value.strip() for key, value in form.mentions.items() if value.strip()},
            tuple(sorted(form.attachment_ids)),
            dated,
        )

    def changes_in(self, form: FormInput) -> list[str]:
        """What changed in `form` since the letters were drawn, as the form names it."""
        now = LetterBasis.of(form)
        changed = [
            label
            for label, differs in (
                ("le type de message", now.type != self.type),
                ("les lots", now.lot_numbers != self.lot_numbers),
                ("les pièces jointes", now.attachment_ids != self.attachment_ids),
            )
            if differs
        ]
        keys = sorted(set(now.mentions) | set(self.mentions))
        changed += [
            f"« {field_label(key, form.type)} »"
            for key in keys
            if now.mentions.get(key, "") != self.mentions.get(key, "")
        ]
        return changed

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type.value,
            "lots": list(self.lot_numbers),
            "mentions": dict(self.mentions),
            "attachments": list(self.attachment_ids),
            "dated": self.dated.isoformat() if self.dated else None,
        }

    @classmethod
    def from_json(cls, data: object) -> LetterBasis | None:
        """None for a draft saved before letters recorded their basis, or an unreadable one."""
        try:
            assert isinstance(data, dict)
            return cls(
                MessageType(data["type"]),
                tuple(int(number) for number in data["lots"]),
                {str(key): str(value) for key, value in data["mentions"].items()},
                tuple(int(number) for number in data["attachments"]),
                date.fromisoformat(data["dated"]) if data.get("dated") else None,
            )
        except (AssertionError, KeyError, TypeError, ValueError, AttributeError):
            return None


@dataclass(frozen=True)
class ComposeContext:
    """What the form needs of the store: the consultation, its registers, candidates, and the
    rejection letters already sent (rule 8)."""

    detail: ConsultationDetail
    addresses: tuple[RegisterAddress, ...]  # the three registers, one per address
    candidates: tuple[DraftRecipient, ...]  # a suite's admitted candidates
    rejections: tuple[tuple[frozenset[int], RejectionSent], ...]  # (lots, empty = all; letter)
    askers: Askers  # (company, SIRET, e-mail, contact), rule 4
    awardees: tuple[DraftRecipient, ...] = ()  # recipients of the award letters already sent
    awards: tuple[tuple[frozenset[int], DraftRecipient], ...] = ()  # (lots, empty = all; whom)
    notifications: tuple[tuple[frozenset[int], datetime], ...] = ()  # (lots; queued at)
    # Requests for complements with a reply deadline: (lots; queued at; deadline), rule 5
    complements: tuple[tuple[frozenset[int], datetime, datetime], ...] = ()
    # The name of each company of the registers and of the suite's candidates, by id
    companies: tuple[tuple[int, str], ...] = ()
    deposits: tuple[tuple[int, frozenset[int]], ...] = ()  # (company id, its lots; empty = all)

    @cached_property
    def _names(self) -> tuple[dict[int, str], dict[str, str]]:
        """Company names by company id, and by register address (case ignored)."""
        by_id = {address.company_id: address.company_name for address in self.addresses}
        by_id.update(self.companies)
        by_email = {a.email.casefold(): a.company_name for a in reversed(self.addresses)}
        return by_id, by_email

    def company_of(self, one: DraftRecipient) -> str:
        """The name of a recipient's company: its own, else the one its address has in the
        registers; "" for an address typed that is in none of them."""
        by_id, by_email = self._names
        if one.company_id is not None and one.company_id in by_id:
            return by_id[one.company_id]
        return by_email.get(one.email.strip().casefold(), "")

    def awardees_of(self, lot_numbers: tuple[int, ...]) -> tuple[DraftRecipient, ...]:
        """Whom the award letters of these lots went to (no lots chosen: every awardee)."""
        if not lot_numbers:
            return self.awardees
        lots = frozenset(lot_numbers)
        return unique_recipients(
            [whom for of_lots, whom in self.awards if concerns_lots(of_lots, lots)]
        )

    def standstill(self, lot_numbers: tuple[int, ...]) -> Standstill:
        """The standstill a notification of these lots (none: all) waits for (rule 8)."""
        lots = frozenset(lot_numbers)
        concerned = (sent for of_lots, sent in self.rejections if concerns_lots(of_lots, lots))
        bidders = {who for who, of_lots in self.deposits if concerns_lots(of_lots, lots)}
        return lot_standstill(
            concerned, formalised=self.detail.procedure.formalised, bids=len(bidders)
        )

    def register_recipients(self, kinds: tuple[RegisterKind, ...]) -> tuple[DraftRecipient, ...]:
        return tuple(
            DraftRecipient(address.email, address.company_id, address.contact_name)
            for address in self.addresses
            if address.kinds & set(kinds)
        )


def load_context(
    store: Store, consultation_id: int, account: Account | None = None
) -> ComposeContext:
    """What the form needs of the consultation, as `account` sees it: ConsultationNotFound
    for one it does not see (None: a store without accounts)."""
    detail = consultation_detail(store, consultation_id, account)
    with store.engine.connect() as connection:
        candidate_rows = connection.execute(
            sa.select(
                suite_candidate.c.contact_email.label("email"),
                suite_candidate.c.company_id,
                suite_candidate.c.contact_name,
                company.c.name,
            )
            .join(company, company.c.id == suite_candidate.c.company_id)
            .where(suite_candidate.c.consultation_id == consultation_id)
            .order_by(suite_candidate.c.id)
        ).all()
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
        awards = _award_recipients(connection, consultation_id)
        notifications = tuple(
            (one.lots, one.queued_at)
            for one in _queued_lots(connection, consultation_id, MessageType.NOTIFICATION)
        )
        complements = tuple(
            (one.lots, one.queued_at, one.reply_deadline)
            for one in _queued_lots(connection, consultation_id, MessageType.COMPLEMENT_REQUEST)
            if one.reply_deadline is not None
        )
        addresses = addresses_of(connection, consultation_id, ALL_REGISTERS)  # seen: detail
        deposits = _deposits(connection, consultation_id)
    return ComposeContext(
        detail=detail,
        addresses=addresses,
        candidates=tuple(
            DraftRecipient(row.email, row.company_id, row.contact_name) for row in candidate_rows
        ),
        rejections=rejections,
        askers=askers,
        awardees=unique_recipients([awardee for _, awardee in awards]),
        awards=awards,
        notifications=notifications,
        complements=complements,
        companies=tuple((row.company_id, row.name) for row in candidate_rows),
        deposits=deposits,
    )


def _deposits(
    connection: Connection, consultation_id: int
) -> tuple[tuple[int, frozenset[int]], ...]:
    """Each dépôt of the register: its company and the lots it was made for (empty: all),
    for rule 8 to count a lot's bidders."""
    lots: dict[int, tuple[int, set[int]]] = {}
    for entry_id, company_id, number in connection.execute(
        sa.select(register_entry.c.id, register_entry.c.company_id, lot.c.number)
        .outerjoin(
            register_entry_lot, register_entry_lot.c.register_entry_id == register_entry.c.id
        )
        .outerjoin(lot, lot.c.id == register_entry_lot.c.lot_id)
        .where(
            register_entry.c.consultation_id == consultation_id,
            register_entry.c.kind == RegisterKind.DEPOSIT,
        )
    ):
        numbers = lots.setdefault(entry_id, (company_id, set()))[1]
        if number is not None:
            numbers.add(number)
    return tuple((company_id, frozenset(numbers)) for company_id, numbers in lots.values())


class QueuedLots(NamedTuple):
    id: int
    lots: frozenset[int]  # empty: all
    queued_at: datetime
    reply_deadline: datetime | None


def _queued_lots(
    connection: Connection, consultation_id: int, message_type: MessageType
) -> list[QueuedLots]:
    """Each queued message of a type: its id, lots, queue time and reply deadline, in order."""
    rows = connection.execute(
        sa.select(message.c.id, message.c.all_lots, message.c.queued_at, message.c.reply_deadline)
        .where(
            message.c.consultation_id == consultation_id,
            message.c.type == message_type,
            message.c.state == MessageState.QUEUED,
        )
        .order_by(message.c.queued_at, message.c.id)
    ).all()
    numbers: dict[int, set[int]] = {}
    for message_id, number in connection.execute(
        sa.select(message_lot.c.message_id, lot.c.number)
        .join(lot, lot.c.id == message_lot.c.lot_id)
        .where(message_lot.c.message_id.in_([row.id for row in rows]))
    ):
        numbers.setdefault(message_id, set()).add(number)
    return [
        QueuedLots(
            row.id,
            frozenset() if row.all_lots else frozenset(numbers.get(row.id, ())),
            row.queued_at,
            row.reply_deadline,
        )
        for row in rows
    ]


def _award_recipients(
    connection: Connection, consultation_id: int
) -> tuple[tuple[frozenset[int], DraftRecipient], ...]:
    """Each recipient of an award letter already sent, with the letter's lots (empty: all)."""
    lots_of = {
        one.id: one.lots for one in _queued_lots(connection, consultation_id, MessageType.AWARD)
    }
    rows = connection.execute(
        sa.select(recipient.c.message_id, recipient.c.email, recipient.c.company_id,
                  recipient.c.contact_name)
        .where(recipient.c.message_id.in_(list(lots_of)))
        .order_by(recipient.c.id)
    )  # fmt: skip
    return tuple(
        (lots_of[row.message_id], DraftRecipient(row.email, row.company_id, row.contact_name))
        for row in rows
    )


def draft_recipients(connection: Connection, query: sa.Select) -> tuple[DraftRecipient, ...]:
    """Recipients from rows with email, company_id and contact_name columns."""
    return tuple(
        DraftRecipient(row.email, row.company_id, row.contact_name)
        for row in connection.execute(query)
    )


def _rejections(
    connection: Connection, consultation_id: int
) -> tuple[tuple[frozenset[int], RejectionSent], ...]:
    """The rejection letters validated for all lots, and for each lot: when their last copy
    left (its E), and how many have not left yet or were not delivered and not sent again;
    the same for those that announced a signature date (a MAPA's chosen standstill). LEGAL
    rule 8 needs only these, computed in SQL (a busy consultation has thousands of letters)."""
    resent = recipient.alias("resent")
    waiting = sa.or_(
        recipient.c.status == RecipientStatus.PENDING,
        sa.and_(
            recipient.c.status == RecipientStatus.NOT_DELIVERED,
            ~sa.exists().where(resent.c.resent_from_id == recipient.c.id),
        ),
    )
    copies = message.join(recipient, recipient.c.message_id == message.c.id)
    rejected = sa.and_(
        message.c.consultation_id == consultation_id,
        message.c.type == MessageType.REJECTION,
        message.c.state == MessageState.QUEUED,
    )
    announced = sa.func.coalesce(message.c.mentions["signature_date"].as_string(), "") != ""
    latest: list[tuple[frozenset[int], RejectionSent]] = []
    for condition, flag in ((rejected, False), (sa.and_(rejected, announced), True)):
        # Each copy waiting is counted once: a formalised lot adds both sets up.
        waits = sa.and_(waiting, announced) if flag else sa.and_(waiting, ~announced)
        columns = (sa.func.max(recipient.c.sent_at), sa.func.count().filter(waits))
        all_lots = connection.execute(
            sa.select(*columns).select_from(copies).where(condition, message.c.all_lots)
        ).one()
        per_lot = connection.execute(
            sa.select(lot.c.number, *columns)
            .select_from(
                copies.join(message_lot, message_lot.c.message_id == message.c.id).join(
                    lot, lot.c.id == message_lot.c.lot_id
                )
            )
            .where(condition, ~message.c.all_lots)
            .group_by(lot.c.number)
        ).all()
        latest += [
            (frozenset({number}), RejectionSent(at, flag, waiting=count))
            for number, at, count in per_lot
        ]
        if all_lots[0] or all_lots[1]:
            latest.append((frozenset(), RejectionSent(all_lots[0], flag, waiting=all_lots[1])))
    return tuple(latest)


@dataclass(frozen=True)
class FormCheck:
    errors: tuple[FieldError, ...]  # input to fix: nothing is queued while there is one
    verdicts: tuple[RuleVerdict, ...]  # LEGAL.md rules, warnings and blocks
    overridden: tuple[int, ...]  # rules whose block the buyer passed, with a written reason
    exemption: str = ""  # rule 8: the exemption reason that lets a notification go (audited)
    countdown: str = ""  # rule 2: the time left to answer, while an answer is still in time

    @property
    def blocks(self) -> tuple[RuleVerdict, ...]:
        return tuple(v for v in self.verdicts if v.blocks and v.rule not in self.overridden)

    @property
    def ready(self) -> bool:
        return not self.errors and not self.blocks

    @property
    def warned(self) -> frozenset[VerdictKey]:
        """The warnings shown (`RuleVerdict.key`): what the buyer read before sending, for
        the queue to tell a warning that has come up since."""
        return frozenset(v.key for v in self.verdicts if not v.blocks)


@dataclass(frozen=True)
class AttachedText:
    """What an attachment says (rules.document_text), for rule 4: None when unreadable."""

    document_id: int
    filename: str
    sha256: str  # its bytes: what identifies the asker in them is kept by it
    text: str | None


_LEAKS: dict[tuple[str, Askers], tuple[str, ...]] = {}
_LEAKS_KEPT = 64


def attachment_leaks(reading: AttachedText, askers: Askers) -> tuple[str, ...]:
    """What identifies an asker in an attachment. Kept by its bytes and the askers (not by
    its text, up to 2 million characters each): the live checks run on every key, and a long
    document takes a while to read through; the form's worker computes it once the file is
    read (`read_attachments`)."""
    key = (reading.sha256, askers)
    if key not in _LEAKS:
        if len(_LEAKS) >= _LEAKS_KEPT:
            _LEAKS.clear()
        _LEAKS[key] = asker_leaks(reading.text or "", askers)
    return _LEAKS[key]


def check_form(
    form: FormInput,
    context: ComposeContext,
    now: datetime,
    readings: Sequence[AttachedText] = (),
) -> FormCheck:
    """The form's errors and LEGAL.md verdicts; `readings`, what its attachments say (rule 4
    looks for the asker in them)."""
    errors: list[FieldError] = []

    def wrong(name: str, text: str) -> None:
        errors.append(FieldError(name, field_label(name, form.type), text))

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
    elif control_character(form.subject):  # CR and LF included: a subject is one header
        wrong("subject", "L'objet ne doit contenir ni retour à la ligne ni caractère de contrôle.")
    elif SUBJECT_PLACEHOLDER in subject:
        wrong("subject", f"Adaptez l'objet : remplacez « {SUBJECT_PLACEHOLDER} ».")
    elif len(subject) > SUBJECT_MAX:
        wrong("subject", f"L'objet dépasse {SUBJECT_MAX} caractères : raccourcissez-le.")
    if not form.body.strip():
        wrong("body", "Le corps du message est obligatoire.")
    elif BODY_PLACEHOLDER in form.body:
        wrong("body", f"Remplacez « {BODY_PLACEHOLDER} » par le contenu du message.")
    elif control_character(form.body, multiline=True):
        wrong("body", "Le corps du message contient un caractère de contrôle : retirez-le.")
    _check_letters(form, recipients, wrong, now)
    if not form.attachment_ids and not form.letters and ANNOUNCED_ATTACHMENT.search(form.body):
        wrong(
            "attachments",
            "Le message annonce un document « ci-joint », mais aucun fichier n'est joint : "
            "joignez-le (F4) ou générez le courrier (Ctrl+G), ou retirez « ci-joint » du corps.",
        )
    reply_deadline = _reply_deadline(form, context, now, errors)
    signature_date = _mention_dates(form, errors)
    _award_pieces(form, wrong, now)
    for mention in MENTIONS.get(form.type, ()):
        if control_character(form.mention(mention.key), multiline=True):
            wrong(mention.key, f"« {mention.label} » contient un caractère de contrôle.")
    facts = _facts(form, context, recipients, reply_deadline, signature_date, readings)
    verdicts = check_message(facts, now)
    blocking = {verdict.rule for verdict in verdicts if verdict.blocks}
    overridden = tuple(
        o.rule for o in form.overrides if o.rule in blocking and written_reason(o.reason)
    )
    exempted = form.type is MessageType.NOTIFICATION and standstill_exempted(
        facts.standstill, now, facts.exemption_reason
    )
    exemption = facts.exemption_reason if exempted else ""
    countdown = ""
    if form.type is MessageType.ANSWER and facts.bid_deadline is not None:
        countdown = answer_in_time(
            facts.bid_deadline, now, formalised=facts.formalised, urgent=facts.urgent
        )
    return FormCheck(tuple(errors), verdicts, overridden, exemption, countdown)


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
    bid_deadline = context.detail.bid_deadline
    if not form.reply_allowed:
        wrong(
            "Une date limite de réponse suppose que le destinataire puisse répondre : "
            "choisissez « Oui » ou effacez la date.",
        )
    elif moment <= now:
        wrong(f"La date limite de réponse ({text}) est déjà passée.")
    elif form.type in BEFORE_BIDS and now < bid_deadline < moment:
        # Only while bids can still be submitted: after the bid deadline (analysis), an
        # answer may leave the company time to reply.
        wrong(
            f"La date limite de réponse ({text}) est postérieure à la date limite de remise "
            f"des plis ({paris_minutes(bid_deadline)}) : tant que les plis peuvent être "
            "remis, fixez une date au plus tard à cette limite.",
        )
    return moment


def _mention_dates(form: FormInput, errors: list[FieldError]) -> date | None:
    text = form.mention("signature_date")
    if form.type is not MessageType.REJECTION or not text:
        return None
    try:
        return parse_paris_day(text, field="signature_date")
    except ValidationFailed as failed:
        problem = failed.errors[0].message
        errors.append(FieldError("signature_date", FORM_LABELS["signature_date"], problem))
        return None


def _award_pieces(form: FormInput, wrong: Callable[[str, str], None], now: datetime) -> None:
    """R2144-7: pieces asked of the awardee come with the day they are due, after today
    (past it, its candidature is declared irrecevable), and a due day with the pieces."""
    pieces, text = form.mention("pieces"), form.mention("pieces_deadline")  # both stripped
    if form.type is not MessageType.AWARD or not (pieces or text):
        return
    if not text:
        wrong(
            "pieces_deadline",
            "Indiquez la date limite de remise des pièces : passé ce délai, la candidature "
            "de l'attributaire est déclarée irrecevable (article R2144-7).",
        )
        return
    try:
        day = parse_paris_day(text, field="pieces_deadline")
    except ValidationFailed as failed:
        wrong("pieces_deadline", failed.errors[0].message)
        return
    if not pieces:
        wrong("pieces", f"Une date limite ({text}) suppose des pièces à fournir : indiquez-les.")
    elif day <= paris_today(now):
        wrong("pieces_deadline", f"La date limite ({text}) doit être postérieure à aujourd'hui.")


def pieces_of(text: str) -> tuple[str, ...]:
    """The pieces as the buyer listed them, one per « ; » or line."""
    return tuple(piece.strip() for piece in re.split(r"[;\n]", text) if piece.strip())


def _facts(
    form: FormInput,
    context: ComposeContext,
    recipients: tuple[DraftRecipient, ...],
    reply_deadline: datetime | None,
    signature_date: date | None,
    readings: Sequence[AttachedText],
) -> MessageFacts:
    detail = context.detail
    leaks: tuple[str, ...] = ()
    in_files: list[str] = []
    if len(recipients) > 1:
        leaks = asker_leaks(f"{form.subject}\n{form.body}", context.askers)
        read = {reading.document_id: reading for reading in readings}
        for reading in (read[i] for i in dict.fromkeys(form.attachment_ids) if i in read):
            in_files.extend(
                f"dans « {reading.filename} », {leak}"
                for leak in attachment_leaks(reading, context.askers)
            )
    return MessageFacts(
        type=form.type,
        formalised=detail.procedure.formalised,
        urgent=detail.urgent,
        bid_deadline=detail.bid_deadline,
        send_mode=form.send_mode,
        attachments=len(form.attachment_ids),
        body=form.body,
        recipients=len(recipients),
        register_addresses=len(context.addresses),
        addressees=tuple((one.email, context.company_of(one)) for one in recipients),
        register_emails=tuple(address.email for address in context.addresses),
        candidates=tuple((one.email, context.company_of(one)) for one in context.candidates),
        asker_leaks=leaks,
        attachment_leaks=tuple(in_files),
        dce_changed=form.type is MessageType.MODIFICATION,
        reply_deadline=reply_deadline,
        batch_reply_deadlines=(reply_deadline,),
        complements=context.complements,
        access_code=detail.access_code,
        contextual_block=True,  # always appended (letters.mail.ContextBlock)
        notice_reference=form.mention("notice_reference"),
        submission=form.mention("submission"),
        documents=form.mention("documents"),
        reasons=form.mention("reasons"),
        awarded=bool(form.mention("awarded")),
        awards_sent=tuple(
            dict.fromkeys(
                context.company_of(one) or one.email
                for one in context.awardees_of(form.lot_numbers)
            )
        ),
        awardee=form.mention("awardee"),
        award_reasons=form.mention("award_reasons"),
        signature_date=signature_date,
        standstill=context.standstill(form.lot_numbers),
        lot_numbers=form.lot_numbers,
        notified=context.notifications,
        exemption_reason=form.mention("exemption_reason"),
    )


def asker_leaks(text: str, askers: Askers) -> tuple[str, ...]:
    """What identifies one of the companies that asked a question in `text` (rule 4)."""
    leaks: list[str] = []
    for name, siret, email, contact in askers:
        leaks.extend(
            identity_leaks(text, company_name=name, siret=siret, email=email, contact_name=contact)
        )
    return tuple(dict.fromkeys(leaks))


def _check_letters(
    form: FormInput,
    recipients: tuple[DraftRecipient, ...],
    wrong: Callable[[str, str], None],
    now: datetime,
) -> None:
    """Personal letters go only where each company reads its own: one per recipient, sent
    "avec AR" (a simple e-mail carries the message's common attachments only), on the day
    they bear."""
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
    if form.letters_basis is None:
        wrong(
            "attachments",
            "Ces courriers viennent d'un brouillon qui ne dit pas d'après quel formulaire ils "
            "ont été générés : générez-les de nouveau (Ctrl+G).",
        )
    elif changed := form.letters_basis.changes_in(form):
        wrong(
            "attachments",
            f"Modifié depuis la génération des courriers : {', '.join(changed)}. Les courriers "
            "ne le disent pas : générez-les de nouveau (Ctrl+G).",
        )
    elif (dated := form.letters_basis.dated) != (today := paris_today(now)):
        # A rejection dated the day before announces a signature date a day early.
        wrong(
            "attachments",
            f"Les courriers sont datés du {dated:%d/%m/%Y} et comptent leurs délais de ce jour ; "
            f"le message part le {today:%d/%m/%Y} : générez-les de nouveau (Ctrl+G)."
            if dated
            else "Ces courriers ne disent pas de quel jour ils sont datés : générez-les de "
            "nouveau (Ctrl+G).",
        )
