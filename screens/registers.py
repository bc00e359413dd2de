"""The three registers of a consultation (retraits, questions, dépôts) and their entry form."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, DataTable, Input, Label, Static, TextArea

from messagerie.models.consultations.detail import ConsultationDetail, consultation_detail
from messagerie.models.consultations.registers import (
    RegisterPage,
    RegisterRow,
    add_entry,
    list_register,
    update_entry,
)
from messagerie.models.errors import Refusal
from messagerie.models.formatting import paris_as_typed, paris_minutes
from messagerie.models.rules.siret import format_siret
from messagerie.models.rules.validation import (
    LABELS,
    RegisterEntryInput,
    ValidationFailed,
    ValidEntry,
    validate_entry,
)
from messagerie.models.store.enums import RegisterKind
from messagerie.screens.answer_flow import answer_question
from messagerie.screens.base import StoreModal, StoreScreen, Unsaved
from messagerie.screens.quit import how_to_keep, leave_or_ask
from messagerie.screens.widgets import (
    REGISTER_TITLES,
    Table,
    back_key,
    cell,
    dialog_box,
    filter_row,
    focus_now,
    harmless,
    literal,
    register_keys,
    save_key,
)

if TYPE_CHECKING:
    from messagerie.models.store.database import Store

PER_PAGE = 50


TABLE_KEYS = "w retraits · q questions · p dépôts · > < pages"


class RegisterScreen(StoreScreen[None]):
    """One register of a consultation, filterable, paged in SQL."""

    AUTO_FOCUS = "#register"
    FIELD_KEYS = frozenset({"focus_filter"})
    BINDINGS = [
        back_key(),
        Binding("slash", "focus_filter", "Filtrer", key_display="/", priority=True),
        Binding("a", "add", "Ajouter", tooltip="Ajouter une inscription au registre"),
        Binding("e", "edit", "Modifier", tooltip="Modifier l'inscription sélectionnée"),
        Binding("r", "answer", "Répondre", tooltip="Répondre à une question"),
        # The other registers and the pages: keys written under the table (TABLE_KEYS).
        *register_keys("switch"),
        Binding(
            "greater_than_sign", "page(1)", "Page suiv.", key_display=">",
            tooltip="Page suivante du registre", show=False,
        ),
        Binding(
            "less_than_sign", "page(-1)", "Page préc.", key_display="<",
            tooltip="Page précédente du registre", show=False,
        ),
    ]  # fmt: skip

    def __init__(self, consultation_id: int, kind: RegisterKind) -> None:
        super().__init__()
        self.consultation_id = consultation_id
        self.kind = kind
        self.page_number = 1
        self.page: RegisterPage | None = None
        self.detail: ConsultationDetail | None = None

    def compose_body(self) -> ComposeResult:
        yield from filter_row("filter", "Filtrer :", "entreprise, SIRET, contact, e-mail, question")
        yield Table(id="register", cursor_type="row", zebra_stripes=True)
        yield Static("", id="question-text")

    def on_mount(self) -> None:
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "answer" and self.kind is not RegisterKind.QUESTION:
            return False
        return super().check_action(action, parameters)

    def load(self) -> None:
        text = self.query_one("#filter", Input).value
        kind, page = self.kind, self.page_number
        self.store_task(
            lambda store: (
                consultation_detail(store, self.consultation_id),
                list_register(
                    store,
                    self.consultation_id,
                    kind,
                    actor=self.app.actor,
                    text=text,
                    page=page,
                    per_page=PER_PAGE,
                ),
            ),
            lambda loaded: self.show(*loaded),
        )

    def show(self, detail: ConsultationDetail, page: RegisterPage) -> None:
        self.detail, self.page, self.page_number = detail, page, page.page
        self.title = REGISTER_TITLES[self.kind]
        counts = page.counts
        self.sub_title = harmless(
            f"{detail.identity.reference} | Retraits ({counts[RegisterKind.WITHDRAWAL]}) · "
            f"Questions ({counts[RegisterKind.QUESTION]}) · "
            f"Dépôts ({counts[RegisterKind.DEPOSIT]})"
        )
        table = self.query_one(DataTable)
        row_key = table.cursor_row
        table.clear(columns=True)
        questions = self.kind is RegisterKind.QUESTION
        table.add_columns(
            *(["N°"] if questions else []),
            "Date/Heure",
            "Entreprise - SIRET",
            "Contact",
            "E-mail",
            "Lots",
        )
        for row in page.rows:
            table.add_row(
                *([str(row.number)] if questions else []),
                paris_minutes(row.at),
                cell(f"{row.company_name} - {format_siret(row.siret)}"),
                cell(row.contact_name),
                cell(row.contact_email),
                ", ".join(str(number) for number in row.lot_numbers) or "—",
                key=str(row.id),
            )
        table.border_title = f"{page.total} inscription(s) · page {page.page} sur {page.page_count}"
        table.border_subtitle = TABLE_KEYS
        if page.rows:
            table.move_cursor(row=min(row_key, len(page.rows) - 1))
        self.refresh_bindings()
        self.show_question()

    def selected(self) -> RegisterRow | None:
        table = self.query_one(DataTable)
        if self.page is None or not self.page.rows:
            return None
        return self.page.rows[min(table.cursor_row, len(self.page.rows) - 1)]

    @on(DataTable.RowHighlighted)
    def show_question(self) -> None:
        row = self.selected()
        text = row.question_text if row and row.question_text else ""
        self.query_one("#question-text", Static).update(literal(text))
        self.query_one("#question-text").display = bool(text)

    @on(Input.Changed, "#filter")
    def filter_changed(self) -> None:
        self.page_number = 1
        self.load()

    @on(Input.Submitted, "#filter")
    def filter_submitted(self) -> None:
        focus_now(self.query_one(DataTable))

    def action_focus_filter(self) -> None:
        focus_now(self.query_one("#filter", Input))

    def action_page(self, step: int) -> None:
        if self.page and 1 <= self.page.page + step <= self.page.page_count:
            self.page_number = self.page.page + step
            self.load()

    def action_switch(self, kind: str) -> None:
        self.kind = RegisterKind(kind)
        self.page_number = 1
        self.load()

    def action_add(self) -> None:
        self.open_form(None)

    def action_edit(self) -> None:
        row = self.selected()
        if row is not None:
            self.open_form(row)

    @on(DataTable.RowSelected)
    async def row_chosen(self) -> None:
        # As its key: refused with the reason when the account lacks the right.
        await self.run_action("answer" if self.kind is RegisterKind.QUESTION else "edit")

    def open_form(self, row: RegisterRow | None) -> None:
        if self.detail is None:
            return
        self.app.push_screen(
            EntryForm(self.detail, self.kind, row), lambda saved: saved and self.load()
        )

    def action_answer(self) -> None:
        question = self.selected()
        if question is None or self.kind is not RegisterKind.QUESTION:
            return
        answer_question(self, question)


FORM_FIELDS = (
    ("company_name", "Entreprise *"),
    ("siret", "SIRET * (14 chiffres)"),
    ("contact_name", "Contact *"),
    ("contact_email", "Adresse e-mail *"),
    ("at", "Date et heure * (JJ/MM/AAAA HH:MM, heure de Paris)"),
    ("lots", "Lots (numéros séparés par des virgules ; vide : aucun)"),
    ("address", "Adresse"),
    ("postal_code", "Code postal"),
    ("city", "Ville"),
)


ENTRY_SAVE_HINT = how_to_keep("Pour garder la ligne", "Enregistrer")


class EntryForm(StoreModal[bool]):
    """Add or edit an entry; a wrong field is named under it and nothing typed is lost."""

    AUTO_FOCUS = "Input"  # the first field: typing at once goes into it, not to the frame

    BINDINGS = [
        save_key("save", "Enregistrer"),
        back_key("cancel", "Annuler"),
    ]

    def __init__(
        self, detail: ConsultationDetail, kind: RegisterKind, row: RegisterRow | None
    ) -> None:
        super().__init__()
        self.detail = detail
        self.kind = kind
        self.row = row

    def compose(self) -> ComposeResult:
        verb = "Modifier" if self.row else "Ajouter"
        with dialog_box(f"{verb} — {REGISTER_TITLES[self.kind]}", id="entry-form", scroll=True):
            yield Static("Les champs avec une * sont obligatoires")
            for name, label in FORM_FIELDS:
                yield Label(label)
                yield Input(value=self._initial(name), id=name)
                yield Label("", id=f"{name}-error", classes="error")
            if self.kind is RegisterKind.QUESTION:
                yield Label("Question *")
                yield TextArea(self._initial("question_text"), id="question_text")
                yield Label("", id="question_text-error", classes="error")
            with Vertical(classes="buttons"):
                yield Button("Enregistrer (Ctrl+S)", id="save", variant="primary", compact=True)

    def _initial(self, name: str) -> str:
        row = self.row
        if row is None:
            return ""
        if name == "at":
            # To the second when it has seconds: saving a correction of another field moved
            # a withdrawal at 14:12:37 to 14:12.
            return paris_as_typed(row.at)
        if name == "lots":
            return ", ".join(str(number) for number in row.lot_numbers)
        value = getattr(row, name, "")
        return harmless(str(value or ""))  # a field shows its control characters too

    def on_mount(self) -> None:
        self.opened = self.typed()

    def unsaved(self) -> Unsaved | None:
        if self.typed() == self.opened:
            return None
        line = f"la {'' if self.row else 'nouvelle '}ligne du {REGISTER_TITLES[self.kind].lower()}"
        return Unsaved(line, self.detail.identity.reference, found=ENTRY_SAVE_HINT)

    def action_cancel(self) -> None:
        """Échap: closes the form, once the buyer has confirmed what was typed may go (a
        question copied from a letter is long to type again)."""
        leave_or_ask(self, self.unsaved(), "Quitter la ligne du registre",
                     lambda _: self.dismiss(False))  # fmt: skip

    def typed(self) -> RegisterEntryInput:
        values = {name: self.query_one(f"#{name}", Input).value for name, _ in FORM_FIELDS}
        if self.kind is RegisterKind.QUESTION:
            values["question_text"] = self.query_one("#question_text", TextArea).text
        return RegisterEntryInput(kind=self.kind, **values)

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        for error in self.query(".error"):
            error.update("")
        typed = self.typed()
        if self.row is not None and typed.at == self._initial("at"):
            # Untouched: the time as stored, with its offset (a fraction of a second would
            # be cut).
            typed = replace(typed, at=self.row.at.isoformat())
        try:
            entry = validate_entry(
                typed,
                lot_numbers=[n for n, _ in self.detail.lots],
                deadline=self.detail.bid_deadline,
            )
        except ValidationFailed as failed:
            self.show_errors(failed)
            return
        actor = self.app.actor
        self.store_task(
            lambda store: self.write(store, entry, actor),
            lambda _: self.dismiss(True),
            self.refused,
        )

    def refused(self, refusal: Refusal) -> None:
        """What the store refused (a known company's name, a line already there), under its
        field, as the form's own checks are."""
        if isinstance(refusal, ValidationFailed):
            self.show_errors(refusal)

    def write(self, store: Store, entry: ValidEntry, actor: str) -> RegisterRow:
        if self.row is None:
            return add_entry(store, self.detail.id, entry, actor=actor)
        return update_entry(store, self.row.id, entry, actor=actor, expected=self.row)

    def show_errors(self, failed: ValidationFailed) -> None:
        known = {f.name for f in fields(RegisterEntryInput)}
        for error in failed.errors:
            target = error.field if error.field in known else "company_name"
            label = self.query(f"#{target}-error")
            if label:
                label.first().update(
                    literal(f"{LABELS.get(error.field, error.label)} : {error.message}")
                )
        first = failed.errors[0].field
        if self.query(f"#{first}"):
            self.query_one(f"#{first}").focus()
