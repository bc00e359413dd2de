""" "Répondre à une question": the platform's two ways to answer, and the reason asked when
answering one company only (LEGAL rule 1)."""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from messagerie.models.consultations.registers import RegisterRow
from messagerie.models.formatting import paris_minutes
from messagerie.models.rules.checks import SINGLE_ANSWER_REASONS, WRITTEN_OUT, written_reason
from messagerie.models.rules.siret import format_siret
from messagerie.screens.french import FrenchModal
from messagerie.screens.rights import RightsChecked
from messagerie.screens.widgets import back_key, dialog_box, literal, save_key

AnswerChoice = Literal["dce", "messaging"]

EXPLANATION = (
    "Pour répondre aux questions posées par les entreprises, vous devez modifier le DCE (en "
    "ajoutant par exemple un fichier question / réponse). Cette cinématique permet "
    "d'envoyer, via la plateforme, un message d'avertissement qui indique que la consultation "
    "a été modifiée à toutes les entreprises ayant retiré un DCE, posé une question ou "
    "effectué un dépôt."
)
ANSWER_ALL = (
    "Je souhaite répondre à tous les candidats inscrits aux différents registres de la "
    "consultation, par le biais de la fonction de modification du DCE."
)
ANSWER_ONE = (
    "Je souhaite répondre uniquement à ce candidat, par le biais de la messagerie sécurisée."
)


def question_text(question: RegisterRow) -> Text:
    text = Text()
    text.append("N° / Date/Heure : ", style="bold")
    text.append(f"{question.number} — {paris_minutes(question.at)}\n")
    text.append("Entreprise : ", style="bold")
    text.append(f"{question.company_name} - {format_siret(question.siret)}\n")
    text.append(question.question_text or "", style="italic")
    return literal(text)


class AnswerDialog(RightsChecked, FrenchModal[AnswerChoice | None]):
    """Répondre à une question."""

    BINDINGS = [
        Binding("d", "choose('dce')", "Modifier le DCE"),
        Binding("m", "choose('messaging')", "Messagerie sécurisée"),
        back_key("dismiss(None)", "Annuler"),
    ]

    def __init__(self, question: RegisterRow) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with dialog_box("Répondre à une question", id="dialog"):
            yield Static("POUR RÉPONDRE", classes="dialog-heading")
            yield Static(EXPLANATION)
            yield Static(question_text(self.question), id="question", classes="quoted")
            yield Static(ANSWER_ALL)
            yield Button("Modifier le DCE (d)", id="dce", variant="primary", compact=True)
            yield Static(ANSWER_ONE)
            yield Button(
                "Messagerie sécurisée (m)", id="messaging", variant="primary", compact=True
            )
            yield Button("Annuler", id="cancel", compact=True)

    def action_choose(self, choice: AnswerChoice) -> None:
        self.dismiss(choice)

    @on(Button.Pressed)
    async def pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
        else:  # as its key: refused, with the reason, when the account lacks the right
            await self.run_action(f"choose({event.button.id!r})")


class SingleAnswerReasonDialog(FrenchModal[str | None]):
    """Why only this company is answered (LEGAL rule 1); the reason goes to the audit log."""

    BINDINGS = [
        save_key("confirm", "Valider"),
        back_key("dismiss(None)", "Annuler"),
    ]

    def __init__(self, company: str, others: int) -> None:
        super().__init__()
        self.company = company
        self.others = others

    def compose(self) -> ComposeResult:
        with dialog_box("Répondre uniquement à ce candidat"):
            yield Static(
                literal(
                    f"Égalité de traitement : {self.others} autre(s) entreprise(s) figurent aux "
                    f"registres. Indiquez pourquoi la réponse ne va qu'à {self.company} ; la "
                    "raison est conservée dans le journal et imprimée sur l'accusé de réception."
                )
            )
            with RadioSet(id="reasons"):
                for reason in SINGLE_ANSWER_REASONS:
                    yield RadioButton(reason)
                yield RadioButton("Autre raison :", id="other")
            yield Input(placeholder="Raison, si « Autre raison »", id="other-reason")
            yield Label("", id="reason-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Valider", id="ok", variant="primary", compact=True)
                yield Button("Annuler", id="cancel", compact=True)

    @on(Button.Pressed, "#cancel")
    def cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted, "#other-reason")
    def action_confirm(self) -> None:
        chosen = self.query_one(RadioSet).pressed_button
        if chosen is None:
            self.query_one("#reason-error", Label).update("Choisissez une raison.")
            return
        if chosen.id == "other":
            reason = self.query_one("#other-reason", Input).value.strip()
            if not written_reason(reason):
                self.query_one("#reason-error", Label).update(f"Écrivez la raison{WRITTEN_OUT}")
                return
        else:
            reason = str(chosen.label)
        self.dismiss(reason)
