"""Text from outside is shown as typed on every screen (tracker issue 17): a company named
"[/oops] ACME [@click=app.quit]clic[/]" neither crashes the TUI nor quits it when clicked, a lot
titled "Lot [/oops]" leaves the message form whole, "[link=…]" stays text, and ESC, bidi,
zero-width, 10,000-character, emoji and combining texts from an older store are shown without
harm (ARCHITECTURE.md, "Text and files from outside")."""

from __future__ import annotations

import io
import json
import re
import time
import unicodedata
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text
from textual.content import Content
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input, OptionList, Select, SelectionList, Static, Tree

from messagerie.models.consultations.registers import list_register
from messagerie.models.formatting import paris_minutes
from messagerie.models.messages.form import MENTIONS
from messagerie.models.rules.siret import format_siret
from messagerie.models.store.enums import MessageType, RegisterKind
from messagerie.models.text import control_character
from messagerie.screens.answer import AnswerDialog, SingleAnswerReasonDialog
from messagerie.screens.consultation import ConsultationScreen, DraftList
from messagerie.screens.dashboard import DashboardScreen, ResultsList
from messagerie.screens.dce import DceScreen
from messagerie.screens.dialogs import ConfirmDialog, TextDialog
from messagerie.screens.files import FilePicker
from messagerie.screens.message_detail import MessageDetailScreen, ReplyScreen
from messagerie.screens.message_form import MessageFormScreen, RemovableList
from messagerie.screens.preview import PreviewScreen
from messagerie.screens.qa import QaEditorScreen
from messagerie.screens.recipients import DocumentSpacePicker, RecipientPicker
from messagerie.screens.registers import EntryForm, RegisterScreen
from messagerie.screens.suite import SuiteScreen
from messagerie.screens.tracking import TrackingScreen
from messagerie.screens.widgets import harmless, literal
from messagerie.tui.app import MessagerieApp
from tests.helpers.cli import messagerie
from tests.helpers.hostile import (
    ACME,
    BODY,
    CLICK,
    CORPUS,
    DCE_PATH,
    DRAFT_SUBJECT,
    ENTITY,
    ESC,
    FILENAME,
    LINK,
    OBJECT,
    QUESTION,
    REFERENCE,
    REPLY,
    SHOWN_ESC,
    SUBJECT,
    SUITE_TITLE,
    TITLE,
    Hostile,
    click_on,
    make_hostile,
    on_screen,
    screen_text,
    toasts,
)
from tests.helpers.merge import bidders_for, run_merge
from tests.helpers.message_form import open_form
from tests.helpers.pilot import settle, text_of, wait_until
from tests.helpers.terminal import Tmux

OVERRIDE = next(name for name in CORPUS if "\u202e" in name)  # "Société \u202eLIVE\u202c Nord"
ZERO_WIDTH = next(name for name in CORPUS if "\u200b" in name)
SIZE = (200, 50)  # wide enough for each hostile text to sit on one line
S = TypeVar("S", bound=Screen)


@pytest.fixture
def hostile(workspace) -> Hostile:
    return make_hostile(workspace)


def running(app: MessagerieApp):  # type: ignore[no-untyped-def]
    """The app under the Pilot, toasts shown (run_test hides them by default)."""
    return app.run_test(size=SIZE, notifications=True)


async def still_running(pilot: Pilot) -> None:
    """Nothing crashed, nothing quit the app (an action read from a name would have), and
    neither a raw ESC nor an invisible character (U+202E, U+200B…) reached the terminal."""
    await pilot.pause()
    assert pilot.app.is_running and pilot.app.return_code is None
    shown = screen_text(pilot)
    assert "\x1b" not in shown, "a raw ESC reached the terminal"
    hidden = {f"U+{ord(c):04X}" for c in shown if unicodedata.category(c) in INVISIBLE}
    assert not hidden, f"invisible characters reached the terminal: {sorted(hidden)}"


async def press(pilot: Pilot, *keys: str, expect: type[S]) -> S:
    """Each key once the screen it opened is there; the screen shown then."""
    for key in keys:
        await pilot.press(key)
        await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, expect)
    return screen


async def open_hostile(pilot: Pilot, *keys: str, expect: type[S]) -> S:
    """Search the hostile consultation on the dashboard, then press its action `keys`."""
    await settle(pilot)
    await pilot.press("slash", *REFERENCE.lower(), "enter")
    await settle(pilot)
    results = pilot.app.screen.query_one(ResultsList)
    while results.current is None or results.current.identity.reference != REFERENCE:
        before = results.highlighted
        await pilot.press("down")
        assert results.highlighted != before, f"{REFERENCE} is not among the results"
    return await press(pilot, *keys, expect=expect)


