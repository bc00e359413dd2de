"""Pickers of the message form: recipients from the registers, a document of the
"espace documentaire", and the reason of an override."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from messagerie.models.formatting import paris_minutes, size_text
from messagerie.models.messages.drafts import DraftRecipient, Override
from messagerie.models.messages.form import ComposeContext
from messagerie.models.rules.checks import REASON_MIN_LENGTH, RuleVerdict, written_reason
from messagerie.models.store.documents import DocumentInfo, document_space
from messagerie.models.store.enums import AntivirusVerdict, RegisterKind
from messagerie.models.text import cut
from messagerie.screens.base import StoreModal
from messagerie.screens.french import FrenchModal
from messagerie.screens.widgets import (
    REGISTER_KEYS,
    Footer,
    back_key,
    dialog_box,
    focus_now,
    literal,
)

KIND_LETTERS = {RegisterKind.WITHDRAWAL: "R", RegisterKind.QUESTION: "Q", RegisterKind.DEPOSIT: "D"}


class RecipientPicker(FrenchModal[tuple[DraftRecipient, ...] | None]):
    """The registers' addresses: Entrée adds one, w / q / p a whole register, a all three."""

    BINDINGS = [
        Binding("enter", "add_one", "Ajouter", key_display="Entrée", priority=True),
        *(
            Binding(
                key, f"add_register('{kind.value}')", kind.label, tooltip=f"Registre {kind.label}"
            )
            for key, kind in REGISTER_KEYS.items()
        ),
        Binding("a", "add_all", "Tous", tooltip="Tous les registres"),
        Binding("c", "add_candidates", "Candidats", tooltip="Candidats admis (suite)"),
        back_key("dismiss(None)", "Annuler"),
    ]  # fmt: skip

    def __init__(self, context: ComposeContext) -> None:
        super().__init__()
        self.context = context

    def compose(self) -> ComposeResult:
        with dialog_box(
            "Ajouter des destinataires depuis les registres", "dialog tall", id="recipient-picker"
        ):
            yield Static(
                "R : retrait, Q : question, D : dépôt. Entrée : cette adresse ; w, q, p : tout "
                "un registre ; a : tous les registres"
                + (" ; c : les candidats admis." if self.context.candidates else ".")
            )
            options = [
                Option(_address_line(a.email, a.company_name, a.contact_name, a.kinds))
                for a in self.context.addresses
            ]
            yield OptionList(*options, id="addresses", compact=True)
            if not options:
                yield Static("Les registres de cette consultation sont vides.")
        yield Footer(compact=True)

    def action_add_one(self) -> None:
        index = self.query_one("#addresses", OptionList).highlighted
        if index is not None:
            address = self.context.addresses[index]
            self.dismiss((DraftRecipient(address.email, address.company_id, address.contact_name),))

    def action_add_register(self, kind: str) -> None:
        self.dismiss(self.context.register_recipients((RegisterKind(kind),)))

    def action_add_all(self) -> None:
        self.dismiss(self.context.register_recipients(tuple(RegisterKind)))

    def action_add_candidates(self) -> None:
        self.dismiss(self.context.candidates)


def _address_line(email: str, company: str, contact: str, kinds: frozenset[RegisterKind]) -> Text:
    marks = "".join(letter if kind in kinds else "·" for kind, letter in KIND_LETTERS.items())
    line = Text(f"{marks} ", style="bold")
    line.append(email)
    line.append(f" — {company} ({contact})", style="dim")
    return literal(line)


class DocumentSpacePicker(StoreModal[DocumentInfo | None]):
    """The consultation's documents (DCE, letters, attachments), filtered by name."""

    BINDINGS = [back_key("dismiss(None)", "Annuler")]

    def __init__(self, consultation_id: int) -> None:
        super().__init__()
        self.consultation_id = consultation_id
        self.documents: tuple[DocumentInfo, ...] = ()

    def compose(self) -> ComposeResult:
        with dialog_box(
            "Importer un fichier depuis l'espace documentaire", "dialog tall", id="document-picker"
        ):
            yield Input(placeholder="Filtrer par nom de fichier", id="filter")
            yield OptionList(id="documents", compact=True)
            yield Static("", id="empty")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.load("")

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.load(event.value)

    @on(Input.Submitted, "#filter")
    def to_list(self) -> None:
        focus_now(self.query_one("#documents"))

    def load(self, text: str) -> None:
        cid, actor = self.consultation_id, self.app.actor
        self.store_task(lambda store: document_space(store, cid, actor=actor, text=text), self.show)

    def show(self, documents: tuple[DocumentInfo, ...]) -> None:
        self.documents = documents
        listing = self.query_one("#documents", OptionList)
        listing.set_options(Option(_document_line(d)) for d in documents)
        if documents:  # Entrée on the list picks the line shown under its cursor
            listing.highlighted = 0
        self.query_one("#empty", Static).update(
            "" if documents else "Aucun document ne correspond."
        )

    @on(OptionList.OptionSelected, "#documents")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.documents[event.option_index])


def _document_line(document: DocumentInfo) -> Text:
    line = Text(f"{document.filename}", style="bold")
    line.append(
        f" — {document.origin.label}, {size_text(document.size)}, "
        f"{paris_minutes(document.created_at)}",
        style="dim",
    )
    if document.antivirus is AntivirusVerdict.NOT_SCANNED:
        line.append(" — non analysé", style="yellow")
    return literal(line)


class OverrideDialog(FrenchModal[Override | None]):
    """Pass a blocking rule with a written reason (kept in the audit log, printed on the AR)."""

    BINDINGS = [back_key("dismiss(None)", "Annuler")]

    def __init__(self, blocks: tuple[RuleVerdict, ...]) -> None:
        super().__init__()
        self.blocks = blocks

    def compose(self) -> ComposeResult:
        with dialog_box("Passer outre une règle", id="override"):
            yield Select(
                [(literal(f"Règle {b.rule} : {cut(b.message, 50)}"), b.rule) for b in self.blocks],
                value=self.blocks[0].rule,
                allow_blank=False,
                id="rule",
                compact=True,
            )
            yield Static("", id="rule-text")
            yield Label("Motif (obligatoire, conservé dans le journal et imprimé sur l'AR) :")
            yield Input(id="reason")
            yield Static("", id="reason-error", classes="error")
            yield Static("Entrée : valider le motif · Échap : annuler", classes="hint")
        yield Footer(compact=True)  # its own keys, not the form's underneath

    def on_mount(self) -> None:
        self.show_rule(self.blocks[0].rule)
        self.query_one("#reason").focus()

    @on(Select.Changed, "#rule")
    def rule_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, int):
            self.show_rule(event.value)

    def show_rule(self, rule: int) -> None:
        verdict = next(b for b in self.blocks if b.rule == rule)
        self.query_one("#rule-text", Static).update(literal(verdict.message))

    @on(Input.Submitted, "#reason")
    def submitted(self, event: Input.Submitted) -> None:
        reason = " ".join(event.value.split())
        if not written_reason(reason):
            self.query_one("#reason-error", Static).update(
                f"Écrivez un motif d'au moins {REASON_MIN_LENGTH} caractères : il engage "
                "l'acheteur."
            )
            return
        rule = self.query_one("#rule", Select).value
        self.dismiss(Override(int(rule), reason))  # type: ignore[arg-type]
