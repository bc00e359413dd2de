""" "Détails" of a consultation: its identity, registers, documents, drafts and suites."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from messagerie.models.consultations.detail import ConsultationDetail, consultation_detail
from messagerie.models.consultations.suites import mask_access_code
from messagerie.models.formatting import lot_label, paris_minutes
from messagerie.models.messages.drafts import DraftView, list_drafts
from messagerie.models.messages.outbox import outbox_counts, progress_text
from messagerie.models.rules.presets import SUBJECT_PLACEHOLDER
from messagerie.models.store.enums import DeliveryState, MessageType, RegisterKind
from messagerie.screens.base import StoreScreen
from messagerie.screens.dialogs import WriteFailed, ask_for_path
from messagerie.screens.rights import guarded, right_of_type
from messagerie.screens.widgets import (
    back_key,
    focus_now,
    harmless,
    literal,
    notify_literal,
    register_keys,
    section,
    titled,
    update_if_changed,
)

if TYPE_CHECKING:
    from messagerie.letters.pdf.bundle import ExportSummary
    from messagerie.models.errors import Refusal

# Message types offered from the palette with their presets (the guide's cases C to I).
FLOW_TYPES = (
    MessageType.INVITATION,
    MessageType.MODIFICATION,
    MessageType.COMPLEMENT_REQUEST,
    MessageType.REJECTION,
    MessageType.AWARD,
    MessageType.NOTIFICATION,
    MessageType.CANCELLATION,
)

FLOW_TITLES = {MessageType.INVITATION: "Envoyer une invitation à concourir"}
OUTBOX_POLL_SECONDS = 2.0  # how soon the outbox line follows a send in progress


def detail_text(detail: ConsultationDetail) -> Text:
    """The "Détail de la consultation" block, as the platform lists it."""
    text = Text()
    identity = detail.identity
    for label, value in (
        ("Référence", identity.reference),
        ("Intitulé", identity.title),
        ("Objet", identity.object),
        ("Procédure", detail.procedure.label),
        ("Statut", detail.status.label),
        ("Date et heure limite de remise des plis", paris_minutes(detail.bid_deadline)),
        ("Lot(s)", "; ".join(lot_label(*lot) for lot in detail.lots) or "non alloti"),
        ("Organisme | Entité d'achat", identity.publisher),
    ):
        text.append(f"{label} : ", style="bold")
        text.append(f"{value}\n")
    if detail.parent:
        text.append("Suite de : ", style="bold")
        text.append(f"{detail.parent.reference} | {detail.parent.title}\n")
        text.append("Code d'accès restreint : ", style="bold")
        text.append(f"{mask_access_code(detail.access_code or '')}\n")
        text.append("Candidats admis : ", style="bold")
        text.append(f"{detail.candidates}\n")
    text.rstrip()
    return literal(text)


def draft_text(draft: DraftView) -> Text:
    text = Text(f"{draft.type.label}", style="bold")
    text.append(f" — {draft.subject}\n")
    details = (
        f"{len(draft.recipients)} destinataire(s)",
        ", ".join(draft.lots),
        paris_minutes(draft.created_at),
        draft.author,
    )
    text.append(" · ".join(details), style="dim")
    return literal(text)


class DraftList(OptionList):
    """Brouillons de messages: Entrée reopens one in the message form."""

    def __init__(self, id: str, classes: str) -> None:
        super().__init__(id=id, classes=classes, compact=True)
        self.drafts: tuple[DraftView, ...] = ()

    def show(self, drafts: tuple[DraftView, ...]) -> None:
        self.drafts = drafts
        self.set_options([Option(draft_text(draft)) for draft in drafts])
        self.border_subtitle = "Entrée : reprendre" if drafts else "Aucun brouillon"


class ConsultationScreen(StoreScreen[None]):
    """Détails de la consultation."""

    TITLE = "Détails de la consultation"
    # The footer (80 columns) holds what opens another screen; the registers, the drafts and
    # « Créer une suite » show their keys in their own section, and every key is in the help
    # window (F1) and the palette (^p).
    BINDINGS = [
        back_key(),
        *register_keys("register"),
        Binding("d", "documents", "DCE", tooltip="Modifier le DCE (documents de la consultation)"),
        Binding("s", "create_suite", "Suite", tooltip="Créer une suite", show=False),
        Binding("m", "message", "Message", tooltip="Envoyer un message"),
        Binding("i", "invitation", "Invitation", tooltip="Envoyer une invitation à concourir"),
        Binding(
            "b", "focus_drafts", "Brouillons", tooltip="Brouillons de messages", show=False
        ),
        Binding("t", "tracking", "Suivi", tooltip="Suivi des messages"),
        Binding("r", "merge", "Rejets", tooltip="Rejets en nombre (fichier d'analyse)"),
        Binding(
            "x", "export_bundle", "Preuves", tooltip="Exporter le lot de preuves (zip)",
            show=False,
        ),
        Binding("f5", "refresh", "Actualiser", show=False),
    ]  # fmt: skip

    def __init__(self, consultation_id: int) -> None:
        super().__init__()
        self.consultation_id = consultation_id
        self.detail: ConsultationDetail | None = None
        self.outbox: dict[DeliveryState, int] = {}

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="consultation"):
            yield section("identity", "Détail de la consultation", "Chargement…")
            yield section("registers", "Registres")
            yield section(
                "exchanges", "Suivi des messages échangés et documents joints (t, x : preuves)"
            )
            yield titled(DraftList(id="drafts", classes="section"), "Brouillons de messages (b)")
            yield section("suites", "Suites")
        yield Static("", id="export-label")
        yield ProgressBar(id="export-progress", show_eta=False)

    def on_mount(self) -> None:
        self.show_export(visible=False)
        self.action_refresh()
        self.set_interval(OUTBOX_POLL_SECONDS, self.poll_outbox)

    def poll_outbox(self) -> None:
        """While this consultation has e-mails waiting or being sent, follow the outbox
        (another process or the TUI's own worker) without a keystroke."""
        pending = self.outbox.get(DeliveryState.QUEUED, 0) + self.outbox.get(
            DeliveryState.CLAIMED, 0
        )
        if pending and self.detail is not None and self.is_current:
            self.store_task(
                lambda store: outbox_counts(store, self.consultation_id),
                self.show_outbox,
                group="outbox-progress",
            )

    def on_screen_resume(self) -> None:
        if self.detail is not None:  # back from a register, the DCE or a suite: counts moved
            self.action_refresh()

    def action_refresh(self) -> None:
        self.store_task(
            lambda store: (
                consultation_detail(store, self.consultation_id, account=self.app.account),
                list_drafts(store, self.consultation_id, actor=self.app.actor),
                outbox_counts(store, self.consultation_id),
            ),
            lambda loaded: self.show(*loaded),
        )

    def show(
        self,
        detail: ConsultationDetail,
        drafts: tuple[DraftView, ...],
        outbox: dict[DeliveryState, int],
    ) -> None:
        self.detail = detail
        self.outbox = outbox
        self.sub_title = harmless(detail.identity.reference_and_title)
        self.query_one("#identity", Static).update(detail_text(detail))
        counts = detail.counts
        self.query_one("#registers", Static).update(
            Text(
                f"Retraits ({counts[RegisterKind.WITHDRAWAL]}) (w) | "
                f"Questions ({counts[RegisterKind.QUESTION]}) (q) | "
                f"Dépôts ({counts[RegisterKind.DEPOSIT]}) (p)"
            )
        )
        self.show_outbox(outbox)
        self.query_one(DraftList).show(drafts)
        suites = Text("Créer une suite (s)\n")
        for suite in detail.suites:
            suites.append(f"• {suite.reference} | {suite.title}\n")
        self.query_one("#suites", Static).update(literal(suites))

    def show_outbox(self, outbox: dict[DeliveryState, int]) -> None:
        assert self.detail is not None
        self.outbox = outbox
        update_if_changed(  # polled every 2 s while e-mails wait: most polls change nothing
            self.query_one("#exchanges", Static),
            Text(
                "Suivi des messages (t) | Envoyer un message (m)"
                + (" | Envoyer une invitation à concourir (i)" if self.detail.restricted else "")
                + " | Documents de la consultation (d)\n"
                + progress_text(outbox)
            ),
        )

    def action_export_bundle(self) -> None:
        """Everything that proves what was sent, in one zip with its manifest of SHA-256; a
        bar follows the ARs, drawn and signed by one process per core."""
        if self.detail is None:
            return
        from pathlib import Path

        from messagerie.letters.pdf.bundle import export_bundle

        identity = self.detail.identity

        def advance(done: int, total: int) -> None:  # in the worker's thread
            self.app.call_from_thread(self.export_progress, done, total)

        def write(path: Path, failed: WriteFailed) -> None:
            def refused(refusal: Refusal) -> None:
                self.show_export(visible=False)
                failed(str(refusal))

            self.show_export(visible=True)
            self.export_progress(0, None)
            self.store_task(
                lambda store: export_bundle(
                    store,
                    identity.reference,
                    path,
                    signer=self.app.platform_signer(),
                    account=self.app.account,
                    organisation=identity.organisation,
                    anchor=self.app.last_anchor(store),
                    progress=advance,
                ),
                self.exported,
                refused,
                group="bundle",
                notify=False,  # the dialog opens again with the problem under the path
            )

        ask_for_path(
            self, "Lot de preuves", "Enregistrer le lot de preuves (zip) sous :",
            f"preuves-{identity.reference}.zip", write,
        )  # fmt: skip

    def show_export(self, *, visible: bool) -> None:
        for widget in ("#export-label", "#export-progress"):
            self.query_one(widget).display = visible

    def export_progress(self, done: int, total: int | None) -> None:
        """The bar and its line: « Lot de preuves : 120/1000 AR dessinés et signés »."""
        if not (self.is_attached and self.display):  # the buyer left while it was exported
            return
        if total is None:
            text = "Lot de preuves : export en cours…"
        elif total:
            text = f"Lot de preuves : {done}/{total} AR dessinés et signés"
        else:
            text = "Lot de preuves : aucun AR à dessiner"
        self.query_one("#export-label", Static).update(text)
        self.query_one("#export-progress", ProgressBar).update(total=total, progress=done)

    def exported(self, done: ExportSummary) -> None:
        self.query_one("#export-label", Static).update(
            literal(Text(f"Lot de preuves écrit : {done.ars} AR dans « {done.path} »"))
        )
        notify_literal(
            self,
            f"{done.files} fichiers dont {done.ars} AR dans « {done.path} ». "
            f"Empreinte du manifeste, à conserver à part : {done.manifest_sha256}",
            title="Lot de preuves",
            timeout=30,
        )

    def action_merge(self) -> None:
        self.app.open_merge(self.consultation_id)

    def action_tracking(self) -> None:
        self.app.open_tracking(self.consultation_id)

    def action_register(self, kind: str) -> None:
        self.app.open_registers(self.consultation_id, RegisterKind(kind))

    def action_documents(self) -> None:
        self.app.open_dce(self.consultation_id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if isinstance(event.option_list, DraftList):
            draft = event.option_list.drafts[event.option_index]
            self.open_form(draft_id=draft.id)

    def action_focus_drafts(self) -> None:
        drafts = self.query_one(DraftList)
        focus_now(drafts)
        if drafts.highlighted is None and drafts.option_count:
            drafts.highlighted = 0

    def open_form(self, **options: object) -> None:
        self.app.open_form(self.consultation_id, **options)

    def action_message(self) -> None:
        self.open_form()

    def action_invitation(self) -> None:
        if self.detail is not None and not self.detail.restricted:
            self.notify(
                "Les invitations à concourir se font depuis une suite ou une procédure restreinte.",
                title="Invitation à concourir",
            )
            return
        self.open_form(message_type=MessageType.INVITATION)

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """The message flows of the guide, under the platform's labels."""
        flows = [
            ("Envoyer un message", "Courrier libre", {}),
            (
                "Négociation simple",
                "Courrier libre (et non « Demande de négociation ») : adaptez l'objet",
                {"subject": f"Négociation : {SUBJECT_PLACEHOLDER}", "reply_allowed": True},
            ),
        ] + [
            (
                FLOW_TITLES.get(kind, kind.label),
                "Messagerie sécurisée, type pré-sélectionné",
                {"message_type": kind},
            )
            for kind in FLOW_TYPES
        ]
        return [
            guarded(
                self,
                right_of_type(options.get("message_type", MessageType.FREE)),  # type: ignore[arg-type]
                title,
                help_text,
                functools.partial(self.open_form, **options),
            )
            for title, help_text, options in flows
        ]

    def action_create_suite(self) -> None:
        self.app.open_suite_creation(self.consultation_id)
