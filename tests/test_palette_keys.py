"""The command palette names each key in words, as a French keyboard reads it: « Touche :
Ctrl+G », not the footer's short "^g" nor Textual's names ("escape", "question_mark")."""

from __future__ import annotations

import pytest

from messagerie.screens.french import key_name
from tests.helpers.screens import open_screen

RAW_NAMES = ("^", "ctrl", "escape", "question_mark", "pagedown", "shift", "delete", "enter")


@pytest.mark.parametrize(
    ("key", "shown"),
    [("ctrl+g", "Ctrl+G"), ("shift+tab", "Maj+Tab"), ("escape", "Échap"), ("f5", "F5"),
     ("question_mark", "?"), ("ctrl+e,f9", "Ctrl+E"), ("e", "e"), ("pagedown", "PgSuiv")],
)  # fmt: skip
def test_a_key_is_named_in_words(key, shown):
    assert key_name(key) == shown


async def test_the_palette_of_the_message_form_names_ctrl_g_in_words(workspace, workspace_app):
    async with workspace_app.run_test(size=(120, 40)) as pilot:
        screen = await open_screen(pilot, workspace, "message_form")
        helps = {c.title: c.help for c in pilot.app.get_system_commands(screen)}
    generate = [help for title, help in helps.items() if "courrier" in title.lower()]
    assert any(help.startswith("Touche : Ctrl+G") for help in generate), generate
    assert helps["Aide"].startswith("Touche : F1")
    for title, help in helps.items():
        key = help.removeprefix("Touche : ").split(" — ")[0]
        assert not any(raw in key for raw in RAW_NAMES), (title, help)
