"""The tables (registers, accounts, bids) show their rows at full width even when a frame is
painted before the table has measured them — as happens in a busy terminal."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from messagerie.screens.widgets import Table

DATE, COMPANY = "20/01/2026 09:31", "ACME Industries - 476 460 118 00047"


class OneTable(App[None]):
    CSS = "DataTable { height: 1fr; }"  # as on the screens: no resize once rows come

    def __init__(self, table: DataTable[object]) -> None:
        super().__init__()
        self.table = table

    def compose(self) -> ComposeResult:
        yield self.table


async def row_drawn_after_an_early_frame(table: DataTable[object]) -> str:
    """Fill the table as a screen does on load, paint a frame before the table's idle
    (what the app's refresh does when it comes first), then let everything settle."""
    app = OneTable(table)
    async with app.run_test(size=(100, 10)) as pilot:
        await pilot.pause()
        table.clear(columns=True)
        table.add_columns("Date/Heure", "Entreprise - SIRET")
        table.add_row(DATE, COMPANY)
        early = table.render_line(1).text
        assert DATE not in early  # the early frame: columns only as wide as their headers
        await pilot.pause()
        await pilot.pause()
        return table.render_line(1).text


async def test_a_row_painted_before_it_was_measured_is_drawn_again_in_full() -> None:
    drawn = await row_drawn_after_an_early_frame(Table())
    assert f"{DATE}  {COMPANY}" in drawn


async def test_textual_s_own_table_still_keeps_the_cut_row() -> None:
    """Why `Table` exists. When this fails, Textual draws the row again itself: drop `Table`."""
    drawn = await row_drawn_after_an_early_frame(DataTable())
    assert DATE not in drawn
