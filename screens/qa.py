"""Case A: the buyer writes the question (anonymised) and its answer; the "Questions /
réponses" PDF joins the DCE and the information draft goes to every registered company."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, Static, TextArea

from messagerie.letters.pdf.publish import AnswerPublished, AnswerToAll, publish_answer_to_all
from messagerie.models.clock import utc_now
from messagerie.models.consultations.answer_drafts import (
    KeptAnswer,
    forget_answer,
    keep_answer,
    kept_answer,
)
from messagerie.models.consultations.detail import ConsultationDetail, consultation_detail
from messagerie.models.consultations.registers import RegisterRow
from messagerie.models.formatting import paris_minutes
from messagerie.models.rules.anonymise import anonymise_advice, identity_leaks, leaks_summary
from messagerie.models.rules.checks import answer_countdown_line
from messagerie.screens.answer import question_text
from messagerie.screens.base import StoreScreen, Unsaved
from messagerie.screens.deadline import DeadlineDecision, ask_deadline_rule
from messagerie.screens.dialogs import ConfirmDialog
from messagerie.screens.quit import leave_or_ask
from messagerie.screens.widgets import (
    CLOCK_RECHECK,
    back_key,
    harmless,
    literal,
    notify_literal,
    save_key,
)

if TYPE_CHECKING:
    from messagerie.models.store.database import Store


KEPT_ANSWER_FOUND = "La réponse enregistrée revient à la réouverture de sa question."
# LEGAL rule 4: the document broadcasts both texts; each has its warning under it.
CHECKED_FIELDS = {"question": "#leaks", "answer": "#answer-leaks"}


class QaEditorScreen(StoreScreen[None]):
    """Questions / réponses: anonymise the question, write the answer, add it to the DCE."""

    TITLE = "Répondre à tous — document questions / réponses"
    AUTO_FOCUS = "#question"  # the first keys typed land there, the cursor shown
    BINDINGS = [
        save_key(
            "publish",
            "Ajouter au DCE",
            tooltip="Générer le PDF questions / réponses et l'ajouter au DCE",
        ),
        back_key("leave"),
    ]

    def __init__(self, question: RegisterRow) -> None:
        super().__init__()
        self.question = question
        self.detail: ConsultationDetail | None = None
        self.kept: KeptAnswer | None = None  # what the store keeps of this buyer's answer

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="qa-form", can_focus=False):  # no Tab stop that shows nothing
            yield Static(question_text(self.question), id="original", classes="quoted")
            yield Label("Question, anonymisée (elle sera diffusée à tous les candidats) *")
            yield TextArea(harmless(self.question.question_text or ""), id="question")
            yield Static("", id="leaks", classes="warning")
            yield Label("Réponse *")
            yield TextArea("", id="answer")
            yield Static("", id="answer-leaks", classes="warning")
            yield Label("", id="qa-error", classes="error")

    def on_mount(self) -> None:
        self.query_one("#original").border_title = "Question reçue (non diffusée)"
        actor, question = self.app.actor, self.question
        self.store_task(
            lambda store: (
                consultation_detail(store, question.consultation_id),
                kept_answer(store, question.id, actor=actor),
            ),
            lambda loaded: self.loaded(*loaded),
        )
        for field in CHECKED_FIELDS:
            self.show_leaks(field)

    def loaded(self, detail: ConsultationDetail, kept: KeptAnswer | None) -> None:
        self.detail = detail
        self.sub_title = harmless(detail.identity.reference_and_title)
        self.show_countdown()
        self.set_interval(CLOCK_RECHECK, self.show_countdown)  # time passes, the editor open
        if kept is not None and not self.typed()[1]:  # never over keys typed meanwhile
            self.kept = kept
            self.query_one("#question", TextArea).text = kept.question
            self.query_one("#answer", TextArea).text = kept.answer
            why = " à la coupure de la connexion" if kept.at_hang_up else ""
            notify_literal(
                self,
                f"La réponse gardée{why} le {paris_minutes(kept.kept_at)} est reprise.",
                title="Réponse retrouvée",
            )

    def show_countdown(self) -> None:
        """Rule 2 (LEGAL.md: « show the countdown »), on the question's frame, in a
        formalised procedure: the time left to answer, or how late (publishing then asks
        about the deadline). On the frame: at 80×24 a line more hid the answer's warning."""
        detail = self.detail
        if detail is None:
            return
        clock = answer_countdown_line(
            detail.bid_deadline,
            self.app.clock(),
            formalised=detail.procedure.formalised,
            urgent=detail.urgent,
        )
        if clock is not None:
            text, late = clock
            frame = self.query_one("#original")
            frame.border_subtitle = Text(text, style="bold yellow" if late else "green")

    def typed(self) -> tuple[str, str]:
        """(question, answer) as they stand in the editor."""
        return (
            self.query_one("#question", TextArea).text,
            self.query_one("#answer", TextArea).text,
        )

    def leaks(self, field: str) -> tuple[str, ...]:
        """What still identifies the asker in the question or the answer (rule 4)."""
        asker = self.question
        return identity_leaks(
            self.query_one(f"#{field}", TextArea).text,
            company_name=asker.company_name,
            siret=asker.siret,
            email=asker.contact_email,
            contact_name=asker.contact_name,
        )

    @on(TextArea.Changed, "#question, #answer")
    def check_leaks(self, event: TextArea.Changed) -> None:
        self.show_leaks("answer" if event.text_area.id == "answer" else "question")

    def show_leaks(self, field: str) -> None:
        # The document goes to every company of the registers: rule 4 applies to both texts.
        advice = anonymise_advice(field, self.leaks(field))
        warning = self.query_one(CHECKED_FIELDS[field], Static)
        warning.update(literal(f"⚠ Règle 4 : {advice}") if advice else "")
        warning.display = bool(advice)
        self.keep_warning_in_view(field)

    def keep_warning_in_view(self, field: str) -> None:
        # At 80×24 the answer's warning falls below the screen, and grows with each leak.
        warning = self.query_one(CHECKED_FIELDS[field], Static)
        if warning.display and self.query_one(f"#{field}", TextArea).has_focus:
            self.call_after_refresh(warning.scroll_visible, animate=False)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # Tab into a field: its warning comes into view with it (a kept answer's, say).
        field = event.widget.id or ""
        if field in CHECKED_FIELDS:
            self.keep_warning_in_view(field)

    def leaks_report(self) -> str:
        """The fields that still identify the asker, and how, for the confirmation."""
        summaries = (leaks_summary(field, self.leaks(field)) for field in CHECKED_FIELDS)
        return "\n".join(summary for summary in summaries if summary)

    def action_publish(self) -> None:
        question, answer = (text.strip() for text in self.typed())
        error = self.query_one("#qa-error", Label)
        missing = [name for name, text in (("question", question), ("réponse", answer)) if not text]
        if missing:
            error.update("Champ obligatoire vide : " + ", ".join(missing) + ".")
            return
        if self.detail is None:
            return
        error.update("")
        deadline = self.detail.bid_deadline

        def decided(decision: DeadlineDecision | None) -> None:
            if decision is not None:
                self.publish(
                    AnswerToAll(
                        self.question.consultation_id,
                        self.question.id,
                        question,
                        answer,
                        decision.new_deadline,
                        decision.reason,
                    )
                )

        def confirmed(go: bool | None) -> None:
            if go:
                ask_deadline_rule(self, deadline, decided)

        report = self.leaks_report()
        if report:
            self.app.push_screen(
                ConfirmDialog(
                    "Anonymisation (règle 4)",
                    report + "\nDiffuser quand même à toutes les entreprises ?",
                    "Diffuser",
                ),
                confirmed,
            )
        else:
            confirmed(True)

    def publish(self, answer: AnswerToAll) -> None:
        actor = self.app.actor
        self.store_task(
            lambda store: publish_answer_to_all(store, answer, actor=actor), self.published
        )

    def published(self, result: AnswerPublished) -> None:
        notify_literal(
            self,
            f"« {result.filename} » ajouté au DCE (version {result.dce_version}).",
            title="Questions / réponses",
        )
        self.app.open_draft(self.question.consultation_id, result.draft)

    def unsaved(self) -> Unsaved | None:
        """The answer being written, unless the store already keeps it as it stands."""
        question, answer = self.typed()
        stored = self.kept is not None and (self.kept.question, self.kept.answer) == (
            question, answer)  # fmt: skip
        if stored or not answer.strip():
            return None
        entry_id = self.question.id

        def keep(store: Store, actor: str, at_hang_up: bool) -> None:
            typed = KeptAnswer(question, answer, utc_now(), at_hang_up)
            keep_answer(store, entry_id, typed, actor=actor)

        return self.answer_work(keep)

    def answer_work(self, keep: Callable[[Store, str, bool], object]) -> Unsaved:
        reference = self.detail.identity.reference if self.detail else None
        what = f"la réponse à la question n° {self.question.number}"
        return Unsaved(what, reference, keep, KEPT_ANSWER_FOUND)

    def action_leave(self) -> None:
        """Échap: back; with an answer written, after « Quitter la réponse » (keep it for
        this question, leave without it, or stay). Leaving without it forgets what the store
        kept of it too."""
        entry_id, actor = self.question.id, self.app.actor

        def leave(kept: bool) -> None:
            if kept or self.kept is None:
                self.app.pop_screen()
                return
            self.store_task(
                lambda store: forget_answer(store, entry_id, actor=actor),
                lambda _: self.app.pop_screen(),
            )

        # Unchanged since kept: « Enregistrer » has nothing to write, only leaving forgets it.
        written = self.typed()[1].strip()
        unsaved = self.unsaved() or (self.answer_work(lambda *_: None) if written else None)
        leave_or_ask(self, unsaved, "Quitter la réponse", leave)
