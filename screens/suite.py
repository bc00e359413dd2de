""" "Créer une suite": a restricted phase or complex negotiation from this consultation."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import (
    Button,
    Input,
    Label,
    RadioButton,
    RadioSet,
    SelectionList,
    Static,
)

from messagerie.models.consultations.detail import ConsultationDetail, consultation_detail
from messagerie.models.consultations.suites import (
    SUITE_PROCEDURES,
    CandidateChoice,
    SuiteCreated,
    SuiteRequest,
    candidate_choices,
    create_suite,
)
from messagerie.models.errors import Refusal
from messagerie.models.formatting import lot_label, paris_minutes
from messagerie.models.rules.siret import format_siret
from messagerie.models.rules.validation import ValidationFailed, parse_paris_datetime
from messagerie.screens.base import StoreScreen, Unsaved
from messagerie.screens.french import FrenchModal
from messagerie.screens.quit import how_to_keep, leave_or_ask
from messagerie.screens.widgets import back_key, dialog_box, harmless, literal, save_key


class SuiteScreen(StoreScreen[None]):
    """Créer une suite."""

    TITLE = "Créer une suite"
    AUTO_FOCUS = "#procedure"  # the first field, not the frame around the form
    BINDINGS = [
        save_key("create", "Créer la suite"),
        back_key("leave", "Annuler"),
    ]

    def __init__(self, parent_id: int) -> None:
        super().__init__()
        self.parent_id = parent_id
        self.origin: ConsultationDetail | None = None
        self.opened: tuple[object, ...] = ()  # the form as shown, once loaded

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="suite-form"):
            yield Static("Chargement…", id="parent")
            yield Label("Procédure de la suite *")
            with RadioSet(id="procedure"):
                for index, procedure in enumerate(SUITE_PROCEDURES):
                    yield RadioButton(procedure.label, value=index == 0)
            yield Label("Lot(s) concerné(s) (Espace pour cocher)")
            yield SelectionList[int](id="lots")
            yield Label("Candidats retenus parmi les dépôts * (Espace pour cocher)")
            yield SelectionList[int](id="candidates")
            yield Label("Date et heure limite de remise des plis * (JJ/MM/AAAA HH:MM)")
            yield Input(placeholder="JJ/MM/AAAA HH:MM", id="deadline")
            yield Label("Intitulé (par défaut : celui de la consultation)")
            yield Input(id="title")
            yield Label("", id="form-error", classes="error")
            yield Button("Créer la suite (Ctrl+S)", id="create", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.store_task(
            lambda store: (
                consultation_detail(store, self.parent_id),
                candidate_choices(store, self.parent_id),
            ),
            lambda loaded: self.show(*loaded),
        )

    def show(self, parent: ConsultationDetail, candidates: tuple[CandidateChoice, ...]) -> None:
        self.origin = parent
        origin = parent.identity.reference_and_title
        self.sub_title = harmless(f"Suite de {origin}")
        self.query_one("#parent", Static).update(
            literal(
                f"Consultation d'origine : {origin} — date limite "
                f"{paris_minutes(parent.bid_deadline)}"
            )
        )
        lots = self.query_one("#lots", SelectionList)
        lots.add_options([(literal(lot_label(*lot)), lot[0], True) for lot in parent.lots])
        lots.display = bool(parent.lots)
        choices = self.query_one("#candidates", SelectionList)
        choices.add_options(
            [
                (
                    literal(f"{c.company_name} - {format_siret(c.siret)} - {c.contact_email}"),
                    c.entry_id,
                )
                for c in candidates
            ]
        )
        for selection in (lots, choices):
            selection.highlighted = 0 if selection.option_count else None
        self.opened = self.fields()

    def fields(self) -> tuple[object, ...]:
        """What the form holds: the procedure, the lots and candidates ticked, the fields."""
        return (
            self.query_one("#procedure", RadioSet).pressed_index,
            *(tuple(one.selected) for one in self.query(SelectionList)),
            *(field.value for field in self.query(Input)),
        )

    def unsaved(self) -> Unsaved | None:
        if self.origin is None or self.fields() == self.opened:
            return None
        reference = self.origin.identity.reference
        return Unsaved("la suite en préparation", reference,
                       found=how_to_keep("Pour la créer", "Créer la suite"))  # fmt: skip

    def action_leave(self) -> None:
        """Échap: back to the consultation, once the buyer has confirmed the choices made
        here may go."""
        leave_or_ask(self, self.unsaved(), "Quitter la création de la suite",
                     lambda _: self.app.pop_screen())  # fmt: skip

    def request(self) -> SuiteRequest:
        """The form as a request; raises Refusal naming the field to fix."""
        try:
            deadline = parse_paris_datetime(self.query_one("#deadline", Input).value)
        except ValidationFailed as failed:
            raise Refusal(f"Date limite : {failed}") from None
        radio = self.query_one("#procedure", RadioSet)
        return SuiteRequest(
            parent_id=self.parent_id,
            procedure=SUITE_PROCEDURES[radio.pressed_index if radio.pressed_index >= 0 else 0],
            lot_numbers=tuple(self.query_one("#lots", SelectionList).selected),
            candidate_entry_ids=tuple(self.query_one("#candidates", SelectionList).selected),
            bid_deadline=deadline,
            title=self.query_one("#title", Input).value,
        )

    @on(Button.Pressed, "#create")
    def action_create(self) -> None:
        error = self.query_one("#form-error", Label)
        try:
            request = self.request()
        except Refusal as refusal:
            error.update(literal(str(refusal)))
            return
        error.update("")
        actor = self.app.actor
        self.store_task(
            lambda store: create_suite(store, request, actor=actor),
            self.created,
            lambda refusal: error.update(literal(str(refusal))),
        )

    def created(self, suite: SuiteCreated) -> None:
        def open_suite(_: None) -> None:
            self.app.open_consultation(suite.consultation_id, instead=True)

        self.app.push_screen(AccessCodeDialog(suite), open_suite)


class AccessCodeDialog(FrenchModal[None]):
    """The restricted access code, shown in full this once."""

    BINDINGS = [Binding("escape,enter", "dismiss(None)", "J'ai noté le code")]

    def __init__(self, suite: SuiteCreated) -> None:
        super().__init__()
        self.suite = suite

    def compose(self) -> ComposeResult:
        with dialog_box(f"Suite {self.suite.reference} créée"):
            yield Static(f"{self.suite.candidates} candidat(s) admis.")
            yield Static("Code d'accès restreint :")
            yield Static(
                literal(self.suite.access_code), id="access-code", classes="dialog-heading"
            )
            yield Static(
                "Il ne sera plus affiché en entier : il figure dans l'invitation à concourir "
                "envoyée aux candidats, et peut leur être renvoyé."
            )
            yield Button("J'ai noté le code", id="ok", variant="primary", compact=True)

    @on(Button.Pressed)
    def close(self) -> None:
        self.dismiss(None)
