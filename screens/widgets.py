"""Widgets shared by several screens."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """Textual's footer, rebuilt once per burst of binding changes.

    While a screen starts, focus and mounts change its bindings about seven times in a row;
    Textual's footer rebuilds every key each time (≈ 50 ms apiece here), which doubled the time
    to the first frame.
    """

    _rebuild_pending = False

    def bindings_changed(self, screen: Screen) -> None:
        if self._rebuild_pending:
            return
        self._rebuild_pending = True
        self.call_after_refresh(self._rebuild, screen)

    def _rebuild(self, screen: Screen) -> None:
        self._rebuild_pending = False
        super().bindings_changed(screen)
