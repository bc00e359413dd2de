"""The demo database: 1,395 consultations, their registers, DCE and years of secure messages.

`seed_demo(store, today)` fills an empty (or demo) store in one transaction, and puts the
documents' bytes in the store's blob store. Every row is a function of `today` alone, its
secrets excepted: the generators are seeded, history is placed relative to `today`
(Europe/Paris) and nothing reads the clock, so the same day always gives the same rows; the
recipients' tokens and Message-IDs come from the system's random source, so that no two
installs share a secret (SECRET_COLUMNS).

Most consultations are drawn at random; those that tell the guide's cases (A to J) are
written on purpose by `models.demo_showcase`, for any day: TEST SUPPORT open with its three
registers and its DCE, questions 3 and 20 days before a deadline, DCE versions, a restricted
procedure and its suite, letters in and after the standstill, every status of the tracking,
and 2025VINS's messaging (the same whatever the day).

Conventions of the data:
- An unallotted consultation has no Lot row; an allotted one has lots 1..n. Lot titles are
  stored without their "Lot n°X - " prefix, which `models.formatting.lot_label` adds.
- A retrait concerns the whole DCE (no lot row); a question names its lot when it is about
  one; a dépôt names the lots bid for. Consultations in Elaboration or awaiting validation
  have no register entry. Dépôts are made before the deadline: those drawn at random only on
  consultations past it, a few of the showcase's on open ones (TEST SUPPORT among them).
- History (registers, events, replies) lies before `today` 00:00 Paris; deadlines of
  consultations still open lie after it. The guide's own examples keep their dates; TEST
  SUPPORT keeps 22/02/2027 09:55 while that is 30 days ahead or more, and moves by whole
  years otherwise. No other deadline is later than TEST SUPPORT's, so that it sorts first.
- Sent messages are QUEUED ("Validé") with recipients ACCEPTED or REFUSED by the relay; a few
  messages still wait in the outbox (no event yet) and two are drafts (recipients HELD).
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from messagerie.models.consultations.identity_query import search_text_of
from messagerie.models.consultations.registers import entry_row
from messagerie.models.demo import corpus
from messagerie.models.demo.documents import DemoDocuments
from messagerie.models.demo.files import reply_file
from messagerie.models.demo.marker import DEMO_MARKER_KEY
from messagerie.models.demo.plans import (
    CompanyPlan,
    ConsultationPlan,
    Contact,
    EntityPlan,
    EntryPlan,
    EventPlan,
    Intent,
    Life,
    LotPlan,
    MessagePlan,
    Outcome,
    RecipientPlan,
    ReplyPlan,
    distinct_contacts,
    placed,
    question_fields,
)
from messagerie.models.demo.showcase import Showcase
from messagerie.models.demo.times import (
    DAY,
    between,
    later,
    office_time,
    paris_at,
    paris_day,
    paris_text,
    workday,
)
from messagerie.models.formatting import lot_label
from messagerie.models.messages.rows import message_row, recipient_row
from messagerie.models.rules.siret import luhn_valid
from messagerie.models.rules.standstill import signing_from, standstill_applies, standstill_days
from messagerie.models.rules.validation import ValidEntry
from messagerie.models.store import audit, enums, migrate
from messagerie.models.store import tables as schema
from messagerie.models.store.accounts import current_login
from messagerie.models.store.blobs import BlobStore
from messagerie.models.store.chain import chain_rows
from messagerie.models.store.database import Store
from messagerie.models.store.engine import StoreError
from messagerie.models.text import fold

DEMO_VERSION = "messagerie-demo v1"
SEED = DEMO_VERSION

CONSULTATION_COUNT = 1395  # the platform's dashboard: "1 395 Résultats de recherche"
# Generated consultations per status; the rest (most of them) are in Décision.
STATUS_COUNTS = {
    enums.ConsultationStatus.DRAFTING: 48,
    enums.ConsultationStatus.AWAITING_VALIDATION: 21,
    enums.ConsultationStatus.OPEN: 164,
    enums.ConsultationStatus.OPENING_ANALYSIS: 86,
}
PROCEDURE_WEIGHTS = {
    enums.Procedure.ADAPTED: 55,
    enums.Procedure.OPEN_TENDER: 30,
    enums.Procedure.RESTRICTED_TENDER: 6,
    enums.Procedure.NEGOTIATED: 7,
    enums.Procedure.COMPETITIVE_DIALOGUE: 2,
}
CLOSED = (enums.ConsultationStatus.OPENING_ANALYSIS, enums.ConsultationStatus.DECISION)
WITH_REGISTERS = (enums.ConsultationStatus.OPEN, *CLOSED)
# Share of the consultations whose buyers used the secure messaging.
MESSAGING_SHARE = 0.55
# Nothing is sent later than this before `today`, so that retries and bounces are over too.
SENDING_MARGIN = timedelta(hours=12)
DEADLINE_HOURS = ((12, 0), (12, 0), (12, 0), (16, 0), (17, 30), (11, 45), (10, 0), (14, 0))
# What the relay answers when it takes a copy (E), and what a delivery report says (D).
ACCEPTED = "250 2.0.0 Ok: queued as {}"
DELIVERED = "2.0.0 delivered"

SCENARIO_TYPES = {
    "visit": enums.MessageType.FREE,
    "visit_form": enums.MessageType.FREE,
    "reminder": enums.MessageType.FREE,
    "negotiation": enums.MessageType.FREE,
    "clarification": enums.MessageType.FREE,
    "modification": enums.MessageType.MODIFICATION,
    "answer_all": enums.MessageType.ANSWER,
    "answer_one": enums.MessageType.ANSWER,
    "invitation": enums.MessageType.INVITATION,
    "complement": enums.MessageType.COMPLEMENT_REQUEST,
    "award": enums.MessageType.AWARD,
    "notification": enums.MessageType.NOTIFICATION,
    "rejection": enums.MessageType.REJECTION,
    "cancellation": enums.MessageType.CANCELLATION,
}

# Tables in foreign-key order, as inserted.
TABLES: tuple[sa.Table, ...] = (
    schema.organisation,
    schema.purchasing_entity,
    schema.consultation,
    schema.lot,
    schema.company,
    schema.register_entry,
    schema.register_entry_lot,
    schema.suite_candidate,
    schema.qa_item,
    schema.document,
    schema.dce_version,
    schema.dce_piece,
    schema.message,
    schema.message_lot,
    schema.recipient,
    schema.event,
    schema.reply,
    schema.reply_attachment,
    schema.audit_entry,
    schema.store_meta,
    schema.account,
    schema.account_entity,
    schema.account_right,
)
# Drawn afresh by every build: the personal link's token, the address tokens, the Message-ID.
SECRET_COLUMNS = ("token", "reply_token", "bounce_token", "message_id_header")
# Tables whose rows real buyers create: any of them filled without the marker means real data.
REAL_DATA_TABLES = ("consultation", "organisation", "company", "message")


@dataclass(frozen=True)
class DemoReport:
    """What `seed_demo` found or built."""

    created: bool
    consultations: int
    companies: int
    register_entries: int
    messages: int
    recipients: int


# --- Public entry point ---------------------------------------------------------------------


def seed_demo(store: Store, today: date, reset: bool = False) -> DemoReport:
    """Build the demo in `store` (migrated to head), or leave an existing demo untouched.

    A store holding real data (rows but no demo marker) is refused, reset or not. With
    `reset`, the store is emptied (migrations down and up) and built again. Building needs
    the store's documents folder, where the demo's files go (DCE, files of replies); an
    existing demo left as it is does not.
    """
    marker = store.meta(DEMO_MARKER_KEY)
    if marker is None:
        refuse_real_data(store)
    elif not reset:
        return read_report(store)
    blobs = _blob_store(store)
    if reset:
        migrate.reset(store.engine)
    builder = _Builder(today)
    tables = builder.build()
    for data in builder.files.values():
        blobs.put(data)  # content-addressed: a file already there is left as it is
    with store.engine.begin() as connection:
        for table in TABLES:
            if tables[table.name]:
                connection.execute(sa.insert(table), tables[table.name])
        if connection.dialect.name == "postgresql":
            _advance_sequences(connection)
    return _report(tables, created=True)


def build_demo(today: date) -> dict[str, list[dict[str, Any]]]:
    """Every row of the demo, by table name (no database needed)."""
    return _Builder(today).build()


def _blob_store(store: Store) -> BlobStore:
    """Where the demo's files go; StoreError, before anything is changed, when none is set."""
    if store.documents_dir is None:
        raise StoreError(
            "La démonstration enregistre des documents (DCE, pièces jointes des réponses) : "
            "indiquez le dossier des données (--data-dir ou MESSAGERIE_DATA_DIR). La base "
            f"{store.description} n'a pas été modifiée."
        )
    return store.blobs


