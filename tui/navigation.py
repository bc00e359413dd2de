"""Which screen follows which: the only place that knows. Screens ask the app
(`self.app.open_form(…)`) and never import each other, so each can change alone.

Screens are imported when first opened: the dashboard's first frame does not wait for the
message form's imports."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.app import App

if TYPE_CHECKING:
    from messagerie.models.consultations.registers import RegisterRow
    from messagerie.models.messages.drafts import DraftView
    from messagerie.models.store.enums import RegisterKind


class Navigation(App[None]):
    """The app's moves from screen to screen."""

    def open_consultation(self, consultation_id: int, *, instead: bool = False) -> None:
        """The consultation; `instead` of the current screen (a flow that ends there)."""
        from messagerie.screens.consultation import ConsultationScreen

        screen = ConsultationScreen(consultation_id)
        if instead:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def open_registers(self, consultation_id: int, kind: RegisterKind) -> None:
        from messagerie.screens.registers import RegisterScreen

        self.push_screen(RegisterScreen(consultation_id, kind))

    def open_dce(self, consultation_id: int) -> None:
        from messagerie.screens.dce import DceScreen

        self.push_screen(DceScreen(consultation_id))

    def open_accounts(self) -> None:
        """The accounts of the organisation (for an account with `manage`)."""
        from messagerie.screens.accounts import AccountsScreen

        self.push_screen(AccountsScreen())

    def open_tracking(self, consultation_id: int | None = None) -> None:
        """Suivi des messages of one consultation, or of all (None)."""
        from messagerie.screens.tracking import TrackingScreen

        self.push_screen(TrackingScreen(consultation_id))

    def open_form(self, consultation_id: int, **options: Any) -> None:
        """The message form (options: draft_id, message_type, subject, reply_allowed…)."""
        from messagerie.screens.message_form import MessageFormScreen

        self.push_screen(MessageFormScreen(consultation_id, **options))

    def open_draft(self, consultation_id: int, draft: DraftView) -> None:
        """A draft a flow prepared, in the form over its consultation (where it stays in
        « Brouillons de messages » if the buyer leaves without sending)."""
        self.notify(
            f"Brouillon « {draft.type.label} » préparé pour {len(draft.recipients)} "
            "destinataire(s) : vérifiez-le, puis envoyez-le (^e).",
            title="Brouillon enregistré",
        )
        # The flow's screen (register, DCE, Q/A editor) gives way to the consultation.
        self.open_consultation(consultation_id, instead=True)
        self.open_form(consultation_id, draft_id=draft.id)

    def open_suite_creation(self, consultation_id: int) -> None:
        from messagerie.screens.suite import SuiteScreen

        self.push_screen(SuiteScreen(consultation_id))

    def open_merge(self, consultation_id: int) -> None:
        """Rejets en nombre (the mail-merge of rejection letters)."""
        from messagerie.screens.merge import MergeScreen

        self.push_screen(MergeScreen(consultation_id))

    def open_qa_editor(self, question: RegisterRow) -> None:
        """Case A: the question's answer in the Q/A document of the DCE."""
        from messagerie.screens.qa import QaEditorScreen

        self.push_screen(QaEditorScreen(question))

    def open_message(self, message_id: int, recipient_id: int | None = None) -> None:
        """La loupe on one message (on one of its recipients)."""
        from messagerie.screens.message_detail import MessageDetailScreen

        self.push_screen(MessageDetailScreen(message_id, recipient_id))

    def open_reply(self, reply_id: int, then: Callable[[None], object]) -> None:
        """One reply, opened (then marked read); `then` when the buyer leaves it."""
        from messagerie.screens.message_detail import ReplyScreen

        self.push_screen(ReplyScreen(reply_id), then)
