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


async def test_the_palette_finds_modifier_le_dce_by_the_guide_s_words(workspace, workspace_app):
    """The guide says « Modifier le DCE »; the palette said « Documents de la consultation »,
    and searching « modifier » found nothing."""
    async with workspace_app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, workspace, "consultation")
        titles = [c.title for c in pilot.app.get_system_commands(screen)]
    assert any(title.startswith("Modifier le DCE") for title in titles), titles


async def test_a_screenshot_is_named_in_paris_time(workspace, tmp_path, monkeypatch):
    """« Capture d'écran » named its file by the server's clock (UTC): at 23:30 in Paris a
    buyer found a capture « 21_30 ». It is named by the app's clock, in Paris time."""
    from datetime import UTC, datetime

    from messagerie.tui.app import MessagerieApp
    from tests.helpers.pilot import run_command, settle, wait_until

    monkeypatch.chdir(tmp_path)  # where a capture is written: the current folder
    summer_evening = datetime(2026, 7, 14, 21, 30, tzinfo=UTC)
    app = MessagerieApp(open_store=lambda: workspace, actor="marie.dupont",
                        clock=lambda: summer_evening)  # fmt: skip
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await run_command(pilot, "Capture d'écran")
        expected = tmp_path / "Messagerie_sécurisée_2026-07-14_23h30m00s.svg"
        await wait_until(pilot, expected.exists, "the capture")
    assert expected.read_text(encoding="utf-8").startswith("<svg")
