"""Where the buyer attaches files, the app says which antivirus is in force: the message
form's "Pièces jointes" box and the F4 file picker, with the real app (Pilot) on the fixed
demo and a real clamd (MESSAGERIE_TEST_CLAMD), `off`, or a socket that does not exist."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from models.store import open_store
from models.tables import Consultation, table_of
from screens.files import AntivirusLine, FilePicker
from screens.message_form import MessageFormScreen
from tests.pilot import settle, wait_until
from tui.app import MessagerieApp
from tui.settings import Settings

consultation = table_of(Consultation)


def running_clamd() -> str:
    address = os.environ.get("MESSAGERIE_TEST_CLAMD")
    if not address:
        pytest.fail("MESSAGERIE_TEST_CLAMD is not set: run the tests with scripts/test.")
    return address


def wines_id(demo_url: str) -> int:
    store = open_store(demo_url)
    try:
        with store.engine.connect() as connection:
            return connection.execute(
                sa.select(consultation.c.id).where(consultation.c.reference == "2025VINS")
            ).scalar_one()
    finally:
        store.close()


def app_with(demo_url: str, clamd: str) -> MessagerieApp:
    """The real app on the fixed demo (only read here), with MESSAGERIE_CLAMD=clamd."""
    return MessagerieApp(
        open_store=lambda: open_store(demo_url),
        actor="marie.dupont",
        settings=lambda: Settings(clamd=clamd),
    )


def line_of(widget: AntivirusLine) -> str:
    return str(widget.render())


async def antivirus_lines(demo_url: str, clamd: str) -> tuple[str, str]:
    """The line in the form's "Pièces jointes" box, and the one in the F4 file picker."""
    cid = wines_id(demo_url)
    async with app_with(demo_url, clamd).run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        pilot.app.push_screen(MessageFormScreen(cid))
        await settle(pilot)
        form = pilot.app.screen
        assert isinstance(form, MessageFormScreen)
        in_form = form.query_one("#av-note", AntivirusLine)
        await wait_until(pilot, lambda: in_form.status is not None, "the form's antivirus line")
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, FilePicker), "the picker")
        in_picker = pilot.app.screen.query_one("#picker-antivirus", AntivirusLine)
        await wait_until(pilot, lambda: in_picker.status is not None, "the picker's line")
        lines = line_of(in_form), line_of(in_picker)
        await pilot.press("escape")
        await wait_until(pilot, lambda: pilot.app.screen is form, "back to the form")
    return lines


async def test_a_running_clamd_is_named_with_what_it_knows(demo_url):
    in_form, in_picker = await antivirus_lines(demo_url, running_clamd())
    # The EICAR-only clamd of scripts/test: clamd says it runs no official signature base.
    assert in_form.startswith("Antivirus : ClamAV ")
    assert in_form.endswith(", sans base officielle (antivirus de test)")
    assert in_picker == in_form


async def test_off_says_files_are_not_scanned(demo_url):
    lines = await antivirus_lines(demo_url, "off")
    assert lines == ("Antivirus désactivé — fichiers non analysés",) * 2


async def test_an_absent_clamd_says_attachments_will_be_refused(demo_url, tmp_path):
    lines = await antivirus_lines(demo_url, f"unix://{tmp_path}/absent.sock")
    assert lines == ("Antivirus injoignable — les pièces jointes seront refusées",) * 2


async def test_the_probe_leaves_the_screen_responsive(demo_url, tmp_path):
    """clamd is asked in a worker thread: until it answers, the line says so and the form
    takes keys (a TCP clamd that never answers would otherwise freeze the screen)."""
    import socket

    with socket.socket() as silent:  # listens, accepts nothing, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        cid = wines_id(demo_url)
        async with app_with(demo_url, f"tcp://127.0.0.1:{port}").run_test(size=(100, 40)) as pilot:
            pilot.app.push_screen(MessageFormScreen(cid))
            await wait_until(
                pilot, lambda: pilot.app.screen.query("#av-note"), "the form's antivirus line"
            )
            line = pilot.app.screen.query_one("#av-note", AntivirusLine)
            await pilot.press("f4")  # the UI answers while clamd is being asked
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, FilePicker), "picker")
            in_picker = pilot.app.screen.query_one("#picker-antivirus", AntivirusLine)
            assert line_of(in_picker) == AntivirusLine.PENDING
            await pilot.press("escape")
            await wait_until(pilot, lambda: line.status is not None, "the timeout", seconds=10)
            assert line_of(line) == "Antivirus injoignable — les pièces jointes seront refusées"