def refuse_real_data(store: Store) -> None:
    """Raise StoreError when the store holds rows the demo did not write."""
    with store.engine.connect() as connection:
        for name in REAL_DATA_TABLES:
            table = sa.table(name)
            if connection.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
                raise StoreError(
                    f"La base {store.description} contient des données réelles (table {name}) "
                    "et n'a pas été créée par la démonstration : la démonstration refuse d'y "
                    "toucher. Choisissez une autre base avec MESSAGERIE_DB."
                )


def read_report(store: Store) -> DemoReport:
    with store.engine.connect() as connection:

        def count(name: str) -> int:
            return connection.execute(
                sa.select(sa.func.count()).select_from(sa.table(name))
            ).scalar_one()

        return DemoReport(
            created=False,
            consultations=count("consultation"),
            companies=count("company"),
            register_entries=count("register_entry"),
            messages=count("message"),
            recipients=count("recipient"),
        )


def _report(tables: dict[str, list[dict[str, Any]]], created: bool) -> DemoReport:
    return DemoReport(
        created=created,
        consultations=len(tables["consultation"]),
        companies=len(tables["company"]),
        register_entries=len(tables["register_entry"]),
        messages=len(tables["message"]),
        recipients=len(tables["recipient"]),
    )


def _advance_sequences(connection: Connection) -> None:
    """Explicit ids leave PostgreSQL's sequences at 1: move them past the demo's rows."""
    quote = connection.dialect.identifier_preparer.quote
    for table in TABLES:
        if "id" in table.c:
            connection.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence(:name, 'id'), "
                    f"(SELECT max(id) FROM {quote(table.name)}))"
                ),
                {"name": table.name},
            )


# --- Small generators -----------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def _name_key(name: str) -> str:
    """A company name without its legal form: "Muller TP SARL" and "SAS Muller TP" clash."""
    forms = {_slug(form) for form in corpus.LEGAL_FORMS}
    return "-".join(word for word in _slug(name).split("-") if word not in forms)


def _unique(draw: Callable[[], str], seen: set[str], key: Callable[[str], str] = str) -> str:
    """Draw until the value's key is new; remember it."""
    value = draw()
    while key(value) in seen:
        value = draw()
    seen.add(key(value))
    return value


def _luhn_completed(payload: str) -> str:
    """`payload` followed by the digit that makes its Luhn checksum valid."""
    return next(payload + d for d in string.digits if luhn_valid(payload + d))


def _siret(rng: random.Random) -> str:
    """A SIRET whose SIREN (9 digits) and whole number (14 digits) both pass Luhn."""
    siren = _luhn_completed(str(rng.randint(1, 9)) + "".join(rng.choices(string.digits, k=7)))
    return _luhn_completed(f"{siren}{rng.randint(1, 99):04d}")


def _weighted(rng: random.Random, weights: dict[enums.Procedure, int]) -> enums.Procedure:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _person(rng: random.Random) -> str:
    return f"{rng.choice(corpus.FIRST_NAMES)} {rng.choice(corpus.SURNAMES)}"


def _company_name(rng: random.Random, trades: Sequence[str]) -> str:
    surname, other = rng.sample(corpus.SURNAMES, 2)
    trade, form = rng.choice(trades), rng.choice(corpus.LEGAL_FORMS)
    return rng.choice(
        (
            f"{form} {surname} {trade}",
            f"{surname} {trade} {form}",
            f"{trade} {rng.choice(corpus.PLACES)} {form}",
            f"Établissements {surname} et Fils",
            f"{surname} & {other} {trade}",
        )
    )


def _contacts(rng: random.Random, domain: str) -> tuple[Contact, ...]:
    """One to three people; the first often writes from the company's shared mailbox."""
    contacts: dict[str, Contact] = {}
    for index in range(rng.choices((1, 2, 3), weights=(5, 3, 1))[0]):
        name = _person(rng)
        local = _slug(name).replace("-", ".", 1)
        if index == 0 and rng.random() < 0.25:
            local = rng.choice(("contact", "marches", "appels-offres", "commercial"))
        contacts.setdefault(f"{local}@{domain}", Contact(name, f"{local}@{domain}"))
    return tuple(contacts.values())


def _queue_id(rng: random.Random) -> str:
    """The relay's id of a queued copy, as Postfix writes it."""
    return "".join(rng.choices(string.hexdigits[:16].upper(), k=10))


def _lots_phrase(title: str, lots: Sequence[LotPlan]) -> str:
    """What a letter is about: "le lot n°2 - Chocolat noir", or the whole consultation."""
    labels = [lot_label(lot.number, lot.title) for lot in lots]
    if not labels:
        return f"la consultation « {title} »"
    if len(labels) == 1:
        return "le l" + labels[0][1:]
    return "les lots suivants : " + ", ".join(labels)


def _lots_scope(lots: Sequence[LotPlan]) -> str:
    """ ", Lot n°1 - Chocolat au lait" after a contract's name, or nothing when unallotted."""
    return "".join(f", {lot_label(lot.number, lot.title)}" for lot in lots)


# --- The builder ----------------------------------------------------------------------------


def has_standstill(plan: ConsultationPlan) -> bool:
    """Whether the decision of `plan` waits for a standstill (models.rules.standstill): by law
    in a formalised procedure; the demo's MAPAs choose none."""
    return standstill_applies(formalised=plan.procedure.formalised, chosen=False)


