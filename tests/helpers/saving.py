"""Saving a file from a screen: a key, the path typed in the dialog it opens, and the wait for
the file, which a worker thread writes."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from tests.helpers.pilot import settle, wait_until


async def save_as(pilot: Pilot, key: str, target: Path, seconds: float = 60) -> None:
    await pilot.press(key)
    await settle(pilot)
    pilot.app.screen.query_one(Input).value = str(target)
    await pilot.press("enter")
    await wait_until(pilot, target.exists, f"« {target.name} » written", seconds=seconds)
    await settle(pilot)
