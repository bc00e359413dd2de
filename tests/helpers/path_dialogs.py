"""The dialogs that ask where to write a file, driven with the Pilot: a path typed over the
one suggested, Entrée, and the dialog as it opens again (the path kept, the problem under
it)."""

from __future__ import annotations

import sqlalchemy as sa
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from messagerie.models.store.enums import SendMode
from messagerie.models.store.tables import Message, Recipient, ReplyAttachment, table_of
from messagerie.screens.dialogs import InputDialog
from tests.helpers.pilot import settle, wait_until

message, recipient = table_of(Message), table_of(Recipient)
reply_attachment = table_of(ReplyAttachment)


def opened_with_ar(store) -> sa.Row:  # type: ignore[no-untyped-def]
    """A recipient of the demo who opened a message sent "avec AR" (it has an AR): its id
    and its consultation's."""
    opened = sa.and_(message.c.send_mode == SendMode.WITH_AR, recipient.c.read_at.is_not(None))
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(recipient.c.id, message.c.consultation_id)
            .select_from(recipient.join(message))
            .where(opened)
            .order_by(recipient.c.id)
            .limit(1)
        ).one()


def reply_with_files(store) -> int:  # type: ignore[no-untyped-def]
    with store.engine.connect() as connection:
        found = connection.execute(sa.select(sa.func.min(reply_attachment.c.reply_id))).scalar()
    assert found is not None, "the demo should have a reply with files"
    return found


async def tracking_on_an_ar(pilot: Pilot, store) -> None:  # type: ignore[no-untyped-def]
    """« Suivi des messages » of a consultation, the cursor on a recipient who has an AR:
    x exports the table, p writes that AR."""
    opened = opened_with_ar(store)
    await settle(pilot)
    pilot.app.open_tracking(opened.consultation_id)  # type: ignore[attr-defined]
    for _ in range(2):  # the screen, then its rows
        await settle(pilot)
    table = pilot.app.screen.query_one(DataTable)
    table.move_cursor(row=table.get_row_index(str(opened.id)))
    await settle(pilot)


async def submit_path(pilot: Pilot, key: str, path: object) -> None:
    """`key` opens the path dialog; `path` typed over the one it suggests; Entrée."""
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, InputDialog), "the dialog")
    pilot.app.screen.query_one(Input).value = str(path)
    await pilot.press("enter")
    await settle(pilot)


def problem_shown(pilot: Pilot) -> bool:
    return isinstance(pilot.app.screen, InputDialog) and bool(pilot.app.screen.query(".problem"))


async def asked_again(pilot: Pilot) -> tuple[str, str]:
    """The dialog opened again (after a write in a worker, too), the app still running: the
    path it holds and the problem under it."""
    await wait_until(pilot, lambda: problem_shown(pilot), "the dialog asking again")
    assert pilot.app.is_running and pilot.app.return_code is None
    dialog = pilot.app.screen
    return dialog.query_one(Input).value, str(dialog.query_one(".problem", Static).render())