class _Builder:
    """Plans every row from `today`, then writes them as dictionaries by table."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.now = paris_at(today, 0, 0)
        self.latest_sending = self.now - SENDING_MARGIN
        self.test_support_deadline = self.rolled(corpus.TEST_SUPPORT.deadline.astimezone(UTC))
        self.tables: dict[str, list[dict[str, Any]]] = {table.name: [] for table in TABLES}
        # The bytes of the documents, by SHA-256, for the store's blob store.
        self.files: dict[str, bytes] = {}
        self.documents = DemoDocuments(self.tables, self.files)
        self.showcase = Showcase(self)

    def rng(self, section: str) -> random.Random:
        # One generator per section, so that a change in one leaves the others as they were.
        return random.Random(f"{SEED}/{section}")

    def build(self) -> dict[str, list[dict[str, Any]]]:
        entities = self.organisations()
        pools = self.companies()
        consultations = self.consultations(entities)
        registers = self.registers(consultations, pools)
        self.messages(consultations, registers)
        # The journal is appended to as things happen: its ids follow time.
        self.tables["audit_log"].sort(key=lambda row: row["at"])
        for audit_id, row in enumerate(self.tables["audit_log"], start=1):
            row["id"] = audit_id
        self.chain_events()
        self.tables["store_meta"].append(
            {"key": DEMO_MARKER_KEY, "value": f"{DEMO_VERSION}, today={self.today.isoformat()}"}
        )
        add_demo_accounts(self.tables, self.now, support_login=current_login())
        return self.tables

    def chain_events(self) -> None:
        """Each recipient's history hash-chained, in the order of the events' ids, as the
        app's own writes chain it (models/store/chain.py)."""
        heads: dict[int, str | None] = {}
        chain_rows(sorted(self.tables["event"], key=lambda row: row["id"]), heads)
        for row in self.tables["recipient"]:
            row["chain_head"] = heads.get(row["id"])

    def rolled(self, deadline: datetime) -> datetime:
        """TEST SUPPORT's deadline: the guide's own while it is comfortably ahead (30 days or
        more), else the same day and time of a later year, so that it is always open."""
        notice = timedelta(days=corpus.TEST_SUPPORT_NOTICE_DAYS)
        local = deadline.astimezone(corpus.PARIS)
        years = 0
        while local.replace(year=local.year + years) - self.now < notice:
            years += 1
        return local.replace(year=local.year + years).astimezone(UTC)

    # Organisations and companies

    def organisations(self) -> list[EntityPlan]:
        rng = self.rng("organisations")
        entities: list[EntityPlan] = []
        for org_id, spec in enumerate(corpus.ORGANISATIONS, start=1):
            self.tables["organisation"].append({"id": org_id, "name": spec.name})
            for entity_spec in spec.entities:
                entity = EntityPlan(
                    len(entities) + 1, org_id, entity_spec, spec, (_person(rng), _person(rng))
                )
                entities.append(entity)
                self.tables["purchasing_entity"].append(
                    {
                        "id": entity.id,
                        "organisation_id": org_id,
                        "name": entity_spec.name,
                        "sender_email": f"{entity_spec.mailbox}@{spec.domain}",
                        "postal_address": entity_spec.address,
                    }
                )
        return entities

    def companies(self) -> dict[str, list[CompanyPlan]]:
        """The companies by trade; N.B.C. FR of the guide first, outside the trades."""
        rng = self.rng("companies")
        guide = corpus.NBC_FR
        self.nbc = self.add_company(
            guide.name,
            guide.siret,
            (Contact(guide.contact_name, guide.contact_email),),
            (guide.address, guide.postal_code, guide.city),
        )
        names, sirets = {_name_key(guide.name)}, {guide.siret}
        return {
            key: [
                self.random_company(rng, category, names, sirets) for _ in range(category.companies)
            ]
            for key, category in corpus.CATEGORIES.items()
        }

    def random_company(
        self, rng: random.Random, category: corpus.Category, names: set[str], sirets: set[str]
    ) -> CompanyPlan:
        name = _unique(lambda: _company_name(rng, category.trades), names, _name_key)
        siret = _unique(lambda: _siret(rng), sirets)
        postal_code, city = rng.choice(corpus.TOWNS)
        address = f"{rng.randint(1, 120)} {rng.choice(corpus.STREETS)}"
        contacts = _contacts(rng, f"{_name_key(name)}.example")
        return self.add_company(name, siret, contacts, (address, postal_code, city))

    def add_company(
        self, name: str, siret: str, contacts: tuple[Contact, ...], place: tuple[str, str, str]
    ) -> CompanyPlan:
        company = CompanyPlan(len(self.tables["company"]) + 1, name, contacts, siret)
        address, postal_code, city = place
        self.tables["company"].append(
            {
                "id": company.id,
                "name": name,
                "siret": siret,
                "address": address,
                "postal_code": postal_code,
                "city": city,
            }
        )
        return company

    # Consultations

    def consultations(self, entities: list[EntityPlan]) -> list[ConsultationPlan]:
        """The guide's four, generated ones and the showcase's; ids and references in creation
        order.

        The showcase's consultations take the place of the last drafts drawn: a draft draws
        nothing once created (no register, no message), so every other generated consultation
        keeps the data it had before the showcase existed.
        """
        rng = self.rng("consultations")
        cea = next(e for e in entities if e.spec.name == corpus.CEA_PROCUREMENT)
        plans = [self.guide_consultation(guide, cea) for guide in corpus.GUIDE_CONSULTATIONS]
        remaining = CONSULTATION_COUNT - len(plans) - sum(STATUS_COUNTS.values())
        for status, count in [
            *STATUS_COUNTS.items(),
            (enums.ConsultationStatus.DECISION, remaining),
        ]:
            plans += [self.random_consultation(rng, status, entities) for _ in range(count)]
        showcase = self.showcase.consultations(entities)
        drafts = [plan for plan in plans if plan.status is enums.ConsultationStatus.DRAFTING]
        replaced = {id(plan) for plan in drafts[len(drafts) - len(showcase) :]}
        plans = [plan for plan in plans if id(plan) not in replaced] + showcase
        plans.sort(key=lambda plan: plan.created)
        self.number(plans)
        self.showcase_broadcast(plans)
        for plan in plans:
            self.write_consultation(plan)
        return plans

    def guide_consultation(
        self, guide: corpus.GuideConsultation, entity: EntityPlan
    ) -> ConsultationPlan:
        deadline, created = guide.deadline.astimezone(UTC), guide.created.astimezone(UTC)
        if guide is corpus.TEST_SUPPORT:
            deadline = self.test_support_deadline
        return placed(
            deadline,
            self.now,
            title=guide.title,
            object=guide.object,
            procedure=guide.procedure,
            created=created,
            entity=entity,
            category=guide.category,
            lots=[LotPlan(number, title) for number, title in guide.lots],
            reference=guide.reference,
            guide=guide,
            # TEST SUPPORT's registers and 2025VINS's messages tell the guide's cases.
            scripted=guide in (corpus.TEST_SUPPORT, corpus.WINES),
        )

    def random_consultation(
        self, rng: random.Random, status: enums.ConsultationStatus, entities: list[EntityPlan]
    ) -> ConsultationPlan:
        entity = rng.choice(entities)
        key = rng.choice(entity.categories)
        category = corpus.CATEGORIES[key]
        created, deadline = self.schedule(rng, status)
        town, kind = entity.organisation.town, entity.organisation.kind
        title = rng.choice(category.titles).format(
            town=town,
            building=rng.choice(corpus.BUILDINGS[kind]).format(town=town),
            year=deadline.year,
            next_year=deadline.year + 1,
        )
        procedure = _weighted(rng, PROCEDURE_WEIGHTS)
        allotted = rng.random() < (0.8 if key == "batiment" else 0.4)
        lot_count = rng.randint(2, min(6, len(category.lots))) if allotted else 0
        lots = sorted(rng.sample(range(len(category.lots)), lot_count))
        return ConsultationPlan(
            title=title,
            object=f"{title}. {rng.choice(category.details)}.",
            procedure=procedure,
            status=status,
            deadline=deadline,
            created=created,
            entity=entity,
            category=key,
            lots=[LotPlan(n, category.lots[index]) for n, index in enumerate(lots, start=1)],
            access_code=(
                "".join(rng.choices(string.ascii_uppercase + string.digits, k=8))
                if procedure.restricted
                else None
            ),
            urgent=rng.random() < 0.03,
            popular=allotted and key == "batiment" and rng.random() < 0.05,
        )

    def schedule(
        self, rng: random.Random, status: enums.ConsultationStatus
    ) -> tuple[datetime, datetime]:
        """(created, bid deadline) of a generated consultation, coherent with its status."""
        today = self.today
        if status in (
            enums.ConsultationStatus.DRAFTING,
            enums.ConsultationStatus.AWAITING_VALIDATION,
        ):
            first_day = 20 if status is enums.ConsultationStatus.DRAFTING else 15
            deadline_day = self.future_day(rng, first_day, 120)
            created_day = today - timedelta(days=rng.randint(1, 40))
        elif status is enums.ConsultationStatus.OPEN:
            deadline_day = self.future_day(rng, 1, 90)
            created_day = min(
                deadline_day - timedelta(days=rng.randint(21, 60)),
                today - timedelta(days=rng.randint(1, 10)),
            )
        else:
            oldest, newest = (
                (30, 1) if status is enums.ConsultationStatus.OPENING_ANALYSIS else (730, 31)
            )
            deadline_day = workday(
                rng, today - timedelta(days=oldest), today - timedelta(days=newest)
            )
            created_day = deadline_day - timedelta(days=rng.randint(21, 70))
        deadline = paris_at(deadline_day, *rng.choice(DEADLINE_HOURS))
        created = paris_at(created_day, rng.randint(8, 17), rng.randint(0, 59), rng.randint(0, 59))
        return created, deadline

    def future_day(self, rng: random.Random, first: int, last: int) -> date:
        """A weekday `first`..`last` days ahead, but before TEST SUPPORT's deadline day.

        That deadline is always 30 days ahead or more (see `rolled`), so the cap leaves room
        for every `first` asked here (20 days at most).
        """
        first_day = self.today + timedelta(days=first)
        last_day = self.today + timedelta(days=last)
        cap = paris_day(self.test_support_deadline) - DAY
        if cap >= first_day:
            last_day = min(last_day, cap)
        return workday(rng, first_day, last_day)

    def number(self, plans: list[ConsultationPlan]) -> None:
        """Ids 1..N and references, each organisation numbering in its own style; a suite
        takes its parent's reference followed by "-S1" (models.suites.create_suite)."""
        counters: dict[tuple[str, str, str], int] = {}
        references: set[str] = {plan.reference for plan in plans if plan.reference}
        for plan_id, plan in enumerate(plans, start=1):
            plan.id = plan_id
            if plan.parent is not None:
                plan.reference = f"{plan.parent.reference}-S1"
            if plan.reference:
                continue
            style = plan.entity.organisation.reference
            year = paris_day(plan.created).year
            proc = corpus.PROCEDURE_CODES[plan.procedure]
            key = (style, str(year), proc if "{proc}" in style else "")
            counters[key] = counters.get(key, 0) + 1
            plan.reference = style.format(
                year=year, yy=f"{year % 100:02d}", proc=proc, seq=counters[key]
            )
            assert plan.reference not in references, plan.reference
            references.add(plan.reference)

    def showcase_broadcast(self, plans: list[ConsultationPlan]) -> None:
        """Make sure one open building consultation draws a crowd (a broadcast of 40-80)."""
        open_plans = [
            p
            for p in plans
            if p.status is enums.ConsultationStatus.OPEN and not p.guide and not p.scripted
        ]
        building = [p for p in open_plans if p.category == "batiment"]
        (building or open_plans)[0].popular = True

    def write_consultation(self, plan: ConsultationPlan) -> None:
        self.tables["consultation"].append(
            {
                "id": plan.id,
                "reference": plan.reference,
                "title": plan.title,
                "object": plan.object,
                "procedure": plan.procedure,
                "status": plan.status,
                "bid_deadline": plan.deadline,
                "urgent": plan.urgent,
                "entity_id": plan.entity.id,
                "organisation_id": plan.entity.organisation_id,
                "parent_id": plan.parent.id if plan.parent else None,
                "access_code": plan.access_code,
                "created_at": plan.created,
                "search_text": search_text_of(plan.identity),
            }
        )
        for lot in plan.lots:
            lot.id = len(self.tables["lot"]) + 1
            self.tables["lot"].append(
                {"id": lot.id, "consultation_id": plan.id, "number": lot.number, "title": lot.title}
            )

    # Registers

    def registers(
        self, plans: list[ConsultationPlan], pools: dict[str, list[CompanyPlan]]
    ) -> dict[int, list[EntryPlan]]:
        """Each consultation's entries in time order; ids follow time across the platform.

        The guide's examples draw theirs from generators of their own, so that they are the
        same whatever the day; the showcase writes those of its consultations.
        """
        rng = self.rng("registers")
        registers = self.showcase.registers(plans, pools)
        for plan in plans:
            if plan.id not in registers:
                own = self.rng(f"guide/{plan.reference}") if plan.guide else rng
                registers[plan.id] = self.register(own, plan, pools[plan.category])
        everything = sorted(
            (entry for entries in registers.values() for entry in entries),
            key=lambda entry: (entry.at, entry.consultation.id),
        )
        for entry_id, entry in enumerate(everything, start=1):
            entry.id = entry_id
            self.write_entry(entry)
        return registers

    def register(
        self, rng: random.Random, plan: ConsultationPlan, pool: list[CompanyPlan]
    ) -> list[EntryPlan]:
        if plan.status not in WITH_REGISTERS:
            return []
        withdrawals = [
            EntryPlan(
                plan, enums.RegisterKind.WITHDRAWAL, company, rng.choice(company.contacts), at
            )
            for company in rng.sample(pool, self.withdrawal_count(rng, plan, len(pool)))
            if (at := office_time(rng, plan.published, plan.deadline)) < self.now
        ]
        if not withdrawals and plan.guide is not corpus.WINES:
            return []  # nobody withdrew the DCE: nobody asks nor bids
        if plan.guide is corpus.WINES:
            withdrawals.append(
                self.nbc_entry(plan, enums.RegisterKind.WITHDRAWAL, corpus.NBC_WITHDRAWAL_AT)
            )
            questions = [self.nbc_question(plan)]
        else:
            questions = self.questions(rng, plan, withdrawals)
        deposits = self.deposits(rng, plan, withdrawals) if plan.status in CLOSED else []
        entries = [e for e in withdrawals + questions + deposits if e.at < self.now]
        return sorted(entries, key=lambda entry: entry.at)

    @staticmethod
    def withdrawal_count(rng: random.Random, plan: ConsultationPlan, available: int) -> int:
        if plan.popular:
            count = rng.randint(40, 80)
        elif plan.procedure.restricted:
            count = rng.randint(3, 6)  # the admitted candidates only
        else:
            count = round(rng.triangular(2, 25, 7))
        return min(available, max(count, 8 if plan.guide else 0))

    def nbc_entry(
        self, plan: ConsultationPlan, kind: enums.RegisterKind, at: datetime
    ) -> EntryPlan:
        return EntryPlan(plan, kind, self.nbc, self.nbc.contacts[0], at.astimezone(UTC))

    def nbc_question(self, plan: ConsultationPlan) -> EntryPlan:
        question = self.nbc_entry(plan, enums.RegisterKind.QUESTION, corpus.NBC_QUESTION_AT)
        question.qa, question.number = (corpus.NBC_QUESTION, corpus.NBC_ANSWER), 1
        return question

    def questions(
        self, rng: random.Random, plan: ConsultationPlan, withdrawals: list[EntryPlan]
    ) -> list[EntryPlan]:
        """Questions numbered 1..n by time, asked in time (8 days before the deadline)."""
        count = rng.choices(range(6), weights=(45, 25, 14, 8, 5, 3))[0]
        last_day = max(plan.deadline - timedelta(days=8), plan.published + DAY)
        choices = corpus.CATEGORIES[plan.category].questions + corpus.GENERIC_QUESTIONS
        questions = []
        for asker in rng.choices(withdrawals, k=count):
            lots = (rng.choice(plan.lots),) if plan.lots and rng.random() < 0.4 else ()
            at = office_time(rng, asker.at, min(last_day, plan.deadline))
            questions.append(
                EntryPlan(
                    plan,
                    enums.RegisterKind.QUESTION,
                    asker.company,
                    asker.contact,
                    at,
                    lots,
                    qa=rng.choice(choices),
                )
            )
        questions.sort(key=lambda question: question.at)
        for number, question in enumerate(questions, start=1):
            question.number = number
        return questions

    def deposits(
        self, rng: random.Random, plan: ConsultationPlan, withdrawals: list[EntryPlan]
    ) -> list[EntryPlan]:
        """Bids from some of the companies that withdrew the DCE, in the last ten days."""
        count = max(1, min(12, round(len(withdrawals) * rng.uniform(0.2, 0.6))))
        deposits = []
        for withdrawal in rng.sample(withdrawals, count):
            low = max(withdrawal.at + timedelta(minutes=1), plan.deadline - timedelta(days=10))
            high = plan.deadline - timedelta(minutes=1)
            at = between(rng, *((low, high) if low < high else (withdrawal.at, plan.deadline)))
            lots = tuple(plan.lots)
            if lots and rng.random() < 0.5:
                lots = tuple(
                    sorted(rng.sample(lots, rng.randint(1, len(lots))), key=lambda lot: lot.number)
                )
            deposits.append(
                EntryPlan(
                    plan,
                    enums.RegisterKind.DEPOSIT,
                    withdrawal.company,
                    withdrawal.contact,
                    at,
                    lots,
                )
            )
        return deposits

    def write_entry(self, entry: EntryPlan) -> None:
        valid = ValidEntry(
            kind=entry.kind,
            company_name=entry.company.name,
            siret=entry.company.siret,
            contact_name=entry.contact.name,
            contact_email=entry.contact.email,
            at=entry.at,
            lot_numbers=tuple(lot.number for lot in entry.lots),
            question_text=entry.qa[0] if entry.qa else None,
        )
        row = entry_row(
            entry.consultation.id, valid, company_id=entry.company.id, number=entry.number
        )
        self.tables["register_entry"].append({"id": entry.id, **row})
        self.tables["register_entry_lot"] += [
            {"register_entry_id": entry.id, "lot_id": lot.id} for lot in entry.lots
        ]

    # Messages

    def messages(
        self, plans: list[ConsultationPlan], registers: dict[int, list[EntryPlan]]
    ) -> None:
        """History of the messaging, the outbox's last messages and the showcase's, ids in
        time order.

        The random draw sees no register entry on the showcase's consultations, so it writes
        nothing there; they still take their turn in it, so that the consultations after them
        keep the messages they had.
        """
        rng = self.rng("messages")
        messages: list[MessagePlan] = []
        for plan in plans:
            entries = [] if plan.scripted else registers[plan.id]
            if plan.status in WITH_REGISTERS and (plan.popular or rng.random() < MESSAGING_SHARE):
                intents = self.before_deadline(rng, plan, entries)
                if plan.status in CLOSED:
                    intents += self.after_deadline(rng, plan, entries)
                messages += [self.compose(rng, plan, intent) for intent in intents]
        chocolates = next(plan for plan in plans if plan.guide is corpus.CHOCOLATES)
        messages += self.guide_tracking(rng, chocolates, registers[chocolates.id])
        messages += self.outbox(rng, plans, registers)
        messages += self.showcase.messages(plans, registers)
        messages.sort(key=lambda message: message.created)
        for message_id, message in enumerate(messages, start=1):
            self.write_message(message_id, message)

    def before_deadline(
        self, rng: random.Random, plan: ConsultationPlan, entries: list[EntryPlan]
    ) -> list[Intent]:
        """Invitation, answers, DCE modification, visit and reminder: all before the deadline."""
        latest = min(plan.deadline - timedelta(days=7), self.latest_sending)
        intents: list[Intent] = []
        if plan.access_code:
            intents += self.invitation(rng, plan, entries)
        questions = [entry for entry in entries if entry.kind is enums.RegisterKind.QUESTION]
        for question in questions:
            intents += self.answer(rng, question, entries, latest)
        intents += self.modification(rng, plan, entries, questions, latest)
        if rng.random() < 0.06:
            intents += self.visit(rng, plan, entries)
        if rng.random() < 0.05:
            intents += self.reminder(rng, plan, entries)
        return intents

    def invitation(
        self, rng: random.Random, plan: ConsultationPlan, entries: list[EntryPlan]
    ) -> list[Intent]:
        """All admitted candidates at once, with the restricted access code (LEGAL.md 6)."""
        at = plan.published - timedelta(hours=rng.randint(1, 5))
        invited = distinct_contacts(e for e in entries if e.kind is enums.RegisterKind.WITHDRAWAL)
        if not invited or at >= self.latest_sending or at <= plan.created:
            return []
        return [Intent("invitation", at, invited)]

    def answer(
        self, rng: random.Random, question: EntryPlan, entries: list[EntryPlan], latest: datetime
    ) -> list[Intent]:
        """Now and then a direct answer: to the asker alone (case B, a reason) or to all."""
        roll = rng.random()
        at = office_time(rng, question.at + timedelta(hours=2), question.at + timedelta(days=6))
        if roll >= 0.3 or at >= latest:
            return []
        fields = question_fields(question)
        if roll < 0.2:
            return [
                Intent(
                    "answer_one",
                    at,
                    [(question.company, question.contact)],
                    mode=rng.choice(tuple(enums.SendMode)),
                    lots=question.lots,
                    fields=fields,
                    override=corpus.ANSWER_ONE_REASON,
                )
            ]
        return [
            Intent(
                "answer_all", at, distinct_contacts(e for e in entries if e.at < at), fields=fields
            )
        ]

    def modification(
        self,
        rng: random.Random,
        plan: ConsultationPlan,
        entries: list[EntryPlan],
        questions: list[EntryPlan],
        latest: datetime,
    ) -> list[Intent]:
        """The DCE changed: a questions/answers document, or a corrected price schedule."""
        if not (plan.popular or rng.random() < (0.8 if questions else 0.25)) or not entries:
            return []
        earliest = (questions or entries)[-1 if questions else 0].at + timedelta(hours=1)
        if plan.popular:
            # Late enough for most of the crowd to have withdrawn the DCE already.
            earliest = max(earliest, latest - timedelta(days=5))
        if earliest >= latest:
            return []
        at = office_time(rng, earliest, latest)
        contacts = distinct_contacts(e for e in entries if e.at < at)
        if not contacts:
            return []
        return [Intent("modification", at, contacts, content=0 if questions else 1)]

    def visit(
        self, rng: random.Random, plan: ConsultationPlan, entries: list[EntryPlan]
    ) -> list[Intent]:
        """An optional site visit, the companies asked to confirm."""
        latest = min(plan.deadline - timedelta(days=12), self.latest_sending)
        if plan.published + DAY >= latest:
            return []
        at = office_time(rng, plan.published + DAY, latest)
        contacts = distinct_contacts(e for e in entries if e.at < at)
        if not contacts:
            return []
        visit_day = paris_day(at) + timedelta(days=rng.randint(4, 6))
        intent = self.with_reply(
            rng, "visit", at, contacts, {"visit_date": f"{visit_day:%d/%m/%Y}"}, days=(2, 3)
        )
        intent.mode = rng.choice(tuple(enums.SendMode))
        return [intent]

    def reminder(
        self, rng: random.Random, plan: ConsultationPlan, entries: list[EntryPlan]
    ) -> list[Intent]:
        """A reminder of the deadline in its last days, without acknowledgement."""
        earliest = plan.deadline - timedelta(days=6)
        latest = min(plan.deadline - DAY, self.latest_sending)
        if earliest >= latest:
            return []
        at = office_time(rng, earliest, latest)
        contacts = distinct_contacts(e for e in entries if e.at < at)
        return [Intent("reminder", at, contacts, mode=enums.SendMode.SIMPLE)] if contacts else []

    def after_deadline(
        self, rng: random.Random, plan: ConsultationPlan, entries: list[EntryPlan]
    ) -> list[Intent]:
        """Complements and negotiation during the analysis; then the decision letters."""
        deposits = [entry for entry in entries if entry.kind is enums.RegisterKind.DEPOSIT]
        if not deposits:
            return []
        decision = office_time(
            rng, plan.deadline + timedelta(days=12), plan.deadline + timedelta(days=35)
        )
        analysis_end = min(decision - DAY, self.latest_sending)
        intents = self.analysis(rng, plan, deposits, plan.deadline + DAY, analysis_end)
        if plan.status is not enums.ConsultationStatus.DECISION or decision >= self.latest_sending:
            return intents
        if rng.random() < 0.03:
            reason = rng.choice(corpus.CANCELLATION_REASONS)
            return [
                *intents,
                Intent(
                    "cancellation", decision, distinct_contacts(entries), fields={"reason": reason}
                ),
            ]
        return intents + self.decision_letters(rng, plan, deposits, decision)

    def analysis(
        self,
        rng: random.Random,
        plan: ConsultationPlan,
        deposits: list[EntryPlan],
        earliest: datetime,
        latest: datetime,
    ) -> list[Intent]:
        """While the bids are analysed: missing pieces, negotiation, a point to clarify."""
        if earliest >= latest:
            return []
        bidders = distinct_contacts(deposits)
        intents = []
        if rng.random() < 0.3:
            at = office_time(rng, earliest, latest)
            missing = rng.choice(corpus.MISSING_PIECES)
            intents.append(
                # One batch, one reply deadline for all (LEGAL.md 5).
                self.with_reply(
                    rng,
                    "complement",
                    at,
                    rng.sample(bidders, min(2, len(bidders))),
                    {"missing": missing},
                    days=(5, 8),
                )
            )
        if (
            plan.procedure in (enums.Procedure.ADAPTED, enums.Procedure.NEGOTIATED)
            and rng.random() < 0.25
        ):
            at = office_time(rng, earliest, latest)
            intents.append(self.with_reply(rng, "negotiation", at, bidders[:6], {}, days=(7, 10)))
        if rng.random() < 0.1:
            at = office_time(rng, earliest, latest)
            intent = self.with_reply(
                rng, "clarification", at, [rng.choice(bidders)], {}, days=(3, 6)
            )
            intent.mode = rng.choice(tuple(enums.SendMode))
            intents.append(intent)
        return intents

    def with_reply(
        self,
        rng: random.Random,
        scenario: str,
        at: datetime,
        contacts: list[tuple[CompanyPlan, Contact]],
        fields: dict[str, str],
        days: tuple[int, int],
    ) -> Intent:
        """A message expecting an answer by noon, a few days later."""
        deadline = paris_at(paris_day(at) + timedelta(days=rng.randint(*days)), 12, 0)
        fields = {**fields, "reply_deadline": paris_text(deadline)}
        return Intent(
            scenario, at, contacts, reply_allowed=True, reply_deadline=deadline, fields=fields
        )

    def decision_letters(
        self, rng: random.Random, plan: ConsultationPlan, deposits: list[EntryPlan], at: datetime
    ) -> list[Intent]:
        """Per lot, one winner; the others get a rejection, the winner an award then the
        notification, after the eleven days of standstill in formalised procedures."""
        intents, won = self.rejections(rng, plan, deposits, at)
        for winner, lots in won:
            intents += self.winner_letters(rng, plan, winner, lots, at)
        return intents

    def rejections(
        self, rng: random.Random, plan: ConsultationPlan, deposits: list[EntryPlan], at: datetime
    ) -> tuple[list[Intent], list[tuple[EntryPlan, tuple[LotPlan, ...]]]]:
        """Per lot, one winner drawn among its bidders: the rejections of the others, and
        each winner with the lots it won."""
        won: dict[int, tuple[EntryPlan, list[LotPlan]]] = {}
        intents = []
        parts: list[LotPlan | None] = [*plan.lots] or [None]  # None: the whole consultation
        for lot in parts:
            bidders = [d for d in deposits if lot is None or lot in d.lots]
            if not bidders:
                continue  # no bid on this lot: declared unsuccessful, nobody to write to
            winner = rng.choice(bidders)
            lots = [lot] if lot else []
            won.setdefault(winner.company.id, (winner, []))[1].extend(lots)
            losers = distinct_contacts(d for d in bidders if d is not winner)
            if losers:
                fields = {"winner": winner.company.name, "standstill": ""}
                if has_standstill(plan):  # else no signing date, no R2182-1 (LEGAL.md 7, 8)
                    fields["signature_date"] = f"{signing_from(at):%d/%m/%Y}"
                    fields["standstill"] = corpus.REJECTION_STANDSTILL.format(**fields)
                intents.append(Intent("rejection", at, losers, lots=tuple(lots), fields=fields))
        return intents, [(winner, tuple(lots)) for winner, lots in won.values()]

    def winner_letters(
        self,
        rng: random.Random,
        plan: ConsultationPlan,
        winner: EntryPlan,
        lots: tuple[LotPlan, ...],
        at: datetime,
    ) -> list[Intent]:
        """The award, then the notification once the standstill has run (LEGAL.md 8)."""
        contacts = [(winner.company, winner.contact)]
        award_at = later(rng, at, 120, 3600)
        if rng.random() < 0.3:
            award = self.with_reply(rng, "award", award_at, contacts, {}, days=(7, 10))
        else:
            award = Intent("award", award_at, contacts)
        award.lots = lots
        low, high = (standstill_days(), 20) if has_standstill(plan) else (2, 10)
        notified = office_time(rng, at + timedelta(days=low), at + timedelta(days=high))
        if notified >= self.latest_sending:
            return [award]
        return [award, Intent("notification", notified, contacts, lots=lots)]

    # From an intent to a message and its recipients' lives

    def compose(self, rng: random.Random, plan: ConsultationPlan, intent: Intent) -> MessagePlan:
        """The message a buyer would have written for `intent`, sent at `intent.at`."""
        texts = corpus.MESSAGE_TEXTS[intent.scenario]
        fields = {
            "reference": plan.reference,
            "title": plan.title,
            "deadline": paris_text(plan.deadline),
            "access_code": plan.access_code or "",
            "lots": _lots_phrase(plan.title, intent.lots),
            "scope": _lots_scope(intent.lots),
            **intent.fields,
        }
        content = (
            texts.contents[intent.content]
            if intent.content is not None
            else rng.choice(texts.contents)
        )
        replies = texts.replies or (corpus.GENERIC_REPLY,)
        reply_until = (intent.reply_deadline or self.now) if intent.reply_allowed else None
        recipients = []
        for index, (company, contact) in enumerate(intent.contacts):
            if intent.waiting:
                life = Life(enums.RecipientStatus.PENDING, intent.waiting, attempts=0)
            else:
                reply = rng.choice(replies).format(
                    contact=contact.name, discount=rng.choice(("2", "3", "5")), **fields
                )
                if intent.outcomes:
                    outcome = intent.outcomes[index % len(intent.outcomes)]
                    sending = (intent.at, intent.mode, reply_until)
                    life = self.scripted_life(rng, sending, company, contact, reply, outcome)
                else:
                    life = self.life(rng, intent.at, contact.email, intent.mode, reply_until, reply)
            recipients.append(RecipientPlan(company, contact, life))
        held = intent.waiting is enums.DeliveryState.HELD
        return MessagePlan(
            consultation=plan,
            type=SCENARIO_TYPES[intent.scenario],
            subject=rng.choice(texts.subjects).format(**fields),
            body=corpus.GREETING + content.format(**fields) + corpus.CLOSING,
            mode=intent.mode,
            reply_allowed=intent.reply_allowed,
            reply_deadline=intent.reply_deadline,
            lots=intent.lots,
            state=enums.MessageState.DRAFT if held else enums.MessageState.QUEUED,
            author=rng.choice(plan.entity.authors),
            created=intent.at - timedelta(minutes=rng.randint(2, 25)),
            queued=None if held else intent.at,
            recipients=recipients,
            override=intent.override,
            override_rule=intent.override_rule,
            mentions=intent.mentions,
        )

    def life(
        self,
        rng: random.Random,
        queued: datetime,
        email: str,
        mode: enums.SendMode,
        reply_until: datetime | None,
        reply_body: str,
    ) -> Life:
        """E, D, L, R of one copy: most are read; some are refused, some never confirmed."""
        roll = rng.random()
        if roll < 0.03:
            return self.refused(rng, queued, email)
        sent = later(rng, queued, 2, 40)
        queue_id = _queue_id(rng)
        life = Life(enums.RecipientStatus.SENT, enums.DeliveryState.ACCEPTED)
        self.step(
            life, sent, enums.EventKind.SENT, enums.RecipientStatus.SENT, ACCEPTED.format(queue_id)
        )
        if roll < 0.08:
            return life  # the relay took it, no delivery report ever came back
        delivered = later(rng, sent, 3, 90)
        self.step(
            life, delivered, enums.EventKind.DELIVERED, enums.RecipientStatus.DELIVERED, DELIVERED
        )
        if mode is enums.SendMode.WITH_AR:
            read = later(rng, delivered, 20, 5 * 86400)
            if rng.random() > 0.85 or read >= self.now:
                return life
            self.step(
                life, read, enums.EventKind.READ, enums.RecipientStatus.READ, None, self.client(rng)
            )
        if reply_until is not None and rng.random() < 0.6:
            replied = later(rng, life.events[-1].at, 60, 2 * 86400)
            if replied < min(self.now, reply_until):
                return self.replied(rng, life, replied, mode, reply_body)
        if life.status is enums.RecipientStatus.READ and rng.random() < 0.12:
            again = later(rng, life.events[-1].at, 600, 10 * 86400)
            if again < self.now:
                life.events.append(
                    EventPlan(enums.EventKind.OPENED_AGAIN, again, None, *self.client(rng))
                )
        return life

    def scripted_life(
        self,
        rng: random.Random,
        sending: tuple[datetime, enums.SendMode, datetime | None],
        company: CompanyPlan,
        contact: Contact,
        reply_body: str,
        outcome: Outcome,
    ) -> Life:
        """A copy that ends at `outcome.status`, its times drawn (queued at, send mode, reply
        allowed until): the showcase's statuses do not depend on chance."""
        queued, mode, reply_until = sending
        status = outcome.status
        if status is enums.RecipientStatus.NOT_DELIVERED:
            return self.refused(rng, queued, contact.email)
        life = Life(enums.RecipientStatus.SENT, enums.DeliveryState.ACCEPTED)
        sent = later(rng, queued, 2, 40)
        self.step(
            life,
            sent,
            enums.EventKind.SENT,
            enums.RecipientStatus.SENT,
            ACCEPTED.format(_queue_id(rng)),
        )
        if status is enums.RecipientStatus.SENT:
            return life
        delivered = later(rng, sent, 3, 90)
        self.step(
            life, delivered, enums.EventKind.DELIVERED, enums.RecipientStatus.DELIVERED, DELIVERED
        )
        if status is enums.RecipientStatus.DELIVERED:
            return life
        if mode is enums.SendMode.WITH_AR:
            read = later(rng, delivered, 20, 3 * 3600)
            self.step(
                life, read, enums.EventKind.READ, enums.RecipientStatus.READ, None, self.client(rng)
            )
        if status is enums.RecipientStatus.READ:
            assert mode is enums.SendMode.WITH_AR, "only a message avec AR shows when it was read"
            return life
        assert reply_until is not None, "a reply needs a message the recipient may answer"
        limit = min(reply_until, self.latest_sending)
        replied = between(rng, life.events[-1].at + timedelta(minutes=30), limit)
        read_at = None
        if status is enums.RecipientStatus.REPLY_READ:
            read_at = later(rng, replied, 300, 2 * 86400)
            if read_at >= self.latest_sending:
                read_at = between(rng, replied + timedelta(minutes=5), self.latest_sending)
        assert life.events[-1].at < replied < limit and (read_at is None or read_at < self.now)
        self.step(life, replied, enums.EventKind.REPLIED, status)
        files = tuple(
            reply_file(kind, company.name, company.siret, contact.name, replied)
            for kind in outcome.files
        )
        channel = (
            enums.ReplyChannel.WEB if mode is enums.SendMode.WITH_AR else enums.ReplyChannel.EMAIL
        )
        life.reply = ReplyPlan(replied, channel, reply_body, read_at, files)
        return life

    @staticmethod
    def step(
        life: Life,
        at: datetime,
        kind: enums.EventKind,
        status: enums.RecipientStatus,
        detail: str | None = None,
        client: tuple[str | None, str | None] = (None, None),
    ) -> None:
        life.events.append(EventPlan(kind, at, detail, *client))
        life.status = status

    @staticmethod
    def client(rng: random.Random) -> tuple[str | None, str | None]:
        """Evidence of an opening: an address of a documentation range, a browser."""
        address = f"{rng.choice(corpus.CLIENT_NETWORKS)}{rng.randint(1, 254)}"
        return address, rng.choice(corpus.USER_AGENTS)

    def replied(
        self, rng: random.Random, life: Life, at: datetime, mode: enums.SendMode, body: str
    ) -> Life:
        """An R, and the buyer opening the reply later (or not yet)."""
        self.step(life, at, enums.EventKind.REPLIED, enums.RecipientStatus.REPLY_UNREAD)
        web = mode is enums.SendMode.WITH_AR and rng.random() < 0.75
        opened = later(rng, at, 300, 3 * 86400)
        read_at = opened if rng.random() < 0.7 and opened < self.now else None
        if read_at:
            life.status = enums.RecipientStatus.REPLY_READ
        life.reply = ReplyPlan(
            at, enums.ReplyChannel.WEB if web else enums.ReplyChannel.EMAIL, body, read_at
        )
        return life

    def refused(self, rng: random.Random, queued: datetime, email: str) -> Life:
        """Non délivré: refused for good at once, or after temporary failures ran out."""
        life = Life(enums.RecipientStatus.NOT_DELIVERED, enums.DeliveryState.REFUSED)
        at = later(rng, queued, 2, 40)
        if rng.random() < 0.7:
            detail = rng.choice(corpus.REFUSALS).format(email=email)
            life.events.append(EventPlan(enums.EventKind.NOT_DELIVERED, at, detail))
            return life
        for _ in range(rng.randint(1, 3)):
            life.events.append(
                EventPlan(enums.EventKind.RETRY, at, corpus.TEMPORARY_FAILURE.format(email=email))
            )
            at = later(rng, at, 300, 3600)
        life.attempts = len(life.events) + 1
        detail = corpus.RETRIES_EXHAUSTED.format(attempts=life.attempts)
        life.events.append(EventPlan(enums.EventKind.NOT_DELIVERED, at, detail))
        return life

    # The guide's tracking table and the outbox's last messages

    def guide_tracking(
        self, rng: random.Random, plan: ConsultationPlan, entries: list[EntryPlan]
    ) -> list[MessagePlan]:
        """The five "Courrier libre" of the guide's tracking table, at their own times."""
        if self.now <= corpus.GUIDE_TRACKING_REPLY_DEADLINE:
            return []
        first_sending = corpus.GUIDE_TRACKING_REFUSED_AT.astimezone(UTC)
        contacts = distinct_contacts(e for e in entries if e.at < first_sending)
        rows = corpus.GUIDE_TRACKING_ROWS
        messages = []
        for index, (company, contact) in enumerate(contacts[: len(rows) + 1]):
            if index < len(rows):
                life = self.guide_life(rng, rows[index], contact)
            else:
                life = Life(enums.RecipientStatus.NOT_DELIVERED, enums.DeliveryState.REFUSED)
                detail = corpus.REFUSALS[1].format(email=contact.email)
                life.events.append(EventPlan(enums.EventKind.NOT_DELIVERED, first_sending, detail))
            messages.append(self.guide_message(plan, company, contact, life, first=index == 0))
        return messages

    def guide_life(
        self, rng: random.Random, times: tuple[datetime | None, ...], contact: Contact
    ) -> Life:
        """E, D, L and maybe R of one row of the guide's table."""
        sent, delivered, read, replied, reply_read = (t and t.astimezone(UTC) for t in times)
        assert sent and delivered and read
        life = Life(enums.RecipientStatus.SENT, enums.DeliveryState.ACCEPTED)
        self.step(
            life,
            sent,
            enums.EventKind.SENT,
            enums.RecipientStatus.SENT,
            ACCEPTED.format("4F2B81C3A0"),
        )
        self.step(
            life, delivered, enums.EventKind.DELIVERED, enums.RecipientStatus.DELIVERED, DELIVERED
        )
        self.step(
            life, read, enums.EventKind.READ, enums.RecipientStatus.READ, None, self.client(rng)
        )
        if replied:
            self.step(life, replied, enums.EventKind.REPLIED, enums.RecipientStatus.REPLY_READ)
            body = corpus.GUIDE_TRACKING_REPLY.format(contact=contact.name)
            life.reply = ReplyPlan(replied, enums.ReplyChannel.WEB, body, reply_read)
        return life

    def guide_message(
        self,
        plan: ConsultationPlan,
        company: CompanyPlan,
        contact: Contact,
        life: Life,
        first: bool,
    ) -> MessagePlan:
        body = corpus.GUIDE_TRACKING_BODY + (corpus.GUIDE_TRACKING_CONFIRMATION if first else "")
        queued = life.events[0].at - timedelta(seconds=2)
        return MessagePlan(
            consultation=plan,
            type=enums.MessageType.FREE,
            subject=corpus.GUIDE_TRACKING_SUBJECT,
            body=corpus.GREETING + body + corpus.CLOSING,
            mode=enums.SendMode.WITH_AR,
            reply_allowed=first,
            reply_deadline=corpus.GUIDE_TRACKING_REPLY_DEADLINE.astimezone(UTC) if first else None,
            lots=(),
            state=enums.MessageState.QUEUED,
            author=plan.entity.authors[0],
            created=queued - timedelta(minutes=3),
            queued=queued,
            recipients=[RecipientPlan(company, contact, life)],
        )

    def outbox(
        self,
        rng: random.Random,
        plans: list[ConsultationPlan],
        registers: dict[int, list[EntryPlan]],
    ) -> list[MessagePlan]:
        """Four messages validated yesterday evening and not sent yet, and two drafts."""
        candidates = [
            plan
            for plan in plans
            if plan.status is enums.ConsultationStatus.OPEN
            and plan.deadline > self.now + timedelta(days=8)
            and registers[plan.id]
            and not plan.scripted
        ]
        chosen = rng.sample(candidates, min(6, len(candidates)))
        messages = []
        for index, plan in enumerate(chosen):
            at = self.now - timedelta(hours=6, minutes=rng.randint(30, 59))
            contacts = distinct_contacts(registers[plan.id])
            if index < 4:
                intent = Intent("modification", at, contacts, content=1)
                intent.waiting = enums.DeliveryState.QUEUED
            else:
                intent = Intent("reminder", at, contacts, mode=enums.SendMode.SIMPLE)
                intent.waiting = enums.DeliveryState.HELD
            messages.append(self.compose(rng, plan, intent))
        return messages

    # Rows of a message

    def write_message(self, message_id: int, message: MessagePlan) -> None:
        row = message_row(
            message.consultation.id,
            message.type,
            message.subject,
            message.body,
            send_mode=message.mode,
            reply_allowed=message.reply_allowed,
            all_lots=not message.lots,
            state=message.state,
            reply_deadline=message.reply_deadline,
            queued_at=message.queued,
            mentions=message.mentions,
        )
        self.tables["message"].append(
            {"id": message_id, **row, "author": message.author, "created_at": message.created}
        )
        self.tables["message_lot"] += [
            {"message_id": message_id, "lot_id": lot.id} for lot in message.lots
        ]
        for recipient in message.recipients:
            self.write_recipient(message_id, message, recipient)
        if message.queued:
            self.tables["audit_log"] += audit.rows(
                action="message.queue",  # as models/messages/queue.py writes it
                actor=message.author,
                at=message.queued,
                consultation_id=message.consultation.id,
                message_id=message_id,
                rule=message.override_rule if message.override else None,
                override_reason=message.override,
                detail=f"{message.type.label} : {len(message.recipients)} destinataire(s)",
            )

    def write_recipient(
        self, message_id: int, message: MessagePlan, recipient: RecipientPlan
    ) -> None:
        life = recipient.life
        recipient_id = len(self.tables["recipient"]) + 1
        first: dict[enums.EventKind, datetime] = {}
        for event in life.events:
            first.setdefault(event.kind, event.at)
        # Page token, address tokens and Message-ID: drawn by the system's random source
        # like a real recipient's, so no two installs share a secret (the rest of the demo
        # is a function of the day).
        row = recipient_row(
            message_id,
            recipient.contact.email,
            recipient.company.id,
            recipient.contact.name,
            domain="messagerie.invalid",
            delivery_state=life.delivery,
            status=life.status,
            updated_at=life.events[-1].at if life.events else (message.queued or message.created),
        )
        self.tables["recipient"].append(
            {
                "id": recipient_id,
                **row,
                "lease_until": None,
                "attempts": life.attempts,
                "next_attempt_at": None,
                "sent_at": first.get(enums.EventKind.SENT),
                "delivered_at": first.get(enums.EventKind.DELIVERED),
                "not_delivered_at": first.get(enums.EventKind.NOT_DELIVERED),
                "read_at": first.get(enums.EventKind.READ),
                "replied_at": first.get(enums.EventKind.REPLIED),
                "resent_from_id": None,
            }
        )
        for event in life.events:
            self.tables["event"].append(
                {
                    "id": len(self.tables["event"]) + 1,
                    "recipient_id": recipient_id,
                    "kind": event.kind,
                    "at": event.at,
                    "detail": event.detail,
                    "client_address": event.client_address,
                    "user_agent": event.user_agent,
                }
            )
        if life.reply:
            self.write_reply(recipient_id, message, recipient.contact, life.reply)

    def write_reply(
        self, recipient_id: int, message: MessagePlan, contact: Contact, reply: ReplyPlan
    ) -> None:
        """The reply, and its files as models.inbound.record_reply keeps them (scanned clean:
        an infected file never reaches the store)."""
        reply_id = len(self.tables["reply"]) + 1
        self.tables["reply"].append(
            {
                "id": reply_id,
                "recipient_id": recipient_id,
                "received_at": reply.at,
                "channel": reply.channel,
                "disposition": enums.ReplyDisposition.ON_TIME,
                "body": reply.body,
                "read_at": reply.read_at,
            }
        )
        for file in reply.files:
            document_id = self.documents.add(
                file,
                origin=enums.DocumentOrigin.REPLY,
                consultation_id=message.consultation.id,
                actor=contact.email,
                at=reply.at,
                antivirus=enums.AntivirusVerdict.CLEAN,
            )
            self.tables["reply_attachment"].append(
                {"reply_id": reply_id, "document_id": document_id}
            )


