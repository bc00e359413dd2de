"""F1 (or ?): every key of the screen below, in a window that scrolls from the keyboard.

At 80×24 Textual's help panel showed a screen's keys only in part — the focused field's
scrolling keys first, the screen's own actions below the fold — and it cannot be scrolled
without a mouse. This window lists them all, the screen's own first, and ↑ ↓ PgPréc PgSuiv
Début Fin scroll it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Static

from messagerie.screens.french import FrenchModal, key_display
from messagerie.screens.widgets import Footer, back_key, dialog_box

OUR_PACKAGES = ("messagerie.screens.", "messagerie.tui.")
SCREEN, FOCUSED, EVERYWHERE = "Cet écran", "Élément actif", "Partout"
UNAVAILABLE = " (indisponible ici)"


@dataclass(frozen=True)
class KeyLine:
    keys: str  # "^s", "↑ / k"
    action: str  # the platform's full label when the binding has one
    available: bool


def key_sections(screen: Screen) -> dict[str, list[KeyLine]]:
    """The keys `screen` answers now, by where they act: the screen (and our widgets), the
    focused Textual widget, the whole app; one line per action, its keys together."""
    lines: dict[tuple[str, int, str], tuple[Binding, bool, list[str]]] = {}
    for key, active in screen.active_bindings.items():
        binding, node = active.binding, active.node
        if not binding.description:
            continue
        if binding.action in {ours.action for ours in own_bindings(node)}:
            section = EVERYWHERE if node is screen.app else SCREEN
        else:  # Textual's: the focused widget's, or the same on every screen (Tab, copy)
            section = FOCUSED if node not in (screen, screen.app) else EVERYWHERE
        _, _, keys = lines.setdefault((section, id(node), binding.action),
                                      (binding, active.enabled, []))  # fmt: skip
        keys.append(binding.key_display or key_display(key))
    sections: dict[str, list[KeyLine]] = {SCREEN: [], FOCUSED: [], EVERYWHERE: []}
    for (section, *_), (binding, enabled, keys) in lines.items():
        label = binding.tooltip or binding.description
        sections[section].append(KeyLine(" / ".join(dict.fromkeys(keys)), label, enabled))
    return {title: found for title, found in sections.items() if found}


def own_bindings(node: DOMNode) -> Iterator[Binding]:
    """Bindings declared by our own classes (not those Textual's widgets bring)."""
    for cls in type(node).__mro__:
        if cls.__module__.startswith(OUR_PACKAGES):
            for binding in cls.__dict__.get("BINDINGS", []):
                if isinstance(binding, Binding) and binding.description:
                    yield binding


def keys_table(sections: dict[str, list[KeyLine]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, style="bold")
    table.add_column()
    for number, (title, lines) in enumerate(sections.items()):
        if number:
            table.add_row("", "")
        table.add_row(Text(title, style="bold underline"), "")
        for line in lines:
            action = Text(line.action)
            if not line.available:
                action.append(UNAVAILABLE, style="dim")
            table.add_row(Text(line.keys), action)
    return table


class KeysHelp(FrenchModal[None]):
    """The keys of the screen it was opened over; F1, ? or Échap closes it."""

    AUTO_FOCUS = "#keys-help"
    BINDINGS = [
        back_key("dismiss(None)", "Fermer"),  # F1 too (app.toggle_help)
        Binding("question_mark", "dismiss(None)", "Fermer", key_display="?", show=False),
    ]

    def __init__(self, sections: dict[str, list[KeyLine]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        title = "Aide — touches de cet écran (Ctrl+P : chercher une action par son nom)"
        with dialog_box(title, "dialog tall", id="keys-help", scroll=True):
            yield Static(keys_table(self.sections))
        yield Footer(compact=True)