def prompts(widget: OptionList) -> list[str]:
    return [str(widget.get_option_at_index(i).prompt) for i in range(widget.option_count)]


def choices(select: Select) -> list[str]:  # type: ignore[type-arg]
    """The options a Select drops down, its blank prompt left out."""
    return prompts(select.query_one(OptionList))[1:]


def rows_of(table: DataTable) -> list[list[str]]:  # type: ignore[type-arg]
    """The cells of every row, as the buyer reads them."""
    return [[Content.from_text(cell).plain for cell in table.get_row_at(i)]
            for i in range(table.row_count)]  # fmt: skip


async def test_dashboard_shows_the_consultation_as_typed(workspace_app, hostile):
    async with running(workspace_app) as pilot:
        dashboard = await open_hostile(pilot, "plus", expect=DashboardScreen)  # "Plus d'infos"
        results = dashboard.query_one(ResultsList)
        shown = str(results.get_option(str(hostile.consultation_id)).prompt)
        assert f"{REFERENCE} | {TITLE}" in shown
        assert f"Objet : {harmless(OBJECT)}" in shown and ENTITY in shown
        assert "Lot [/oops]" in shown and SHOWN_ESC in shown
        assert on_screen(pilot, f"{REFERENCE} | {TITLE}")
        await still_running(pilot)
        await click_on(pilot, CLICK)  # the name stays text: the click opens the consultation
        await settle(pilot)
        assert isinstance(pilot.app.screen, ConsultationScreen)
        await still_running(pilot)


async def test_consultation_screen_and_command_palette(workspace_app, hostile):
    async with running(workspace_app) as pilot:
        screen = await open_hostile(pilot, "d", expect=ConsultationScreen)
        identity = text_of(pilot, "#identity")
        assert f"Intitulé : {TITLE}" in identity and f"Objet : {harmless(OBJECT)}" in identity
        assert all(label in identity for label in map(harmless, hostile.lots))
        assert SHOWN_ESC in identity and ESC not in identity
        assert ENTITY in identity and SUITE_TITLE in text_of(pilot, "#suites")
        assert any(DRAFT_SUBJECT in line for line in prompts(screen.query_one(DraftList)))
        assert screen.sub_title == f"{REFERENCE} | {TITLE}" and on_screen(pilot, TITLE)
        await click_on(pilot, "[@click=app.quit]Entité[/]")
        await still_running(pilot)
        await pilot.press("ctrl+p", *"suivi")
        await wait_until(pilot, lambda: on_screen(pilot, "Suivi des messages"), "the palette")
        await pilot.press("escape")
        await still_running(pilot)
        assert pilot.app.screen is screen


def expected_row(row, kind: RegisterKind) -> list[str]:  # type: ignore[no-untyped-def]
    cells = [
        paris_minutes(row.at),
        harmless(f"{row.company_name} - {format_siret(row.siret)}"),
        harmless(row.contact_name),
        row.contact_email,
        ", ".join(str(number) for number in row.lot_numbers) or "—",
    ]
    return [str(row.number), *cells] if kind is RegisterKind.QUESTION else cells


async def test_registers_show_every_cell_as_typed(workspace_app, workspace, hostile):
    async with running(workspace_app) as pilot:
        screen = await open_hostile(pilot, "q", expect=RegisterScreen)
        for key, kind in (("q", RegisterKind.QUESTION), ("w", RegisterKind.WITHDRAWAL),
                          ("p", RegisterKind.DEPOSIT)):  # fmt: skip
            await press(pilot, key, expect=RegisterScreen)
            stored = list_register(
                workspace, hostile.consultation_id, kind, per_page=50, actor="marie.dupont"
            ).rows
            assert rows_of(screen.query_one(DataTable)) == [expected_row(r, kind) for r in stored]
            if any(row.company_name == ACME for row in stored):
                assert on_screen(pilot, ACME)
                await click_on(pilot, CLICK)
            for name in (OVERRIDE, ZERO_WIDTH):  # shown with their invisibles made visible
                if any(row.company_name == name for row in stored):
                    assert on_screen(pilot, harmless(name)) and not on_screen(pilot, name)
            await still_running(pilot)
        assert any(ESC in name for name in hostile.companies.values())
        assert {OVERRIDE, ZERO_WIDTH} <= set(hostile.companies.values())
        entry = screen.selected()
        assert entry is not None
        form = await press(pilot, "e", expect=EntryForm)  # the entry form, filled
        assert form.query_one("#contact_name", Input).value == harmless(entry.contact_name)
        await pilot.press("escape")
        await still_running(pilot)


