"""The "tableau de bord": search, "Statuts" bar chart (also the status filter), paged results."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from messagerie.models.consultations.views import (
    PAGE_SIZES,
    ConsultationSummary,
    DashboardPage,
    DashboardQuery,
)
from messagerie.models.formatting import count, paris_minutes
from messagerie.models.store.enums import ConsultationStatus
from messagerie.screens.base import StoreScreen
from messagerie.screens.rights import RightsChecked
from messagerie.screens.widgets import filter_row, focus_now, literal, notify_literal

if TYPE_CHECKING:
    from messagerie.models.store.accounts import Account
    from messagerie.tui.app import MessagerieApp

ALL_STATUSES = "all"
BAR_WIDTH = 14
BAR_EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar(value: int, largest: int, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of `width` cells for value/largest, drawn to the eighth of a cell."""
    eighths = round(width * 8 * value / largest) if largest else 0
    if value and not eighths:
        eighths = 1
    full, rest = divmod(eighths, 8)
    return ("█" * full + (BAR_EIGHTHS[rest] if rest else "")).ljust(width)


class StatusChart(OptionList):
    """The "Statuts" panel: one bar per status; choosing one filters the results."""

    BINDINGS = [Binding("enter", "select", "Filtrer", show=False)]

    shown: tuple[dict[ConsultationStatus, int], ConsultationStatus | None] | None = None

    def show_counts(self, counts: dict[ConsultationStatus, int], chosen: ConsultationStatus | None):
        self.shown = (counts, chosen)
        highlighted = self.highlighted
        largest = max(counts.values(), default=0)
        # The bar leaves room for the count on its line: a narrow panel gets a shorter bar,
        # never a count cut across two lines.
        width = min(BAR_WIDTH, self.scrollable_content_region.width - 3 - len(count(largest)))
        options = [
            Option(self._label("Tous les statuts", sum(counts.values()), None), ALL_STATUSES)
        ]
        options += [
            Option(
                self._label(status.label, counts[status], largest, status == chosen, width),
                status.value,
            )
            for status in ConsultationStatus
        ]
        self.set_options(options)
        self.highlighted = highlighted if highlighted is not None else 0

    def on_resize(self) -> None:
        if self.shown is not None:
            self.show_counts(*self.shown)

    @staticmethod
    def _label(
        name: str, number: int, largest: int | None, chosen: bool = False, width: int = BAR_WIDTH
    ) -> Text:
        mark = "▶ " if chosen else ""
        text = Text(f"{mark}{name}", style="bold" if chosen else "")
        if largest is None:
            text.append(" · ")
        else:
            text.append("\n")
            if width > 0:
                text.append(bar(number, largest, width), style="cyan")
                text.append(" ")
        text.append(count(number), style="bold")
        return text


def consultation_text(item: ConsultationSummary, detailed: bool, expanded: bool) -> Text:
    """One consultation: "REFERENCE | Intitulé", its details on demand, its registers."""
    text = Text()
    identity = item.identity
    text.append(identity.reference_and_title, style="bold")
    if detailed:
        text.append(f"\n{item.status.label} · {item.procedure.label}", style="dim")
    else:  # the detailed view always shows everything
        toggle = "− Moins d'informations" if expanded else "+ Plus d'informations"
        text.append(f"\n{toggle}", style="underline")
    if detailed or expanded:
        text.append(f"\nObjet : {identity.object}")
        text.append(
            f"\nDate et heure limite de remise des plis : {paris_minutes(item.bid_deadline)}"
        )
        text.append("\nLots : " + ("; ".join(item.lots) if item.lots else "non alloti"))
        text.append(f"\nOrganisme | Entité d'achat : {identity.publisher}")
    text.append(
        f"\nRetraits ({item.withdrawals}) | Questions ({item.questions}) | "
        f"Dépôts ({item.deposits})",
        style="italic",
    )
    return literal(text)


