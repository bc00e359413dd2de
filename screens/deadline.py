"""LEGAL rule 3 (R2151-4) before a DCE change, asked by the DCE screen and the Q/A editor:
inside 6 days of the bid deadline, a new deadline or a written reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, Static

from messagerie.models.rules.checks import WRITTEN_OUT, modification_window_check, written_reason
from messagerie.models.rules.validation import ValidationFailed, parse_paris_datetime
from messagerie.screens.base import StoreScreen
from messagerie.screens.french import FrenchModal
from messagerie.screens.widgets import back_key, dialog_box, literal


def ask_deadline_rule(
    screen: StoreScreen[None], deadline: datetime, then: Callable[[DeadlineDecision | None], None]
) -> None:
    """LEGAL rule 3 before changing the DCE: ask only when inside the 6-day window."""
    verdict = modification_window_check(deadline, screen.app.clock())
    if verdict is None:
        then(DeadlineDecision(None, ""))
    else:
        screen.app.push_screen(DeadlineDialog(verdict.message), then)


@dataclass(frozen=True)
class DeadlineDecision:
    """How the buyer met LEGAL rule 3: a new deadline and its reason, or only a reason."""

    new_deadline: datetime | None
    reason: str


class DeadlineDialog(FrenchModal[DeadlineDecision | None]):
    """LEGAL rule 3: inside 6 days of the deadline, a new deadline or a written reason."""

    BINDINGS = [back_key("dismiss(None)", "Annuler")]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with dialog_box("Délai de remise des plis (article R2151-4)"):
            yield Static(literal(self.message))
            yield Label("Nouvelle date et heure limite de remise des plis (JJ/MM/AAAA HH:MM)")
            yield Input(id="new-deadline")
            yield Label("Motif (report du délai, ou raison de ne pas le reporter) *")
            yield Input(id="reason")
            yield Label("", id="deadline-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button(
                    "Reporter la date limite", id="extend", variant="primary", compact=True
                )
                yield Button(
                    "Ne pas reporter (motif)", id="override", variant="warning", compact=True
                )
                yield Button("Annuler", id="cancel", compact=True)

    @on(Button.Pressed, "#cancel")
    def cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#extend")
    def extend(self) -> None:
        error = self.query_one("#deadline-error", Label)
        reason = self.query_one("#reason", Input).value.strip()
        try:
            deadline = parse_paris_datetime(
                self.query_one("#new-deadline", Input).value, field="bid_deadline"
            )
        except ValidationFailed as failed:
            error.update(literal(str(failed)))
            return
        if not written_reason(reason):
            error.update(f"Indiquez le motif du report{WRITTEN_OUT}")
            return
        self.dismiss(DeadlineDecision(deadline, reason))

    @on(Button.Pressed, "#override")
    def override(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        if not written_reason(reason):
            self.query_one("#deadline-error", Label).update(
                f"Écrivez pourquoi la date limite n'est pas reportée{WRITTEN_OUT}"
            )
            return
        self.dismiss(DeadlineDecision(None, reason))
