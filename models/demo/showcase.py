"""The guide's cases (A to J), written on purpose in the demo for any day.

Random draws cannot promise that the demo shows every case of the guide on every day; these
consultations are placed relative to the demo's day and their registers, DCE versions and
messages are written so that each case is there:

- TEST SUPPORT (C2025ADM) open, with its three registers and a DCE zip (cases A, B, C);
- answering a question 3 days before a deadline (rule 2 warns) and 20 days before (it does
  not), with case A twice: a questions/answers document in the DCE, then its second version;
- DCE versions: a zip replaced, "Remplacer le DCE", a piece replaced and one deleted (case C);
- a restricted procedure, its suite, its admitted candidates and their invitation (case F);
- rejection letters 3 days ago (standstill running) and 14 days ago (over), and a MAPA whose
  award letter is sent (cases G, H, I);
- every status of the tracking table, with files joined to replies (case J);
- 2025VINS's messaging (case B and what followed), the same whatever the day.

Each consultation draws from generators of its own, so that nothing here shifts the random
demo. The builder (`models.demo._Builder`) composes the messages and writes the rows.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from messagerie.models.consultations.dce import DceChanges, DceVersionView, NewFile
from messagerie.models.consultations.suites import ACCESS_CODE_ALPHABET, ACCESS_CODE_LENGTH
from messagerie.models.demo import corpus
from messagerie.models.demo.files import (
    DceContext,
    dce_members,
    qa_document,
    standalone_piece,
    zip_archive,
)
from messagerie.models.demo.plans import (
    CompanyPlan,
    ConsultationPlan,
    Contact,
    EntityPlan,
    EntryPlan,
    Intent,
    LotPlan,
    MessagePlan,
    Outcome,
    distinct_contacts,
    placed,
    question_fields,
)
from messagerie.models.demo.times import DAY, office_time, paris_at, paris_text
from messagerie.models.formatting import lot_label
from messagerie.models.store import audit
from messagerie.models.store.enums import (
    ConsultationStatus,
    Procedure,
    RecipientStatus,
    RegisterKind,
)

if TYPE_CHECKING:
    from messagerie.models.demo.builder import _Builder

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
SENT = Outcome(RecipientStatus.SENT)
DELIVERED = Outcome(RecipientStatus.DELIVERED)
READ = Outcome(RecipientStatus.READ)
NOT_DELIVERED = Outcome(RecipientStatus.NOT_DELIVERED)
# A broadcast: most copies read, one left unopened.
BROADCAST = (READ, READ, DELIVERED, READ, READ, READ)
# The tracking table of the guide (case J): every status, replies with a file.
EVERY_STATUS = (
    Outcome(RecipientStatus.REPLY_READ, ("visit_form",)),
    Outcome(RecipientStatus.REPLY_UNREAD, ("visit_form",)),
    READ,
    DELIVERED,
    SENT,
    NOT_DELIVERED,
    READ,
    READ,
)


class Showcase:
    """The showcase's consultations, registers, DCE, candidates and messages."""

    def __init__(self, builder: _Builder) -> None:
        self.builder = builder
        self.today = builder.today
        self.now = builder.now
        self.plans: dict[str, ConsultationPlan] = {}

    def day(self, days: int) -> date:
        return self.today + timedelta(days=days)

    def rng(self, name: str) -> random.Random:
        return self.builder.rng(f"showcase/{name}")

    # Consultations

    def consultations(self, entities: list[EntityPlan]) -> list[ConsultationPlan]:
        """The showcase's consultations, the restricted one's suite last."""
        rng = self.rng("consultations")
        for spec in corpus.SHOWCASES:
            self.plans[spec.key] = self.consultation(rng, spec, entities)
        self.plans["suite"] = self.suite(rng, self.plans["restricted"])
        return list(self.plans.values())

    def consultation(
        self, rng: random.Random, spec: corpus.ShowcaseSpec, entities: list[EntityPlan]
    ) -> ConsultationPlan:
        organisation, name = spec.entity
        entity = next(
            e for e in entities if (e.organisation.name, e.spec.name) == (organisation, name)
        )
        deadline = paris_at(self.day(spec.deadline_days), *spec.deadline_time)
        created_day = self.day(-spec.created_days)
        created = paris_at(created_day, rng.randint(8, 11), rng.randint(0, 59), rng.randint(0, 59))
        return placed(
            deadline,
            self.now,
            title=spec.title,
            object=f"{spec.title}. {spec.detail}.",
            procedure=spec.procedure,
            created=created,
            entity=entity,
            category=spec.category,
            lots=[LotPlan(number, title) for number, title in enumerate(spec.lots, start=1)],
            scripted=True,
        )

    def suite(self, rng: random.Random, parent: ConsultationPlan) -> ConsultationPlan:
        """The restricted phase, created from the parent's dépôts (models.suites.create_suite):
        open, with its own access code, in groups of four like new_access_code's."""
        code = "".join(rng.choice(ACCESS_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))
        created_day = self.day(-corpus.SUITE_CREATED_DAYS)
        created = paris_at(created_day, 9, rng.randint(0, 59), rng.randint(0, 59))
        return ConsultationPlan(
            title=parent.title,
            object=parent.object,
            procedure=Procedure.RESTRICTED_TENDER,
            status=ConsultationStatus.OPEN,
            deadline=paris_at(self.day(corpus.SUITE_DEADLINE_DAYS), 12, 0),
            created=created,
            entity=parent.entity,
            category=parent.category,
            lots=[],
            access_code="-".join(code[i : i + 4] for i in range(0, len(code), 4)),
            scripted=True,
            parent=parent,
        )

    def invitation_at(self, suite: ConsultationPlan) -> datetime:
        """The invitation goes out once the suite and its DCE are ready."""
        return suite.created + 90 * MINUTE

    # Registers

    def registers(
        self, plans: list[ConsultationPlan], pools: dict[str, list[CompanyPlan]]
    ) -> dict[int, list[EntryPlan]]:
        """The entries of TEST SUPPORT and of the showcase's consultations, by id."""
        test_support = next(plan for plan in plans if plan.guide is corpus.TEST_SUPPORT)
        pool, counts = pools[test_support.category], corpus.TEST_SUPPORT_COUNTS
        since = max(test_support.published, self.now - 75 * DAY)
        rng = self.rng("C2025ADM/registers")
        registers = {test_support.id: self.register(rng, test_support, pool, counts, since)}
        for spec in corpus.SHOWCASES:
            plan = self.plans[spec.key]
            counts = (spec.withdrawals, spec.questions, spec.deposits)
            rng = self.rng(f"{spec.key}/registers")
            registers[plan.id] = self.register(
                rng, plan, pools[plan.category], counts, plan.published
            )
        suite = self.plans["suite"]
        assert suite.parent is not None
        registers[suite.id] = self.suite_register(suite, registers[suite.parent.id])
        return registers

    def register(
        self,
        rng: random.Random,
        plan: ConsultationPlan,
        pool: list[CompanyPlan],
        counts: tuple[int, int, int],
        since: datetime,
    ) -> list[EntryPlan]:
        """`counts` retraits, questions and dépôts, spread over their windows: retraits from
        `since`, questions until 8 days before the deadline, dépôts in the 10 days before it
        (or before the demo's day, when it is still open); all of them before that day."""
        withdrawn, asked, deposited = counts
        latest = self.builder.latest_sending
        withdrawals = [
            EntryPlan(plan, RegisterKind.WITHDRAWAL, company, rng.choice(company.contacts), at)
            for company, at in zip(
                rng.sample(pool, withdrawn),
                spread(rng, withdrawn, since, min(plan.deadline - 2 * DAY, latest)),
                strict=True,
            )
        ]
        first = withdrawals[0].at + HOUR
        asked_at = spread(rng, asked, first, min(plan.deadline - 8 * DAY, latest))
        deposit_start = max(min(plan.deadline, self.now) - 10 * DAY, first)
        deposited_at = spread(rng, deposited, deposit_start, min(plan.deadline - HOUR, latest))
        entries = (
            withdrawals
            + self.questions(rng, plan, withdrawals, asked_at)
            + self.deposits(rng, plan, withdrawals, deposited_at)
        )
        return sorted(entries, key=lambda entry: entry.at)

    @staticmethod
    def questions(
        rng: random.Random,
        plan: ConsultationPlan,
        withdrawals: list[EntryPlan],
        times: list[datetime],
    ) -> list[EntryPlan]:
        """One question at each time, by a company that withdrew the DCE before, numbered."""
        choices = corpus.CATEGORIES[plan.category].questions + corpus.GENERIC_QUESTIONS
        questions = []
        asked = zip(times, rng.sample(choices, len(times)), strict=True)
        for number, (at, qa) in enumerate(asked, start=1):
            asker = rng.choice([w for w in withdrawals if w.at < at])
            lots = (rng.choice(plan.lots),) if plan.lots and rng.random() < 0.4 else ()
            question = EntryPlan(
                plan, RegisterKind.QUESTION, asker.company, asker.contact, at, lots, qa=qa
            )
            question.number = number
            questions.append(question)
        return questions

    @staticmethod
    def deposits(
        rng: random.Random,
        plan: ConsultationPlan,
        withdrawals: list[EntryPlan],
        times: list[datetime],
    ) -> list[EntryPlan]:
        """One bid at each time, each from another company that withdrew the DCE before; every
        other bid covers all the lots, the others one lot each."""
        bidders: set[int] = set()
        deposits = []
        for index, at in enumerate(times):
            able = [w for w in withdrawals if w.at < at and w.company.id not in bidders]
            if not able:
                continue
            bidder = rng.choice(able)
            bidders.add(bidder.company.id)
            lots = tuple(plan.lots)
            if lots and index % 2:
                lots = (lots[index // 2 % len(lots)],)
            deposits.append(
                EntryPlan(plan, RegisterKind.DEPOSIT, bidder.company, bidder.contact, at, lots)
            )
        return deposits

    def suite_register(
        self, suite: ConsultationPlan, parent_entries: list[EntryPlan]
    ) -> list[EntryPlan]:
        """The candidates who opened their invitation withdrew the restricted DCE since."""
        rng = self.rng("suite/registers")
        candidates = self.candidates(parent_entries)
        readers = candidates[: len(candidates) - 1]  # the last one has not opened it yet
        start = self.invitation_at(suite) + DAY
        times = spread(rng, len(readers), start, self.builder.latest_sending)
        return [
            EntryPlan(suite, RegisterKind.WITHDRAWAL, company, contact, at)
            for (company, contact), at in zip(readers, times, strict=True)
        ]

    @staticmethod
    def candidates(parent_entries: list[EntryPlan]) -> list[tuple[CompanyPlan, Contact]]:
        """The admitted candidates: the first dépôts of the parent, one per address."""
        deposits = (e for e in parent_entries if e.kind is RegisterKind.DEPOSIT)
        return distinct_contacts(deposits)[: corpus.SUITE_CANDIDATES]

    # Messages (and the DCE, questions/answers and candidates they go with)

    def messages(
        self, plans: list[ConsultationPlan], registers: dict[int, list[EntryPlan]]
    ) -> list[MessagePlan]:
        guides = {plan.guide: plan for plan in plans if plan.guide}
        test_support = guides[corpus.TEST_SUPPORT]
        self.first_dce(self.rng("C2025ADM/dce"), test_support, test_support.created + HOUR / 2)
        wines = guides[corpus.WINES]
        messages = self.wines(wines, registers[wines.id])
        for key, write in (
            ("answer_soon", self.answer_soon),
            ("answer_later", self.answer_later),
            ("dce_replaced", self.dce_replaced),
            ("dce_pieces", self.dce_pieces),
            ("suite", self.restricted_suite),
            ("standstill", self.standstill),
            ("standstill_over", self.standstill_over),
            ("mapa_award", self.mapa_award),
        ):
            plan = self.plans[key]
            messages += write(self.rng(f"{key}/messages"), plan, registers)
        return messages

    def send(self, rng: random.Random, plan: ConsultationPlan, intent: Intent) -> MessagePlan:
        return self.builder.compose(rng, plan, intent)

    def broadcast(
        self,
        rng: random.Random,
        plan: ConsultationPlan,
        entries: list[EntryPlan],
        scenario: str,
        at: datetime,
        **options: Any,
    ) -> MessagePlan:
        """A message to every company of the three registers at `at` (LEGAL.md rule 1)."""
        intent = Intent(scenario, at, everyone(entries, at), outcomes=BROADCAST)
        return self.send(rng, plan, replace(intent, **options))

    # The DCE

    def context(self, plan: ConsultationPlan) -> DceContext:
        return DceContext(
            consultation=plan.identity,
            procedure=plan.procedure.label,
            deadline=paris_text(plan.deadline),
            lots=tuple(lot_label(lot.number, lot.title) for lot in plan.lots),
        )

    def archive(
        self,
        rng: random.Random,
        plan: ConsultationPlan,
        at: datetime,
        corrected: frozenset[str] = frozenset(),
    ) -> NewFile:
        """The DCE as the platform hands it out: "dce" and 20 digits, a zip with folders."""
        members = dce_members(self.context(plan), corrected)
        return NewFile(f"dce{rng.randrange(10**19, 10**20)}.zip", zip_archive(members, at))

    def save(
        self,
        plan: ConsultationPlan,
        changes: DceChanges,
        at: datetime,
        comment: str | None = None,
    ) -> DceVersionView:
        author = plan.entity.authors[0]
        return self.builder.documents.save_dce(
            plan.id, changes, at=at, author=author, comment=comment
        )

    def first_dce(
        self, rng: random.Random, plan: ConsultationPlan, at: datetime, *extra: NewFile
    ) -> DceVersionView:
        """Version 1: the archive, and any piece put beside it."""
        changes = DceChanges.starting_from(None).add(self.archive(rng, plan, at))
        for file in extra:
            changes = changes.add(file)
        return self.save(plan, changes, at)

    def qa_item(
        self, plan: ConsultationPlan, question: EntryPlan, number: int, at: datetime
    ) -> None:
        """The answered question in the questions/answers document (models.qa)."""
        assert question.qa is not None
        self.builder.tables["qa_item"].append(
            {
                "id": len(self.builder.tables["qa_item"]) + 1,
                "consultation_id": plan.id,
                "number": number,
                "question_entry_id": question.id,
                "question": question.qa[0],
                "answer": question.qa[1],
                "created_at": at,
                "author": plan.entity.authors[0],
            }
        )

    # One consultation each

    def answer_soon(
        self, rng: random.Random, plan: ConsultationPlan, registers: dict[int, list[EntryPlan]]
    ) -> list[MessagePlan]:
        """Question 1 answered to all; the corrected BPU (a new zip); question 2 waits, 3 days
        before the deadline: answering it now is late (rule 2)."""
        entries = registers[plan.id]
        first = self.first_dce(rng, plan, plan.created + HOUR / 2)
        question = questions_of(entries)[0]
        answered = office_time(rng, question.at + 2 * HOUR, question.at + 2 * DAY)
        fields = question_fields(question)
        messages = [self.broadcast(rng, plan, entries, "answer_all", answered, fields=fields)]
        at = office_time(rng, self.now - 13 * DAY, self.now - 11 * DAY)
        zip_piece = first.pieces[0]
        corrected = self.archive(rng, plan, at, frozenset({"bpu"}))
        changes = DceChanges.starting_from(first).replace(zip_piece.id, corrected)
        self.save(plan, changes, at, corpus.BPU_CORRECTED_COMMENT)
        return [*messages, self.broadcast(rng, plan, entries, "modification", at, content=1)]

    def answer_later(
        self, rng: random.Random, plan: ConsultationPlan, registers: dict[int, list[EntryPlan]]
    ) -> list[MessagePlan]:
        """Case A twice (the questions/answers document, then its second version replacing
        it), a site visit whose replies show every status; question 3 waits, 20 days ahead."""
        entries = registers[plan.id]
        version = self.first_dce(rng, plan, plan.created + HOUR / 2)
        questions = questions_of(entries)
        messages, at = [], version.created_at
        for number, question in enumerate(questions[:2], start=1):
            at = office_time(rng, max(question.at, at) + DAY, max(question.at, at) + 3 * DAY)
            answers = [q.qa for q in questions[:number] if q.qa]
            document = qa_document(self.context(plan), answers, number)
            changes = DceChanges.starting_from(version)
            previous = [p for p in version.pieces if p.path.startswith("Questions-reponses_")]
            changes = (
                changes.replace(previous[0].id, document) if previous else changes.add(document)
            )
            version = self.save(plan, changes, at, f"Réponse à la question n°{number}")
            self.qa_item(plan, question, number, at)
            sent = at + 10 * MINUTE
            messages.append(self.broadcast(rng, plan, entries, "modification", sent, content=0))
        visit = office_time(rng, self.now - 14 * DAY, self.now - 12 * DAY)
        visit_day = f"{visit.astimezone(corpus.PARIS).date() + 5 * DAY:%d/%m/%Y}"
        withdrawn = [e for e in entries if e.kind is RegisterKind.WITHDRAWAL]
        intent = self.builder.with_reply(
            rng, "visit_form", visit, everyone(withdrawn, visit), {"visit_date": visit_day},
            days=(3, 3),
        )  # fmt: skip
        intent.outcomes = EVERY_STATUS
        return [*messages, self.send(rng, plan, intent)]

    def dce_replaced(
        self, rng: random.Random, plan: ConsultationPlan, registers: dict[int, list[EntryPlan]]
    ) -> list[MessagePlan]:
        """ "Remplacer le DCE": a new archive replaces the whole DCE."""
        entries = registers[plan.id]
        first = self.first_dce(rng, plan, plan.created + HOUR / 2)
        at = office_time(rng, self.now - 7 * DAY, self.now - 5 * DAY)
        archive = self.archive(rng, plan, at, frozenset({"cctp", "bpu"}))
        self.save(plan, DceChanges.starting_from(first).replace_all(archive), at)
        return [self.broadcast(rng, plan, entries, "modification", at, content=3)]

    def dce_pieces(
        self, rng: random.Random, plan: ConsultationPlan, registers: dict[int, list[EntryPlan]]
    ) -> list[MessagePlan]:
        """Pieces beside the archive: the plan replaced by its second version, the inventory
        deleted."""
        entries = registers[plan.id]
        context = self.context(plan)
        extra = (standalone_piece("plan", context), standalone_piece("inventory", context))
        first = self.first_dce(rng, plan, plan.created + HOUR / 2, *extra)
        _, layout, inventory = first.pieces
        at = office_time(rng, self.now - 6 * DAY, self.now - 4 * DAY)
        changes = (
            DceChanges.starting_from(first)
            .replace(layout.id, standalone_piece("plan", context, version=2))
            .delete(inventory.id)
        )
        self.save(plan, changes, at, corpus.PIECES_COMMENT)
        return [self.broadcast(rng, plan, entries, "modification", at, content=2)]

    def restricted_suite(
        self, rng: random.Random, suite: ConsultationPlan, registers: dict[int, list[EntryPlan]]
    ) -> list[MessagePlan]:
        """Case F: the suite's candidates (from the parent's dépôts) with the journal line of
        create_suite, its restricted DCE, and the invitation sent to all of them at once."""
        parent = suite.parent
        assert parent is not None
        author = parent.entity.authors[0]
        deposits = {
            e.contact.email: e for e in registers[parent.id] if e.kind is RegisterKind.DEPOSIT
        }
        candidates = self.candidates(registers[parent.id])
        for company, contact in candidates:
            self.builder.tables["suite_candidate"].append(
                {
                    "id": len(self.builder.tables["suite_candidate"]) + 1,
                    "consultation_id": suite.id,
                    "company_id": company.id,
                    "contact_name": contact.name,
                    "contact_email": contact.email,
                    "source_entry_id": deposits[contact.email].id,
                }
            )
        self.builder.tables["audit_log"] += audit.rows(
            action="suite.create",
            actor=author,
            at=suite.created,
            consultation_id=suite.id,
            detail=f"Suite {suite.reference} de {parent.reference}, {len(candidates)} candidat(s)",
        )
        self.first_dce(rng, suite, suite.created + HOUR / 3)
        mentions = dict(corpus.INVITATION_MENTIONS)
        mentions["notice_reference"] = mentions["notice_reference"].format(
            number=rng.randint(10000, 99999)
        )
        outcomes = (READ,) * (len(candidates) - 1) + (DELIVERED,)
        intent = Intent("invitation", self.invitation_at(suite), candidates, mentions=mentions)
        intent.outcomes = outcomes
        return [self.send(rng, suite, intent)]

    def standstill(
        self, rng: random.Random, plan: ConsultationPlan, registers: dict[int, list[EntryPlan]]
    ) -> list[MessagePlan]:
        """Pieces asked during the analysis; rejections and awards 3 days ago."""
        complement = (
            Outcome(RecipientStatus.REPLY_READ, ("urssaf",)),
            Outcome(RecipientStatus.REPLY_UNREAD, ("urssaf",)),
        )
        decided = paris_at(self.day(-3), 10, rng.randint(0, 59), rng.randint(0, 59))
        return self.analysed(rng, plan, registers[plan.id], complement) + self.decision(
            rng, plan, registers[plan.id], decided, READ
        )

    def standstill_over(
        self, rng: random.Random, plan: ConsultationPlan, registers: dict[int, list[EntryPlan]]
    ) -> list[MessagePlan]:
        """Rejections 14 days ago: the notification may go; the awardee sent its attestation."""
        complement = (Outcome(RecipientStatus.REPLY_UNREAD, ("urssaf",)), READ)
        decided = paris_at(self.day(-14), 11, rng.randint(0, 59), rng.randint(0, 59))
        award = Outcome(RecipientStatus.REPLY_READ, ("insurance",))
        return self.analysed(rng, plan, registers[plan.id], complement) + self.decision(
            rng, plan, registers[plan.id], decided, award
        )

    def mapa_award(
        self, rng: random.Random, plan: ConsultationPlan, registers: dict[int, list[EntryPlan]]
    ) -> list[MessagePlan]:
        """A MAPA decided 6 days ago: the award letter answered with the attestation."""
        decided = paris_at(self.day(-6), 14, rng.randint(0, 59), rng.randint(0, 59))
        award = Outcome(RecipientStatus.REPLY_UNREAD, ("insurance",))
        return self.decision(rng, plan, registers[plan.id], decided, award)

    def analysed(
        self,
        rng: random.Random,
        plan: ConsultationPlan,
        entries: list[EntryPlan],
        outcomes: tuple[Outcome, ...],
    ) -> list[MessagePlan]:
        """A missing piece asked of two bidders a few days after the opening (rule 5)."""
        bidders = distinct_contacts(e for e in entries if e.kind is RegisterKind.DEPOSIT)
        at = office_time(rng, plan.deadline + 4 * DAY, plan.deadline + 6 * DAY)
        missing = {"missing": corpus.SHOWCASE_COMPLEMENT_PIECE}
        intent = self.builder.with_reply(rng, "complement", at, bidders[:2], missing, days=(5, 5))
        intent.outcomes = outcomes
        return [self.send(rng, plan, intent)]

    def decision(
        self,
        rng: random.Random,
        plan: ConsultationPlan,
        entries: list[EntryPlan],
        at: datetime,
        award: Outcome,
    ) -> list[MessagePlan]:
        """Rejections of every lot at `at` (with the mentions of rule 7 in a formalised
        procedure, one left unopened), then each winner's award letter; no notification."""
        deposits = [e for e in entries if e.kind is RegisterKind.DEPOSIT]
        rejections, won = self.builder.rejections(rng, plan, deposits, at)
        for index, rejection in enumerate(rejections):
            rejection.outcomes = (READ, DELIVERED, READ)
            if plan.procedure.formalised:
                rejection.mentions = rejection_mentions(rejection, index)
        letters = [self.send(rng, plan, rejection) for rejection in rejections]
        for winner, lots in won:
            contacts = [(winner.company, winner.contact)]
            sent = at + 20 * MINUTE
            if award.status in (RecipientStatus.REPLY_READ, RecipientStatus.REPLY_UNREAD):
                intent = self.builder.with_reply(rng, "award", sent, contacts, {}, days=(7, 7))
            else:
                intent = Intent("award", sent, contacts)
            intent.lots, intent.outcomes = lots, (award,)
            letters.append(self.send(rng, plan, intent))
        return letters

    # 2025VINS

    def wines(self, plan: ConsultationPlan, entries: list[EntryPlan]) -> list[MessagePlan]:
        """Case B (the answer to N.B.C. FR alone, read: its AR), a DCE modification inside the
        6 days (rule 3 overridden, one copy unopened), a complement answered, then the
        decision letters and the notifications: the same rows whatever the day."""
        rng = self.rng("2025VINS/messages")
        question = questions_of(entries)[0]
        answer = Intent(
            "answer_one",
            corpus.WINES_ANSWER_AT.astimezone(UTC),
            [(question.company, question.contact)],
            lots=tuple(plan.lots),
            fields=question_fields(question),
            override=corpus.ANSWER_ONE_REASON,
            outcomes=(READ,),
        )
        modified = corpus.WINES_MODIFICATION_AT.astimezone(UTC)
        modification = Intent(
            "modification",
            modified,
            everyone(entries, modified),
            content=1,
            override=corpus.WINES_MODIFICATION_REASON,
            override_rule=3,
            outcomes=(READ, READ, DELIVERED, READ, SENT, READ),
        )
        deadline = corpus.WINES_COMPLEMENT_DEADLINE.astimezone(UTC)
        deposits = [e for e in entries if e.kind is RegisterKind.DEPOSIT]
        complement = Intent(
            "complement",
            corpus.WINES_COMPLEMENT_AT.astimezone(UTC),
            distinct_contacts(deposits)[:2],
            reply_allowed=True,
            reply_deadline=deadline,
            fields={
                "missing": corpus.WINES_COMPLEMENT_PIECE,
                "reply_deadline": paris_text(deadline),
            },
            outcomes=(Outcome(RecipientStatus.REPLY_READ), READ),
        )
        messages = [self.send(rng, plan, intent) for intent in (answer, modification, complement)]
        return messages + self.wines_decision(rng, plan, deposits)

    def wines_decision(
        self, rng: random.Random, plan: ConsultationPlan, deposits: list[EntryPlan]
    ) -> list[MessagePlan]:
        """Rejections (one unopened), awards, then the notifications a week later."""
        decided = corpus.WINES_DECISION_AT.astimezone(UTC)
        rejections, won = self.builder.rejections(rng, plan, deposits, decided)
        for rejection in rejections:
            rejection.outcomes = (DELIVERED, READ)
        intents = list(rejections)
        for winner, lots in won:
            contacts = [(winner.company, winner.contact)]
            award_at = decided + 25 * MINUTE
            notified = corpus.WINES_NOTIFICATION_AT.astimezone(UTC)
            intents.append(Intent("award", award_at, contacts, lots=lots, outcomes=(READ,)))
            intents.append(Intent("notification", notified, contacts, lots=lots, outcomes=(READ,)))
        return [self.send(rng, plan, intent) for intent in intents]


def spread(rng: random.Random, count: int, low: datetime, high: datetime) -> list[datetime]:
    """`count` office times in [low, high), one in each of `count` equal slices: entries
    spread over the whole window, in time order."""
    if count <= 0 or high <= low:
        return []
    step = (high - low) / count
    return [office_time(rng, low + step * i, low + step * (i + 1)) for i in range(count)]


def everyone(entries: Iterable[EntryPlan], before: datetime) -> list[tuple[CompanyPlan, Contact]]:
    """Every address of the three registers at `before`, once (LEGAL.md rule 1)."""
    return distinct_contacts(entry for entry in entries if entry.at < before)


def questions_of(entries: Iterable[EntryPlan]) -> list[EntryPlan]:
    return sorted(
        (e for e in entries if e.kind is RegisterKind.QUESTION), key=lambda e: e.number or 0
    )


def rejection_mentions(rejection: Intent, index: int) -> dict[str, str]:
    """The mentions of a formalised rejection letter after award (LEGAL.md rule 7)."""
    return {
        "reasons": corpus.REJECTION_REASONS[index % len(corpus.REJECTION_REASONS)],
        "awarded": "oui",
        "awardee": rejection.fields["winner"],
        "award_reasons": corpus.AWARD_REASONS,
        "signature_date": rejection.fields["signature_date"],
    }
