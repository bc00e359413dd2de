"""The embedded default: with no relay configured, the TUI keeps e-mails in its own local
mailbox (declared final: D follows E) and serves the recipients' page itself. The whole loop
E → D → L → R, driven as a buyer and a company would: the form in the TUI, the link read from
the e-mail in the mailbox, the page over HTTP, and the tracking table following each step."""

from __future__ import annotations

import asyncio
import os
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import DataTable

from messagerie.letters.mail.mailbox import MailboxHandler
from messagerie.models.store.enums import MessageType, RecipientStatus
from messagerie.screens.message_form import MessageFormScreen
from messagerie.screens.tracking import TrackingScreen
from messagerie.tui.app import MessagerieApp
from messagerie.tui.embedded import free_port
from messagerie.tui.settings import Settings
from tests.helpers.factories import PARIS
from tests.helpers.message_form import deposits_consultation, type_into
from tests.helpers.pilot import fill_body
from tests.helpers.portal import post_reply, reply_form, shown, take_notice

pytestmark = pytest.mark.services  # the embedded mailbox (SMTP) and web page, clamd


async def until(pilot, condition, seconds: float = 15.0, what: str = "") -> None:
    """No settle(): the outbox worker runs as long as the app."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        await pilot.pause(0.1)


def status_of_row(app, email: str) -> str:
    screen = app.screen
    assert isinstance(screen, TrackingScreen)
    for row in screen.rows.values():
        if row.email == email and row.type is MessageType.COMPLEMENT_REQUEST:
            return row.status.label + " " + " ".join(mark for mark, _ in row.badges())
    return ""


async def test_embedded_loop_e_d_l_r_on_one_machine(workspace, tmp_path):
    cid, _ = deposits_consultation(workspace)
    settings = Settings(
        db=workspace.engine.url.render_as_string(hide_password=False),
        data_dir=tmp_path,
        clamd=os.environ.get("MESSAGERIE_TEST_CLAMD", "off"),
        smtp_url=None,
        public_url=None,
        portal_port=free_port(),
    )
    app = MessagerieApp(
        open_store=lambda: workspace, actor="marie.dupont", settings=lambda: settings,
        embedded=True,
    )  # fmt: skip
    async with app.run_test(size=(100, 40)) as pilot:
        local = await asyncio.to_thread(app.settings)
        assert app.embedded is not None and local.smtp_url.endswith("?final=1")
        await asyncio.to_thread(app.embedded.ready.wait, 20)
        assert app.embedded.problem is None

        # The buyer sends a complement request to the dépôts from the form.
        app.push_screen(MessageFormScreen(cid, message_type=MessageType.COMPLEMENT_REQUEST))
        await until(pilot, lambda: isinstance(app.screen, MessageFormScreen) and app.screen.context)
        form = app.screen
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).astimezone(PARIS)
        await type_into(pilot, form, "#reply-deadline", tomorrow.strftime("%d/%m/%Y %H:%M"))
        await fill_body(pilot, "Bonjour,\n\nMerci de nous transmettre votre attestation.")
        company = form.recipients[0].email
        await pilot.press("ctrl+e")
        await until(pilot, lambda: not isinstance(app.screen, MessageFormScreen), what="sent")

        # The tracking table follows: E and D (the local mailbox is final) without a key.
        app.push_screen(TrackingScreen(cid))
        await until(pilot, lambda: status_of_row(app, company) == "Délivré E D", what="E and D")

        # The company reads its e-mail in the local mailbox, opens its link and presses
        # « Prendre connaissance du message »: L.
        mailbox = MailboxHandler(local.mailbox_dir)
        mail = next(m for m in mailbox.messages() if m["X-Envelope-To"] == company
                    and m["Subject"] == "Demande de complément")  # fmt: skip
        text = mail.get_body(("plain",)).get_content()
        link = re.search(r"http://127\.0\.0\.1:\d+/m/[\w-]+", text)[0]
        status, _, body = await asyncio.to_thread(take_notice, link)
        assert status == 200 and "Merci de nous transmettre votre attestation." in shown(body)
        await until(pilot, lambda: status_of_row(app, company) == "Lu E D L", what="L")

        # It replies on the page: R, and "Réponse non lue" for the buyer.
        answer = await asyncio.to_thread(
            post_reply, f"{link}/reponse", reply_form(body.decode()) | {"texte": "Ci-jointe."},
            [("attestation.pdf", b"%PDF-1.4 attestation")],
        )  # fmt: skip
        assert answer[0] == 200
        await until(
            pilot,
            lambda: status_of_row(app, company) == f"{RecipientStatus.REPLY_UNREAD.label} E D L R",
            what="R",
        )
        table = app.screen.query_one(DataTable)
        assert table.row_count >= len(form.recipients)
    assert app.embedded.stoppers == []  # both services stopped with the app
