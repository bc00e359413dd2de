""" "Modifier le DCE" (Identification tab, DCE section): pieces, changes, save, validate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Checkbox, Static, Tree

from messagerie.models.consultations.dce import (
    DceChanges,
    DceVersionView,
    NewFile,
    PieceView,
    check_new_file,
    current_dce,
    dce_history,
)
from messagerie.models.consultations.detail import ConsultationDetail, consultation_detail
from messagerie.models.consultations.workspace import DceUpdate, publish_dce_update
from messagerie.models.errors import Refusal, os_problem
from messagerie.models.formatting import paris_minutes, size_text
from messagerie.screens.answer_flow import send_modification_draft
from messagerie.screens.base import StoreScreen, Unsaved
from messagerie.screens.deadline import DeadlineDecision, ask_deadline_rule
from messagerie.screens.dialogs import ConfirmDialog, TextDialog
from messagerie.screens.files import FilePicker
from messagerie.screens.quit import how_to_keep, leave_or_ask
from messagerie.screens.widgets import back_key, harmless, literal, notify_literal, save_key

NOTIFY_LABEL = "Envoi d'une information de modification aux entreprises des registres"


DCE_SAVE_HINT = how_to_keep("Pour les garder", "Enregistrer") + (
    " Enregistrer publie une nouvelle version du DCE."
)
PIECE_KEYS = "a ajouter · r remplacer · d supprimer · z remplacer le DCE · u défaire"


class DceScreen(StoreScreen[None]):
    """Modifier le DCE."""

    TITLE = "Modifier le DCE"
    # The pieces' keys are written under their tree (PIECE_KEYS); the footer keeps the
    # version's actions (80 columns); all are in the keys' window (F1) and the palette (^p).
    BINDINGS = [
        Binding("a", "add", "Ajouter", tooltip="Ajouter une pièce", show=False),
        Binding("r", "replace", "Remplacer", tooltip="Remplacer la pièce sélectionnée", show=False),
        Binding("d", "delete", "Suppr.", tooltip="Supprimer la pièce sélectionnée", show=False),
        Binding("z", "replace_all", "DCE entier", tooltip="Remplacer le DCE", show=False),
        Binding(
            "u",
            "undo",
            "Défaire",
            show=False,
            tooltip="Défaire la dernière modification non enregistrée",
        ),
        save_key("save", "Enregistrer"),
        Binding("v", "validate", "Valider"),
        Binding("h", "history", "Historique", tooltip="Historique des versions du DCE"),
        back_key("leave"),
    ]

    def __init__(self, consultation_id: int) -> None:
        super().__init__()
        self.consultation_id = consultation_id
        self.detail: ConsultationDetail | None = None
        self.version: DceVersionView | None = None
        self.changes = DceChanges.starting_from(None)
        self.earlier: list[DceChanges] = []  # the changes before each one staged, for `u`
        self.saved_this_visit = False

    def compose_body(self) -> ComposeResult:
        yield Static("Chargement…", id="dce-info")
        yield Tree("DCE", id="pieces")
        yield Static("", id="changes")
        yield Checkbox(NOTIFY_LABEL, value=True, id="notify")

    def on_mount(self) -> None:
        pieces = self.query_one("#pieces", Tree)
        pieces.border_title = "Identification — DCE"
        pieces.border_subtitle = PIECE_KEYS
        self.reload()

    def reload(self) -> None:
        self.store_task(
            lambda store: (
                consultation_detail(store, self.consultation_id),
                current_dce(store, self.consultation_id, actor=self.app.actor),
            ),
            lambda loaded: self.show(*loaded),
        )

    def show(self, detail: ConsultationDetail, version: DceVersionView | None) -> None:
        self.detail, self.version = detail, version
        self.changes = DceChanges.starting_from(version)
        self.earlier = []
        self.sub_title = harmless(detail.identity.reference_and_title)
        number = f"version {version.number}" if version else "aucune pièce"
        self.query_one("#dce-info", Static).update(
            f"DCE : {number} · Date et heure limite de remise des plis : "
            f"{paris_minutes(detail.bid_deadline)}"
        )
        tree = self.query_one("#pieces", Tree)
        tree.clear()
        tree.root.expand()
        for piece in version.pieces if version else ():
            self._add_piece(tree.root, piece)
        self.show_changes()

    def _add_piece(self, parent: object, piece: PieceView) -> None:
        label = Text(piece.path, style="bold" if piece.children else "")
        label.append(f"  {size_text(piece.size)}", style="dim")
        node = parent.add(literal(label), data=piece, expand=True)
        for child in piece.children:
            node.add_leaf(literal(f"↳ {child.path}  {size_text(child.size)}"), data=child)

    def show_changes(self) -> None:
        lines = self.changes.summary()
        text = "Modifications à enregistrer : " + " · ".join(lines) if lines else ""
        self.query_one("#changes", Static).update(literal(text))

    # Staging changes ---------------------------------------------------------------------

    def selected_piece(self) -> PieceView | None:
        node = self.query_one("#pieces", Tree).cursor_node
        piece = node.data if node is not None else None
        if isinstance(piece, PieceView) and self.version and piece in self.version.pieces:
            return piece
        if isinstance(piece, PieceView):
            self.notify(
                "Choisissez une pièce du DCE, pas un fichier à l'intérieur d'un zip.",
                severity="warning",
            )
        return None

    def pick_file(self, title: str, then: Callable[[NewFile], DceChanges]) -> None:
        """Choose a file, read it off the UI thread, and stage the change `then` makes."""

        def picked(path: Path | None) -> None:
            if path is not None:
                self.run_worker(lambda: self._read(path, then), thread=True, group="read")

        self.app.push_screen(FilePicker(title), picked)

    def _read(self, path: Path, then: Callable[[NewFile], DceChanges]) -> None:
        """Read and check the file here: a piece refused only at Ctrl+S (« n'est pas un
        PDF ») could not be taken out, and blocked every other change with it."""
        try:
            file = NewFile(path.name, path.read_bytes())
            check_new_file(file)
        except OSError as error:
            problem = f"« {path} » illisible : {os_problem(error)}."
            self.app.call_from_thread(notify_literal, self, problem, severity="error")
            return
        except Refusal as refusal:
            self.app.call_from_thread(
                notify_literal, self, str(refusal), title="Pièce refusée", severity="error"
            )
            return
        self.app.call_from_thread(self.stage, lambda: then(file))

    def stage(self, change: Callable[[], DceChanges]) -> None:
        """Apply a staged change; a refused one (duplicate name, not a zip…) is shown."""
        try:
            staged = change()
        except Refusal as refusal:
            notify_literal(self, str(refusal), title="Modification refusée", severity="error")
            return
        self.earlier.append(self.changes)
        self.changes = staged
        self.show_changes()

    def action_undo(self) -> None:
        """Take back the last change staged (an added piece is not in the tree: Échap was
        the only way to drop it, with every other change)."""
        if not self.earlier:
            self.notify("Aucune modification à défaire.")
            return
        self.changes = self.earlier.pop()
        self.show_changes()

    def action_add(self) -> None:
        self.pick_file("Ajouter une pièce au DCE", lambda f: self.changes.add(f))

    def action_replace(self) -> None:
        piece = self.selected_piece()
        if piece is not None:
            self.pick_file(
                f"Remplacer {piece.path}",
                lambda f: self.changes.replace(piece.id, f),
            )

    def action_replace_all(self) -> None:
        self.pick_file("Remplacer le DCE (archive zip)", lambda f: self.changes.replace_all(f))

    def action_delete(self) -> None:
        piece = self.selected_piece()
        if piece is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.stage(lambda: self.changes.delete(piece.id))

        self.app.push_screen(
            ConfirmDialog(
                "Supprimer une pièce", f"Supprimer « {piece.path} » du DCE ?", "Supprimer"
            ),
            confirmed,
        )

    # Saving and validating ---------------------------------------------------------------

    def action_save(self, then_validate: bool = False) -> None:
        if self.changes.is_empty() or self.detail is None:
            if then_validate:
                self.finish()
            else:
                self.notify("Aucune modification à enregistrer.")
            return
        changes = self.changes

        def decided(decision: DeadlineDecision | None) -> None:
            if decision is not None:
                update = DceUpdate(
                    self.consultation_id, changes, decision.new_deadline, decision.reason
                )
                self.save(update, then_validate)

        ask_deadline_rule(self, self.detail.bid_deadline, decided)

    def save(self, update: DceUpdate, then_validate: bool) -> None:
        actor = self.app.actor

        def saved(version: DceVersionView) -> None:
            self.saved_this_visit = True
            self.notify(f"DCE enregistré : version {version.number}.", title="Enregistrer")
            if then_validate:
                self.finish()
            else:
                self.reload()

        self.store_task(lambda store: publish_dce_update(store, store.blobs, update, actor), saved)

    def action_validate(self) -> None:
        self.action_save(then_validate=True)

    def finish(self) -> None:
        """Valider: back to the consultation, with the information draft when asked."""
        if not self.saved_this_visit:
            self.notify("Aucune modification du DCE n'a été enregistrée.")
            return
        if not self.query_one("#notify", Checkbox).value:
            self.app.pop_screen()
            return
        send_modification_draft(self, self.consultation_id, origin="modification du DCE")

    def action_history(self) -> None:
        self.store_task(
            lambda store: dce_history(store, self.consultation_id, actor=self.app.actor),
            lambda versions: self.app.push_screen(
                TextDialog("Historique du DCE", history_text(versions))
            ),
        )

    def unsaved(self) -> Unsaved | None:
        """The pieces added, replaced or deleted: keeping them publishes a version, which
        asks about the deadline first, so only the buyer can (Enregistrer)."""
        if self.changes.is_empty():
            return None
        reference = self.detail.identity.reference if self.detail else None
        return Unsaved("les modifications du DCE", reference, found=DCE_SAVE_HINT)

    def action_leave(self) -> None:
        leave_or_ask(self, self.unsaved(), "Quitter la modification du DCE",
                     lambda _: self.app.pop_screen())  # fmt: skip


def history_text(versions: tuple[DceVersionView, ...]) -> Text:
    text = Text()
    if not versions:
        return Text("Aucune version du DCE.")
    for version in versions:
        text.append(
            f"Version {version.number} — {paris_minutes(version.created_at)} — {version.author}\n",
            style="bold",
        )
        if version.comment:
            text.append(f"  {version.comment}\n", style="italic")
        for piece in version.pieces:
            for indent, shown in ((2, piece), *((4, child) for child in piece.children)):
                text.append(
                    f"{' ' * indent}{shown.path}  {size_text(shown.size)}  SHA-256 {shown.sha256}\n"
                )
    return literal(text)
