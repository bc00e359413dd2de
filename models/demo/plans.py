"""What the demo generator decides before writing rows: plans of consultations, register
entries and messages. The times they are placed at come from `models.demo.times`.

`models.demo` draws the plans; `models.demo_showcase` writes those of the guide's cases. Every
time is an aware UTC datetime, as stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from messagerie.models.consultations.dce import NewFile
from messagerie.models.consultations.identity import ConsultationIdentity
from messagerie.models.demo import corpus
from messagerie.models.demo.times import DAY, paris_text
from messagerie.models.store import enums


@dataclass
class Contact:
    name: str
    email: str


@dataclass
class CompanyPlan:
    id: int
    name: str
    contacts: tuple[Contact, ...]
    siret: str = ""


@dataclass
class EntityPlan:
    id: int
    organisation_id: int
    spec: corpus.EntitySpec
    organisation: corpus.OrganisationSpec
    authors: tuple[str, ...]

    @property
    def categories(self) -> tuple[str, ...]:
        return self.spec.categories or corpus.KIND_CATEGORIES[self.organisation.kind]


@dataclass
class LotPlan:
    number: int
    title: str
    id: int = 0


@dataclass
class ConsultationPlan:
    title: str
    object: str
    procedure: enums.Procedure
    status: enums.ConsultationStatus
    deadline: datetime
    created: datetime
    entity: EntityPlan
    category: str
    lots: list[LotPlan]
    reference: str = ""
    access_code: str | None = None
    urgent: bool = False
    # Draws a crowd: 40-80 retraits, and a DCE modification sent to them all.
    popular: bool = False
    guide: corpus.GuideConsultation | None = None
    # Written by models.demo_showcase (the guide's cases), not drawn at random.
    scripted: bool = False
    # A suite: the consultation it follows.
    parent: ConsultationPlan | None = None
    id: int = 0

    @property
    def published(self) -> datetime:
        """When companies could first see it (a day after creation, or sooner if rushed)."""
        rushed = timedelta(seconds=(self.deadline - self.created).total_seconds() // 4)
        return self.created + min(DAY, rushed)

    @property
    def identity(self) -> ConsultationIdentity:
        """What its letters, documents and search column name it by."""
        return ConsultationIdentity(
            self.reference,
            self.title,
            self.object,
            self.entity.organisation.name,
            self.entity.spec.name,
        )


@dataclass
class EntryPlan:
    consultation: ConsultationPlan
    kind: enums.RegisterKind
    company: CompanyPlan
    contact: Contact
    at: datetime
    lots: tuple[LotPlan, ...] = ()
    qa: tuple[str, str] | None = None
    number: int | None = None
    id: int = 0


@dataclass
class EventPlan:
    kind: enums.EventKind
    at: datetime
    detail: str | None = None
    client_address: str | None = None
    user_agent: str | None = None


@dataclass
class ReplyPlan:
    at: datetime
    channel: enums.ReplyChannel
    body: str
    read_at: datetime | None
    files: tuple[NewFile, ...] = ()


@dataclass
class Life:
    """One recipient's copy: its events and where the outbox left it."""

    status: enums.RecipientStatus
    delivery: enums.DeliveryState
    events: list[EventPlan] = field(default_factory=list)
    attempts: int = 1
    reply: ReplyPlan | None = None


@dataclass
class RecipientPlan:
    company: CompanyPlan
    contact: Contact
    life: Life


@dataclass
class MessagePlan:
    consultation: ConsultationPlan
    type: enums.MessageType
    subject: str
    body: str
    mode: enums.SendMode
    reply_allowed: bool
    reply_deadline: datetime | None
    lots: tuple[LotPlan, ...]
    state: enums.MessageState
    author: str
    created: datetime
    queued: datetime | None
    recipients: list[RecipientPlan]
    override: str | None = None
    override_rule: int = 1
    mentions: dict[str, str] | None = None


@dataclass
class Intent:
    """What a scenario wants sent; `_Builder.compose` writes the message."""

    scenario: str
    at: datetime
    contacts: list[tuple[CompanyPlan, Contact]]
    mode: enums.SendMode = enums.SendMode.WITH_AR
    reply_allowed: bool = False
    reply_deadline: datetime | None = None
    lots: tuple[LotPlan, ...] = ()
    fields: dict[str, str] = field(default_factory=dict)
    # The written reason of a rule's block passed over (LEGAL.md), and that rule.
    override: str | None = None
    override_rule: int = 1
    # Which of the scenario's contents; None draws one.
    content: int | None = None
    # Not sent yet: QUEUED (validated, in the outbox) or HELD (a draft).
    waiting: enums.DeliveryState | None = None
    # What becomes of each copy, in turn (scripted cases); empty: drawn at random.
    outcomes: tuple[Outcome, ...] = ()
    # The type's mandatory mentions, as the message form records them.
    mentions: dict[str, str] | None = None


@dataclass(frozen=True)
class Outcome:
    """A scripted copy's status in the tracking table, and the files of its reply
    (models.demo_corpus.REPLY_FILES keys) when it has one."""

    status: enums.RecipientStatus
    files: tuple[str, ...] = ()


def question_fields(question: EntryPlan) -> dict[str, str]:
    """What an answer to `question` quotes of it."""
    assert question.qa is not None and question.number is not None
    return {
        "number": str(question.number),
        "question": question.qa[0],
        "answer": question.qa[1],
        "question_date": paris_text(question.at),
    }


def placed(deadline: datetime, now: datetime, **fields: Any) -> ConsultationPlan:
    """A consultation placed by hand (the guide's, the showcase's), in the status its deadline
    gives it on the demo's day."""
    if deadline > now:
        status = enums.ConsultationStatus.OPEN
    elif deadline > now - timedelta(days=30):
        status = enums.ConsultationStatus.OPENING_ANALYSIS
    else:
        status = enums.ConsultationStatus.DECISION
    return ConsultationPlan(status=status, deadline=deadline, **fields)


def distinct_contacts(entries: Iterable[EntryPlan]) -> list[tuple[CompanyPlan, Contact]]:
    """The companies of some register entries, once per address, in register order."""
    seen: dict[str, tuple[CompanyPlan, Contact]] = {}
    for entry in entries:
        seen.setdefault(entry.contact.email, (entry.company, entry.contact))
    return list(seen.values())
