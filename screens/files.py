"""Choosing a local file ("Importer un fichier depuis le poste local"), without a mouse, and
the line that says which antivirus will scan it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import DirectoryTree, Input, Label, Static
from textual.worker import get_current_worker

from messagerie.screens.french import FrenchModal
from messagerie.screens.widgets import back_key, dialog_box, literal

if TYPE_CHECKING:
    from messagerie.letters.intake.antivirus import AntivirusStatus


class AntivirusLine(Static):
    """ "Antivirus : …": which antivirus is in force, asked of clamd in a worker thread (the
    settings and the socket are never touched on the UI thread)."""

    PENDING = "Antivirus : interrogation en cours…"
    PROBE_TIMEOUT = 3.0  # seconds clamd may take to answer VERSION

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text(self.PENDING), id=id, classes="antivirus")
        self.status: AntivirusStatus | None = None

    def on_mount(self) -> None:
        self.run_worker(self._probe, thread=True, group="antivirus", exclusive=True)

    def _probe(self) -> None:
        from messagerie.letters.intake.antivirus import antivirus_status

        clamd = self.app.settings().clamd
        status = antivirus_status(clamd, timeout=self.PROBE_TIMEOUT)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, status)

    def _show(self, status: AntivirusStatus) -> None:
        from messagerie.letters.intake.antivirus import AntivirusState

        if not self.is_attached:
            return
        self.status = status
        if status.state is AntivirusState.UNREACHABLE:
            style = "bold red"
        elif status.state is AntivirusState.OFF or status.database is None:
            style = "yellow"  # nothing scanned, or a test antivirus that knows no real virus
        else:
            style = ""
        self.update(literal(status.line, style=style))


class FileTree(DirectoryTree):
    """The folders, each name shown as it is (a reply's file saved here may be named by a
    company)."""

    def process_label(self, label: str | Text) -> Text:
        return super().process_label(literal(label))


class FilePicker(FrenchModal[Path | None]):
    """Type a path, or walk the folders: Enter on a file picks it."""

    BINDINGS = [back_key("dismiss(None)", "Annuler")]
    AUTO_FOCUS = "#path"  # typing a path is the quickest way, over SSH too

    def __init__(self, title: str, start: Path | None = None, *, antivirus: bool = False) -> None:
        """`antivirus`: the chosen file will be scanned; say by which antivirus."""
        super().__init__()
        self.title_text = title
        self.start = start or Path.cwd()
        self.antivirus = antivirus

    def compose(self) -> ComposeResult:
        with dialog_box(self.title_text, id="file-picker"):
            if self.antivirus:
                yield AntivirusLine(id="picker-antivirus")
            yield Static("Chemin du fichier (Entrée pour valider), ou choisissez ci-dessous :")
            yield Input(placeholder=str(self.start), id="path")
            yield Label("", id="path-error", classes="error")
            yield FileTree(self.start, id="tree")

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
            error.update(literal(f"« {path} » n'est pas un fichier."))
        elif not _readable(path):
            error.update(literal(f"« {path} » ne peut pas être lu (droits d'accès)."))
        else:
            self.dismiss(path)


def _readable(path: Path) -> bool:
    try:
        with path.open("rb"):
            return True
    except OSError:
        return False
