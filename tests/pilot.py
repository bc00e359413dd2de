"""Helpers for driving the real app with Textual's Pilot."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input, Static


async def settle(pilot: Pilot) -> None:
    """Wait until the store has answered and the screen has been repainted."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def text_of(pilot: Pilot, selector: str) -> str:
    widget = pilot.app.screen.query_one(selector, Static)
    return str(widget.render())


def quiet_cursor(pilot: Pilot) -> None:
    """No blinking cursor, so that screenshots are stable."""
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
