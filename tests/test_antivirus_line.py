"""Where the buyer attaches files, the app says which antivirus is in force: the message
form's "Pièces jointes" box and the F4 file picker, with the real app (Pilot) on a store of
one consultation and a real clamd (MESSAGERIE_TEST_CLAMD), `off`, or a socket that does not
exist."""

from __future__ import annotations

import os

import pytest

from messagerie.models.store.database import open_store
from messagerie.models.store.enums import ConsultationStatus
from messagerie.screens.files import AntivirusLine, FilePicker
from messagerie.screens.message_form import MessageFormScreen
from messagerie.tui.app import MessagerieApp
from messagerie.tui.settings import Settings
from tests.helpers.factories import add_consultations, paris
from tests.helpers.pilot import settle, wait_until

pytestmark = pytest.mark.services  # the real clamd, and a socket that never answers


def running_clamd() -> str:
    address = os.environ.get("MESSAGERIE_TEST_CLAMD")
    if not address:
        pytest.fail("MESSAGERIE_TEST_CLAMD is not set: run the tests with scripts/test.")
    return address


@pytest.fixture
def one_consultation(tmp_path) -> tuple[str, int]:
    """A SQLite store holding one open consultation: its URL and the consultation's id."""
    url = f"sqlite:///{tmp_path / 'antivirus.sqlite3'}"
    store = open_store(url, upgrade=True, documents_dir=tmp_path / "documents")
    try:
        (cid,) = add_consultations(
            store, [("2026AV", "Pièces jointes", ConsultationStatus.OPEN, paris(2026, 12, 27))]
        )
    finally:
        store.close()
    return url, cid


def app_with(url: str, clamd: str) -> MessagerieApp:
    """The real app on that store, with MESSAGERIE_CLAMD=clamd."""
    return MessagerieApp(
        open_store=lambda: open_store(url),
        actor="marie.dupont",
        settings=lambda: Settings(clamd=clamd),
    )


def line_of(widget: AntivirusLine) -> str:
    return str(widget.render())


async def antivirus_lines(one_consultation: tuple[str, int], clamd: str) -> tuple[str, str]:
    """The line in the form's "Pièces jointes" box, and the one in the F4 file picker."""
    url, cid = one_consultation
    async with app_with(url, clamd).run_test(size=(100, 40)) as pilot:
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


async def test_a_running_clamd_is_named_with_what_it_knows(one_consultation):
    in_form, in_picker = await antivirus_lines(one_consultation, running_clamd())
    # The EICAR-only clamd of scripts/test: clamd says it runs no official signature base.
    assert in_form.startswith("Antivirus : ClamAV ")
    assert in_form.endswith(", sans base officielle (antivirus de test)")
    assert in_picker == in_form


async def test_off_says_files_are_not_scanned(one_consultation):
    lines = await antivirus_lines(one_consultation, "off")
    assert lines == ("Antivirus désactivé — fichiers non analysés",) * 2


async def test_an_absent_clamd_says_attachments_will_be_refused(one_consultation, tmp_path):
    lines = await antivirus_lines(one_consultation, f"unix://{tmp_path}/absent.sock")
    assert lines == ("Antivirus injoignable — les pièces jointes seront refusées",) * 2


async def test_the_probe_leaves_the_screen_responsive(one_consultation, monkeypatch):
    """clamd is asked in a worker thread: until it answers, the line says so and the form
    takes keys (a TCP clamd that never answers would otherwise freeze the screen). The probe
    waits as long as the test needs; closing the silent socket ends it, however busy the
    machine."""
    import socket

    monkeypatch.setattr(AntivirusLine, "PROBE_TIMEOUT", 120.0)
    silent = socket.socket()  # listens, accepts nothing, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    url, cid = one_consultation
    try:
        async with app_with(url, f"tcp://127.0.0.1:{port}").run_test(size=(100, 40)) as pilot:
            pilot.app.push_screen(MessageFormScreen(cid))
            await wait_until(
                pilot, lambda: pilot.app.screen.query("#av-note"), "the form's antivirus line"
            )
            line = pilot.app.screen.query_one("#av-note", AntivirusLine)
            await pilot.press("f4")  # the UI answers while clamd is being asked
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, FilePicker), "picker")
            in_picker = pilot.app.screen.query_one("#picker-antivirus", AntivirusLine)
            assert line_of(in_picker) == AntivirusLine.PENDING
            assert line_of(line) == AntivirusLine.PENDING
            await pilot.press("escape")
            silent.close()  # the waiting connections are reset: the probe ends now
            await wait_until(pilot, lambda: line.status is not None, "the reset", seconds=30)
            assert line_of(line) == "Antivirus injoignable — les pièces jointes seront refusées"
    finally:
        silent.close()
