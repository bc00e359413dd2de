"""Small dialogs shared by several screens."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from weakref import WeakKeyDictionary

import platformdirs
from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from messagerie.models.errors import os_problem
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
    """A read-only text (history, details), closed with Échap; ↑↓, PgUp/PgDn, Home/End
    scroll a text taller than the terminal."""

    AUTO_FOCUS = "#text-dialog"
    BINDINGS = [Binding("escape,enter", "dismiss(None)", "Fermer")]

    def __init__(self, title: str, text: str | Text) -> None:
        super().__init__()
        self.title_text, self.text = title, text

    def compose(self) -> ComposeResult:
        with dialog_box(self.title_text, "dialog tall", id="text-dialog", scroll=True):
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
    screen: Screen,
    title: str,
    prompt: str,
    value: str,
    attempt: Callable[[str], str | None],
    problem: str | None = None,
) -> None:
    """Ask `prompt` in an InputDialog (`problem` under `value`, when given) until
    `attempt(answer)` returns no problem (None) or the buyer gives up; the typed answer and
    its problem are shown at the next try."""

    def answered(answer: str | None) -> None:
        if answer is None:
            return
        problem = attempt(answer)
        if problem is not None:
            ask_until_valid(screen, title, prompt, answer, attempt, problem)

    screen.app.push_screen(InputDialog(title, prompt, value, problem), answered)


# What `ask_for_path`'s write is given to report that it could not write: the dialog opens
# again with the path typed and this problem under it.
WriteFailed = Callable[[str], None]


_saved_into: WeakKeyDictionary[App[object], Path] = WeakKeyDictionary()


def save_folder(app: App[object]) -> Path:
    """Where the buyer is asked to save first: the folder they last saved into, else their
    Downloads folder, else their home (never the folder the app was started from, which may
    be a checkout or a server's working folder)."""
    if app in _saved_into:
        return _saved_into[app]
    downloads = platformdirs.user_downloads_path()
    return downloads if downloads.is_dir() else Path.home()


def saved_into(app: App[object], folder: Path) -> None:
    _saved_into[app] = folder


def ask_for_path(
    screen: Screen,
    title: str,
    prompt: str,
    suggested: str,
    write: Callable[[Path, WriteFailed], object],
) -> None:
    """Ask where to write a file, the file name `suggested` in `save_folder` first, until
    the answer is a path a file can be written to; then `write(path, failed)`. An existing
    file is replaced only when the buyer presses Entrée a second time on the same path. The
    write runs in a worker: when it cannot write, it calls `failed(problem)` (in French)
    from the UI thread, and the buyer corrects the path instead of typing it again."""
    replacing: Path | None = None  # the existing file the buyer was told of

    def attempt(answer: str) -> str | None:
        nonlocal replacing
        path, problem = typed_path(answer)
        if path is None:
            return problem
        if path != replacing and path.exists():
            replacing = path
            return f"« {path} » existe déjà : Entrée pour le remplacer, ou changez le nom."

        def failed(problem: str) -> None:
            if screen.is_attached:  # the buyer may have left the screen meanwhile
                ask_until_valid(screen, title, prompt, answer, attempt, problem)

        saved_into(screen.app, path.parent)
        write(path, failed)
        return None

    ask_until_valid(screen, title, prompt, str(save_folder(screen.app) / suggested), attempt)


def typed_path(answer: str, *, folder: bool = False) -> tuple[Path | None, str | None]:
    """The path typed in `answer`, `~` expanded: (path, None) when it is an existing folder
    (`folder`) or a file that can be written in one, else (None, what to fix, in French).
    An unknown `~name`, a name too long or a folder that cannot be read is a problem to
    show, never an exception."""
    text = answer.strip()
    if not text:
        return None, "Indiquez un dossier." if folder else "Indiquez un chemin de fichier."
    if "\0" in text:
        return None, "Le chemin contient un caractère nul : retapez-le."
    try:
        path = Path(text).expanduser()
    except RuntimeError:  # `~name` of an account this machine does not know
        home = text.split("/", 1)[0]
        return None, (
            f"« {home} » : dossier personnel introuvable (compte inconnu sur ce poste) ; "
            "écrivez le chemin en entier."
        )
    try:
        if folder:
            if not path.is_dir():
                return None, f"Le dossier « {path} » n'existe pas."
        elif path.is_dir():
            return None, f"« {path} » est un dossier : ajoutez un nom de fichier."
        elif not path.parent.is_dir():
            return None, f"Le dossier « {path.parent} » n'existe pas."
    except OSError as error:  # a name too long, a folder this account may not read
        return None, f"« {path} » : {os_problem(error)} ; corrigez le chemin."
    return path, None
