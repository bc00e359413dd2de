"""F1 (or ?): every key of the screen, in a window that scrolls from the keyboard at 80×24.

Textual's side panel listed the focused field's scrolling keys first and cut the screen's own
actions off below the fold, with no key to scroll it: on « Messagerie sécurisée » at 80×24,
« Passer outre une règle » (F8) could not be read without a mouse."""

from __future__ import annotations

import re

import pytest
from textual.binding import Binding

from messagerie.screens.keys_help import KeysHelp
from tests.helpers.pilot import settle, wait_until
from tests.helpers.screens import SCREENS, open_screen, painted

SMALL = (80, 24)


def own_labels(screen) -> set[str]:
    """The labels of the keys the screen's own class declares and answers now."""
    active = {b.binding.action for b in screen.active_bindings.values() if b.node is screen}
    return {
        " ".join((binding.tooltip or binding.description).split())
        for cls in type(screen).__mro__
        if cls.__module__.startswith("messagerie.")
        for binding in cls.__dict__.get("BINDINGS", [])
        if isinstance(binding, Binding) and binding.description and binding.action in active
    }


def page_text(pilot) -> str:
    """The words the help window paints now, without its frame and scrollbar (block
    elements), so that a label wrapped over two lines reads whole."""
    text = painted(pilot, pilot.app.screen.query_one("#keys-help"))
    return " ".join(re.sub("[\u2580-\u259f]", " ", text).split())


async def read_through(pilot) -> str:
    """Everything the help window paints, scrolled line by line from top to bottom."""
    box = pilot.app.screen.query_one("#keys-help")
    seen = [page_text(pilot)]
    while box.scroll_y < box.max_scroll_y:
        await pilot.press("down")
        await settle(pilot)
        seen.append(page_text(pilot))
    return " | ".join(seen)


@pytest.mark.parametrize("name", sorted(SCREENS))
async def test_every_key_of_a_screen_can_be_read_at_80x24(workspace, workspace_app, name):
    async with workspace_app.run_test(size=SMALL) as pilot:
        screen = await open_screen(pilot, workspace, name)
        expected = own_labels(screen)
        assert expected, f"{name} declares no key"
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, KeysHelp), "the help")
        await settle(pilot)
        help_box = pilot.app.screen.query_one("#keys-help")
        assert help_box.region.bottom <= SMALL[1] and help_box.region.right <= SMALL[0]
        text = await read_through(pilot)
        assert {label for label in expected if label not in text} == set(), text
        assert "Cet écran" in text
        if not screen.is_modal:  # a dialog hides the app's keys (Textual stops at it)
            assert "Partout" in text and "Quitter" in text
        await pilot.press("f1")  # F1 again closes it
        await wait_until(pilot, lambda: pilot.app.screen is screen, "the help closed")


async def test_the_screens_own_keys_come_before_the_fields(workspace, workspace_app):
    async with workspace_app.run_test(size=SMALL) as pilot:
        screen = await open_screen(pilot, workspace, "message_form")
        screen.query_one("#body").focus()
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, KeysHelp), "the help")
        await settle(pilot)
        first_page = page_text(pilot)
        assert "Passer outre une règle, motivé" in first_page  # F8, on the first page
        text = await read_through(pilot)
        # The text field's keys come after the screen's own, the app's last.
        order = [text.index(label) for label in ("Passer outre", "Curseur à gauche", "Quitter")]
        assert order == sorted(order), text
        await pilot.press("escape")
        await wait_until(pilot, lambda: pilot.app.screen is screen, "the help closed")
        assert screen.focused is screen.query_one("#body")  # back where the buyer was