# --- Accounts (issue 19) --------------------------------------------------------------------


@dataclass(frozen=True)
class DemoAccount:
    login: str
    name: str
    email: str
    organisation: str
    entities: tuple[str, ...]  # none: every entity of the organisation
    rights: tuple[enums.Right, ...]
    support: bool = False


# Three organisations, three ways of working; README "Accounts" says how to open the demo as
# each (MESSAGERIE_DEMO_LOGIN). The support account's login is the one who builds the demo.
DEMO_ACCOUNTS = (
    DemoAccount(
        "marie.dupont", "Marie Dupont", "marie.dupont@alsace.eu", corpus.CEA, (), tuple(enums.Right)
    ),
    DemoAccount(
        "paul.weber",
        "Paul Weber",
        "paul.weber@strasbourg.eu",
        "Eurométropole de Strasbourg",
        ("Direction de l'espace public et naturel",),
        (enums.Right.CONSULT, enums.Right.ANSWER, enums.Right.DCE),
    ),
    DemoAccount(
        "claire.muller",
        "Claire Muller",
        "claire.muller@colmar.fr",
        "Ville de Colmar",
        (),
        (
            enums.Right.CONSULT,
            enums.Right.SEND,
            enums.Right.DECIDE,
            enums.Right.EXPORT,
            enums.Right.MANAGE,
        ),
    ),
)
SUPPORT_ACCOUNT = DemoAccount(
    "support",
    "Support de la plateforme",
    "support@plateforme.example",
    corpus.CEA,
    (),
    (enums.Right.CONSULT, enums.Right.EXPORT),
    support=True,
)


def add_demo_accounts(
    tables: dict[str, list[dict[str, Any]]], now: datetime, support_login: str
) -> None:
    """The demo's accounts: the support account (every organisation, in reading) under
    `support_login`, then DEMO_ACCOUNTS (one skipped if it bears that login)."""
    organisations = {row["name"]: row["id"] for row in tables["organisation"]}
    entities = {
        (row["organisation_id"], row["name"]): row["id"] for row in tables["purchasing_entity"]
    }
    support = replace(SUPPORT_ACCOUNT, login=support_login)
    others = [spec for spec in DEMO_ACCOUNTS if spec.login != support_login]
    for account_id, spec in enumerate((support, *others), start=1):
        organisation_id = organisations[spec.organisation]
        tables["account"].append(
            {
                "id": account_id,
                "login": spec.login,
                "name": spec.name,
                "email": spec.email,
                "organisation_id": organisation_id,
                "support": spec.support,
                "created_at": now - timedelta(days=365),
            }
        )
        tables["account_entity"] += [
            {"account_id": account_id, "entity_id": entities[organisation_id, name]}
            for name in spec.entities
        ]
        tables["account_right"] += [
            {"account_id": account_id, "right": right} for right in spec.rights
        ]
