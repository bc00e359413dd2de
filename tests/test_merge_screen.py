""" "Rejets en nombre": one analysis file gives a personalised rejection message and letter
for every non-retained bidder, all queued together — or, for a bad row, none."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine
from textual.widgets import DataTable, Input

from messagerie.letters.pdf.merge import plan_rejections, queue_rejections
from messagerie.models.errors import Refusal
from messagerie.models.messages.form import load_context
from messagerie.models.messages.merge import AnalysisRow, read_analysis, rows_by_lot
from messagerie.models.store.enums import MessageState, MessageType, Right
from messagerie.models.store.tables import Attachment, Document, Message, Recipient, table_of
from messagerie.screens.dialogs import TextDialog
from messagerie.screens.merge import MergeScreen
from tests.conftest import DEMO_NOW
from tests.helpers.accounts import DEMO_READER, MULHOUSE, work_for_every_entity
from tests.helpers.factories import paris
from tests.helpers.hostile import on_screen
from tests.helpers.merge import bidders_for, run_merge
from tests.helpers.message_form import deposits_consultation
from tests.helpers.pilot import quiet_cursor, settle, wait_until

# Mulhouse's buyer, who may decide (the store tests' accounts, tests.helpers.scoping).
ACCOUNTS = {"hugo.meyer": (MULHOUSE, {Right.CONSULT, Right.SEND, Right.DECIDE})}
pytest_plugins = ["tests.helpers.scoping", "tests.helpers.merge"]  # towns, accounts, fixed_demo
NOW = paris(2026, 11, 27, 10)  # the scoping towns' day: their deadline is to come

message, recipient, attachment = table_of(Message), table_of(Recipient), table_of(Attachment)
document = table_of(Document)


def analysis(store, cid, *, unknown: bool = False, lot: str | None = None) -> str:
    """entreprise;lot;note;rang;motifs for the consultation's bidders of `lot` (by default
    its first lot, or none when it has none: which it has depends on the day the demo is
    built for), four at most, the first retained."""
    context = load_context(store, cid)
    if lot is None:
        lot = str(context.detail.lots[0][0]) if context.detail.lots else ""
    first = context.detail.lots[0][0] if context.detail.lots else 0
    companies = sorted(bidders_for(store, cid, first))[:4]
    lines = ["entreprise;lot;note;rang;motifs"]
    for rank, company in enumerate(companies, start=1):
        why = "Meilleur rapport qualité-prix" if rank == 1 else f"Prix plus élevé ({rank}e)"
        lines.append(f"{company};{lot};{20 - rank},5;{rank};{why}")
    if unknown:
        lines.append(f"Entreprise Fantôme;{lot};9,0;9;Hors délai")
    return "\n".join(lines) + "\n"


def rejections(store, cid) -> list:
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(message.c.id, recipient.c.email, attachment.c.document_id)
            .join(recipient, recipient.c.message_id == message.c.id)
            .outerjoin(attachment, attachment.c.recipient_id == recipient.c.id)
            .where(
                message.c.consultation_id == cid,
                message.c.type == MessageType.REJECTION,
                message.c.state == MessageState.QUEUED,
                message.c.mentions["reasons"].as_string().like("Prix plus élevé%"),
            )
        ).all()


def test_plan_finds_each_bidder_in_the_deposits(workspace):
    cid, _ = deposits_consultation(workspace)
    (rows,) = rows_by_lot(read_analysis(analysis(workspace, cid))).values()
    context = load_context(workspace, cid)
    lines = plan_rejections(context, rows, rows[0].company, dated=date(2026, 11, 27))
    assert [line.letter.company for line in lines] == [row.company for row in rows[1:]]
    assert all(line.letter.awardee == rows[0].company for line in lines)
    assert len({line.recipient.email for line in lines}) == len(lines)


@pytest.mark.parametrize(
    ("allotted", "written", "problem"),
    [
        (True, "Lot douze",
         "« Lot douze » n'est pas un lot de cette consultation (lots : {lots}) ; corrigez le "
         "fichier."),
        (True, "", "vide : indiquez le lot de chaque offre (lots : {lots})."),
        (False, "3", "cette consultation n'est pas allotie : laissez la colonne vide (« 3 »)."),
    ],
)  # fmt: skip
def test_a_letter_rejects_from_a_lot_of_the_consultation_or_none_is_made(
    workspace, allotted, written, problem
):
    """A rejection naming no lot of an allotted consultation rejected from all its lots."""
    cid, _ = deposits_consultation(workspace, lots=allotted)
    context = load_context(workspace, cid)
    (rows,) = rows_by_lot(read_analysis(analysis(workspace, cid, lot=written))).values()
    with pytest.raises(Refusal) as refused:
        plan_rejections(context, rows, rows[0].company, dated=date(2026, 11, 27))
    lots = ", ".join(str(number) for number, _ in context.detail.lots)
    assert str(refused.value) == "Ligne 2, colonne « lot » : " + problem.format(lots=lots)


def documents_of(store, cid) -> int:
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).where(document.c.consultation_id == cid)
        ).scalar_one()


def test_a_batch_the_queue_refuses_leaves_no_letter_behind(store, towns, accounts):
    """The letters are kept with their messages or not at all: a batch the send checks
    refused left its letters in the documentary space, and each new try added as many."""
    mulhouse, hugo = towns["mulhouse"], accounts["hugo.meyer"]
    context = load_context(store, mulhouse, hugo)
    rows = [
        AnalysisRow(2, "Entreprise retenue", "", Decimal("90"), 1, "Meilleure offre."),
        AnalysisRow(3, f"Entreprise de {MULHOUSE}", "", Decimal("70"), 2, "Prix\x07 élevé."),
    ]
    lines = plan_rejections(context, rows, "Entreprise retenue", dated=date(2026, 11, 27))
    assert len(lines) == 1
    for _ in range(2):
        with pytest.raises(Refusal, match="« Motifs du rejet » contient un caractère de contrôle"):
            queue_rejections(store, context, lines, actor="hugo.meyer")
    assert documents_of(store, mulhouse) == 0
    assert rejections(store, mulhouse) == []


def test_reasons_written_on_two_lines_in_excel_are_sent(store, towns, accounts):
    """Excel ends a cell's lines with CRLF; the send checks refused the CR as a control
    character, once every letter was drawn."""
    mulhouse, hugo = towns["mulhouse"], accounts["hugo.meyer"]
    context = load_context(store, mulhouse, hugo)
    text = (
        "Entreprise;Lot;Note;Rang;Motifs\r\nEntreprise retenue;;18;1;Meilleure offre.\r\n"
        f'Entreprise de {MULHOUSE};;12;2;"Prix élevé.\r\nDélais longs."\r\n'
    )
    rows = read_analysis(text.encode())
    with time_machine.travel(NOW, tick=False):  # the letter's signature date follows the day
        lines = plan_rejections(context, rows, "Entreprise retenue", dated=NOW.date())
        (queued,) = queue_rejections(store, context, lines, actor="hugo.meyer")
    with store.engine.connect() as connection:
        mentions = connection.execute(
            sa.select(message.c.mentions).where(message.c.id == queued.message_id)
        ).scalar_one()
    assert mentions["reasons"] == "Prix élevé.\nDélais longs."
    assert documents_of(store, mulhouse) == 1


async def send_all(pilot, screen: MergeScreen) -> None:
    """Ctrl+E, and Ctrl+E again when the screen asks (some of the bidders were rejected from
    the lot already, or left out of the file: which, in the demo, depends on the day it is
    built for); then wait for every letter to be drawn and queued."""
    await wait_until(pilot, lambda: screen.rejected is not None, "the letters already sent")
    await pilot.press("ctrl+e")
    await settle(pilot)
    if screen.rejected or screen.left_out:
        assert isinstance(pilot.app.screen, MergeScreen) and screen.confirmed
        await pilot.press("ctrl+e")
    for _ in range(100):  # weasyprint renders in a worker
        await settle(pilot)
        if not isinstance(pilot.app.screen, MergeScreen):
            break
    assert not isinstance(pilot.app.screen, MergeScreen), str(
        screen.query_one("#merge-problem").render()
    )


async def test_one_action_queues_a_letter_per_rejected_bidder(workspace, workspace_app, tmp_path):
    cid, _ = deposits_consultation(workspace)
    path = tmp_path / "analyse.csv"
    path.write_text(analysis(workspace, cid), encoding="utf-8")
    async with workspace_app.run_test(size=(100, 32)) as pilot:
        screen = await run_merge(pilot, cid, path)
        bidders = screen.query_one("#bids", DataTable).row_count
        assert bidders == len(screen.lines) >= 1
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(pilot.app.screen, TextDialog)
        await pilot.press("escape")
        await settle(pilot)
        await send_all(pilot, screen)
    queued = rejections(workspace, cid)
    assert len(queued) == bidders  # one message each, each with its own letter
    assert len({row.id for row in queued}) == bidders
    assert all(row.document_id for row in queued)
    assert len({row.document_id for row in queued}) == bidders


async def test_a_second_run_of_the_file_asks_before_rejecting_anyone_twice(
    workspace, workspace_app, tmp_path
):
    """Rule 8 counts the standstill from the latest rejection of the lot: a file run twice by
    mistake sent every bidder a second letter and restarted it, without a word."""
    cid, _ = deposits_consultation(workspace)
    path = tmp_path / "analyse.csv"
    path.write_text(analysis(workspace, cid), encoding="utf-8")
    async with workspace_app.run_test(size=(100, 32)) as pilot:
        await send_all(pilot, await run_merge(pilot, cid, path))
        sent = len(rejections(workspace, cid))
        screen = await run_merge(pilot, cid, path)  # the same file, again
        await wait_until(pilot, lambda: screen.rejected is not None, "the letters already sent")
        assert set(screen.rejected or ()) == {line.recipient.email for line in screen.lines}
        warning = str(screen.query_one("#merge-problem").render())
        assert warning.startswith("Déjà rejetées pour ce lot : ")
        assert all(line.letter.company in warning for line in screen.lines)
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MergeScreen)  # asked, nothing sent
        assert len(rejections(workspace, cid)) == sent
        await pilot.press("ctrl+e")  # the buyer confirms: a second letter each
        await wait_until(pilot, lambda: not isinstance(pilot.app.screen, MergeScreen), "sent")
    assert len(rejections(workspace, cid)) == 2 * sent


async def test_a_bidder_missing_from_the_deposits_stops_everything(
    workspace, workspace_app, tmp_path
):
    cid, _ = deposits_consultation(workspace)
    path = tmp_path / "analyse.csv"
    path.write_text(analysis(workspace, cid, unknown=True), encoding="utf-8")
    async with workspace_app.run_test(size=(100, 32)) as pilot:
        screen = await run_merge(pilot, cid, path)
        problem = str(screen.query_one("#merge-problem").render())
        assert "« Entreprise Fantôme » n'est pas dans le registre des dépôts" in problem
        assert "Ligne " in problem
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert isinstance(pilot.app.screen, MergeScreen)
    assert rejections(workspace, cid) == []


async def merge_as_snapshot(pilot, cid: int, path: Path) -> None:
    """The merge screen on the file at `path`, as a snapshot takes it: the answer about the
    letters sent before in, the temporary folder hidden, the columns at their widths."""
    screen = await run_merge(pilot, cid, path)
    await wait_until(pilot, lambda: screen.rejected is not None, "the letters already sent")
    screen.query_one("#path", Input).value = "analyse.csv"  # the temporary folder varies
    quiet_cursor(pilot)
    await settle(pilot)
    # The columns take their widths on a later refresh: wider than the terminal then
    # (seen narrower in a snapshot taken on a loaded machine).
    bids = screen.query_one("#bids", DataTable)
    await wait_until(pilot, lambda: bids.virtual_size.width > 80, "the columns' widths")


def test_merge_screen_snapshot(snap_compare, fixed_demo, tmp_path):
    from messagerie.tui.app import MessagerieApp

    cid, _ = deposits_consultation(fixed_demo)
    path = tmp_path / "analyse.csv"
    path.write_text(analysis(fixed_demo, cid), encoding="utf-8")
    app = MessagerieApp(open_store=lambda: fixed_demo, actor=DEMO_READER)  # sees every one
    assert snap_compare(
        app, terminal_size=(80, 24), run_before=lambda pilot: merge_as_snapshot(pilot, cid, path)
    )


def test_merge_screen_warning_of_bidders_rejected_before_snapshot(
    snap_compare, fixed_demo, tmp_path
):
    """The same file, run again: the bidders it rejected already are named, with the date."""
    from messagerie.tui.app import MessagerieApp

    cid, _ = deposits_consultation(fixed_demo)
    path = tmp_path / "analyse.csv"
    path.write_text(analysis(fixed_demo, cid), encoding="utf-8")
    work_for_every_entity(fixed_demo, "marie.dupont")
    (rows,) = rows_by_lot(read_analysis(path.read_bytes())).values()
    with time_machine.travel(DEMO_NOW, tick=False):  # the warning's date, every day the same
        context = load_context(fixed_demo, cid)
        lines = plan_rejections(context, rows, rows[0].company, dated=DEMO_NOW.date())
        queue_rejections(fixed_demo, context, lines, actor="marie.dupont")
    app = MessagerieApp(open_store=lambda: fixed_demo, actor=DEMO_READER)
    assert snap_compare(
        app, terminal_size=(80, 24), run_before=lambda pilot: merge_as_snapshot(pilot, cid, path)
    )


async def test_a_file_with_many_faults_lists_them_all_and_scrolls_at_80x24(fixed_demo, tmp_path):
    """Every faulty line is named at once (the first 20, then how many more), in a list the
    buyer reaches with Tab and scrolls: the table keeps its place below."""
    from messagerie.tui.app import MessagerieApp

    cid, _ = deposits_consultation(fixed_demo)
    rows = "".join(f"Entreprise {n};;15;{n}e;Prix\n" for n in range(1, 26))
    path = tmp_path / "analyse.csv"
    path.write_text("entreprise;lot;note;rang;motifs\n" + rows, encoding="utf-8")
    last = "… et 5 autre(s) erreur(s)."
    async with MessagerieApp(open_store=lambda: fixed_demo, actor=DEMO_READER).run_test(
        size=(80, 24)
    ) as pilot:
        screen = await run_merge(pilot, cid, path)
        problem = str(screen.query_one("#merge-problem").render())
        assert problem.startswith("Fichier d'analyse refusé (25 erreurs)")
        assert "Ligne 2, colonne « rang » : « 1e »" in problem and problem.endswith(last)
        assert on_screen(pilot, "Ligne 2, colonne « rang »") and not on_screen(pilot, last)
        assert on_screen(pilot, "Entreprise  Adresse (dépôts)")  # the table's header
        for _ in range(4):
            if screen.focused is screen.query_one("#merge-problems"):
                break
            await pilot.press("tab")
        await pilot.press("end")
        await settle(pilot)
        assert on_screen(pilot, last)
