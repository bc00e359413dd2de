"""Every screen of the app that has a footer, opened with the Pilot on a private copy of the
demo (2025VINS, the guide's example), and what its footer and help panel show."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from messagerie.models.consultations.registers import list_register
from messagerie.models.store.enums import RegisterKind
from messagerie.models.store.tables import Consultation, Message, Reply, table_of
from tests.helpers.accounts import DEMO_READER
from tests.helpers.pilot import settle, wait_until

consultation = table_of(Consultation)
message = table_of(Message)
reply = table_of(Reply)
WINES = "2025VINS"

Opener = Callable[[Pilot, object], Awaitable[None]]


def wines_id(store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(consultation.c.id).where(consultation.c.reference == WINES)
        ).scalar_one()


def first_id(store, table: sa.Table) -> int:
    with store.engine.connect() as connection:
        found = connection.execute(sa.select(sa.func.min(table.c.id))).scalar_one()
    assert found is not None, f"the demo should have a {table.name}"
    return found


async def pressed(pilot: Pilot, *keys: str) -> None:
    """Each key once the screen it opens has settled."""
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def form_then(pilot: Pilot, store, *keys: str) -> None:
    pilot.app.open_form(wines_id(store))  # type: ignore[attr-defined]
    await settle(pilot)
    await pressed(pilot, *keys)


def via_app(method: str, *arguments: Callable[[object], object]) -> Opener:
    async def open_it(pilot: Pilot, store) -> None:
        getattr(pilot.app, method)(*(argument(store) for argument in arguments))
        await settle(pilot)

    return open_it


def questions(store):  # type: ignore[no-untyped-def]
    return list_register(store, wines_id(store), RegisterKind.QUESTION, actor=DEMO_READER).rows[0]


async def nothing(pilot: Pilot, store) -> None:
    await settle(pilot)


async def qa_editor(pilot: Pilot, store) -> None:
    pilot.app.open_qa_editor(questions(store))  # type: ignore[attr-defined]
    await settle(pilot)


async def reply_screen(pilot: Pilot, store) -> None:
    pilot.app.open_reply(first_id(store, reply), lambda _: None)  # type: ignore[attr-defined]
    await settle(pilot)


# name → how to open it, from the dashboard
SCREENS: dict[str, Opener] = {
    "dashboard": nothing,
    "consultation": via_app("open_consultation", wines_id),
    "registers": via_app("open_registers", wines_id, lambda _: RegisterKind.QUESTION),
    "dce": via_app("open_dce", wines_id),
    "tracking": via_app("open_tracking", wines_id),
    "tracking_all": via_app("open_tracking"),
    "message_detail": via_app("open_message", lambda store: first_id(store, message)),
    "reply": reply_screen,
    "suite": via_app("open_suite_creation", wines_id),
    "merge": via_app("open_merge", wines_id),
    "qa_editor": qa_editor,
    "message_form": lambda pilot, store: form_then(pilot, store),
    "recipient_picker": lambda pilot, store: form_then(pilot, store, "f3"),
    "document_picker": lambda pilot, store: form_then(pilot, store, "f5"),
    "preview": lambda pilot, store: form_then(pilot, store, "f3", "p", "f2"),
    "accounts": via_app("open_accounts"),
}


async def open_screen(pilot: Pilot, store, name: str) -> Screen:
    await settle(pilot)
    start = pilot.app.screen
    await SCREENS[name](pilot, store)
    await wait_until(
        pilot,
        lambda: name == "dashboard" or pilot.app.screen is not start,
        f"the {name} screen",
    )
    await wait_until(pilot, lambda: footer_line(pilot).strip(), "its footer")
    return pilot.app.screen


def screen_lines(pilot: Pilot) -> list[str]:
    strips = pilot.app.screen._compositor.render_strips()
    return [strip.text for strip in strips]


def painted(pilot: Pilot, widget: Widget) -> str:
    """What the screen paints where `widget` is, its lines joined by spaces: the text a
    buyer reads there, whatever the widget holds beyond its region."""
    area = widget.region
    lines = screen_lines(pilot)[area.y : area.bottom]
    return " ".join(" ".join(line[area.x : area.right] for line in lines).split())


def footer_line(pilot: Pilot) -> str:
    """The footer's row, as painted."""
    footers = pilot.app.screen.query(Footer)
    if not footers:
        return ""
    region = footers.first().region
    if not region.height:
        return ""
    return screen_lines(pilot)[region.y][region.x : region.right]


def written(screen: Screen) -> str:
    """Every text the screen holds, scrolled into sight or not: its widgets' contents
    and their frames' titles."""
    parts: list[str] = []
    for widget in screen.query("*"):
        parts += [str(widget.border_title or ""), str(widget.border_subtitle or "")]
        if isinstance(widget, Static):
            parts.append(str(widget.render()))
    return "\n".join(parts)
