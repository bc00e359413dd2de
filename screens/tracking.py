"""'Suivi des messages': one row per recipient of a message, with its status word and its E, D,
L, R badges (each with its date and time), the selected message's summary above the table,
and rows that follow the outbox, the inbound listener and the web page live."""

from __future__ import annotations

import contextlib
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from models.enums import RecipientStatus
from models.formatting import paris_minutes, paris_seconds
from models.tracking import (
    PAGE,
    MessageSummary,
    TrackingQuery,
    TrackingRow,
    changed_since,
    message_summary,
    recipient_token,
    tracking_page,
)
from screens.widgets import Footer, StoreWork

POLL_SECONDS = 1.0  # rows follow events within two seconds
STATUS_STYLES = {
    RecipientStatus.PENDING: "dim",
    RecipientStatus.SENT: "",
    RecipientStatus.DELIVERED: "green",
    RecipientStatus.NOT_DELIVERED: "bold red",
    RecipientStatus.READ: "bold green",
    RecipientStatus.REPLY_UNREAD: "bold yellow",
    RecipientStatus.REPLY_READ: "yellow",
}
COLUMNS = (  # the platform's headings, on two lines; widths for 80 columns
    ("Statut\nEvénements", "status", 23),
    ("Type de message\nObjet", "message", 19),
    ("Destinataire\nEntreprise", "recipient", 16),
    ("Date limite\nde réponse", "deadline", 11),
)


def status_cell(row: TrackingRow) -> Text:
    """The status word, then one line per badge: "E 10/02/2026 - 16:41:11"."""
    cell = Text(row.status.label, style=STATUS_STYLES[row.status], no_wrap=True)
    for mark, at in row.badges():
        style = "bold red" if mark == "Non délivré" else "bold"
        cell.append("\n")
        cell.append(mark, style=style)
        cell.append(f" {paris_seconds(at)}")
    return cell


def lines(*texts: str) -> Text:
    """One line per text, cut with an ellipsis: rows keep a predictable height."""
    return Text("\n".join(texts), no_wrap=True, overflow="ellipsis")


def cells(row: TrackingRow) -> tuple[Text, ...]:
    deadline = paris_minutes(row.reply_deadline).split(" ") if row.reply_deadline else []
    return (
        status_cell(row),
        lines(row.type.label, row.subject),
        lines(row.email, row.company or ""),
        lines(*deadline),
    )


