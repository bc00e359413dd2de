"""Mail merge ("Publipostage") driven from the consultation screen."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from messagerie.screens.consultation import ConsultationScreen
from messagerie.screens.merge import MergeScreen
from tests.helpers.pilot import settle


async def run_merge(pilot: Pilot, cid: int, path: Path) -> MergeScreen:
    """Open the merge screen of consultation `cid` and load the analysis file at `path`."""
    await settle(pilot)
    pilot.app.push_screen(ConsultationScreen(cid))
    await settle(pilot)
    await pilot.press("r")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, MergeScreen)
    screen.query_one("#path", Input).value = str(path)
    await pilot.press("enter")
    for _ in range(4):
        await settle(pilot)
    return screen
