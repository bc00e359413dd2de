""" "Rejets en nombre" (mail-merge): the analysis file of a consultation gives, in one action,
a personalised rejection message and letter for every non-retained bidder of a lot."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Input, ProgressBar, Select, Static

from messagerie.letters.pdf.merge import (
    MergeLine,
    left_out,
    lot_bidders,
    lot_of,
    plan_rejections,
    queue_rejections,
)
from messagerie.models.clock import paris_today
from messagerie.models.errors import Refusal, os_problem
from messagerie.models.messages.form import ComposeContext, load_context
from messagerie.models.messages.merge import (
    AnalysisRow,
    Bidder,
    left_out_warning,
    ranked_first,
    read_analysis,
    rows_by_lot,
)
from messagerie.models.messages.queue import QueuedMessage
from messagerie.models.messages.rejections import ask_again, rejected_again, rejected_before
from messagerie.screens.base import StoreScreen
from messagerie.screens.dialogs import TextDialog
from messagerie.screens.widgets import Table, back_key, cell, harmless, literal


def french_number(value: Decimal | None) -> str:
    """ "18,5" (babel, fr_FR); "—" when the offer was not scored."""
    from babel.numbers import format_decimal

    return "—" if value is None else format_decimal(value, locale="fr_FR")


def letter_preview(line: MergeLine) -> Text:
    """What the letter says to this bidder, field by field."""
    letter = line.letter
    text = Text()
    for label, value in (
        ("Destinataire", f"{letter.company} <{line.recipient.email}>"),
        ("Lot", ", ".join(letter.lots) or "—"),
        ("Classement", f"{letter.rank_text} sur {letter.ranked_offers}" if letter.rank else "—"),
        ("Note", french_number(letter.score)),
        ("Motifs du rejet", letter.reasons),
        ("Attributaire", letter.awardee or "—"),
        ("Motifs du choix", letter.award_reasons or "—"),
        ("Signature possible à partir du",
         letter.signing_from.strftime("%d/%m/%Y") if letter.signing_from else "—"),
    ):  # fmt: skip
        text.append(f"{label} : ", style="bold")
        text.append(f"{value}\n")
    return literal(text)


def ask_to_send(rejected: dict[str, datetime], omitted: tuple[str, ...]) -> str:
    """The warning of the first Ctrl+E: who would get no letter, or a second one (the screen
    names them above its table)."""
    if not omitted:
        return ask_again(rejected)
    asked = f"{len(omitted)} entreprise(s) du registre des dépôts ne recevraient aucun courrier"
    if rejected:
        asked += f", {len(rejected)} un second courrier de rejet"
    return asked + " : Ctrl+E de nouveau pour envoyer quand même."


class MergeScreen(StoreScreen[None]):
    AUTO_FOCUS = "#path"
    # A refused file may list 20 faults: they scroll, the table keeps a few lines.
    DEFAULT_CSS = """
    MergeScreen #merge-problems {
        height: auto;
        max-height: 60%;
    }
    """
    BINDINGS = [
        back_key(),
        Binding("f2", "preview", "Aperçu", tooltip="Aperçu du courrier de l'entreprise choisie"),
        Binding(
            "ctrl+e", "queue", "Tout envoyer", key_display="^e", priority=True,
            tooltip="Mettre en file tous les courriers de rejet du lot",
        ),
    ]  # fmt: skip

    def __init__(self, consultation_id: int) -> None:
        super().__init__()
        self.consultation_id = consultation_id
        self.context: ComposeContext | None = None
        self.bidders: tuple[Bidder, ...] = ()  # the dépôts, with their lots
        self.lots: dict[str, tuple[AnalysisRow, ...]] = {}
        self.lines: tuple[MergeLine, ...] = ()
        self.busy = False
        # The lines' addresses a rejection of this lot already went to (None: being read), and
        # whether the buyer confirmed sending them a second one.
        self.rejected: dict[str, datetime] | None = {}
        self.confirmed = False
        self.warnings: tuple[str, ...] = ()  # shown above the table, confirmed by a 2nd Ctrl+E
        # The bidders of the lot the file leaves out: they get no letter, the buyer confirms.
        self.left_out: tuple[str, ...] = ()
        self.lot_number: int | None = None  # the chosen lot's
        self.refused = False  # a refusal is shown: Ctrl+E says so

    def compose_body(self) -> ComposeResult:
        with Vertical(id="merge"):
            yield Static("Fichier d'analyse CSV (entreprise;lot;note;rang;motifs), puis Entrée :")
            yield Input(placeholder="/chemin/analyse.csv", id="path", compact=True)
            with Horizontal(id="merge-choices"):
                yield Select([], prompt="Lot", id="lot", compact=True)
                yield Select([], prompt="Entreprise retenue", id="retained", compact=True)
            with VerticalScroll(id="merge-problems", can_focus=False):
                yield Static("", id="merge-problem")
            table: DataTable[Text] = Table(id="bids", cursor_type="row", zebra_stripes=True)
            table.add_columns("Entreprise", "Adresse (dépôts)", "Rang", "Note", "Motifs du rejet")
            yield table
            yield ProgressBar(id="progress", show_eta=False)

    def on_mount(self) -> None:
        self.sub_title = "Rejets en nombre"
        self.query_one("#progress").display = False
        cid, account, actor = self.consultation_id, self.app.account, self.app.actor
        self.store_task(
            lambda store: (load_context(store, cid, account), lot_bidders(store, cid, actor=actor)),
            self.loaded,
        )

    def loaded(self, loaded: tuple[ComposeContext, tuple[Bidder, ...]]) -> None:
        context, self.bidders = loaded
        self.context = context
        self.sub_title = harmless(f"{context.detail.identity.reference} | Rejets en nombre")

    # --- the file, the lot, the retained offer ----------------------------------------------

    @on(Input.Submitted, "#path")
    def read_file(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()

        def read(_store):  # type: ignore[no-untyped-def]
            try:
                data = path.read_bytes()
            except OSError as error:
                raise Refusal(f"Impossible de lire « {path} » : {os_problem(error)}.") from error
            return rows_by_lot(read_analysis(data))

        self.store_task(read, self.show_lots, self.problem)

    def show_lots(self, lots: dict[str, tuple[AnalysisRow, ...]]) -> None:
        self.lots = lots
        self.problem(None)
        select = self.query_one("#lot", Select)
        select.set_options(
            [(literal(f"Lot {lot}" if lot else "Marché sans lot"), lot) for lot in lots]
        )
        select.value = next(iter(lots))
        select.focus()

    @on(Select.Changed, "#lot")
    def lot_chosen(self, event: Select.Changed) -> None:
        rows = self.lots.get(event.value) if isinstance(event.value, str) else None
        if not rows:
            return
        retained = self.query_one("#retained", Select)
        retained.set_options([(literal(row.company), row.company) for row in rows])
        try:
            retained.value = ranked_first(rows).company
        except Refusal as refusal:
            self.problem(refusal)

    @on(Select.Changed, "#retained")
    def retained_chosen(self) -> None:
        self.plan()

    def plan(self) -> None:
        lot, retained = self.query_one("#lot", Select), self.query_one("#retained", Select)
        if self.context is None or lot.is_blank() or retained.is_blank():
            return
        rows, refusal = self.lots[str(lot.value)], None
        try:
            self.lines = plan_rejections(
                self.context,
                rows,
                str(retained.value),
                dated=paris_today(self.app.clock()),
                bidders=self.bidders,
            )
        except Refusal as refused:
            self.lines, refusal = (), refused
        self.lot_number = lot_of(rows)
        self.left_out = left_out(rows, self.bidders) if refusal is None else ()
        self.find_rejected()  # before the warnings: those of the previous plan are stale
        if refusal:
            self.problem(refusal)
        else:
            self.warn()
        table = self.query_one("#bids", DataTable)
        table.clear()
        for line in self.lines:
            table.add_row(
                cell(line.letter.company),
                cell(line.recipient.email),
                cell(line.letter.rank_text or "—"),
                cell(french_number(line.letter.score)),
                cell(" ".join(line.letter.reasons.split())[:60]),
            )

    def find_rejected(self) -> None:
        """Which of these bidders a rejection of the lot already went to (a second run of the
        same file would send them another, and restart the lot's standstill from it)."""
        self.rejected, self.confirmed = ({} if not self.lines else None), False
        if not self.lines:
            return
        cid, lot = self.consultation_id, self.lines[0].lot_number
        lots = () if lot is None else (lot,)
        emails, actor = [line.recipient.email for line in self.lines], self.app.actor
        self.store_task(
            lambda store: rejected_before(store, cid, lots, emails, actor=actor),
            self.show_rejected,
            self.problem,
            group="rejected",
        )

    def show_rejected(self, found: dict[str, datetime]) -> None:
        self.rejected = found
        self.warn()

    def warn(self) -> None:
        """Above the table: the bidders that would get no letter, or a second one."""
        warnings = []
        if self.left_out:
            warnings.append(left_out_warning(self.left_out, self.lot_number))
        if found := self.rejected:
            names = [
                line.letter.company for line in self.lines if line.recipient.email.lower() in found
            ]
            warnings.append(rejected_again(names, found))
        self.refused, self.warnings = False, tuple(warnings)
        self.show(literal("\n".join(warnings), style="bold yellow"))

    def problem(self, refusal: Refusal | None) -> None:
        self.refused = refusal is not None
        self.show(literal(str(refusal), style="bold red") if refusal else Text())

    def show(self, text: Text) -> None:
        self.query_one("#merge-problem", Static).update(text)
        # A Tab stop only while there is something to read (and perhaps to scroll).
        self.query_one("#merge-problems").can_focus = bool(text.plain)

    # --- preview and queue ------------------------------------------------------------------

    def action_preview(self) -> None:
        table = self.query_one("#bids", DataTable)
        if not self.lines:
            return
        line = self.lines[min(table.cursor_row, len(self.lines) - 1)]
        self.app.push_screen(TextDialog(f"Courrier de rejet — {line.letter.company}",
                                        letter_preview(line)))  # fmt: skip

    def action_queue(self) -> None:
        if self.busy or self.context is None or not self.lines:
            if not self.lines:  # a refused file is named above the table: not « chargez-le »
                said = "Aucun courrier à envoyer : corrigez d'abord le fichier (message en rouge)."
                self.notify(
                    said if self.refused else "Chargez d'abord le fichier d'analyse.",
                    title="Rejets en nombre",
                )
            return
        if self.rejected is None:  # not known yet: never a second letter unasked
            self.notify("Recherche des courriers déjà envoyés…", title="Rejets en nombre")
            return
        if (self.rejected or self.left_out) and not self.confirmed:
            self.confirmed = True
            self.notify(
                ask_to_send(self.rejected, self.left_out),
                title="Rejets en nombre",
                severity="warning",
            )
            return
        self.busy = True
        bar = self.query_one("#progress", ProgressBar)
        bar.display = True
        bar.update(total=len(self.lines), progress=0)
        context, lines = self.context, self.lines
        confirmed = self.warnings if self.confirmed else ()  # what the buyer sent despite
        actor = self.app.actor
        templates_dir = self.app.settings().templates_dir

        def advance(done: int, _total: int) -> None:
            self.app.call_from_thread(bar.update, progress=done)

        self.store_task(
            lambda store: queue_rejections(
                store,
                context,
                lines,
                actor=actor,
                progress=advance,
                templates_dir=templates_dir,
                confirmed=confirmed,
            ),
            self.queued,
            self.failed,
            group="queue",
        )

    def queued(self, queued: tuple[QueuedMessage, ...]) -> None:
        self.app.wake_outbox()
        self.app.notify(
            f"{len(queued)} courrier(s) de rejet mis en file d'envoi, chacun avec son courrier.",
            title="Rejets en nombre",
        )
        self.app.pop_screen()

    def failed(self, refusal: Refusal) -> None:
        self.busy = False
        self.query_one("#progress").display = False
        self.problem(refusal)