class TrackingScreen(StoreWork, Screen[None]):
    """The tracking table of one consultation, or of all of them."""

    AUTO_FOCUS = "#tracking"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Retour", key_display="Échap"),
        Binding("f5", "refresh", "Actualiser", tooltip="Relire le suivi"),
        Binding(
            "o",
            "open_link",
            "Page destinataire",
            tooltip="Ouvrir la page du destinataire (démonstration locale seulement)",
        ),
    ]

    def __init__(self, consultation_id: int | None = None) -> None:
        super().__init__()
        self.query_ = TrackingQuery(consultation_id)
        self.rows: dict[int, TrackingRow] = {}  # shown, newest first
        self.newest_change: datetime | None = None
        self.summary_for: int | None = None
        self.complete = False  # every older page loaded

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Chargement…", id="summary")
        table: DataTable[Text] = DataTable(
            id="tracking", cursor_type="row", zebra_stripes=True, header_height=2
        )
        for label, key, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        yield table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.sub_title = "Suivi des messages"
        self.action_refresh()
        self.set_interval(POLL_SECONDS, self.poll)

    # --- loading ----------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.store_task(lambda store: tracking_page(store, self.query_), self.show_first)

    def show_first(self, rows: tuple[TrackingRow, ...]) -> None:
        self.rows = {row.recipient_id: row for row in rows}
        self.complete = len(rows) < PAGE
        self.newest_change = max((r.updated_at for r in rows), default=None)
        self.redraw()

    def load_more(self) -> None:
        if self.complete or not self.rows:
            return
        oldest = min(self.rows)
        self.store_task(
            lambda store: tracking_page(store, self.query_, before=oldest),
            self.show_more,
            group="tracking-more",
        )

    def show_more(self, rows: tuple[TrackingRow, ...]) -> None:
        self.complete = len(rows) < PAGE
        table = self.query_one(DataTable)
        for row in rows:
            if row.recipient_id not in self.rows:
                self.rows[row.recipient_id] = row
                table.add_row(*cells(row), height=None, key=str(row.recipient_id))

    def redraw(self) -> None:
        """Rebuild the table from `rows`, keeping the cursor on the same recipient."""
        table = self.query_one(DataTable)
        current = self.current
        table.clear()
        for row in self.rows.values():
            table.add_row(*cells(row), height=None, key=str(row.recipient_id))
        if current is not None and current.recipient_id in self.rows:
            table.move_cursor(row=list(self.rows).index(current.recipient_id))
        self.show_summary()

    # --- live -------------------------------------------------------------------------------

    def poll(self) -> None:
        if not self.is_current or self.newest_change is None:
            if self.is_current and not self.rows:
                self.action_refresh()  # nothing yet: the first message may arrive
            return
        since = self.newest_change
        self.store_task(
            lambda store: changed_since(store, self.query_, since), self.merge, group="poll"
        )

    def merge(self, changed: tuple[TrackingRow, ...]) -> None:
        moved = [row for row in changed if self.rows.get(row.recipient_id) != row]
        if not moved:
            return
        self.newest_change = max(r.updated_at for r in (*moved, *self.rows.values()))
        newest_shown = max(self.rows, default=0)
        for row in moved:
            if row.recipient_id in self.rows or row.recipient_id > newest_shown:
                self.rows[row.recipient_id] = row
        self.rows = dict(sorted(self.rows.items(), reverse=True))
        self.redraw()

    # --- the selected message -----------------------------------------------------------

    @property
    def current(self) -> TrackingRow | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.rows.get(int(key)) if key is not None else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_summary()
        if event.cursor_row >= event.data_table.row_count - 5:
            self.load_more()

    def show_summary(self) -> None:
        row = self.current
        if row is None:
            self.query_one("#summary", Static).update("Aucun message envoyé.")
            return
        self.store_task(
            lambda store: (row, message_summary(store, row.message_id)),
            lambda found: self.summary(*found),
            group="summary",
        )

    def summary(self, row: TrackingRow, counts: MessageSummary) -> None:
        self.query_one("#summary", Static).update(
            Text.assemble(
                ("Message sélectionné : ", "bold"),
                f"{counts.recipients} dest. · {counts.text()}\n",
                (row.reference, "bold"),
                f" · {len(self.rows)} ligne(s) affichée(s)"
                + ("" if self.complete else ", la suite en descendant"),
            )
        )

    # --- demo -----------------------------------------------------------------------------------

    def action_open_link(self) -> None:
        """In the local demo only: the selected recipient's personal link, opened in a
        browser where one exists. With a real relay, the buyer must never open it: the first
        opening is the recipient's acknowledgement of receipt."""
        row = self.current
        if row is None:
            return
        if getattr(self.app, "embedded", None) is None:
            self.notify(
                "Le lien personnel appartient au destinataire : l'ouvrir vaudrait accusé de "
                "réception. Il n'est proposé qu'en démonstration locale.",
                title="Page destinataire",
                severity="warning",
            )
            return
        base = self.app.settings().link_base  # type: ignore[attr-defined]
        self.store_task(
            lambda store: f"{base}/m/{recipient_token(store, row.recipient_id)}",
            self.show_link,
            group="link",
        )

    def show_link(self, link: str) -> None:
        self.notify(link, title="Page du destinataire (démonstration)", timeout=30)
        self.run_worker(lambda: _open_in_browser(link), thread=True, group="browser")


def _open_in_browser(link: str) -> None:
    import webbrowser

    with contextlib.suppress(webbrowser.Error):  # no browser (SSH, server): the link is shown
        webbrowser.get().open(link)