class ResultsList(RightsChecked, OptionList):
    """The page of consultations, as one widget (ten widgets per page made start-up slower)."""

    BINDINGS = [
        Binding(
            "plus,i",
            "toggle_details",
            "Infos",
            key_display="+",
            tooltip="Plus d'informations",
            show=False,
        ),
        Binding("d", "open('details')", "Détails", tooltip="Détails (ou Entrée)"),
        Binding("q", "open('questions')", "Questions", tooltip="Questions"),
        Binding("m", "open('modify')", "Modifier", tooltip="Modifier (DCE)"),
        Binding(
            "e",
            "open('messaging')",
            "Messagerie",
            tooltip="Messagerie sécurisée : suivi des messages (m : envoyer un message)",
        ),
        Binding("home", "screen.first_page", "Première page", show=False),
        Binding("end", "screen.last_page", "Dernière page", show=False),
    ]

    def __init__(self, id: str) -> None:
        super().__init__(id=id)
        self.items: tuple[ConsultationSummary, ...] = ()
        self.detailed = False
        self.expanded: set[int] = set()

    def show(self, items: tuple[ConsultationSummary, ...], detailed: bool) -> None:
        """Show a page; the highlighted row stays where it was when the page allows."""
        position = self.highlighted or 0
        self.items, self.detailed = items, detailed
        self.expanded &= {item.id for item in items}
        options: list[Option | None] = []
        for item in items:
            if options:
                options.append(None)  # a separator line
            options.append(Option(self._text(item), id=str(item.id)))
        self.set_options(options)
        self.highlighted = min(position, len(items) - 1) if items else None

    def _text(self, item: ConsultationSummary) -> Text:
        return consultation_text(item, self.detailed, item.id in self.expanded)

    @property
    def current(self) -> ConsultationSummary | None:
        if self.highlighted is None or not self.items:
            return None
        option_id = self.get_option_at_index(self.highlighted).id
        return next(item for item in self.items if str(item.id) == option_id)

    def action_toggle_details(self) -> None:
        item = self.current
        if item is None:
            return
        self.expanded ^= {item.id}
        self.replace_option_prompt(str(item.id), self._text(item))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open("details")

    def action_open(self, action: str) -> None:
        """The consultation's actions; their screens are imported when first used."""
        item = self.current
        if item is None:
            return
        consultation_id = item.id
        app = cast("MessagerieApp", self.app)
        if action == "details":
            app.open_consultation(consultation_id)
        elif action == "questions":
            from messagerie.models.store.enums import RegisterKind

            app.open_registers(consultation_id, RegisterKind.QUESTION)
        elif action == "modify":
            app.open_dce(consultation_id)
        elif action == "messaging":  # as on the platform: the tracking, then "Envoyer"
            app.open_tracking(consultation_id)


