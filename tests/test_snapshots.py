"""How the screens look, at 80×24 and 120×40 (pytest-textual-snapshot)."""

import pytest

from tests.helpers.pilot import checks_done, quiet_cursor, settle


async def ready(pilot):
    quiet_cursor(pilot)
    await settle(pilot)


async def detailed_second_page(pilot):
    await ready(pilot)
    await pilot.press("pagedown", "v")
    await settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_dashboard(snap_compare, demo_app, size):
    assert snap_compare(demo_app, terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_dashboard_detailed_view(snap_compare, demo_app, size):
    assert snap_compare(demo_app, terminal_size=size, run_before=detailed_second_page)


async def wines(pilot, *keys):
    """2025VINS (the guide's example), then `keys`."""
    await ready(pilot)
    await pilot.press("slash", *"2025vins", "enter")
    await settle(pilot)
    for key in keys:  # each key once the screen it opens is there
        await pilot.press(key)
        await settle(pilot)
    quiet_cursor(pilot)


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("consultation", ("d",)),
        ("questions_register", ("q",)),
        ("answer_dialog", ("q", "enter")),
        ("dce", ("m",)),
        ("suite_form", ("d", "s")),
        ("message_form", ("e", "m")),
    ],
)
def test_workspace_screens_80x24(snap_compare, demo_app, name, keys):
    async def run_before(pilot):
        await wines(pilot, *keys)

    assert snap_compare(demo_app, terminal_size=(80, 24), run_before=run_before)


def test_keys_help_80x24(snap_compare, demo_app):
    """F1 on « Messagerie sécurisée »: the form's own keys first, in a window that scrolls."""

    async def run_before(pilot):
        await wines(pilot, "e", "m")
        await checks_done(pilot)  # the form's live checks, painted under the window
        await pilot.press("f1")
        await settle(pilot)
        quiet_cursor(pilot)

    assert snap_compare(demo_app, terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_message_form(snap_compare, demo_app, size):
    """ "Messagerie sécurisée" on 2025VINS, with the dépôts added and the live checks shown."""

    async def run_before(pilot):
        await wines(pilot, "e", "m")
        await pilot.press("f3", "p")
        await settle(pilot)
        await checks_done(pilot)
        # Without the toast « N destinataire(s) ajouté(s) »: it lasts 5 s, and on a busy
        # machine it had gone before the picture was taken.
        pilot.app.clear_notifications()
        await settle(pilot)
        quiet_cursor(pilot)

    assert snap_compare(demo_app, terminal_size=size, run_before=run_before)


@pytest.fixture
def demo_copy_app(demo_url, on_demo_day, tmp_path):
    """The application on a private copy of the demo, for flows that write (a draft)."""
    from messagerie.models.store.database import open_store
    from messagerie.tui.app import MessagerieApp
    from tests.conftest import copy_demo

    store = open_store(copy_demo(demo_url, tmp_path), documents_dir=tmp_path / "documents")
    yield MessagerieApp(open_store=lambda: store)
    store.close()


def test_answer_form_counts_down_80x24(snap_compare, demo_copy_app):
    """Question 3 of the gymnasium, answered to its company alone 20 days before the bid
    deadline: rule 2's countdown under the type (LEGAL.md)."""

    async def run_before(pilot):
        await ready(pilot)
        await pilot.press("slash", *"gymnase", "enter")
        await settle(pilot)
        # its questions, the last one, "Messagerie sécurisée", the first reason, "Valider"
        for key in ("q", "end", "enter", "m", "enter", "ctrl+s"):
            await pilot.press(key)
            await settle(pilot)
        await checks_done(pilot)
        pilot.app.screen.query_one("#message-form").scroll_home(animate=False)
        pilot.app.clear_notifications()
        await settle(pilot)
        quiet_cursor(pilot)

    assert snap_compare(demo_copy_app, terminal_size=(80, 24), run_before=run_before)


@pytest.fixture
def every_status_app(demo_url, tmp_path):
    """The demo, where MAPA25-011 (Envoyé, Délivré, Non délivré, Lu, Réponse non lue, Réponse
    lue) also has a recipient still "En attente": every status in one table."""
    import shutil

    import sqlalchemy as sa

    from messagerie.models.store.database import open_store
    from messagerie.tui.app import MessagerieApp

    copy = tmp_path / "every-status.sqlite3"
    shutil.copyfile(demo_url.removeprefix("sqlite:///"), copy)
    store = open_store(f"sqlite:///{copy}")
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "update recipient set status = 'pending', delivery_state = 'queued', "
                "sent_at = null, delivered_at = null where id = (select min(r.id) from "
                "recipient r join message m on m.id = r.message_id join consultation c on "
                "c.id = m.consultation_id where c.reference = 'MAPA25-011' and r.status = 'sent')"
            )
        )
    yield MessagerieApp(open_store=lambda: store)
    store.close()


async def tracking_of(pilot, reference: str | None):
    """ "Suivi des messages" of one consultation (e), or of all of them (a)."""
    await ready(pilot)
    if reference is None:
        await pilot.press("a")
    else:
        await pilot.press("slash", *reference.lower(), "enter")
        await settle(pilot)
        await pilot.press("e")  # "Messagerie sécurisée": its tracking
    for _ in range(3):  # the page, then the selected message's summary
        await settle(pilot)
    quiet_cursor(pilot)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_tracking_with_every_status(snap_compare, every_status_app, size):
    async def run_before(pilot):
        await tracking_of(pilot, "MAPA25-011")

    assert snap_compare(every_status_app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_tracking_across_consultations_with_filters(snap_compare, demo_app, size):
    """The view of every consultation, filters open, narrowed to the rejections."""

    async def run_before(pilot):
        await tracking_of(pilot, None)
        await pilot.press("f", "enter", *["down"] * 8, "enter")  # Type: Courrier de rejet
        for _ in range(3):
            await settle(pilot)
        quiet_cursor(pilot)

    assert snap_compare(demo_app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_message_detail(snap_compare, demo_app, size):
    async def run_before(pilot):
        await tracking_of(pilot, "MAPA25-011")
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(demo_app, terminal_size=size, run_before=run_before)


def test_quitting_with_a_letter_typed_80x24(snap_compare, demo_app):
    """Ctrl+Q in "Messagerie sécurisée" on 2025VINS with a subject typed: the question."""

    async def run_before(pilot):
        await wines(pilot, "e", "m")
        # Set, not typed: focusing the subject scrolls the form, sooner or later on a busy
        # machine, and the picture was taken either way (the flows type it: test_quit.py).
        pilot.app.screen.query_one("#subject").value += " et report de la visite"
        await settle(pilot)
        await pilot.press("ctrl+q")
        await settle(pilot)
        quiet_cursor(pilot)

    assert snap_compare(demo_app, terminal_size=(80, 24), run_before=run_before)
