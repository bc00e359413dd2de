"""Case A: the buyer writes the question (anonymised) and its answer; the "Questions /
réponses" PDF joins the DCE and the information draft goes to every registered company."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, Static, TextArea

from messagerie.letters.pdf.publish import AnswerPublished, AnswerToAll, publish_answer_to_all
from messagerie.models.consultations.detail import ConsultationDetail, consultation_detail
from messagerie.models.consultations.registers import RegisterRow
from messagerie.models.rules.anonymise import identity_leaks
from messagerie.models.rules.checks import asker_identified
from messagerie.screens.answer import question_text
from messagerie.screens.base import StoreScreen, Unsaved
from messagerie.screens.deadline import DeadlineDecision, ask_deadline_rule
from messagerie.screens.dialogs import ConfirmDialog, leave_screen
from messagerie.screens.widgets import back_key, harmless, literal, notify_literal, save_key


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

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="qa-form", can_focus=False):  # no Tab stop that shows nothing
            yield Static(question_text(self.question), id="original", classes="quoted")
            yield Label("Question, anonymisée (elle sera diffusée à tous les candidats) *")
            yield TextArea(harmless(self.question.question_text or ""), id="question")
            yield Static("", id="leaks", classes="warning")
            yield Label("Réponse *")
            yield TextArea("", id="answer")
            yield Label("", id="qa-error", classes="error")

    def on_mount(self) -> None:
        self.query_one("#original").border_title = "Question reçue (non diffusée)"
        self.store_task(
            lambda store: consultation_detail(store, self.question.consultation_id),
            self.loaded,
        )
        self.check_leaks()

    def loaded(self, detail: ConsultationDetail) -> None:
        self.detail = detail
        self.sub_title = harmless(detail.identity.reference_and_title)

    def leaks(self) -> tuple[str, ...]:
        asker = self.question
        return identity_leaks(
            self.query_one("#question", TextArea).text,
            company_name=asker.company_name,
            siret=asker.siret,
            email=asker.contact_email,
            contact_name=asker.contact_name,
        )

    @on(TextArea.Changed, "#question")
    def check_leaks(self) -> None:
        # The document goes to every company of the registers: rule 4 applies.
        verdict = asker_identified(self.leaks(), recipients=2)
        warning = self.query_one("#leaks", Static)
        warning.update(literal(f"⚠ Règle 4 : {verdict.message}") if verdict else "")
        warning.display = verdict is not None

    def action_publish(self) -> None:
        question = self.query_one("#question", TextArea).text.strip()
        answer = self.query_one("#answer", TextArea).text.strip()
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

        if self.leaks():
            self.app.push_screen(
                ConfirmDialog(
                    "Anonymisation (règle 4)",
                    "La question semble encore identifier le candidat :\n• "
                    + "\n• ".join(self.leaks())
                    + "\nDiffuser quand même à toutes les entreprises ?",
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
        if not self.query_one("#answer", TextArea).text.strip():
            return None
        reference = self.detail.identity.reference if self.detail else None
        return Unsaved(f"la réponse à la question n° {self.question.number}", reference)

    def action_leave(self) -> None:
        leave_screen(
            self,
            unsaved=self.unsaved() is not None,
            title="Réponse non enregistrée",
            question="Quitter sans ajouter la réponse au DCE ?",
        )