async def test_question_answer_dialogs_and_qa_editor(workspace_app, hostile):
    async with running(workspace_app) as pilot:
        register = await open_hostile(pilot, "q", expect=RegisterScreen)
        assert text_of(pilot, "#question-text") == harmless(QUESTION)
        question = register.selected()
        assert question is not None
        await press(pilot, "enter", expect=AnswerDialog)
        shown = text_of(pilot, "#question")
        assert harmless(QUESTION) in shown and harmless(question.company_name) in shown
        # "Messagerie sécurisée": to this company only, for a reason that names it
        dialog = await press(pilot, "m", expect=SingleAnswerReasonDialog)
        reason = str(dialog.query_one(Static).render())
        assert f"ne va qu'à {harmless(question.company_name)} ;" in reason
        await press(pilot, "escape", "enter", expect=AnswerDialog)
        editor = await press(pilot, "d", expect=QaEditorScreen)  # "Modifier le DCE"
        assert harmless(QUESTION) in text_of(pilot, "#original")
        assert editor.sub_title == f"{REFERENCE} | {TITLE}"
        await still_running(pilot)


async def test_dce_tree_history_and_confirmation(workspace_app, hostile):
    async with running(workspace_app) as pilot:
        screen = await open_hostile(pilot, "m", expect=DceScreen)
        tree = screen.query_one("#pieces", Tree)
        (piece,) = tree.root.children
        assert str(piece.label).startswith(DCE_PATH)
        assert on_screen(pilot, DCE_PATH)
        history = await press(pilot, "h", expect=TextDialog)
        assert DCE_PATH in str(history.query_one(Static).render())
        assert CLICK in str(history.query_one(Static).render())  # the version's comment
        await pilot.press("escape")
        tree.focus()
        tree.move_cursor(piece)
        await press(pilot, "d", expect=ConfirmDialog)
        assert on_screen(pilot, f"Supprimer « {DCE_PATH} » du DCE ?")
        await pilot.press("n", "r")  # "Remplacer": the file picker, titled with the piece
        await wait_until(pilot, lambda: on_screen(pilot, f"Remplacer {DCE_PATH}"), "the picker")
        await pilot.press("escape")
        await still_running(pilot)


async def test_file_picker_shows_local_names_harmlessly(workspace_app, tmp_path):
    """A folder where a company's files were saved: their names, ESC included, as typed."""
    for name in (f"{ESC}.pdf", "[@click=app.quit]clic.pdf"):  # no "/" in a file name
        (tmp_path / name).write_bytes(b"%PDF-1.4")
    async with running(workspace_app) as pilot:
        await settle(pilot)
        pilot.app.push_screen(FilePicker("Ajouter une pièce au DCE", tmp_path))
        await wait_until(pilot, lambda: on_screen(pilot, "[@click=app.quit]clic.pdf"), "files")
        assert on_screen(pilot, f"{SHOWN_ESC}.pdf")
        await click_on(pilot, "[@click=app.quit]clic.pdf")
        await still_running(pilot)


async def test_message_form_loads_its_lots_mentions_and_files(workspace_app, hostile):
    async with running(workspace_app) as pilot:
        form = await open_form(pilot, hostile.consultation_id, message_type=MessageType.REJECTION)
        lots = form.query_one("#lots", SelectionList)
        assert prompts(lots) == [harmless(label) for label in hostile.lots]
        assert form.query_one("#mentions-box").display
        assert all(form.query_one(f"#mention-{m.key}").display
                   for m in MENTIONS[MessageType.REJECTION])  # fmt: skip
        assert f"Intitulé : {TITLE}" in text_of(pilot, "#identity")
        assert ENTITY in text_of(pilot, "#block")
        picker = await press(pilot, "f3", expect=RecipientPicker)
        assert any(ACME in line for line in prompts(picker.query_one(OptionList)))
        await press(pilot, "p", expect=MessageFormScreen)  # the dépôts
        recipients = prompts(form.query_one("#recipients", RemovableList))
        assert any(harmless(name) in line for line in recipients for name in hostile.deposits)
        await attach_twice(pilot, form)
        await press(pilot, "f2", expect=PreviewScreen)
        assert TITLE in text_of(pilot, "#preview-text")
        await pilot.press("escape")
        await still_running(pilot)


