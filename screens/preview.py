""" "Aperçu": the e-mail one recipient receives, in either send mode, as text or HTML."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from messagerie.letters.mail.content import preview
from messagerie.models.messages.form import ComposeContext, FormInput
from messagerie.models.store.documents import DocumentInfo
from messagerie.models.store.enums import SendMode
from messagerie.screens.french import FrenchModal
from messagerie.screens.widgets import Footer, back_key, dialog_box, literal


class PreviewScreen(FrenchModal[None]):
    """n / p: next or previous recipient; m: the other send mode; h: text or HTML."""

    AUTO_FOCUS = "#preview"  # ↑↓, PgUp/PgDn, Home/End scroll the e-mail
    BINDINGS = [
        Binding("n", "recipient(1)", "Suivant", tooltip="Destinataire suivant"),
        Binding("p", "recipient(-1)", "Précédent", tooltip="Destinataire précédent"),
        Binding("m", "toggle_mode", "Mode d'envoi", tooltip="Avec AR / simple"),
        Binding("h", "toggle_html", "Texte/HTML", tooltip="Partie texte ou HTML"),
        back_key("dismiss(None)", "Fermer"),
    ]

    def __init__(
        self,
        context: ComposeContext,
        form: FormInput,
        attachments: tuple[DocumentInfo, ...],
        public_url: str,
    ) -> None:
        super().__init__()
        self.context, self.form, self.attachments = context, form, attachments
        self.public_url = public_url
        self.index = 0
        self.mode = form.send_mode
        self.html = False

    def compose(self) -> ComposeResult:
        with dialog_box("Aperçu du message reçu", "dialog tall", id="preview", scroll=True):
            yield Static(id="preview-head")
            yield Static(id="preview-text")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.show()

    def show(self) -> None:
        shown = preview(
            self.context,
            self.form,
            self.attachments,
            recipient_index=self.index,
            send_mode=self.mode,
            public_url=self.public_url,
        )
        head, body = (
            self.query_one("#preview-head", Static),
            self.query_one("#preview-text", Static),
        )
        if shown is None:
            head.update("Ajoutez un destinataire pour voir le message qu'il recevra.")
            body.update("")
            return
        count = len({r.email.casefold() for r in self.form.recipients})
        text = Text()
        for label, value in (
            ("À", f"{shown.to} ({self.index % count + 1}/{count})"),
            ("Objet", shown.subject),
            ("Mode", self.mode.label),
            ("Partie", "HTML (source)" if self.html else "texte"),
        ):
            text.append(f"{label} : ", style="bold")
            text.append(f"{value}\n")
        head.update(literal(text))
        body.update(literal(shown.html if self.html else shown.text))

    def action_recipient(self, step: int) -> None:
        self.index += step
        self.show()

    def action_toggle_mode(self) -> None:
        self.mode = SendMode.SIMPLE if self.mode is SendMode.WITH_AR else SendMode.WITH_AR
        self.show()

    def action_toggle_html(self) -> None:
        self.html = not self.html
        self.show()
