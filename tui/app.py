"""The Textual application: the store is opened in a worker so the first frame comes fast."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from screens.dashboard import DashboardScreen
from tui.commands import binding_commands

if TYPE_CHECKING:
    from models.store import Store

T = TypeVar("T")


class MessagerieApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "Messagerie sécurisée"
    BINDINGS = [
        Binding("question_mark", "toggle_help", "Aide", key_display="?"),
        Binding("ctrl+q", "quit", "Quitter", priority=True),
    ]

    def __init__(self, open_store: Callable[[], Store]) -> None:
        super().__init__()
        self._open_store = open_store
        self._store: Store | None = None
        self._store_lock = threading.Lock()

    def on_mount(self) -> None:
        self.push_screen(DashboardScreen())

    def store_call(self, call: Callable[[Store], T]) -> T | None:
        """Run `call` on the store, from a worker thread; a store fault ends the app cleanly."""
        from models.engine import StoreError

        try:
            with self._store_lock:
                if self._store is None:
                    self._store = self._open_store()
            return call(self._store)
        except StoreError as error:
            self.call_from_thread(self.exit, return_code=2, message=f"messagerie : {error}")
            return None

    def on_unmount(self) -> None:
        if self._store is not None:
            self._store.close()

    def action_toggle_help(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from binding_commands(screen)
        palette_commands = getattr(screen, "palette_commands", None)
        if palette_commands is not None:
            for title, help_text, callback in palette_commands():
                yield SystemCommand(title, help_text, callback)
        yield SystemCommand(
            "Thème", "Changer les couleurs de l'application", self.action_change_theme
        )
        yield SystemCommand(
            "Capture d'écran",
            "Enregistrer l'écran au format SVG",
            lambda: self.set_timer(0.1, self.deliver_screenshot),
        )