async def attach_twice(pilot: Pilot, form: MessageFormScreen) -> None:
    """The hostile file from the document space, then again: the toast names it as typed."""
    for _ in range(2):
        picker = await press(pilot, "f5", expect=DocumentSpacePicker)
        documents = picker.query_one("#documents", OptionList)
        documents.focus()
        documents.highlighted = next(
            i for i, line in enumerate(prompts(documents)) if line.startswith(FILENAME)
        )
        await press(pilot, "enter", expect=MessageFormScreen)
    assert any(line.startswith(FILENAME) for line in prompts(form.query_one("#attachment-list")))
    joined = f"Pièces jointes\n« {FILENAME} » est déjà joint."
    await wait_until(pilot, lambda: joined in toasts(pilot), "the toast")


async def test_a_draft_reopens_with_its_subject(workspace_app, hostile):
    async with running(workspace_app) as pilot:
        # "Brouillons de messages": the first one
        form = await open_hostile(pilot, "d", "b", "enter", expect=MessageFormScreen)
        assert form.query_one("#subject", Input).value == DRAFT_SUBJECT
        await still_running(pilot)


async def test_tracking_loupe_and_reply(workspace_app, hostile):
    async with running(workspace_app) as pilot:
        screen = await open_hostile(pilot, "e", expect=TrackingScreen)
        table = screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(str(hostile.recipient_id)))
        _, message, recipient, _ = rows_of(table)[table.cursor_row]
        company = next(name for name in hostile.companies.values() if harmless(name) in recipient)
        assert SUBJECT in message
        await settle(pilot)
        assert SUBJECT in text_of(pilot, "#summary")
        await press(pilot, "f", expect=TrackingScreen)  # the filters: lots by title
        assert choices(screen.query_one("#filter-lot", Select)) == list(map(harmless, hostile.lots))
        table.focus()
        await press(pilot, "enter", expect=MessageDetailScreen)
        detail = text_of(pilot, "#detail-text")
        shown = (SUBJECT, BODY, FILENAME, harmless(REPLY), harmless(company))
        assert all(text in detail for text in shown)
        await pilot.press("escape")
        table.move_cursor(row=table.get_row_index(f"reply-{hostile.reply_id}"))
        await press(pilot, "enter", expect=ReplyScreen)
        reply = text_of(pilot, "#reply-text")
        assert harmless(REPLY) in reply and FILENAME in reply
        assert "[/oops] \ufffd[@click" in reply  # its zero-width space, made visible
        await still_running(pilot)


async def test_suite_form_lists_lots_and_candidates_as_typed(workspace_app, hostile):
    async with running(workspace_app) as pilot:
        screen = await open_hostile(pilot, "d", "s", expect=SuiteScreen)
        assert TITLE in text_of(pilot, "#parent")
        lots = prompts(screen.query_one("#lots", SelectionList))
        assert lots == list(map(harmless, hostile.lots))
        candidates = prompts(screen.query_one("#candidates", SelectionList))
        companies = [line.rsplit(" - ", 2)[0] for line in candidates]
        assert set(companies) == set(map(harmless, hostile.deposits))
        await still_running(pilot)


async def test_mail_merge_of_hostile_bidders(workspace, workspace_app, hostile, tmp_path):
    # The analysis file refuses control and bidi characters, which the letters' mentions
    # refuse (test_merge.py): the names that hold none, and short enough for a letter; and
    # only bidders of the lot (a company that bid for other lots is refused, test_merge_bidders).
    lot = re.match(r"Lot n°(\d+)", hostile.lots[0])[1]  # the letters name a lot of theirs
    of_lot = set(bidders_for(workspace, hostile.consultation_id, int(lot)))
    bidders = list(
        dict.fromkeys(
            n for n in hostile.deposits if n in of_lot and not control_character(n) and len(n) < 200
        )
    )
    assert len(bidders) >= 2
    lines = ["entreprise;lot;note;rang;motifs"] + [
        f"{name};{lot};{20 - rank},5;{rank};Motif [/oops] {CLICK}"
        for rank, name in enumerate(bidders, start=1)
    ]
    path = tmp_path / "analyse.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    shown = list(map(harmless, bidders))  # their invisibles made visible
    async with running(workspace_app) as pilot:
        screen = await run_merge(pilot, hostile.consultation_id, path)
        assert choices(screen.query_one("#retained", Select)) == shown
        table = rows_of(screen.query_one("#bids", DataTable))
        assert [row[0] for row in table] == shown[1:]
        assert all(row[4] == f"Motif [/oops] {CLICK}" for row in table)
        await press(pilot, "f2", expect=TextDialog)
        assert on_screen(pilot, f"Courrier de rejet — {shown[1]}")
        assert f"Motifs du rejet : Motif [/oops] {CLICK}" in text_of(pilot, "Static")
        await still_running(pilot)


