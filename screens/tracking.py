"""'Suivi des messages' (case J of the guide): one row per recipient of a message, with its
status word and its E, D, L, R badges (each with its date and time), the replies under the
row of the message they answer, combinable filters, the selected message's summary, and rows
that follow the outbox, the inbound listener and the web page live.

Rows are read by pages of an indexed query (models/tracking.py), never all at once."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Select, Static

from messagerie.models.formatting import MINUTES, SECONDS, paris_time, repeated_hour_season
from messagerie.models.messages.tracking import (
    PAGE,
    MessageSummary,
    ReplyLine,
    TrackingQuery,
    TrackingRow,
    changed_since,
    message_summary,
    recipient_token,
    replies_of,
    tracking_count,
    tracking_page,
)
from messagerie.models.rules.validation import ValidationFailed, parse_paris_day
from messagerie.models.store.enums import MessageType, RecipientStatus
from messagerie.screens.ar_download import AR_KEY, download_ar
from messagerie.screens.base import StoreScreen
from messagerie.screens.dialogs import LinkDialog, WriteFailed, ask_for_path, ask_until_valid
from messagerie.screens.widgets import back_key, focus_now, harmless, literal, notify_literal

if TYPE_CHECKING:
    from messagerie.models.store.accounts import Account
    from messagerie.models.store.database import Store

POLL_SECONDS = 1.0  # rows follow events within two seconds
FILTER_DELAY = 0.3  # seconds of quiet typing before a text filter applies
STATUS_STYLES = {
    RecipientStatus.PENDING: "dim",
    RecipientStatus.SENT: "",
    RecipientStatus.DELIVERED: "green",
    RecipientStatus.NOT_DELIVERED: "bold red",
    RecipientStatus.READ: "bold green",
    RecipientStatus.REPLY_UNREAD: "bold yellow",
    RecipientStatus.REPLY_READ: "yellow",
}


@dataclass(frozen=True)
class Fetched:
    """Rows read for `query` (the filters when the read began), with their replies."""

    query: TrackingQuery
    rows: tuple[TrackingRow, ...]
    replies: dict[int, tuple[ReplyLine, ...]]


FIXED_WIDTHS = {"status": 23, "deadline": 11}
COLUMNS = (  # the platform's headings, on two lines
    ("Statut\nEvénements", "status"),
    ("Type de message\nObjet", "message"),
    ("Destinataire\nEntreprise", "recipient"),
    ("Date limite\nde réponse", "deadline"),
)
REFERENCE = ("Référence", "reference")  # first, in the view across consultations


def lines(*texts: str, style: str = "") -> Text:
    """One line per text, cut with an ellipsis: rows keep a predictable height."""
    return Text(harmless("\n".join(texts)), style=style, no_wrap=True, overflow="ellipsis")


def event_time(at: datetime) -> str:
    """ "10/02/2026 - 16:41:11", as wide as the status column; in the hour Paris lives twice,
    which one on the next line (« (heure d'hiver) » would be cut at the column's edge)."""
    season = repeated_hour_season(at)
    text = paris_time(at, SECONDS)
    return text if season is None else f"{text}\n  ({season})"


def status_cell(row: TrackingRow) -> Text:
    """The status word, then one line per badge: "E 10/02/2026 - 16:41:11"; a failure is
    written out in full, its time on the next line."""
    cell = Text(row.status.label, style=STATUS_STYLES[row.status], no_wrap=True)
    for mark, at in row.badges():
        cell.append("\n")
        if mark == "Non délivré":
            cell.append(f"{mark}\n  {event_time(at)}", style="bold red")
        else:
            cell.append(mark, style="bold")
            cell.append(f" {event_time(at)}")
    return cell


def deadline_lines(deadline: datetime | None) -> list[str]:
    """The date, then the time, in an 11-wide column; in the hour Paris lives twice, which
    one on two more lines."""
    if deadline is None:
        return []
    season = repeated_hour_season(deadline)
    day_and_time = paris_time(deadline, MINUTES).split(" ")
    return day_and_time if season is None else [*day_and_time, *f"({season})".split(" ")]


def row_cells(row: TrackingRow) -> tuple[Text, ...]:
    return (
        status_cell(row),
        lines(row.type.label, row.subject),
        lines(row.email, row.company or ""),
        lines(*deadline_lines(row.reply_deadline)),
    )


def newest(watermark: datetime | None, rows: tuple[TrackingRow, ...]) -> datetime | None:
    """The latest change seen: `watermark` or the newest of `rows`."""
    times = [row.updated_at for row in rows] + ([] if watermark is None else [watermark])
    return max(times, default=None)


def height_of(cells: tuple[Text, ...]) -> int:
    return max(2, *(len(cell.plain.splitlines()) for cell in cells))


def reply_cells(line: ReplyLine) -> tuple[Text, ...]:
    """A reply, under its message: "↳ Réponse non lue" and when it came."""
    word = "Réponse lue" if line.read else "Réponse non lue"
    first = " ".join(line.body.split()) or "(sans texte)"
    weight = "" if line.read else "bold"
    return (
        lines(f"↳ {word}", f"  {event_time(line.received_at)}", style=weight),
        lines(line.disposition.label, first, style="italic"),
        lines("Entrée : lire la réponse", ""),
        lines(),
    )


def paris_day(text: str) -> date | None:
    """ "JJ/MM/AAAA" → date; "" → None; ValidationFailed (French) when unreadable."""
    return parse_paris_day(text) if text.strip() else None


class TrackingTable(DataTable[Text]):
    """The rows: Début and Fin move the cursor to the first and the last row shown (Textual's
    table scrolls sideways with them)."""

    BINDINGS = [
        Binding("home", "scroll_top", "Première ligne", show=False),
        Binding("end", "scroll_bottom", "Dernière ligne", show=False),
    ]


class TrackingScreen(StoreScreen[None]):
    """The tracking table of one consultation, or of all of them."""

    AUTO_FOCUS = "#tracking"
    BINDINGS = [
        back_key("back", tooltip="Vider le filtre, puis fermer les filtres, puis revenir"),
        Binding("m", "message", "Écrire", tooltip="Envoyer un message"),
        # f and e are written on the filter line (show_filter_line).
        Binding("f", "toggle_filters", "Filtres", tooltip="Filtrer le suivi", show=False),
        Binding("e", "clear_filters", "Effacer", tooltip="Effacer les filtres", show=False),
        Binding("enter", "open", "Loupe", tooltip="Détail du message, ou lire la réponse"),
        AR_KEY,
        Binding("n", "resend", "Renvoi", tooltip="Renvoyer un message non délivré"),
        Binding("x", "export", "CSV", tooltip="Exporter le suivi filtré (CSV)"),
        Binding(
            "o", "open_link", "Lien", show=False,
            tooltip="Ouvrir la page du destinataire (démonstration locale seulement)",
        ),
        Binding("f5", "refresh", "Actualiser", show=False, tooltip="Relire le suivi"),
    ]  # fmt: skip

    class Shown(Message):
        """Fresh rows have been painted (benchmarks and tests wait for it)."""

    def __init__(self, consultation_id: int | None = None) -> None:
        super().__init__()
        self.query_ = TrackingQuery(consultation_id)
        self.rows: dict[int, TrackingRow] = {}  # shown, newest first
        self.replies: dict[int, tuple[ReplyLine, ...]] = {}
        self.count: int | None = None  # matching rows, once counted
        self.newest_change: datetime | None = None
        self.complete = False  # every older page loaded
        self.filter_problem: str | None = None
        self.widths: tuple[int, ...] = ()  # of the columns shown

    def compose_body(self) -> ComposeResult:
        yield Static("Chargement…", id="summary")
        yield Vertical(id="filters")  # filled on first use: it halves the time to open
        yield Static("", id="filter-line")
        table = TrackingTable(id="tracking", cursor_type="row", zebra_stripes=True, header_height=2)
        yield table

    def on_mount(self) -> None:
        self.sub_title = "Suivi des messages"
        self.query_one("#filters").display = False
        self.set_columns(self.app.size.width)
        # The account is known once the store is open (another screen's first read may still
        # be opening it): nothing is read before the query is scoped to it (issue 19).
        if self.app.signed_in:
            self.scoped(self.app.account)
        else:
            self.store_task(lambda _store: (self.app.account,), lambda found: self.scoped(*found),
                            group="account")  # fmt: skip

    def scoped(self, account: Account | None) -> None:
        """Only the consultations `account` sees, across consultations too; then read."""
        self.query_ = replace(self.query_, account=account)
        self.action_refresh()
        self.set_interval(POLL_SECONDS, self.poll)

    def filter_widgets(self) -> ComposeResult:
        with Horizontal():
            yield Select(
                [(kind.label, kind) for kind in MessageType],
                prompt="Type de message",
                id="filter-type",
                compact=True,
            )
            yield Select(
                [(status.label, status) for status in RecipientStatus],
                prompt="Statut",
                id="filter-status",
                compact=True,
            )
            yield Select(
                [],
                prompt="Lot",
                id="filter-lot",
                compact=True,
                disabled=self.query_.consultation_id is None,
            )
        with Horizontal():
            yield Input(placeholder="Entreprise ou adresse", id="filter-company", compact=True)
            yield Input(placeholder="Du JJ/MM/AAAA", id="filter-from", compact=True)
            yield Input(placeholder="Au JJ/MM/AAAA", id="filter-to", compact=True)
            yield Input(placeholder="Mots de l'objet ou du texte", id="filter-text", compact=True)

    def load_lots(self) -> None:
        from messagerie.models.consultations.detail import consultation_detail

        cid = self.query_.consultation_id
        assert cid is not None
        self.store_task(
            lambda store: consultation_detail(store, cid).lots,
            lambda lots: self.query_one("#filter-lot", Select).set_options(
                [(literal(f"Lot n°{number} - {title}"), number) for number, title in lots]
            ),
            group="lots",
        )

    # --- columns sized to the terminal ------------------------------------------------------

    @property
    def across(self) -> bool:
        """The view across consultations: each row says its consultation's reference."""
        return self.query_.consultation_id is None

    def set_columns(self, width: int) -> None:
        """The two text columns share what the status, the deadline (and the reference)
        leave."""
        shown = (REFERENCE, *COLUMNS) if self.across else COLUMNS
        fixed = {**FIXED_WIDTHS, "reference": min(16, max(10, width // 8))}
        taken = sum(fixed[key] for _, key in shown if key in fixed)
        free = max(24, width - taken - 2 * len(shown) - 2)
        recipient = max(12, free - free * 11 // 20)  # "Destinataire", never cut in two
        sizes = {**fixed, "message": free - recipient, "recipient": recipient}
        widths = tuple(sizes[key] for _, key in shown)
        table = self.query_one(DataTable)
        if table.columns and widths == self.widths:
            return
        self.widths = widths
        table.clear(columns=True)
        for label, key in shown:
            table.add_column(label, key=key, width=sizes[key])
        self.redraw()

    def on_resize(self, event: events.Resize) -> None:
        self.set_columns(event.size.width)

    # --- loading ----------------------------------------------------------------------------

    def fetch(
        self,
        read: Callable[[Store, TrackingQuery], tuple[TrackingRow, ...]],
        show: Callable[[Fetched], object],
        group: str,
    ) -> None:
        """Rows read for the current filters, with their replies, handed to `show` with the
        filters they were read for (a late answer to older filters is dropped there)."""
        query = self.query_

        def load(store: Store) -> Fetched:
            rows = read(store, query)
            return Fetched(query, rows, replies_of(store, [r.recipient_id for r in rows]))

        self.store_task(load, show, group=group)

    def action_refresh(self) -> None:
        self.count = None
        self.fetch(tracking_page, self.show_first, "store")

    def load_count(self) -> None:
        """Counting every match costs more than the first page: it starts once that page is
        painted, not beside it."""
        query = self.query_
        self.store_task(
            lambda store: (query, tracking_count(store, query)),
            lambda found: self.show_count(*found),
            group="count",
        )

    def show_count(self, query: TrackingQuery, count: int) -> None:
        if query == self.query_:
            self.count = count
            self.show_filter_line()

    def show_first(self, fetched: Fetched) -> None:
        if fetched.query != self.query_:
            return  # the filters moved on meanwhile
        rows = fetched.rows
        self.rows = {row.recipient_id: row for row in rows}
        self.replies = fetched.replies
        self.complete = len(rows) < PAGE
        self.newest_change = newest(self.newest_change, rows)  # a new read misses no older change
        self.redraw()
        self.call_after_refresh(self.post_message, self.Shown())
        self.call_after_refresh(self.load_count)

    def load_more(self) -> None:
        if self.complete or not self.rows:
            return
        oldest = min(self.rows)
        self.fetch(
            lambda store, query: tracking_page(store, query, before=oldest),
            self.show_more,
            "tracking-more",
        )

    def show_more(self, fetched: Fetched) -> None:
        if fetched.query != self.query_:
            return
        self.complete = len(fetched.rows) < PAGE
        self.replies.update(fetched.replies)
        table = self.query_one(DataTable)
        for row in fetched.rows:
            if row.recipient_id not in self.rows:
                self.rows[row.recipient_id] = row
                self.add_rows(table, row)
        self.show_filter_line()

    def add_rows(self, table: DataTable[Text], row: TrackingRow) -> None:
        # Heights given: measuring 100 rows' cells costs 70 ms.
        lead = (lines(row.reference),) if self.across else ()
        cells = row_cells(row)
        table.add_row(*lead, *cells, height=height_of(cells), key=str(row.recipient_id))
        for line in self.replies.get(row.recipient_id, ()):
            lead = (lines(),) if self.across else ()
            cells = reply_cells(line)
            table.add_row(*lead, *cells, height=height_of(cells), key=f"reply-{line.id}")

    def redraw(self) -> None:
        """Rebuild the table from `rows`, keeping the cursor on the same line."""
        table = self.query_one(DataTable)
        if not table.columns:
            return
        key = self.cursor_key()
        table.clear()
        for row in self.rows.values():
            self.add_rows(table, row)
        if key is not None and key in table.rows:
            table.move_cursor(row=table.get_row_index(key))
        self.show_filter_line()
        self.show_summary()

    # --- live -------------------------------------------------------------------------------

    def poll(self) -> None:
        if not self.is_current:
            return
        if self.newest_change is None:
            self.action_refresh()  # nothing shown yet: the first message may arrive
            return
        since = self.newest_change
        # Of any status: a row shown may have left the status filtered on (a reply read
        # leaves « Réponse non lue »), and `merge` takes it out.
        self.fetch(
            lambda store, query: changed_since(store, replace(query, status=None), since),
            self.merge,
            "poll",
        )

    def merge(self, fetched: Fetched) -> None:
        if fetched.query != self.query_:
            return
        # Every change read counts, shown or not: a watermark from the rows shown alone
        # stayed behind changes to the others, and read them again at every poll.
        self.newest_change = newest(self.newest_change, fetched.rows)
        if len(fetched.rows) >= PAGE:
            # More changed than one read holds (a send to hundreds, or the buyer was on
            # another screen): the oldest changes were left out, so read the table again.
            self.action_refresh()
            return
        replies = fetched.replies
        moved = [
            row
            for row in fetched.rows
            if self.rows.get(row.recipient_id) != row
            or replies.get(row.recipient_id, ()) != self.replies.get(row.recipient_id, ())
        ]
        if not moved:
            return
        recount = False
        for row in moved:
            placed = self.place(row, replies.get(row.recipient_id, ()), fetched.query.status)
            recount = recount or not placed
        self.rows = dict(sorted(self.rows.items(), reverse=True))
        self.redraw()
        if recount:
            self.count = None
            self.load_count()

    def place(
        self, row: TrackingRow, replies: tuple[ReplyLine, ...], wanted: RecipientStatus | None
    ) -> bool:
        """Show, move or take out a changed row; False when the count of matching rows can
        no longer be told from the rows shown (it entered or left the status filtered on
        beyond the pages loaded)."""
        key = row.recipient_id
        loaded = self.complete or key >= min(self.rows, default=key)
        if wanted is not None and row.status is not wanted:
            if self.rows.pop(key, None) is not None:  # it left the filter
                self.replies.pop(key, None)
                self.count = None if self.count is None else self.count - 1
                return True
            return loaded  # within the pages loaded, it was not shown: not counted either
        if key not in self.rows and loaded:
            # A new recipient, or one that came into the status filtered on: rows between
            # the newest and the oldest shown are all loaded, so it was not counted.
            self.count = None if self.count is None else self.count + 1
        elif key not in self.rows:
            return wanted is None  # older than the pages loaded: shown when they are
        self.rows[key] = row
        self.replies[key] = replies
        return True

    # --- filters ----------------------------------------------------------------------------

    async def action_toggle_filters(self) -> None:
        panel = self.query_one("#filters")
        if not panel.children:
            await panel.mount_compose(self.filter_widgets())
            if self.query_.consultation_id is not None:
                self.load_lots()
        panel.display = not panel.display
        if panel.display:
            focus_now(self.query_one("#filter-type"))
        else:
            focus_now(self.query_one(DataTable))

    def action_back(self) -> None:
        """Échap, one step at a time: empties the filter field under the cursor, then closes
        the filters (those set stay applied), then leaves."""
        panel = self.query_one("#filters")
        field = self.focused
        if field is not None and panel in field.ancestors:
            if isinstance(field, Input) and field.value:
                field.value = ""  # applied as any typing is
                return
            if isinstance(field, Select) and not field.is_blank():
                field.clear()
                return
        if panel.display:
            panel.display = False
            focus_now(self.query_one(DataTable))
            return
        self.app.pop_screen()

    def action_clear_filters(self) -> None:
        if not self.query_one("#filters").children:
            return  # never opened: nothing to clear
        for select in self.query("#filters Select").results(Select):
            select.clear()
        for field in self.query("#filters Input").results(Input):
            field.value = ""
        self.apply_filters()

    @on(Select.Changed)
    def select_changed(self) -> None:
        self.apply_filters()

    @on(Input.Changed)
    def input_changed(self, event: Input.Changed) -> None:
        if event.input.id and event.input.id.startswith("filter-"):
            self.set_timer(FILTER_DELAY, self.apply_filters, name="filter")

    def apply_filters(self) -> None:
        def chosen(selector: str):  # type: ignore[no-untyped-def]
            select = self.query_one(selector, Select)
            return None if select.is_blank() else select.value

        def typed(selector: str) -> str:
            return self.query_one(selector, Input).value

        try:
            query = replace(
                self.query_,
                message_type=chosen("#filter-type"),
                status=chosen("#filter-status"),
                lot_number=chosen("#filter-lot"),
                company=typed("#filter-company"),
                sent_from=paris_day(typed("#filter-from")),
                sent_to=paris_day(typed("#filter-to")),
                text=typed("#filter-text"),
            )
            query.check_days()
        except (ValueError, ValidationFailed) as problem:
            self.filter_problem = str(problem)
            self.show_filter_line()
            return
        self.filter_problem = None
        if query != self.query_:
            self.query_ = query
            self.newest_change = None
            self.action_refresh()
        else:
            self.show_filter_line()

    def show_filter_line(self) -> None:
        line = Text()
        if self.filter_problem:
            line.append(self.filter_problem, style="bold red")
            line.append(" Les lignes suivent encore les filtres précédents. · ")
        counted = "… ligne(s)" if self.count is None else f"{self.count} ligne(s)"
        line.append(counted + (" filtrée(s)" if self.query_.filtered() else ""), style="bold")
        line.append(" · f : filtres · e : effacer" if self.query_.filtered() else " · f : filtrer")
        self.query_one("#filter-line", Static).update(literal(line))

    # --- the line under the cursor ----------------------------------------------------------

    def cursor_key(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    @property
    def current(self) -> TrackingRow | None:
        """The recipient of the line under the cursor (a reply's line gives its recipient)."""
        key = self.cursor_key()
        if key is None:
            return None
        if key.startswith("reply-"):
            reply_id = int(key.removeprefix("reply-"))
            for recipient_id, lines_ in self.replies.items():
                if any(line.id == reply_id for line in lines_):
                    return self.rows.get(recipient_id)
            return None
        return self.rows.get(int(key))

    def chosen(self, title: str) -> TrackingRow | None:
        """`current`, or None after telling the buyer there is no line to act on (a key
        shown in the footer never does nothing)."""
        row = self.current
        if row is None:
            self.notify("Aucune ligne sélectionnée : ce suivi n'affiche aucun message.",
                        title=title, timeout=6)  # fmt: skip
        return row

    def current_reply(self) -> ReplyLine | None:
        key = self.cursor_key()
        if key is None or not key.startswith("reply-"):
            return None
        reply_id = int(key.removeprefix("reply-"))
        return next(
            (line for lines_ in self.replies.values() for line in lines_ if line.id == reply_id),
            None,
        )

    def on_data_table_row_selected(self) -> None:
        self.action_open()  # Entrée on the table

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_summary()
        if event.cursor_row >= event.data_table.row_count - 5:
            self.load_more()

    def show_summary(self) -> None:
        row = self.current
        if row is None:
            empty = (
                "Aucun message ne correspond aux filtres (e : les effacer)."
                if self.query_.filtered()
                else "Aucun message dans ce suivi."
            )
            self.query_one("#summary", Static).update(empty)
            return
        self.store_task(
            lambda store: (row, message_summary(store, row.message_id, actor=self.app.actor)),
            lambda found: self.summary(*found),
            group="summary",
        )

    def summary(self, row: TrackingRow, counts: MessageSummary) -> None:
        plural = "s" if counts.recipients > 1 else ""
        self.query_one("#summary", Static).update(
            literal(
                Text.assemble(
                    ("Message sélectionné : ", "bold"),
                    f"{counts.recipients} destinataire{plural} · {counts.text()}\n",
                    (row.reference, "bold"),
                    f" · {row.type.label} · {row.subject}",
                )
            )
        )

    # --- actions ----------------------------------------------------------------------------

    def action_open(self) -> None:
        reply = self.current_reply()
        if reply is not None:
            self.app.open_reply(reply.id, lambda _: self.poll())
            return
        row = self.current
        if row is not None:
            self.app.open_message(row.message_id, row.recipient_id)

    def action_message(self) -> None:
        """ "Envoyer un message" from the consultation's tracking, as on the platform."""
        cid = self.query_.consultation_id
        if cid is None:
            self.notify(
                "Choisissez d'abord une consultation (Échap, puis e sur sa ligne).",
                title="Envoyer un message",
            )
            return
        self.app.open_form(cid)

    def action_ar(self) -> None:
        row = self.chosen("Télécharger l'AR (PDF)")
        if row is not None:
            download_ar(self, row.recipient_id)

    def action_export(self) -> None:
        from messagerie.models.messages.detail import export_csv

        query = self.query_

        def write(path: Path, failed: WriteFailed) -> None:
            self.store_task(
                lambda store: export_csv(store, query, path),
                lambda count: notify_literal(
                    self, f"{count} ligne(s) exportée(s) dans « {path} ».", title="Export CSV"
                ),
                lambda refusal: failed(str(refusal)),
                group="export",
                notify=False,  # the dialog opens again with the problem under the path
            )

        ask_for_path(
            self, "Exporter le suivi (CSV)", "Enregistrer le suivi filtré sous :",
            "suivi-des-messages.csv", write,
        )  # fmt: skip

    def action_resend(self) -> None:
        row = self.chosen("Renvoyer")
        if row is None:
            return
        if row.status is not RecipientStatus.NOT_DELIVERED:
            self.notify(
                "Seul un message non délivré peut être renvoyé.", title="Renvoyer", timeout=6
            )
            return
        from messagerie.models.messages.detail import resend
        from messagerie.models.rules.validation import ValidationFailed, check_email

        actor = self.app.actor

        def send(answer: str) -> str | None:
            try:
                check_email(answer, field="email")
            except ValidationFailed as problem:
                return str(problem)  # the dialog opens again with what was typed
            self.store_task(
                lambda store: resend(store, row.recipient_id, actor=actor, email=answer),
                lambda _: self.resent(answer),
                group="resend",
            )
            return None

        ask_until_valid(
            self,
            "Renvoyer",
            f"Renvoyer « {row.type.label} » à (corrigez l'adresse si elle était fausse) :",
            row.email,
            send,
        )

    def resent(self, address: str) -> None:
        notify_literal(self, f"Renvoi à « {address} » mis en file d'envoi.", title="Renvoyer")
        self.app.wake_outbox()
        self.action_refresh()

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
        base = self.app.settings().link_base
        actor = self.app.actor
        self.store_task(
            lambda store: f"{base}/m/{recipient_token(store, row.recipient_id, actor=actor)}",
            self.show_link,
            group="link",
        )

    def show_link(self, link: str) -> None:
        self.app.push_screen(
            LinkDialog(
                "Page du destinataire (démonstration)",
                "Lien personnel du destinataire, ouvert dans le navigateur s'il y en a un :",
                link,
            )
        )
        self.run_worker(lambda: _open_in_browser(link), thread=True, group="browser")


def _open_in_browser(link: str) -> None:
    import webbrowser

    with contextlib.suppress(webbrowser.Error):  # no browser (SSH, server): the link is shown
        webbrowser.get().open(link)
