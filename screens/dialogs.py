"""Small dialogs shared by several screens."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Static


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question; Échap answers no."""

    BINDINGS = [
        Binding("o", "dismiss(True)", "Oui"),
        Binding("n,escape", "dismiss(False)", "Non"),
    ]

    def __init__(self, title: str, question: str, yes: str = "Oui") -> None:
        super().__init__()
        self.title_text, self.question, self.yes = title, question, yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = self.title_text
            yield Static(self.question)
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes} (o)", id="yes", variant="error", compact=True)
                yield Button("Non (n)", id="no", compact=True)

    @on(Button.Pressed)
    def answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class TextDialog(ModalScreen[None]):
    """A read-only text (history, details), closed with Échap."""

    BINDINGS = [Binding("escape,enter", "dismiss(None)", "Fermer")]

    def __init__(self, title: str, text: object) -> None:
        super().__init__()
        self.title_text, self.text = title, text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog tall") as dialog:
            dialog.border_title = self.title_text
            yield Static(self.text)  # type: ignore[arg-type]


def leave_screen(screen: Screen, *, unsaved: bool, title: str, question: str) -> None:
    """Go back; with unsaved work, only once the buyer has confirmed it may be lost."""
    if not unsaved:
        screen.app.pop_screen()
        return

    def confirmed(yes: bool | None) -> None:
        if yes:
            screen.app.pop_screen()

    screen.app.push_screen(ConfirmDialog(title, question, "Quitter"), confirmed)
