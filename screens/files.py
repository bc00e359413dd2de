"""Choosing a local file ("Importer un fichier depuis le poste local"), without a mouse."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Input, Label, Static


class FilePicker(ModalScreen[Path | None]):
    """Type a path, or walk the folders: Enter on a file picks it."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Annuler", key_display="Échap")]
    AUTO_FOCUS = "#path"  # typing a path is the quickest way, over SSH too

    def __init__(self, title: str, start: Path | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.start = start or Path.cwd()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="file-picker") as dialog:
            dialog.border_title = self.title_text
            yield Static("Chemin du fichier (Entrée pour valider), ou choisissez ci-dessous :")
            yield Input(placeholder=str(self.start), id="path")
            yield Label("", id="path-error", classes="error")
            yield DirectoryTree(self.start, id="tree")

    @on(DirectoryTree.FileSelected)
    def file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self.query_one("#path", Input).value = str(event.path)
        self.choose(event.path)

    @on(Input.Submitted, "#path")
    def path_submitted(self, event: Input.Submitted) -> None:
        self.choose(Path(event.value.strip()).expanduser())

    def choose(self, path: Path) -> None:
        error = self.query_one("#path-error", Label)
        if not path.is_file():
            error.update(f"« {path} » n'est pas un fichier.")
        elif not _readable(path):
            error.update(f"« {path} » ne peut pas être lu (droits d'accès).")
        else:
            self.dismiss(path)


def _readable(path: Path) -> bool:
    try:
        with path.open("rb"):
            return True
    except OSError:
        return False