class DashboardScreen(StoreScreen[None]):
    """Tableau de bord des consultations."""

    TITLE = "Tableau de bord"
    AUTO_FOCUS = "#results"
    FIELD_KEYS = frozenset({"focus_search"})
    # The footer holds the row's actions, the global tracking and F1 (80 columns); the other
    # keys are shown where they act (search label, panel titles), all in the keys' window (F1)
    # and the palette (^p), which uses the tooltip: the platform's full label.
    BINDINGS = [
        Binding(
            "slash", "focus_search", "Chercher", key_display="/", tooltip="Rechercher",
            show=False, priority=True,
        ),
        Binding(
            "pagedown", "next_page", "Suiv.", key_display="PgSuiv", priority=True,
            tooltip="Page suivante", show=False,
        ),
        Binding(
            "pageup", "previous_page", "Préc.", key_display="PgPréc", priority=True,
            tooltip="Page précédente", show=False,
        ),
        Binding(
            "s", "focus_statuses", "Statuts", tooltip="Statuts : filtrer par statut", show=False
        ),
        Binding(
            "r", "toggle_page_size", "10/20", tooltip="Résultats par page : 10 / 20", show=False
        ),
        Binding("v", "toggle_view", "Vue", tooltip="Vue liste / Vue détaillée", show=False),
        Binding(
            "c", "accounts", "Comptes", tooltip="Comptes de l'organisation", show=False
        ),
        Binding(
            "u", "demo_account", "Compte", show=False,
            tooltip="Démonstration : l'ouvrir sous un autre compte",
        ),
        Binding(
            "a", "all_tracking", "Suivi",
            tooltip="Suivi des messages de toutes les consultations",
        ),
        Binding(
            "escape", "clear_filters", "Effacer", key_display="Échap",
            tooltip="Effacer les filtres", show=False,
        ),
        *(
            Binding(str(digit), f"filter_status({digit})", label, show=False)
            for digit, label in enumerate(
                ["Tous les statuts", *(status.label for status in ConsultationStatus)]
            )
        ),
    ]  # fmt: skip

    request: reactive[DashboardQuery] = reactive(DashboardQuery, init=False)
    detailed: reactive[bool] = reactive(False, init=False)

    def __init__(self) -> None:
        super().__init__()
        self.page: DashboardPage | None = None

    def action_all_tracking(self) -> None:
        self.app.open_tracking()

    def action_accounts(self) -> None:
        self.app.open_accounts()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "demo_account" and not self.app.demo_accounts:
            return False  # not the demo's store: no such key
        return super().check_action(action, parameters)

    def action_demo_account(self) -> None:
        from messagerie.screens.dialogs import ChoiceDialog  # not needed for the first frame

        choices = [(one.login, one.describe()) for one in self.app.demo_accounts]
        prompt = "La démonstration telle que la voit le compte choisi (organisations, droits) :"
        self.app.push_screen(
            ChoiceDialog("Compte de démonstration", prompt, choices, self.app.actor),
            self.switch_account,
        )

    @work(thread=True, group="sign-in")
    def switch_account(self, login: str | None) -> None:
        if login is None or login == self.app.actor:
            return
        account = self.app.store_call(lambda store: self.app.sign_in_as(store, login))
        if account is not None:
            self.app.call_from_thread(self.account_switched, account)

    def account_switched(self, account: Account) -> None:
        self.app.account_switched(account)
        notify_literal(self.app, account.describe(), title="Démonstration : compte changé")
        self.load(self.request)

    def compose_body(self) -> ComposeResult:
        yield from filter_row(
            "search", "Rechercher (/) :", "référence, intitulé, objet, entité d'achat"
        )
        yield Static("", id="summary")
        with Horizontal(id="body"):
            with Vertical(id="statuses-panel"):
                yield StatusChart(id="statuses")
            yield ResultsList(id="results")

    def on_mount(self) -> None:
        # 0 for every status, then one digit per status: the keys the bindings above give.
        last = len(ConsultationStatus)
        self.query_one("#statuses-panel").border_title = f"Statuts (s, 0-{last})"
        self.query_one("#results").border_title = "Chargement…"
        cached = self.app.cached_start_page()
        if cached is not None:
            self.show_page(cached, stale=True)
            # Opening the store is import-heavy: let the cached page be painted before it starts.
            self.call_after_refresh(self.load, self.request)
        else:  # nothing to paint but "Chargement…": the store's page is the one awaited
            self.load(self.request)

    # Loading ------------------------------------------------------------------------------

    def watch_request(self, query: DashboardQuery) -> None:
        self.load(query)

    @work(thread=True, exclusive=True, group="dashboard")
    def load(self, query: DashboardQuery) -> None:
        # Imported here, in the worker: SQLAlchemy need not delay the first frame (issue 18).
        first = query == DashboardQuery()
        # The page read by the child `messagerie` forked at start (tui/prefetch.py), if any.
        page = self.app.prefetched_start_page() if first else None
        prefetched = page is not None
        if page is None:
            from messagerie.models.consultations.dashboard import dashboard_page

            page = self.app.store_call(
                lambda store: dashboard_page(store, query, account=self.app.account)
            )
            if page is None:
                return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show_page, page)
        if first:  # once shown: writing it (synced to disk) must not delay the page
            self.app.remember_start_page(page)
        if prefetched:  # once it is painted, sign in as without the child (tui/prefetch.py)
            self.app.call_from_thread(self.call_after_refresh, self.sign_in)

    @work(thread=True, group="sign-in")
    def sign_in(self) -> None:
        """Open the store and check the account (a refusal ends the app), show its rights."""
        self.app.store_call(lambda store: None)

    def show_page(self, page: DashboardPage, stale: bool = False) -> None:
        """Show a page of results; a stale one (from the last run) is marked as such."""
        self.page = page
        query = page.query
        self.query_one("#summary", Static).update(self._summary_text(page))
        self.query_one(StatusChart).show_counts(page.status_counts, query.status)
        results = self.query_one(ResultsList)
        results.show(page.items, self.detailed)
        results.border_title = f"{count(page.total)} Résultats de recherche"
        results.border_subtitle = f"Page {query.page} sur {page.page_count}" + (
            " · actualisation…" if stale else ""
        )
        self.call_after_refresh(self.post_message, self.PageShown(stale))

    class PageShown(Message):
        """Posted once a page of results has been painted (tests and benchmarks wait for it)."""

        def __init__(self, stale: bool) -> None:
            super().__init__()
            self.stale = stale

    def _summary_text(self, page: DashboardPage) -> Text:
        query = page.query
        text = Text("Résultats par page :")
        for size in PAGE_SIZES:
            text.append(f" {size}", style="reverse bold" if size == query.per_page else "")
        text.append("    ")
        text.append("Vue liste", style="" if self.detailed else "reverse bold")
        text.append(" | ")
        text.append("Vue détaillée", style="reverse bold" if self.detailed else "")
        return text

    # Actions ------------------------------------------------------------------------------

    def _go_to(self, page: Callable[[DashboardPage], int]) -> None:
        if self.page is not None:
            target = min(max(page(self.page), 1), self.page.page_count)
            if target != self.request.page:
                self.request = self.request.but(page=target)

    def action_next_page(self) -> None:
        self._go_to(lambda page: page.query.page + 1)

    def action_previous_page(self) -> None:
        self._go_to(lambda page: page.query.page - 1)

    def action_first_page(self) -> None:
        self._go_to(lambda page: 1)

    def action_last_page(self) -> None:
        self._go_to(lambda page: page.page_count)

    def action_toggle_page_size(self) -> None:
        sizes = PAGE_SIZES
        self.set_page_size(sizes[(sizes.index(self.request.per_page) + 1) % len(sizes)])

    def set_page_size(self, size: int) -> None:
        self.request = self.request.but(per_page=size)

    def action_toggle_view(self) -> None:
        self.detailed = not self.detailed

    def watch_detailed(self) -> None:
        if self.page is not None:
            self.show_page(self.page)

    def action_focus_search(self) -> None:
        focus_now(self.query_one("#search", Input))

    def action_focus_statuses(self) -> None:
        focus_now(self.query_one(StatusChart))

    def action_filter_status(self, index: int) -> None:
        self.filter_status(list(ConsultationStatus)[index - 1] if index else None)

    def filter_status(self, status: ConsultationStatus | None) -> None:
        self.request = self.request.but(status=status)

    def action_clear_filters(self) -> None:
        self.query_one("#search", Input).value = ""
        self.request = DashboardQuery(per_page=self.request.per_page)

    @on(Input.Changed, "#search")
    def search_changed(self, event: Input.Changed) -> None:
        if event.value != self.request.text:
            self.request = self.request.but(text=event.value)

    @on(Input.Submitted, "#search")
    def search_submitted(self) -> None:
        focus_now(self.query_one(ResultsList))

    @on(OptionList.OptionSelected, "#statuses")
    def status_chosen(self, event: OptionList.OptionSelected) -> None:
        choice = event.option.id
        self.filter_status(None if choice == ALL_STATUSES else ConsultationStatus(choice))

    def palette_commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        """Palette entries beyond the key bindings, under the platform's labels."""
        for size in PAGE_SIZES:
            yield (
                f"Résultats par page : {size}",
                "Nombre de consultations par page",
                lambda size=size: self.set_page_size(size),
            )
        yield (
            "Vue liste",
            "Une consultation par bloc court",
            lambda: setattr(self, "detailed", False),
        )
        yield (
            "Vue détaillée",
            "Toutes les informations de chaque consultation",
            lambda: setattr(self, "detailed", True),
        )
        for status in (None, *ConsultationStatus):
            label = status.label if status else "Tous les statuts"
            yield (
                f"Statut : {label}",
                "Filtrer le tableau de bord par statut",
                lambda status=status: self.filter_status(status),
            )
