"""Textual's command palette, in French: its placeholder, its keys and "nothing found"."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.align import Align
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.command import CommandList, CommandPalette
from textual.widgets.option_list import Option

from messagerie.screens.french import FrenchBindings

PLACEHOLDER = "Chercher une action…"
NO_MATCH = "Aucune action ne correspond"


class FrenchPalette(FrenchBindings, CommandPalette):
    """Ctrl+P: every action of the screen by its French name (tui/commands.py)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+end,shift+end", "command_list('last')", "Dernière action", show=False),
        Binding("ctrl+home,shift+home", "command_list('first')", "Première action", show=False),
        Binding("down", "cursor_down", "Action suivante", show=False),
        Binding("escape", "escape", "Fermer la palette", key_display="Échap"),
        Binding("pagedown", "command_list('page_down')", "Page suivante", show=False),
        Binding("pageup", "command_list('page_up')", "Page précédente", show=False),
        Binding("up", "command_list('cursor_up')", "Action précédente", show=False),
    ]

    def __init__(self, *, placeholder: str = PLACEHOLDER, **options: Any) -> None:
        super().__init__(placeholder=placeholder, **options)

    def _start_no_matches_countdown(self, search_value: str) -> None:
        """As Textual's (8.2), which shows "No matches found" in English: after a short
        wait, say in French that nothing matches what was typed."""
        self._stop_no_matches_countdown()

        def show_no_match() -> None:
            if search_value:
                self.query_one(CommandList).add_option(
                    Option(
                        Align.center(Text(NO_MATCH, style="not bold")),
                        disabled=True,
                        id=self._NO_MATCHES,
                    )
                )
                self._list_visible = True
            else:  # nothing typed: the list simply stays closed
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_match)
