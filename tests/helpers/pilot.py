"""Helpers for driving the real app with Textual's Pilot."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable

from textual import events
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea
from textual.worker import WorkerCancelled


async def settle(pilot: Pilot) -> None:
    """Wait until the store has answered and the screen has been repainted."""
    for _ in range(3):
        for worker in list(pilot.app.workers):
            # A newer worker of an exclusive group cancels the older one: nothing to wait for.
            with contextlib.suppress(WorkerCancelled):
                await worker.wait()
        await pilot.pause()


async def wait_until(
    pilot: Pilot, condition: Callable[[], object], what: str, seconds: float = 15
) -> None:
    """Poll until `condition()` holds: a fixed pause is too long on a quiet machine and too
    short on a busy one."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not seen within {seconds} s: {what}"
        await pilot.pause(0.05)


async def checks_done(pilot: Pilot) -> None:
    """Until the message form's live checks have run on what was typed (they wait for a
    short quiet time)."""
    form = pilot.app.screen
    await pilot.pause()
    await wait_until(pilot, lambda: not getattr(form, "checks_due", False), "the live checks")


async def run_command(pilot: Pilot, title: str) -> None:
    """Ctrl+P, `title` typed, then Entrée once the palette lists it first: its search runs in
    the background and fills the list in batches, and an Entrée pressed before it is lost."""

    def first_listed() -> str:
        found = pilot.app.screen.query(CommandList)
        if not found or not found.first().option_count:
            return ""
        return str(found.first().get_option_at_index(0).prompt)

    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette), "the palette")
    await pilot.press(*title)
    await wait_until(pilot, lambda: title in first_listed(), f"« {title} » in the palette")
    await pilot.press("enter")


def text_of(pilot: Pilot, selector: str) -> str:
    widget = pilot.app.screen.query_one(selector, Static)
    return str(widget.render())


def quiet_cursor(pilot: Pilot) -> None:
    """No blinking cursor, so that screenshots are stable."""
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = False


BODY_TEXT = "Bonjour,\n\nNotre message."


async def fill_body(pilot: Pilot, text: str = BODY_TEXT) -> None:
    """Replace the message form's body, as the buyer would: select all (F7), then type."""
    pilot.app.screen.query_one("#body").focus()
    await pilot.press("f7", "delete", *("enter" if char == "\n" else char for char in text))
    await checks_done(pilot)


async def send_form(pilot: Pilot, body: str | None = BODY_TEXT) -> None:
    """Fill the body when asked, then "Envoyer" (^e) and wait for the store."""
    if body is not None:
        await fill_body(pilot, body)
    await pilot.press("ctrl+e")
    await settle(pilot)


async def pick_path(pilot: Pilot, path: object) -> None:
    """In the open file picker: paste the path (as a terminal sends it: bracketed paste),
    Entrée. Typing 80 characters one key at a time took 7 s. No settle() while the picker is open:
    its folder tree's loader worker runs until it closes, so wait for the screens instead
    (a loaded machine takes longer to show and to close it)."""
    from messagerie.screens.files import FilePicker

    for _ in range(100):
        if isinstance(pilot.app.screen, FilePicker) and pilot.app.screen.query("#path"):
            break
        await pilot.pause(0.05)
    picker = pilot.app.screen
    assert isinstance(picker, FilePicker)
    field = picker.query_one("#path", Input)
    field.focus()
    field.post_message(events.Paste(str(path)))
    await pilot.pause()
    assert field.value == str(path), "the pasted path is the field's whole value"
    await pilot.press("enter")
    for _ in range(200):
        if pilot.app.screen is not picker:
            break
        await pilot.pause(0.05)
    assert pilot.app.screen is not picker, "the file picker did not close"
    await settle(pilot)


async def hang_up_on(pilot, signum: int) -> None:
    """Send this process `signum`, as sshd or a shutdown does, and wait for the app to end."""
    os.kill(os.getpid(), signum)
    for _ in range(50):
        if pilot.app.return_code is not None:
            return
        await pilot.pause(0.05)
