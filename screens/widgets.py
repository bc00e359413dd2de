"""Widgets and keys shared by several screens, and how text from outside is shown."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any, TypeVar

from rich.style import StyleType
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static
from textual.widgets import Footer as TextualFooter

from messagerie.models.store.enums import RegisterKind

if TYPE_CHECKING:
    from textual.app import App, ComposeResult

W = TypeVar("W", bound=Widget)

# C0 and C1 control characters but line feed and tab, each shown as one visible symbol:
# ESC written raw would reach the terminal (colours, cursor moves), CR would be dropped.
CONTROL_PICTURES = {
    **{code: chr(0x2400 + code) for code in range(0x20) if chr(code) not in "\t\n"},
    0x7F: "\u2421",  # ␡
    **{code: "\ufffd" for code in range(0x80, 0xA0)},
}
# Invisible formatting (Unicode Cf: bidi overrides and isolates such as U+202E, zero-width
# characters U+200B–U+200F, U+2060, U+FEFF, tags…) and the line and paragraph separators:
# U+202E reverses the rest of a line in a bidi-capable terminal, and a zero-width character
# makes two different names look the same. Shown as C1 controls are, by U+FFFD « � »; the
# set is the one a file name from outside loses (models/store/documents.py).
INVISIBLE_CATEGORIES = frozenset({"Cf", "Zl", "Zp"})
INVISIBLE_SHOWN = "\ufffd"
# Seconds between two runs of the rules that read the clock (rule 2's countdown) while a
# form stays open with nothing typed: the time left changes though the text does not.
CLOCK_RECHECK = 60


class _Pictures(dict[int, str]):
    """`str.translate`'s table: the control pictures, then each other character looked up
    once (its Unicode category) and kept, as itself or as the invisible's symbol. Built as
    characters are met: going over all 1.1 million at start would cost the TUI ≈ 0.4 s."""

    def __missing__(self, code: int) -> str:
        character = chr(code)
        invisible = unicodedata.category(character) in INVISIBLE_CATEGORIES
        shown = self[code] = INVISIBLE_SHOWN if invisible else character
        return shown


_PICTURES = _Pictures(CONTROL_PICTURES)


def harmless(text: str) -> str:
    """`text` with each control character (ESC, CR…) and each invisible formatting character
    (U+202E, U+200B…) replaced by one visible symbol: what remains cannot drive the terminal,
    reorder the line, or hide a difference. For strings Textual never reads as markup (the
    screen's `sub_title`). What is stored is not changed."""
    if text.isascii():  # the usual case: only the C0 controls and DEL to look at
        return text.translate(CONTROL_PICTURES)
    return text.translate(_PICTURES)


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


def update_if_changed(widget: Static, content: Text | str) -> None:
    """`widget.update(content)`, unless the widget shows that already: each update lays the
    whole screen out again, and the message form's checks rewrite every line after each
    pause in typing, most of them unchanged."""
    shown = widget.content
    if isinstance(shown, Text) and isinstance(content, Text):
        # Text's own == leaves out the base style ("Prêt" in green, then in red).
        if (shown.plain, shown.spans, shown.style) == (content.plain, content.spans, content.style):
            return
    elif type(shown) is type(content) and shown == content:
        return
    widget.update(content)


def cell(text: str) -> Text:
    """A one-line DataTable cell of text from outside, cut as Textual cuts a plain one."""
    return Text(harmless(text), no_wrap=True, end="")


def notify_literal(target: Widget | App[Any], message: str, **options: Any) -> None:
    """A toast whose message holds text from outside (a name, a path, a relay's error such
    as "[Errno 111] …"): shown as typed, never read as markup."""
    target.notify(harmless(message), markup=False, **options)


def focus_now(widget: Widget) -> None:
    """Move the focus to `widget` before the next key is handled. Textual's `focus()` waits
    for the message queue: keys typed in the same burst as « / » (a paste, a fast typist, a
    terminal over SSH delivering them in one read) went to the widget focused before, and
    were lost (issue 18)."""
    widget.screen.set_focus(widget)


class Footer(TextualFooter):
    """Textual's footer, rebuilt once per burst of binding changes.

    While a screen starts, focus and mounts change its bindings about seven times in a row;
    Textual's footer rebuilds every key each time (≈ 50 ms apiece here), which doubled the time
    to the first frame.
    """

    _rebuild_pending = False
    _keys_shown: tuple[object, ...] | None = None

    def bindings_changed(self, screen: Screen) -> None:
        if self._rebuild_pending:
            return
        self._rebuild_pending = True
        self.call_after_refresh(self._rebuild, screen)

    def _rebuild(self, screen: Screen) -> None:
        self._rebuild_pending = False
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            # Textual asks again after every focus change (Screen.set_focus), mostly for the
            # same keys shown: at start-up that rebuilt the same footer twice, and Tab from
            # field to field rebuilt it each time (a layout of the screen, a render).
            keys = self.keys_drawn(screen)
            if keys == self._keys_shown:
                return
            self._keys_shown = keys
        super().bindings_changed(screen)

    def keys_drawn(self, screen: Screen) -> tuple[object, ...]:
        """What Textual's footer draws (Footer.compose): the bindings shown, and the
        palette's key, shown or not."""
        bindings = screen.active_bindings
        palette = bindings.get(screen.app.COMMAND_PALETTE_BINDING)
        shown = tuple(
            (binding, on, tip) for _node, binding, on, tip in bindings.values() if binding.show
        )
        return shown, palette[1:] if palette else None


class Table(DataTable[Any]):
    """Textual's DataTable, drawn again once it has measured its new rows.

    Textual 8.2's DataTable measures the rows just added when it is next idle, but caches
    each drawn cell and line by row and update count, not by width. A frame painted between
    `add_row` and that idle (the app's refresh came first: a loaded machine, a slow terminal)
    kept every row cut at its column header's width until the cursor moved: « 20/0 » for
    « 20/01/2026 09:31 ». Seen in a real terminal (tests/test_hostile_screens.py).
    """

    def _on_idle(self, _: events.Idle) -> None:
        # Called before DataTable's own idle handler, which does the measuring (Textual calls
        # each class's handler, subclass first): the caches are dropped just after it.
        if self._require_update_dimensions:
            self.call_later(self._clear_caches)


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


def titled(widget: W, title: str, keys: str | None = None) -> W:
    """`widget` with `title` on its top border and, when given, the `keys` that act on it on
    its bottom border."""
    widget.border_title = title
    if keys is not None:
        widget.border_subtitle = keys
    return widget


def section(id: str, title: str, text: str = "", keys: str | None = None) -> Static:
    """A titled block of a screen's text (`text` until it is filled)."""
    return titled(Static(text, id=id, classes="section"), title, keys)


def filter_row(id: str, label: str, placeholder: str) -> ComposeResult:
    """A one-line field (`id`) that filters what the screen lists, its label before it
    (`id`-label), on a row of its own (`id`-row)."""
    with Horizontal(id=f"{id}-row"):
        yield Static(label, id=f"{id}-label")
        yield Input(placeholder=placeholder, id=id, compact=True)


def dialog_box(
    title: str | Text, classes: str = "dialog", *, id: str | None = None, scroll: bool = False
) -> Widget:
    """A dialog's frame (`with dialog_box(…):`), its title on the border, shown as typed."""
    box = (VerticalScroll if scroll else Vertical)(classes=classes, id=id)
    box.border_title = literal(title)
    return box


# Keys several screens share ----------------------------------------------------------------


def back_key(
    action: str = "app.pop_screen", description: str = "Retour", **options: Any
) -> Binding:
    """Échap: back where the buyer came from, or out of a dialog (`action` may first ask
    about what would be lost)."""
    return Binding("escape", action, description, key_display="Échap", **options)


def save_key(action: str, description: str, **options: Any) -> Binding:
    """Ctrl+S: what saves, creates or publishes what a form holds."""
    return Binding("ctrl+s", action, description, key_display="^s", **options)


# The registers by their keys (w, q, p) and their full names.
REGISTER_KEYS = {
    "w": RegisterKind.WITHDRAWAL,
    "q": RegisterKind.QUESTION,
    "p": RegisterKind.DEPOSIT,
}
REGISTER_TITLES = {
    RegisterKind.WITHDRAWAL: "Registre des retraits",
    RegisterKind.QUESTION: "Registre des questions",
    RegisterKind.DEPOSIT: "Registre des dépôts",
}


def register_keys(action: str) -> list[Binding]:
    """w, q, p → `action('withdrawal')`… for the three registers, out of the footer (the
    screen writes them where they act) but in the keys' window (F1) and the palette."""
    return [
        Binding(key, f"{action}('{kind.value}')", kind.label, tooltip=REGISTER_TITLES[kind],
                show=False)
        for key, kind in REGISTER_KEYS.items()
    ]  # fmt: skip
