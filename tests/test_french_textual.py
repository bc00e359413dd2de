"""Textual's own words, in French: the keys' window (F1) over each kind of widget, the command
palette (placeholder, system commands, "nothing found"), Ctrl+C's hint; and toasts that never
cover the field being typed in at 80×24."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console
from textual.binding import Binding
from textual.command import CommandPalette
from textual.containers import ScrollableContainer
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    DirectoryTree,
    Input,
    OptionList,
    RadioSet,
    Select,
    TextArea,
    Tree,
)
from textual.widgets._select import SelectOverlay

from messagerie.screens.french import DESCRIPTIONS
from messagerie.screens.keys_help import KeysHelp, keys_table
from messagerie.tui.palette import NO_MATCH, PLACEHOLDER, FrenchPalette
from tests.helpers.hostile import toasts
from tests.helpers.pilot import settle, wait_until
from tests.helpers.screens import open_screen, screen_lines

SMALL = (80, 24)
# The Textual widgets our screens use, and Textual's screens.
TEXTUAL_CLASSES = (
    Screen, ModalScreen, CommandPalette, ScrollableContainer, Input, TextArea, OptionList,
    DataTable, Tree, DirectoryTree, RadioSet, Checkbox, Select, SelectOverlay, Button,
)  # fmt: skip
# English as Textual writes it: descriptions, key names, the palette's words.
ENGLISH = re.compile(
    r"\b(Scroll|Focus|Cursor|Select|Delete|Move|Toggle|Submit|Copy|Paste|Cut|Dismiss|Input|"
    r"Page (?:Up|Down|Left|Right)|Up|Down|Home|End|First|Last|Undo|Redo|Press|Show|Go|Quit|"
    r"Keys|Theme|Screenshot|Search|No matches|commands|esc|pgup|pgdn|del|space|enter)\b"
)


def render_text(renderable) -> str:
    console = Console(width=60, file=io.StringIO(), record=True)
    console.print(renderable)
    return console.export_text()


def textual_descriptions() -> set[str]:
    found = set()
    for cls in TEXTUAL_CLASSES:
        for klass in cls.__mro__:
            for binding in klass.__dict__.get("BINDINGS", []):
                binding = Binding(*binding) if isinstance(binding, tuple) else binding
                if binding.description:
                    found.add(binding.description)
    return found


def test_every_textual_key_description_has_a_french_one():
    missing = textual_descriptions() - set(DESCRIPTIONS)
    assert not missing, f"no French for {sorted(missing)}"
    assert not any(ENGLISH.search(french) for french in DESCRIPTIONS.values())


@pytest.mark.parametrize(
    ("name", "focus"),
    [
        ("dashboard", "#search"),  # Input
        ("dashboard", "#results"),  # OptionList
        ("tracking", "#tracking"),  # DataTable
        ("dce", "#pieces"),  # Tree
        ("message_form", "#body"),  # TextArea
    ],
)
async def test_the_keys_window_is_french(workspace, workspace_app, name, focus):
    async with workspace_app.run_test(size=SMALL) as pilot:
        screen = await open_screen(pilot, workspace, name)
        screen.query_one(focus).focus()
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, KeysHelp), "the keys")
        await settle(pilot)
        text = render_text(keys_table(pilot.app.screen.sections))  # scrolled or not
        assert "Aide" in text and "Champ suivant" in text, text
        assert not ENGLISH.search(text), ENGLISH.search(text)
        await pilot.press("f1")  # F1 again closes it, from a field too
        await wait_until(pilot, lambda: pilot.app.screen is screen, "the window closed")


def palette_field(pilot) -> bool:
    return isinstance(pilot.app.screen, FrenchPalette) and bool(pilot.app.screen.query(Input))


async def test_the_palette_is_french(workspace, workspace_app):
    async with workspace_app.run_test(size=SMALL) as pilot:
        screen = await open_screen(pilot, workspace, "dashboard")
        commands = list(pilot.app.get_system_commands(screen))
        assert {"Aide", "Quitter", "Thème", "Capture d'écran"} <= {c.title for c in commands}
        for command in commands:
            assert not ENGLISH.search(f"{command.title} {command.help}"), command

        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: palette_field(pilot), "the palette")
        palette = pilot.app.screen
        field = palette.query_one(Input)
        assert field.placeholder == PLACEHOLDER
        await wait_until(pilot, lambda: "Aide" in "\n".join(screen_lines(pilot)), "the commands")
        shown = "\n".join(screen_lines(pilot))
        assert not ENGLISH.search(shown), shown
        await pilot.press(*"wxqz")
        await wait_until(pilot, lambda: NO_MATCH in "\n".join(screen_lines(pilot)), NO_MATCH)
        await pilot.press("escape")
        await wait_until(pilot, lambda: pilot.app.screen is screen, "the palette closed")

        pilot.app.action_change_theme()  # « Thème »: its own palette
        await wait_until(pilot, lambda: palette_field(pilot), "the themes")
        assert pilot.app.screen.query_one(Input).placeholder == "Chercher un thème…"
        await pilot.press("escape")


async def test_ctrl_c_outside_a_field_says_how_to_quit_in_french(workspace, workspace_app):
    async with workspace_app.run_test(size=SMALL, notifications=True) as pilot:
        await open_screen(pilot, workspace, "dashboard")
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: toasts(pilot), "a toast")
        assert any("Ctrl+Q" in toast for toast in toasts(pilot)), toasts(pilot)
        assert pilot.app.is_running


@pytest.mark.parametrize("field", ["#body", "#subject"])
@pytest.mark.parametrize("place", ["bottom", "top"])
async def test_a_toast_never_covers_the_field_being_typed_in(
    workspace, workspace_app, field, place
):
    """The field at the bottom of the view, where Textual puts toasts, then at its top."""
    async with workspace_app.run_test(size=SMALL, notifications=True) as pilot:
        form = await open_screen(pilot, workspace, "message_form")
        typed = form.query_one(field)
        typed.focus()
        await settle(pilot)  # the focus scrolls too, once the screen is refreshed
        scrolled = form.query_one("#message-form")
        scrolled.scroll_home(animate=False, immediate=True)  # from above: lands at the bottom
        await settle(pilot)
        scrolled.scroll_to_widget(typed, animate=False, top=place == "top", immediate=True)
        await settle(pilot)
        assert (typed.region.bottom == scrolled.region.bottom) is (place == "bottom")
        pilot.app.notify(  # as long as the form's own (two or three lines at 80 columns)
            "Brouillon « Négociation sur le prix du lot unique » enregistré pour 2 "
            "destinataire(s), avec 1 pièce jointe.",
            title="Brouillon enregistré",
        )
        await wait_until(pilot, lambda: form.query("Toast"), "the toast")
        await pilot.pause()
        toast = form.query_one("Toast")
        assert toast.region.height and typed.region.height
        assert not toast.region.overlaps(typed.region), (toast.region, typed.region)


async def test_a_personal_link_is_shown_whole_and_copied_whole(workspace, workspace_app):
    """Shown in a toast, a link wrapped over three lines at 80 columns."""
    from messagerie.screens.dialogs import LinkDialog

    link = "http://127.0.0.1:8025/m/" + "Zx9-" * 20
    async with workspace_app.run_test(size=SMALL) as pilot:
        await open_screen(pilot, workspace, "tracking")
        pilot.app.push_screen(LinkDialog("Page du destinataire", "Lien personnel :", link))
        await wait_until(pilot, lambda: pilot.app.screen.query("#link"), "the link")
        field = pilot.app.screen.query_one("#link", Input)
        assert field.value == link and field.region.height == 3  # one line, in its frame
        await pilot.press("x", "ctrl+c")  # a stray key changes nothing; Ctrl+C copies
        assert field.value == link and pilot.app.clipboard == link
        await pilot.press("escape")
        await wait_until(pilot, lambda: not pilot.app.screen.query("#link"), "closed")
