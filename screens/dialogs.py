"""Small dialogs shared by several screens."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from messagerie.screens.french import FrenchModal
from messagerie.screens.widgets import back_key, dialog_box, literal


class ConfirmDialog(FrenchModal[bool]):
    """A yes/no question; Échap answers no."""

    BINDINGS = [
        Binding("o", "dismiss(True)", "Oui"),
        Binding("n,escape", "dismiss(False)", "Non"),
    ]

    def __init__(self, title: str, question: str, yes: str = "Oui") -> None:
        super().__init__()
        self.title_text, self.question, self.yes = title, question, yes

    def compose(self) -> ComposeResult:
        with dialog_box(self.title_text):
            yield Static(literal(self.question))
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes} (o)", id="yes", variant="error", compact=True)
                yield Button("Non (n)", id="no", compact=True)

    @on(Button.Pressed)
    def answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class TextDialog(FrenchModal[None]):
    """A read-only text (history, details), closed with Échap."""

    BINDINGS = [Binding("escape,enter", "dismiss(None)", "Fermer")]

    def __init__(self, title: str, text: str | Text) -> None:
        super().__init__()
        self.title_text, self.text = title, text

    def compose(self) -> ComposeResult:
        with dialog_box(self.title_text, "dialog tall"):
            yield Static(literal(self.text))


class InputDialog(FrenchModal[str | None]):
    """One line to type (a path, an address), with the problem of the last try above it;
    Entrée confirms, Échap gives up."""

    AUTO_FOCUS = "#answer"
    BINDINGS = [back_key("dismiss(None)", "Annuler")]

    def __init__(self, title: str, prompt: str, value: str, problem: str | None = None) -> None:
        super().__init__()
        self.title_text, self.prompt, self.value, self.problem = title, prompt, value, problem

    def compose(self) -> ComposeResult:
        with dialog_box(self.title_text):
            yield Static(literal(self.prompt))
            yield Input(self.value, id="answer")
            if self.problem:
                yield Static(literal(self.problem), classes="problem")
            yield Static("Entrée : valider · Échap : annuler", classes="hint")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)


class ChoiceDialog(FrenchModal[str | None]):
    """One choice in a list, each (key, label) shown as typed: ↑↓ then Entrée answers its
    key, Échap gives up."""

    AUTO_FOCUS = "#choices"
    BINDINGS = [back_key("dismiss(None)", "Annuler")]

    def __init__(
        self, title: str, prompt: str, choices: Sequence[tuple[str, str]], current: str
    ) -> None:
        super().__init__()
        self.title_text, self.prompt, self.choices, self.current = title, prompt, choices, current

    def compose(self) -> ComposeResult:
        with dialog_box(self.title_text, "dialog tall"):
            yield Static(literal(self.prompt))
            yield OptionList(
                *(Option(literal(label), id=key) for key, label in self.choices), id="choices"
            )
            yield Static("Entrée : choisir · Échap : annuler", classes="hint")

    def on_mount(self) -> None:
        keys = [key for key, _ in self.choices]
        if self.current in keys:
            self.query_one(OptionList).highlighted = keys.index(self.current)

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class LinkDialog(FrenchModal[None]):
    """A link to copy, whole on one line: in a toast it wrapped at 80 columns, and copying
    it from the terminal gave a broken link. It comes selected: Ctrl+C copies it."""

    AUTO_FOCUS = "#link"
    BINDINGS = [back_key("dismiss(None)", "Fermer")]

    def __init__(self, title: str, prompt: str, link: str) -> None:
        super().__init__()
        self.title_text, self.prompt, self.link = title, prompt, link

    def compose(self) -> ComposeResult:
        with dialog_box(self.title_text):
            yield Static(literal(self.prompt))
            yield Input(self.link, id="link")
            yield Static("Ctrl+C : copier le lien · Échap ou Entrée : fermer", classes="hint")

    @on(Input.Changed, "#link")
    def keep_the_link(self, event: Input.Changed) -> None:
        """Read-only: a key typed by mistake does not change what is copied."""
        if event.value != self.link:
            event.input.value = self.link
            event.input.select_all()

    @on(Input.Submitted, "#link")
    def close(self) -> None:
        self.dismiss(None)


def ask_until_valid(
    screen: Screen, title: str, prompt: str, value: str, attempt: Callable[[str], str | None]
) -> None:
    """Ask `prompt` in an InputDialog until `attempt(answer)` returns no problem (None) or
    the buyer gives up; the typed answer and its problem are shown at the next try."""

    def answered(answer: str | None) -> None:
        if answer is None:
            return
        problem = attempt(answer)
        if problem is not None:
            screen.app.push_screen(InputDialog(title, prompt, answer, problem), answered)

    screen.app.push_screen(InputDialog(title, prompt, value), answered)


def ask_for_path(
    screen: Screen, title: str, prompt: str, suggested: Path, write: Callable[[Path], object]
) -> None:
    """Ask where to write a file, `suggested` first, until the answer is a path a file can
    be written to; then `write(path)`."""

    def attempt(answer: str) -> str | None:
        path, problem = writable_path(answer)
        if path is not None:
            write(path)
        return problem

    ask_until_valid(screen, title, prompt, str(suggested), attempt)


def writable_path(answer: str) -> tuple[Path | None, str | None]:
    """(path, None) when a file can be written there, else (None, what to fix)."""
    path = Path(answer.strip()).expanduser()
    if not answer.strip():
        return None, "Indiquez un chemin de fichier."
    if path.is_dir():
        return None, f"« {path} » est un dossier : ajoutez un nom de fichier."
    if not path.parent.is_dir():
        return None, f"Le dossier « {path.parent} » n'existe pas."
    return path, None
