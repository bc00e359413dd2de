"""Widgets shared by several screens, and how text from outside is shown."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.style import StyleType
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widgets import Footer as TextualFooter
from textual.widgets import Input

if TYPE_CHECKING:
    from textual.app import App
    from textual.widget import Widget

# C0 and C1 control characters but line feed and tab, each shown as one visible symbol:
# ESC written raw would reach the terminal (colours, cursor moves), CR would be dropped.
CONTROL_PICTURES = {
    **{code: chr(0x2400 + code) for code in range(0x20) if chr(code) not in "\t\n"},
    0x7F: "\u2421",  # ␡
    **{code: "\ufffd" for code in range(0x80, 0xA0)},
}


def harmless(text: str) -> str:
    """`text` with each control character (ESC, CR…) replaced by one visible symbol: what
    remains cannot drive the terminal. For strings Textual never reads as markup (the
    screen's `sub_title`)."""
    return text.translate(CONTROL_PICTURES)


def literal(text: str | Text | None, style: StyleType = "") -> Text:
    """Text from outside (names, titles, questions, replies, file names…) shown as typed.

    Widgets, toasts and table cells read a plain `str` as Textual markup: "[/oops]" raises
    MarkupError, "[@click=app.quit]" becomes an action. A `Text` is never parsed; its
    control characters are shown by `harmless`. A `Text` built from several parts keeps its
    styles (the symbols replace characters one for one)."""
    if isinstance(text, Text):
        shown = text.copy()
        shown.plain = harmless(text.plain)
        return shown
    return Text(harmless(text or ""), style=style)


def cell(text: str) -> Text:
    """A one-line DataTable cell of text from outside, cut as Textual cuts a plain one."""
    return Text(harmless(text), no_wrap=True, end="")


def notify_literal(target: Widget | App[Any], message: str, **options: Any) -> None:
    """A toast whose message holds text from outside (a name, a path, a relay's error such
    as "[Errno 111] …"): shown as typed, never read as markup."""
    target.notify(harmless(message), markup=False, **options)


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


class TextField(Input):
    """A one-line field that adds to what it holds: Tab into it puts the cursor at the end
    and selects nothing (Textual selects the whole text on focus: the first key typed then
    replaced a preset subject)."""

    def __init__(self, value: str | None = None, **options: Any) -> None:
        options.setdefault("select_on_focus", False)
        super().__init__(value, **options)

    def on_focus(self, event: events.Focus) -> None:
        if not event.from_app_focus:  # back from another window: the cursor stays put
            self.cursor_position = len(self.value)