# The helper ---------------------------------------------------------------------------------

CONTROL = {"Cc"}
INVISIBLE = {"Cf", "Zl", "Zp"}  # bidi overrides and isolates, zero-width characters, separators


def rendered(text: Text) -> str:
    console = Console(width=60, file=io.StringIO(), record=True, color_system=None)
    console.print(text)
    return console.export_text()


@given(st.text())
def test_any_text_is_shown_as_typed(text):
    """Every character is kept, in place; a control character (but line feed and tab) or an
    invisible one (U+202E, U+200B…) is shown by one visible symbol instead of reaching the
    terminal; markup stays text."""
    shown = literal(text)
    assert len(shown.plain) == len(text)
    for typed, seen in zip(text, shown.plain, strict=True):
        if unicodedata.category(typed) in CONTROL | INVISIBLE and typed not in "\n\t":
            assert unicodedata.category(seen) not in CONTROL | INVISIBLE
        else:
            assert seen == typed
    assert Content.from_text(shown).plain == shown.plain  # what a widget gets
    rendered(shown)  # never raises


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", *INVISIBLE))))
def test_text_without_control_or_invisible_characters_is_unchanged(text):
    assert literal(text).plain == text
    assert Content.from_text(literal(text)).plain == text


def test_the_corpus_is_text_not_markup():
    for text in (ACME, CLICK, LINK, "[b]gras[/b]", "Lot [/oops]"):
        assert literal(text).plain == text and not literal(text).spans
        assert literal(text).plain in rendered(literal(text))
    assert literal(ESC).plain == SHOWN_ESC


# A real terminal ----------------------------------------------------------------------------


@pytest.mark.services
def test_an_imported_company_named_with_markup_in_a_real_terminal(tmp_path):
    """`messagerie import`, then the TUI in tmux: the register shows the name as typed."""
    database = f"sqlite:///{tmp_path / 'import.sqlite3'}"
    env = {"MESSAGERIE_DB": database, "MESSAGERIE_DATA_DIR": str(tmp_path)}
    assert messagerie("db", "upgrade", env=env).returncode == 0
    registers = tmp_path / "registres.json"
    registers.write_text(json.dumps(import_file()), encoding="utf-8")
    imported = messagerie("import", str(registers), env=env)
    assert imported.returncode == 0, imported.stderr
    tmux = Tmux(200, 50, {**env, "MESSAGERIE_SMTP_URL": "smtp://127.0.0.1:9",
                          "TERM": "xterm-256color"})  # fmt: skip
    try:
        assert "2026HOST | Marché" in tmux.wait_for(LINK)  # the only consultation, highlighted
        time.sleep(0.5)  # a person's pace
        tmux.keys("q")  # "Questions": its register
        shown = tmux.wait_for(f"20/01/2026 09:31  {ACME} - 476")  # its row, read in the pane
        assert "Registre des questions" in shown
        assert "Faut-il [b]vraiment[/b] ?" in tmux.wait_for("vraiment")  # the question below
        tmux.keys("Escape")
        assert "Tableau de bord" in tmux.wait_for("Tableau de bord")
    finally:
        tmux.close()


def import_file() -> dict:  # type: ignore[type-arg]
    company = {"company": ACME, "siret": "47646011800047", "contact_name": f"Jean {CLICK}",
               "contact_email": "jean@acme.example", "at": "20/01/2026 09:31"}  # fmt: skip
    return {
        "consultations": [
            {
                "reference": "2026HOST",
                "title": f"Marché {LINK}",
                "object": "Objet",
                "procedure": "adapted",
                "status": "open",
                "bid_deadline": "14/02/2099 12:00",
                "organisation": "Collectivité européenne d'Alsace",
                "purchasing_entity": "Direction de la commande publique",
                "lots": [{"number": 1, "title": "Lot [/oops]"}],
                "registers": {
                    "retraits": [company],
                    "questions": [{**company, "question": "Faut-il [b]vraiment[/b] ?"}],
                },
            }
        ]
    }
