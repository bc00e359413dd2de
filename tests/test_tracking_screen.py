"""'Suivi des messages' driven with the Pilot on a private copy of the demo: filters narrow and
clear, replies sit under their message and turn read, la loupe, Renvoyer, the CSV export,
the AR from the table, and a row that changes when another connection records an event."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from textual.widgets import DataTable, Input, Select

from messagerie.letters.pdf.anchor import write_anchor
from messagerie.models.clock import utc_now
from messagerie.models.formatting import paris_minutes
from messagerie.models.messages.detail import resend
from messagerie.models.messages.inbound import IncomingReply, find_recipient, record_inbound
from messagerie.models.messages.outbox import claim, record_accepted
from messagerie.models.messages.portal import record_opening
from messagerie.models.messages.tracking import PAGE
from messagerie.models.store.database import open_store
from messagerie.models.store.enums import (
    DeliveryState,
    MessageType,
    RecipientStatus,
    ReplyChannel,
)
from messagerie.models.store.tables import Consultation, Message, Recipient, table_of
from messagerie.screens.dialogs import InputDialog
from messagerie.screens.message_detail import MessageDetailScreen, ReplyScreen
from messagerie.screens.tracking import TrackingScreen
from messagerie.tui.app import MessagerieApp
from messagerie.tui.settings import Settings
from tests.helpers.hostile import toasts
from tests.helpers.pdfs import pdf_text
from tests.helpers.pilot import settle, text_of, wait_until
from tests.helpers.screens import painted

recipient, message = table_of(Recipient), table_of(Message)
consultation = table_of(Consultation)


def consultation_with(store, *statuses: RecipientStatus, at_least: int = 1) -> int:
    """A consultation of the demo whose recipients include every one of `statuses`, with
    `at_least` recipients in those (the smallest such: the demo differs from day to day)."""
    query = (
        sa.select(message.c.consultation_id)
        .join(recipient)
        .where(recipient.c.status.in_(statuses))
        .group_by(message.c.consultation_id)
        .having(
            sa.func.count(sa.distinct(recipient.c.status)) == len(statuses),
            sa.func.count() >= at_least,
        )
        .order_by(sa.func.count())
        .limit(1)
    )
    with store.engine.connect() as connection:
        found = connection.execute(query).scalar_one_or_none()
    assert found is not None, "the demo should have such a consultation"
    return found


async def open_tracking(pilot, consultation_id: int | None) -> TrackingScreen:
    await settle(pilot)
    pilot.app.push_screen(TrackingScreen(consultation_id))
    await settle(pilot)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TrackingScreen)
    return screen


def keys_of(screen: TrackingScreen) -> list[str]:
    table = screen.query_one(DataTable)
    return [row.key.value for row in table.ordered_rows]


async def move_to(pilot, screen: TrackingScreen, key: str) -> None:
    table = screen.query_one(DataTable)
    table.move_cursor(row=table.get_row_index(key))
    await settle(pilot)


async def first_at(pilot, screen: TrackingScreen, status: RecipientStatus):  # type: ignore[no-untyped-def]
    """The cursor on the first row at `status`; that row."""
    row = next(r for r in screen.rows.values() if r.status is status)
    await move_to(pilot, screen, str(row.recipient_id))
    return row


async def loupe_at(pilot, screen: TrackingScreen, status: RecipientStatus):  # type: ignore[no-untyped-def]
    """La loupe on the first row at `status`; that row."""
    row = await first_at(pilot, screen, status)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, MessageDetailScreen)
    return row


async def filter_status(pilot, screen: TrackingScreen, status: RecipientStatus) -> None:
    """The filters opened, the status chosen, and its rows read and counted."""
    await pilot.press("f")
    screen.query_one("#filter-status", Select).value = status
    await wait_until(
        pilot,
        lambda: screen.query_.status is status and screen.count and screen.rows,
        "the rows of the status",
    )


async def answer_dialog(pilot, text: str) -> None:
    dialog = pilot.app.screen
    assert isinstance(dialog, InputDialog)
    field = dialog.query_one(Input)
    field.value = text
    await pilot.press("enter")
    await settle(pilot)


async def test_filters_narrow_combine_and_clear(workspace, workspace_app):
    cid = consultation_with(workspace, RecipientStatus.READ, RecipientStatus.NOT_DELIVERED)
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        screen = await open_tracking(pilot, cid)
        everything = screen.count
        assert f"{everything} ligne(s)" in text_of(pilot, "#filter-line")

        await pilot.press("f")
        status = screen.query_one("#filter-status", Select)
        status.value = RecipientStatus.NOT_DELIVERED
        await settle(pilot)
        assert 0 < screen.count < everything
        assert {r.status for r in screen.rows.values()} == {RecipientStatus.NOT_DELIVERED}
        assert f"{screen.count} ligne(s) filtrée(s)" in text_of(pilot, "#filter-line")

        company = next(iter(screen.rows.values())).email.split("@")[0]
        screen.query_one("#filter-company", Input).value = company
        await wait_until(
            pilot,
            lambda: screen.rows and all(company in r.email for r in screen.rows.values()),
            "the rows of that company only",
        )

        screen.query_one("#filter-from", Input).value = "31/02/2026"
        problem = "« 31/02/2026 » : février 2026 compte 28 jours ; vérifiez le jour (31)."
        await wait_until(pilot, lambda: problem in text_of(pilot, "#filter-line"), problem)
        assert screen.query_one("#filter-from", Input).value == "31/02/2026"  # kept
        # Year 1 at midnight in Paris is before year 1 in UTC: the query once crashed on it.
        screen.query_one("#filter-from", Input).value = "01/01/0001"
        problem = "l'année 0001 est hors de la période possible (2000 à 2099)"
        await wait_until(pilot, lambda: problem in text_of(pilot, "#filter-line"), problem)

        screen.query_one(DataTable).focus()
        await pilot.press("e")
        await wait_until(
            pilot,
            lambda: screen.count == everything and not screen.query_.filtered(),
            "every row back",
        )
        assert f"{everything} ligne(s) ·" in text_of(pilot, "#filter-line")


async def test_a_reply_sits_under_its_message_and_turns_read_when_opened(workspace, workspace_app):
    cid = consultation_with(workspace, RecipientStatus.REPLY_UNREAD)
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        screen = await open_tracking(pilot, cid)
        unread = next(r for r in screen.rows.values() if r.status is RecipientStatus.REPLY_UNREAD)
        (reply, *_) = screen.replies[unread.recipient_id]
        keys = keys_of(screen)
        assert keys[keys.index(str(unread.recipient_id)) + 1] == f"reply-{reply.id}"

        await move_to(pilot, screen, f"reply-{reply.id}")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ReplyScreen)
        assert reply.body.strip()[:30] in text_of(pilot, "#reply-text")
        await pilot.press("escape")
        await wait_until(  # the table follows the change by itself (polled every second)
            pilot, lambda: screen.replies[unread.recipient_id][0].read, "the reply read"
        )
        if len(screen.replies[unread.recipient_id]) == 1:
            assert screen.rows[unread.recipient_id].status is RecipientStatus.REPLY_READ
        assert screen.replies[unread.recipient_id][0].read


async def test_a_reply_e_mailed_from_another_address_says_so(workspace, workspace_app):
    """The reply address is in every copy of the thread: anyone who holds one can answer as
    the company. The reply is kept, and its screen and la loupe name the other address."""
    cid = consultation_with(workspace, RecipientStatus.REPLY_UNREAD)
    with workspace.engine.connect() as connection:
        email, token = connection.execute(
            sa.select(recipient.c.email, recipient.c.reply_token)
            .join(message)
            .where(message.c.consultation_id == cid, recipient.c.reply_token.is_not(None))
            .order_by(recipient.c.id)
            .limit(1)
        ).one()
    target = find_recipient(workspace, reply_token=token)
    forged = IncomingReply(
        target, "Nous retirons notre offre.", (), sender="intrus@concurrent.example"
    )
    record_inbound(workspace, [forged], channel=ReplyChannel.EMAIL)
    warning = (
        "Attention : envoyée depuis intrus@concurrent.example, une autre adresse que celle du "
        "destinataire."
    )
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        screen = await open_tracking(pilot, cid)
        (reply,) = [r for r in screen.replies[target.id] if "retirons" in r.body]
        await move_to(pilot, screen, f"reply-{reply.id}")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ReplyScreen)
        assert warning in " ".join(text_of(pilot, "#reply-text").split())
        assert email in text_of(pilot, "#reply-text")


async def test_a_reply_read_leaves_the_rows_filtered_on_reponse_non_lue(workspace, workspace_app):
    cid = consultation_with(workspace, RecipientStatus.REPLY_UNREAD)
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        screen = await open_tracking(pilot, cid)
        await filter_status(pilot, screen, RecipientStatus.REPLY_UNREAD)
        before = screen.count
        assert {r.status for r in screen.rows.values()} == {RecipientStatus.REPLY_UNREAD}
        unread = next(
            r for r in screen.rows.values() if len(screen.replies.get(r.recipient_id, ())) == 1
        )
        (reply,) = screen.replies[unread.recipient_id]
        screen.query_one(DataTable).focus()
        await move_to(pilot, screen, f"reply-{reply.id}")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ReplyScreen)
        await pilot.press("escape")
        await wait_until(
            pilot, lambda: unread.recipient_id not in screen.rows, "the read reply's row gone"
        )
        assert f"reply-{reply.id}" not in keys_of(screen)
        assert screen.count == before - 1
        await wait_until(
            pilot,
            lambda: f"{before - 1} ligne(s) filtrée(s)" in text_of(pilot, "#filter-line"),
            "the count",
        )


async def test_filters_matching_nothing_say_so_not_that_the_tracking_is_empty(
    workspace, workspace_app
):
    cid = consultation_with(workspace, RecipientStatus.READ)
    async with workspace_app.run_test(size=(80, 24)) as pilot:
        screen = await open_tracking(pilot, cid)
        await pilot.press("f")
        screen.query_one("#filter-company", Input).value = "personne-de-ce-nom"
        said = "Aucun message ne correspond aux filtres (e : les effacer)."
        await wait_until(pilot, lambda: said in text_of(pilot, "#summary"), said)
        assert not screen.rows
        screen.query_one(DataTable).focus()
        await pilot.press("p", "n")  # keys of the footer: each says why it does nothing
        await settle(pilot)
        told = [n.title for n in pilot.app._notifications if "Aucune ligne" in n.message]
        assert told == ["Télécharger l'AR (PDF)", "Renvoyer"]


async def test_a_database_busy_beyond_its_wait_is_told_and_the_app_goes_on(
    workspace, workspace_app
):
    """Another process holds SQLite's write lock past the 5 s wait (busy_timeout): opening a
    reply, which marks it read, is told « base occupée », and the app stays open."""
    cid = consultation_with(workspace, RecipientStatus.REPLY_UNREAD)
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        screen = await open_tracking(pilot, cid)
        unread = next(r for r in screen.rows.values() if r.status is RecipientStatus.REPLY_UNREAD)
        (reply, *_) = screen.replies[unread.recipient_id]
        await move_to(pilot, screen, f"reply-{reply.id}")
        other = sqlite3.connect(workspace.engine.url.database, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # the write lock, as another buyer's long write
            await pilot.press("enter")
            await wait_until(pilot, lambda: notices(pilot), "a notice", 20)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert pilot.app.is_running and pilot.app.return_code is None
        (notice,) = notices(pilot)
        assert notice.startswith("La base de données est occupée") and "réessayez" in notice
        await pilot.press("escape")  # the buyer tries again, the lock gone: the reply opens
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ReplyScreen)


def notices(pilot) -> list[str]:
    return [notification.message for notification in pilot.app._notifications]


async def test_la_loupe_shows_content_files_and_every_event(workspace, workspace_app):
    cid = consultation_with(workspace, RecipientStatus.NOT_DELIVERED)
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        screen = await open_tracking(pilot, cid)
        failed = await loupe_at(pilot, screen, RecipientStatus.NOT_DELIVERED)
        shown = text_of(pilot, "#detail-text")
        assert failed.subject in shown and "Contenu du message" in shown
        assert failed.email in shown and "Non délivré" in shown
        assert "Consultation concernée" in shown
        assert "Dérogations" in shown


async def test_la_loupe_says_the_reply_deadline_as_the_e_mail_does(workspace, workspace_app):
    other, its_message = recipient.alias("other"), message.alias("its_message")
    newer = (  # copies of the same consultation listed before it
        sa.select(sa.func.count())
        .select_from(other.join(its_message, other.c.message_id == its_message.c.id))
        .where(
            its_message.c.consultation_id == message.c.consultation_id,
            other.c.id > recipient.c.id,
        )
        .scalar_subquery()
    )
    with workspace.engine.connect() as connection:
        found = connection.execute(  # a copy of a message awaiting a reply, on the first page
            sa.select(recipient.c.id, message.c.consultation_id, message.c.reply_deadline)
            .join(message)
            .where(message.c.reply_allowed, message.c.reply_deadline.is_not(None), newer < 50)
            .limit(1)
        ).first()
    assert found is not None, "the demo should have a message awaiting a reply"
    copy, cid, deadline = found
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        screen = await open_tracking(pilot, cid)
        await move_to(pilot, screen, str(copy))
        await pilot.press("enter")
        await settle(pilot)
        said = f"Réponse attendue jusqu'au {paris_minutes(deadline)}"
        assert said in text_of(pilot, "#detail-text")


async def test_resend_to_a_corrected_address_keeps_the_failure(workspace, workspace_app):
    cid = consultation_with(workspace, RecipientStatus.NOT_DELIVERED)
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        screen = await open_tracking(pilot, cid)
        failed = await first_at(pilot, screen, RecipientStatus.NOT_DELIVERED)
        await pilot.press("n")
        await settle(pilot)
        await answer_dialog(pilot, "pas-une-adresse")
        dialog = pilot.app.screen  # asked again, with what was typed and what to fix
        assert isinstance(dialog, InputDialog)
        assert dialog.query_one(Input).value == "pas-une-adresse"
        assert "n'est pas une adresse e-mail valide" in str(dialog.query_one(".problem").render())
        await answer_dialog(pilot, "contact@corrigee.example")
        await wait_until(
            pilot, lambda: not isinstance(pilot.app.screen, InputDialog), "the dialog closed"
        )
        await settle(pilot)
    with workspace.engine.connect() as connection:
        rows = connection.execute(
            sa.select(recipient.c.email, recipient.c.status, recipient.c.delivery_state,
                      recipient.c.resent_from_id)
            .where(recipient.c.message_id == failed.message_id)
        ).all()  # fmt: skip
    by_email = {row.email: row for row in rows}
    assert by_email[failed.email].status == RecipientStatus.NOT_DELIVERED  # the failure kept
    new = by_email["contact@corrigee.example"]
    assert (new.status, new.delivery_state, new.resent_from_id) == (
        RecipientStatus.PENDING,
        DeliveryState.QUEUED,
        failed.recipient_id,
    )
    assert "pas-une-adresse" not in by_email


async def test_csv_export_holds_the_filtered_rows(workspace, workspace_app, tmp_path):
    cid = consultation_with(workspace, RecipientStatus.READ)
    target = tmp_path / "suivi.csv"
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        screen = await open_tracking(pilot, cid)
        await pilot.press("f")
        screen.query_one("#filter-status", Select).value = RecipientStatus.READ
        await settle(pilot)
        expected = screen.count
        screen.query_one(DataTable).focus()
        await pilot.press("x")
        await settle(pilot)
        await answer_dialog(pilot, str(tmp_path / "absent" / "suivi.csv"))
        assert "n'existe pas" in str(pilot.app.screen.query_one(".problem").render())
        await answer_dialog(pilot, str(target))
        await wait_until(pilot, target.exists, "the CSV file written")  # written whole, renamed
        await settle(pilot)
    with target.open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle, delimiter=";"))
    assert header[:6] == ["Référence", "Type de message", "Objet", "Destinataire", "Entreprise",
                          "Statut"]  # fmt: skip
    assert len(rows) == expected and {row[5] for row in rows} == {"Lu"}
    assert all(row[9] for row in rows)  # the L column has a date and time


async def test_ar_from_the_table_and_its_refusal_before_any_opening(
    workspace, workspace_app, tmp_path
):
    cid = consultation_with(workspace, RecipientStatus.READ, RecipientStatus.SENT)
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        screen = await open_tracking(pilot, cid)
        read = next(r for r in screen.rows.values() if r.status is RecipientStatus.READ)
        unopened = next(r for r in screen.rows.values() if r.status is RecipientStatus.SENT)
        await move_to(pilot, screen, str(unopened.recipient_id))
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(pilot.app.screen, TrackingScreen)  # refused: nothing to prove yet
        await move_to(pilot, screen, str(read.recipient_id))
        await pilot.press("p")
        await settle(pilot)
        await answer_dialog(pilot, str(tmp_path / "ar.pdf"))
        for _ in range(100):  # weasyprint renders in a worker thread
            if (tmp_path / "ar.pdf").exists():
                break
            await pilot.pause(0.1)
    text = "".join(page.extract_text() for page in PdfReader(tmp_path / "ar.pdf").pages)
    assert "Accusé de réception" in text and read.reference in text


async def test_a_row_follows_an_event_recorded_by_another_connection(workspace, workspace_app):
    cid = consultation_with(workspace, RecipientStatus.DELIVERED)
    other = open_store(workspace.engine.url.render_as_string(hide_password=False))
    try:
        async with workspace_app.run_test(size=(100, 36)) as pilot:
            screen = await open_tracking(pilot, cid)
            delivered = next(
                r for r in screen.rows.values() if r.status is RecipientStatus.DELIVERED
            )
            record_opening(
                other, delivered.recipient_id, client_address="198.51.100.4", user_agent="Test"
            )
            started = time.monotonic()
            while screen.rows[delivered.recipient_id].status is not RecipientStatus.READ:
                assert time.monotonic() - started < 2.5, "the row did not follow within 2 s"
                await pilot.pause(0.1)
            table = screen.query_one(DataTable)
            cell = table.get_cell(str(delivered.recipient_id), "status")
            assert str(cell).startswith("Lu") and "\nL " in str(cell)
    finally:
        other.close()


@pytest.mark.parametrize("kind", [MessageType.REJECTION])
async def test_the_view_across_consultations_mixes_references(workspace, workspace_app, kind):
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        screen = await open_tracking(pilot, None)
        await pilot.press("f")
        screen.query_one("#filter-type", Select).value = kind
        await settle(pilot)
        assert len({r.reference for r in screen.rows.values()}) > 1
        assert {r.type for r in screen.rows.values()} == {kind}
        assert screen.query_one("#filter-lot", Select).disabled


async def test_leaving_at_once_while_the_store_answers_never_crashes(workspace, workspace_app):
    """Échap pressed before the page, the count and the summary have come back: their answers
    must find no screen to update, not crash the app (seen with 100,000 rows)."""
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        await settle(pilot)
        for _ in range(6):
            pilot.app.push_screen(TrackingScreen(None))
            await pilot.pause(0.01)
            await pilot.press("escape")
        await settle(pilot)  # every late answer has come back
        assert not isinstance(pilot.app.screen, TrackingScreen)
    assert workspace_app.return_code in (None, 0)


# --- Keys, filters and what each row says ------------------------------------------------------


async def test_escape_empties_the_filter_then_closes_the_filters_then_leaves(
    workspace, workspace_app
):
    cid = consultation_with(workspace, RecipientStatus.READ, RecipientStatus.NOT_DELIVERED)
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        screen = await open_tracking(pilot, cid)
        everything = screen.count
        await pilot.press("f")
        screen.query_one("#filter-status", Select).value = RecipientStatus.READ
        await settle(pilot)
        read = screen.count
        company = screen.query_one("#filter-company", Input)
        company.focus()
        await pilot.press(*"zzz-aucune-entreprise")
        await wait_until(pilot, lambda: screen.count == 0, "no row for that company")

        await pilot.press("escape")  # the field emptied: its filter goes, the others stay
        assert pilot.app.screen is screen and company.value == ""
        await wait_until(pilot, lambda: screen.count == read, "the read rows back")
        assert screen.query_one("#filters").display

        await pilot.press("escape")  # the filters closed, still applied
        assert pilot.app.screen is screen and not screen.query_one("#filters").display
        assert pilot.app.focused is screen.query_one(DataTable)
        assert screen.query_.status is RecipientStatus.READ and read < everything

        await pilot.press("escape")  # then back
        await settle(pilot)
        assert pilot.app.screen is not screen


async def test_home_and_end_move_the_row_cursor(workspace, workspace_app):
    cid = consultation_with(
        workspace, RecipientStatus.READ, RecipientStatus.NOT_DELIVERED, at_least=4
    )
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        screen = await open_tracking(pilot, cid)
        table = screen.query_one(DataTable)
        last = keys_of(screen)[-1]
        assert screen.complete and table.row_count > 3  # every row is loaded
        await pilot.press("end")
        await settle(pilot)
        assert screen.cursor_key() == last
        assert str(screen.current.recipient_id) in (last, keys_of(screen)[-2])
        await pilot.press("home")
        await settle(pilot)
        assert table.cursor_row == 0 and screen.cursor_key() == keys_of(screen)[0]


async def test_a_from_day_after_the_to_day_is_named_not_an_empty_table(workspace, workspace_app):
    cid = consultation_with(workspace, RecipientStatus.READ)
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        screen = await open_tracking(pilot, cid)
        everything = screen.count
        await pilot.press("f")
        screen.query_one("#filter-from", Input).value = "10/02/2026"
        screen.query_one("#filter-to", Input).value = "01/02/2026"
        problem = "La date « Du » (10/02/2026) est postérieure à la date « Au » (01/02/2026)"
        await wait_until(pilot, lambda: problem in text_of(pilot, "#filter-line"), problem)
        await settle(pilot)
        assert screen.count == everything and len(screen.rows) > 0  # not "0 ligne(s)"


async def test_a_filter_problem_is_read_whole_at_80x24(workspace, workspace_app):
    """The filter line was one line: at 80 columns « … est postérieure à la date « Au » (0 »
    and the rows still shown by the previous filters went unexplained."""
    cid = consultation_with(workspace, RecipientStatus.READ)
    async with workspace_app.run_test(size=(80, 24)) as pilot:
        screen = await open_tracking(pilot, cid)
        await pilot.press("f")
        screen.query_one("#filter-from", Input).value = "10/02/2026"
        screen.query_one("#filter-to", Input).value = "01/02/2026"
        line = screen.query_one("#filter-line")
        whole = (
            "La date « Du » (10/02/2026) est postérieure à la date « Au » (01/02/2026) : aucun "
            "message ne peut correspondre. Les lignes suivent encore les filtres précédents."
        )
        await wait_until(pilot, lambda: whole in painted(pilot, line), whole)


async def test_the_view_across_consultations_has_a_reference_column(workspace, workspace_app):
    async with workspace_app.run_test(size=(120, 40)) as pilot:
        screen = await open_tracking(pilot, None)
        table = screen.query_one(DataTable)
        assert str(next(iter(table.columns.values())).label) == "Référence"
        rows = [key for key in keys_of(screen)[:10] if not key.startswith("reply-")]
        references = {str(table.get_cell(key, "reference")) for key in rows}
        assert references == {screen.rows[int(key)].reference for key in rows}
        await pilot.press("escape")  # one consultation's tracking: its reference is above
        screen = await open_tracking(pilot, consultation_with(workspace, RecipientStatus.READ))
        assert "reference" not in screen.query_one(DataTable).columns


async def test_the_summary_spells_out_the_recipients(workspace, workspace_app):
    cid = consultation_with(workspace, RecipientStatus.READ, RecipientStatus.NOT_DELIVERED)
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        await open_tracking(pilot, cid)
        await wait_until(
            pilot, lambda: "Message sélectionné" in text_of(pilot, "#summary"), "the summary"
        )
        summary = text_of(pilot, "#summary")
        assert "dest. " not in summary
        assert re.search(r"Message sélectionné : \d+ destinataires? · \d+ E · ", summary)


async def test_la_loupe_names_each_recipient_by_the_number_ar_asks_for(workspace, workspace_app):
    cid = consultation_with(workspace, RecipientStatus.READ)
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        screen = await open_tracking(pilot, cid)
        read = await loupe_at(pilot, screen, RecipientStatus.READ)
        assert f"n° {read.recipient_id} {read.email}" in text_of(pilot, "#detail-text")


async def test_a_resent_row_shows_its_events_in_time_order(workspace, workspace_app):
    cid = consultation_with(workspace, RecipientStatus.NOT_DELIVERED)
    with workspace.engine.connect() as connection:
        failed = connection.execute(
            sa.select(recipient.c.id)
            .join(message)
            .where(
                message.c.consultation_id == cid,
                recipient.c.status == RecipientStatus.NOT_DELIVERED,
            )
            .limit(1)
        ).scalar_one()
    resend(workspace, failed, actor="marie.dupont")  # the same address, sent again
    claimed = {one.id for batch in claim(workspace, limit=100_000) for one in batch.recipients}
    assert failed in claimed
    record_accepted(workspace, failed, answer="250 OK", final_mailbox=True)
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        screen = await open_tracking(pilot, cid)
        assert screen.rows[failed].status is RecipientStatus.DELIVERED
        cell = str(screen.query_one(DataTable).get_cell(str(failed), "status"))
        times = re.findall(r"(\d\d)/(\d\d)/(\d{4}) - (\d\d:\d\d:\d\d)", cell)
        assert len(times) == 3 and cell.index("Non délivré") < cell.index("\nE ")
        assert times == sorted(times, key=lambda t: (t[2], t[1], t[0], t[3]))


async def test_times_of_the_hour_paris_lives_twice_say_which_whole_at_80x24(
    workspace, workspace_app
):
    cid = consultation_with(workspace, RecipientStatus.READ)
    summer = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 in Paris, the first time
    winter = summer + timedelta(hours=1)  # 02:30 in Paris again, an hour later
    with workspace.engine.begin() as connection:
        read, message_id = connection.execute(
            sa.select(recipient.c.id, recipient.c.message_id)
            .join(message)
            .where(message.c.consultation_id == cid, recipient.c.status == RecipientStatus.READ)
            .limit(1)
        ).one()
        connection.execute(
            sa.update(recipient)
            .where(recipient.c.id == read)
            .values(sent_at=summer, delivered_at=summer + timedelta(seconds=4), read_at=winter)
        )
        connection.execute(
            sa.update(message).where(message.c.id == message_id).values(reply_deadline=winter)
        )
    async with workspace_app.run_test(size=(80, 24)) as pilot:
        screen = await open_tracking(pilot, cid)
        await move_to(pilot, screen, str(read))
        table = screen.query_one(DataTable)
        shown = painted(pilot, table)
        assert "E 25/10/2026 - 02:30:00 (heure d'été) D 25/10/2026 - 02:30:04 (heure d'été)" in (
            " ".join(str(table.get_cell(str(read), "status")).split())
        )
        assert shown.count("(heure d'été)") == 2 and shown.count("(heure d'hiver)") == 1
        deadline = str(table.get_cell(str(read), "deadline")).splitlines()
        assert deadline == ["25/10/2026", "02:30", "(heure", "d'hiver)"]
        assert all(len(line) <= table.columns["deadline"].width for line in deadline)


async def test_ar_from_la_loupe_and_its_refusal_before_any_opening(
    workspace, workspace_app, tmp_path
):
    cid = consultation_with(workspace, RecipientStatus.READ, RecipientStatus.SENT)
    async with workspace_app.run_test(size=(100, 36), notifications=True) as pilot:
        screen = await open_tracking(pilot, cid)
        unopened = await loupe_at(pilot, screen, RecipientStatus.SENT)
        loupe = pilot.app.screen
        await pilot.press("p")
        await settle(pilot)
        assert pilot.app.screen is loupe  # refused: nothing to prove yet, nothing asked
        assert unopened.status is RecipientStatus.SENT
        assert any("accusé de réception" in toast for toast in toasts(pilot))
        await pilot.press("escape")
        await settle(pilot)

        read = await loupe_at(pilot, screen, RecipientStatus.READ)
        await pilot.press("p")
        await settle(pilot)
        await answer_dialog(pilot, str(tmp_path / "ar.pdf"))
        await wait_until(pilot, (tmp_path / "ar.pdf").exists, "the AR written", seconds=30)
        await settle(pilot)
    text = "".join(page.extract_text() for page in PdfReader(tmp_path / "ar.pdf").pages)
    assert "Accusé de réception" in text and read.email in text


async def test_the_ar_from_the_table_names_the_platform_s_last_anchor(workspace, tmp_path):
    """With an anchor of the platform in its folder that holds the recipient's history, the
    AR the buyer downloads says the history is the one that anchor froze."""
    settings = Settings(data_dir=tmp_path / "donnees")
    app = MessagerieApp(
        open_store=lambda: workspace, actor="marie.dupont", settings=lambda: settings
    )
    signer = app.platform_signer()
    written = write_anchor(workspace, settings.anchors_folder, signer, actor="m", now=utc_now())
    cid = consultation_with(workspace, RecipientStatus.READ)
    async with app.run_test(size=(100, 36), notifications=True) as pilot:
        screen = await open_tracking(pilot, cid)
        read = await first_at(pilot, screen, RecipientStatus.READ)
        await pilot.press("p")
        asked = lambda: isinstance(pilot.app.screen, InputDialog)  # noqa: E731
        await wait_until(pilot, asked, f"the path asked, not {toasts(pilot)}", seconds=30)
        await answer_dialog(pilot, str(tmp_path / "ar.pdf"))
        await wait_until(pilot, (tmp_path / "ar.pdf").exists, "the AR written", seconds=30)
        await settle(pilot)
    text = pdf_text((tmp_path / "ar.pdf").read_bytes())
    assert read.email in text
    assert "tel que l'a figé l'ancrage signé de la plateforme" in text
    head = json.loads(written.path.read_text())["heads"][str(read.recipient_id)]
    assert head in text


async def test_a_change_among_more_than_a_page_of_changes_is_still_shown(workspace, workspace_app):
    """A send to hundreds touches hundreds of rows between two polls: the one read before
    them, older than the newest page of changes, still shows."""
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        screen = await open_tracking(pilot, None)  # every consultation: thousands of rows
        target = next(r for r in screen.rows.values() if r.status is RecipientStatus.DELIVERED)
        record_opening(
            workspace, target.recipient_id, client_address="198.51.100.4", user_agent="T"
        )
        with workspace.engine.begin() as connection:
            others = connection.execute(
                sa.select(recipient.c.id)
                .where(recipient.c.id != target.recipient_id)
                .limit(PAGE + 50)
            ).scalars()
            connection.execute(  # as the outbox's claims and answers touch them
                sa.update(recipient)
                .where(recipient.c.id.in_(list(others)))
                .values(updated_at=utc_now() + timedelta(seconds=1))
            )
        await wait_until(
            pilot,
            lambda: screen.rows[target.recipient_id].status is RecipientStatus.READ,
            "the row opened before the burst",
        )


async def test_a_row_coming_into_the_status_filtered_on_is_added(workspace, workspace_app):
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        screen = await open_tracking(pilot, None)
        await filter_status(pilot, screen, RecipientStatus.READ)
        before = screen.count
        with workspace.engine.connect() as connection:
            delivered = connection.execute(  # among the rows loaded, older than the newest
                sa.select(recipient.c.id)
                .where(
                    recipient.c.status == RecipientStatus.DELIVERED,
                    recipient.c.id.between(min(screen.rows), max(screen.rows)),
                )
                .order_by(recipient.c.id.desc())
                .limit(1)
            ).scalar_one()
        record_opening(workspace, delivered, client_address="198.51.100.4", user_agent="T")
        await wait_until(pilot, lambda: delivered in screen.rows, "the row now read")
        assert screen.count == before + 1
        assert str(delivered) in keys_of(screen)


async def test_a_reply_that_gives_no_r_still_shows_under_its_row(workspace, workspace_app):
    cid = consultation_with(workspace, RecipientStatus.DELIVERED)
    async with workspace_app.run_test(size=(100, 36)) as pilot:
        screen = await open_tracking(pilot, cid)
        with workspace.engine.connect() as connection:
            token = connection.execute(
                sa.select(recipient.c.reply_token).where(
                    recipient.c.id.in_(list(screen.rows)),
                    recipient.c.status == RecipientStatus.DELIVERED,
                    recipient.c.reply_token.is_not(None),
                )
            ).first()[0]
        target = find_recipient(workspace, reply_token=token)
        out_of_office = IncomingReply(target, "Je suis absent jusqu'au 4 janvier.", (), True)
        record_inbound(workspace, [out_of_office], channel=ReplyChannel.EMAIL)
        await wait_until(pilot, lambda: screen.replies.get(target.id), "the automatic reply")
        (line,) = screen.replies[target.id]
        assert str(line.disposition.label) == "Réponse automatique"
        assert f"reply-{line.id}" in keys_of(screen)
        assert screen.rows[target.id].status is RecipientStatus.DELIVERED  # no R
