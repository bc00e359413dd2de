""" "Messagerie sécurisée": the message form (type, lots, recipients, options, subject, body,
mentions, attachments), checked live against LEGAL.md, previewed, saved or queued."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import (
    Checkbox,
    Input,
    Label,
    OptionList,
    RadioButton,
    RadioSet,
    Select,
    SelectionList,
    Static,
    TextArea,
)
from textual.widgets.option_list import Option

from messagerie.letters.mail.content import context_block
from messagerie.models.clock import paris_today
from messagerie.models.errors import Refusal
from messagerie.models.formatting import lot_label, paris_minutes, size_text
from messagerie.models.messages.drafts import (
    DraftRecipient,
    Override,
    unique_recipients,
)
from messagerie.models.messages.files import (
    MessageFiles,
    load_message_files,
    merged_readings,
    read_attachments,
)
from messagerie.models.messages.form import (
    FORM_LABELS,
    MENTIONS,
    ComposeContext,
    FormCheck,
    FormInput,
    LetterBasis,
    check_form,
    load_context,
)
from messagerie.models.messages.presets import (
    PRESET_FIELDS,
    change_type,
    preset_form,
    preset_recipients,
)
from messagerie.models.messages.queue import (
    FormRefused,
    QueuedMessage,
    keep_typing,
    load_form,
    queue_message,
    save_draft,
)
from messagerie.models.messages.rejections import (
    PRESS_AGAIN,
    concerning,
    rejected_again,
    rejected_before,
)
from messagerie.models.rules.validation import ValidationFailed, check_email
from messagerie.models.store.documents import DocumentInfo
from messagerie.models.store.enums import AntivirusVerdict, MessageType, Right, SendMode
from messagerie.models.text import cut
from messagerie.screens.base import StoreScreen, Unsaved
from messagerie.screens.files import AntivirusLine, FilePicker
from messagerie.screens.preview import PreviewScreen
from messagerie.screens.quit import leave_or_ask
from messagerie.screens.recipients import DocumentSpacePicker, OverrideDialog, RecipientPicker
from messagerie.screens.rights import app_account, lacking, tell_refused
from messagerie.screens.widgets import (
    CLOCK_RECHECK,
    TextField,
    back_key,
    harmless,
    literal,
    notify_literal,
    save_key,
    section,
    titled,
    update_if_changed,
)

if TYPE_CHECKING:
    from messagerie.letters.pdf.generate import PersonalLetter
    from messagerie.models.messages.form import AttachedText
    from messagerie.models.store.database import Store

KEPT_DRAFT_FOUND = "Les messages enregistrés attendent dans « Brouillons de messages » (b)."
# Verdicts about something the form has no field for are shown next to the closest one.
VERDICT_SLOT = {"reason": "recipients", "question": "body", "bid_deadline": "type"}
MENTION_KEYS = tuple(dict.fromkeys(m.key for fields in MENTIONS.values() for m in fields))
# Printed in a rejection only when "Courrier envoyé après attribution" is ticked (R2181-3).
AWARD_MENTIONS = ("awardee", "award_reasons", "signature_date")
# The form's attribute behind each field a type change presets (`change_type` says "reply").
PRESET_ATTRIBUTES = {name: "reply_allowed" if name == "reply" else name for name in PRESET_FIELDS}
T = TypeVar("T")
CHECK_DELAY = 0.25  # seconds of quiet typing before the rules run again


class RemovableList(OptionList):
    """A list the buyer trims with Suppr (recipients, attachments). Empty, it is no Tab stop
    (a focused list of no line showed nothing); its row looks chosen only while focused, when
    Suppr would remove it."""

    # Not in the footer (it would push the form's keys out at 80 columns): the box says it.
    BINDINGS = [Binding("delete,backspace", "remove", "Retirer", key_display="Suppr", show=False)]

    def action_remove(self) -> None:
        index = self.highlighted
        if index is not None:
            self.post_message(self.Remove(self, self.get_option_at_index(index), index))

    class Remove(OptionList.OptionMessage):
        pass

    def __init__(self, id: str, *, emptied: str) -> None:
        """`emptied`: the field that takes the focus when the last line is removed."""
        super().__init__(id=id, compact=True)
        self.emptied = emptied
        self.can_focus = False

    def show(self, lines: Iterable[Text], ids: Iterable[str] | None = None) -> None:
        """`ids`: what each line stands for, read back by `Remove`'s handler."""
        position = self.highlighted
        lines = list(lines)
        names = list(ids) if ids is not None else [None] * len(lines)
        self.set_options([Option(literal(line), id) for line, id in zip(lines, names, strict=True)])
        if lines:
            self.highlighted = min(position or 0, len(lines) - 1)
        elif self.has_focus:
            self.screen.query_one(self.emptied).focus()
        self.can_focus = bool(lines)


class TypeSelect(Select[MessageType], inherit_bindings=False):
    """ "Type de message": its list opens with Entrée only. A new type replaces the preset
    subject and body: arrows or a space pressed in passing (Textual opens the list with
    them) changed a negotiation into another type unseen."""

    BINDINGS = [Binding("enter", "show_overlay", "Choisir le type", show=False)]


class FlagBox(Checkbox, inherit_bindings=False):
    """A box ticked with Entrée (or the mouse), not with a space typed in passing."""

    BINDINGS = [Binding("enter", "toggle_button", "Cocher", key_display="Entrée", show=False)]


class MessageFormScreen(StoreScreen[None]):
    """Messagerie sécurisée: compose one message for one consultation."""

    TITLE = "Messagerie sécurisée"
    # No field at once: the type field, focused while "Chargement…" was shown (its place
    # not final), was scrolled to the middle, the consultation's details out of sight.
    AUTO_FOCUS = ""  # `loaded` focuses the first field
    BINDINGS = [
        Binding("ctrl+e", "send", "Envoyer", key_display="^e", priority=True),
        save_key("save", "Brouillon", priority=True, tooltip="Enregistrer le brouillon"),
        # F2-F5 are written on their boxes (compose_body): 80 columns hold only the keys below.
        Binding("f2", "preview", "Aperçu", tooltip="Aperçu du message reçu", show=False),
        Binding(
            "f3", "pick_recipients", "Registres", show=False,
            tooltip="Ajouter des destinataires depuis les registres",
        ),
        Binding(
            "f4", "attach_local", "Fichier", show=False,
            tooltip="Importer un fichier depuis le poste local",
        ),
        Binding(
            "f5", "attach_space", "Espace doc.", show=False,
            tooltip="Importer un fichier depuis l'espace documentaire",
        ),
        Binding(
            "ctrl+g", "generate_letters", "Courrier", key_display="^g", priority=True,
            tooltip="Générer le courrier (un par destinataire, joint à son exemplaire)",
        ),
        Binding("f8", "override", "Déroger", tooltip="Passer outre une règle, motivé"),
        back_key("leave"),
    ]  # fmt: skip

    def __init__(
        self,
        consultation_id: int,
        *,
        draft_id: int | None = None,
        message_type: MessageType = MessageType.FREE,
        subject: str | None = None,
        reply_allowed: bool | None = None,
    ) -> None:
        super().__init__()
        self.consultation_id = consultation_id
        self.draft_id = draft_id
        self.revision = 0
        self.start_type = message_type
        self.start_subject = subject
        self.start_reply = reply_allowed
        self.context: ComposeContext | None = None
        self.recipients: tuple[DraftRecipient, ...] = ()
        self.files = MessageFiles()
        self.readings: tuple[AttachedText, ...] = ()  # what the attachments say (rule 4)
        self.overrides: tuple[Override, ...] = ()
        self.applied: FormInput | None = None  # the presets (or draft) last put in the fields
        self.saved: FormInput | None = None  # what the store holds, to know what is unsaved
        self.check: FormCheck | None = None
        self.checks_due = False  # typed since the live checks last ran (they wait for quiet)
        self.busy = False  # a save or send is running: a second press does nothing
        # The typing « Enregistrer et quitter » or a hang-up last kept, under its lock: the
        # other one, coming in between, finds it kept and does not make a second draft.
        self.kept_typing: FormInput | None = None
        self.keeping = threading.Lock()
        # The (lots, addresses) of a rejection the buyer pressed Ctrl+E twice for, knowing
        # some of them were rejected before: a second letter is sent to them only then.
        self.rejected_again_for: tuple[tuple[int, ...], frozenset[str]] | None = None

    # Layout -------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="message-form", can_focus=False):  # no Tab stop of its own
            yield section("identity", "Détail de la consultation", "Chargement…")
            yield Static("Les champs avec une * sont obligatoires", id="required-note")
            yield from _field("type", TypeSelect(
                [(self.type_label(t), t) for t in MessageType], allow_blank=False, id="type",
                value=self.start_type,
            ))  # fmt: skip
            yield from _field("lots", SelectionList[int](id="lots", compact=True))
            with titled(
                Vertical(id="recipients-box", classes="box"), "Destinataires *", "F3 registres"
            ):
                yield RemovableList(id="recipients", emptied="#new-address")
                yield TextField(
                    placeholder="Ajouter une adresse e-mail puis Entrée", id="new-address"
                )
                yield Static("", id="address-error")
                yield Static("", id="problem-recipients", classes="problem")
            with titled(Vertical(id="options-box", classes="box"), "Options d'envoi et de réponse"):
                yield Label("Modalité d'envoi :")
                with RadioSet(id="send-mode", compact=True):
                    for mode in SendMode:
                        yield RadioButton(mode.label, value=mode is SendMode.WITH_AR)
                yield Static("", id="problem-send_mode", classes="problem")
                yield Label("Le destinataire doit pouvoir répondre à ce message :")
                with RadioSet(id="reply", compact=True):
                    yield RadioButton("Non", value=True)
                    yield RadioButton("Oui")
                yield Label("Définir une date limite de réponse (JJ/MM/AAAA HH:MM) :")
                yield TextField(placeholder="JJ/MM/AAAA HH:MM", id="reply-deadline", disabled=True)
                yield Static("", id="problem-reply_deadline", classes="problem")
            with titled(Vertical(id="mentions-box", classes="box"), "Mentions obligatoires"):
                for key in MENTION_KEYS:
                    with Vertical(id=f"mention-{key}", classes="mention"):
                        if key == "awarded":
                            yield FlagBox("Courrier envoyé après attribution", id="awarded")
                        else:
                            yield Label("", id=f"label-{key}")
                            yield TextField(id=f"input-{key}", disabled=key in AWARD_MENTIONS)
                        yield Static("", id=f"problem-{key}", classes="problem")
            yield from _field("subject", TextField(id="subject"), required=True)
            yield from _field("body", TextArea(id="body", soft_wrap=True), required=True)
            yield section(
                "block",
                "Le bloc contextuel suivant est automatiquement intégré à votre message",
                keys="F2 aperçu du message reçu",
            )
            with titled(
                Vertical(id="attachments-box", classes="box"),
                "Pièces jointes",
                "F4 fichier · F5 espace doc. · Suppr retirer",
            ):
                yield AntivirusLine(id="av-note")
                yield RemovableList(id="attachment-list", emptied="#body")
                yield Static(
                    "Importer un fichier depuis le poste local (F4) ou depuis l'espace "
                    "documentaire (F5)",
                    classes="hint",
                )
                yield Static("", id="attachment-error")
                yield Static("", id="problem-attachments", classes="problem")
            yield Static("", id="status")

    def on_mount(self) -> None:
        self.query_one("#body", TextArea).show_line_numbers = False
        # The rules read the clock (rule 2's countdown, the 6-day window): time passes while
        # the form stays open, and its lines follow.
        self.set_interval(CLOCK_RECHECK, self.run_checks)
        draft_id = self.draft_id

        def load(store):  # type: ignore[no-untyped-def]
            context = load_context(store, self.consultation_id, self.app.account)
            if draft_id is None:
                return context, None, MessageFiles()
            form = load_form(store, draft_id, actor=self.app.actor)
            return context, form, load_message_files(store, form, actor=self.app.actor)

        self.store_task(load, lambda loaded: self.loaded(*loaded), self.load_failed)

    def load_failed(self, refusal: Refusal) -> None:
        self.query_one("#identity", Static).update(literal(str(refusal)))

    def loaded(
        self,
        context: ComposeContext,
        form: FormInput | None,
        files: MessageFiles,
    ) -> None:
        self.context = context
        detail = context.detail
        self.sub_title = harmless(detail.identity.reference_and_title)
        self.query_one("#identity", Static).update(_identity(context))
        lots = self.query_one("#lots", SelectionList)
        lots.add_options(
            [(literal(lot_label(number, title)), number) for number, title in detail.lots]
        )
        self.query_one("#field-lots").display = bool(detail.lots)
        self.show_lots()
        block = Text("Consultation concernée par cet échange\n", style="bold")
        for label, value in context_block(context.detail).lines():
            block.append(f"{label} : ", style="bold")
            block.append(f"{value}\n")
        block.rstrip()
        self.query_one("#block", Static).update(literal(block))
        if form is None:
            form = preset_form(context, self.start_type)
            form = replace(
                form,
                subject=self.start_subject or form.subject,
                reply_allowed=form.reply_allowed if self.start_reply is None else self.start_reply,
            )
        else:
            self.saved = form
        self.files = files
        self.read_attachments()
        self.fill(form)
        self.query_one("#subject" if form.draft_id else "#type").focus()

    # Between the widgets and FormInput ----------------------------------------------------

    def fill(self, form: FormInput) -> None:
        """Put `form` in the widgets; it becomes the reference for "touched" fields."""
        self.applied = form
        self.draft_id, self.revision = form.draft_id, form.revision
        self.recipients = unique_recipients(form.recipients)
        self.overrides = form.overrides
        with self.prevent(Select.Changed):
            self.query_one("#type", Select).value = form.type
        lots = self.query_one("#lots", SelectionList)
        lots.deselect_all()
        for number in form.lot_numbers:
            lots.select(number)
        _press(self.query_one("#send-mode", RadioSet), list(SendMode).index(form.send_mode))
        _press(self.query_one("#reply", RadioSet), int(form.reply_allowed))
        self.show_reply(form.reply_allowed)
        self.query_one("#reply-deadline", Input).value = form.reply_deadline
        self.query_one("#subject", Input).value = harmless(form.subject)
        self.query_one("#body", TextArea).text = harmless(form.body)
        for key in MENTION_KEYS:
            value = form.mentions.get(key, "")
            if key == "awarded":
                with self.prevent(Checkbox.Changed):  # set, not unticked: no warning
                    self.query_one("#awarded", Checkbox).value = bool(value)
            else:
                self.query_one(f"#input-{key}", Input).value = harmless(value)
        self.show_awarded()
        self.show_type(form.type)
        self.show_recipients()
        self.show_attachments()
        self.schedule_check()

    def form(self) -> FormInput:
        mentions = {
            key: self.query_one(f"#input-{key}", Input).value
            for key in MENTION_KEYS
            if key != "awarded"
        }
        mentions["awarded"] = "oui" if self.query_one("#awarded", Checkbox).value else ""
        kind = self.query_one("#type", Select).value
        reply_allowed = self.query_one("#reply", RadioSet).pressed_index == 1
        return FormInput(
            consultation_id=self.consultation_id,
            type=kind if isinstance(kind, MessageType) else MessageType.FREE,
            recipients=self.recipients,
            lot_numbers=tuple(sorted(self.query_one("#lots", SelectionList).selected)),
            send_mode=list(SendMode)[self.query_one("#send-mode", RadioSet).pressed_index],
            reply_allowed=reply_allowed,
            # Kept in its (disabled) field while replies are "Non", but not a deadline then.
            reply_deadline=self.query_one("#reply-deadline", Input).value if reply_allowed else "",
            subject=self.query_one("#subject", Input).value,
            body=self.query_one("#body", TextArea).text,
            mentions={
                key: value
                for key, value in mentions.items()
                if key in {m.key for m in MENTIONS.get(kind, ())}  # type: ignore[arg-type]
            },
            attachment_ids=self.files.attachment_ids,
            letters=self.files.letter_ids,
            letters_basis=self.files.letters_basis,
            overrides=self.overrides,
            draft_id=self.draft_id,
            revision=self.revision,
        )

    def touched(self, form: FormInput) -> frozenset[str]:
        """The preset fields the buyer changed since the presets were applied."""
        applied = self.applied or form
        return frozenset(
            name
            for name, attribute in PRESET_ATTRIBUTES.items()
            if getattr(form, attribute) != getattr(applied, attribute)
        )

    # Type, lots, mentions -----------------------------------------------------------------

    def show_type(self, kind: MessageType) -> None:
        shown = {m.key: m for m in MENTIONS.get(kind, ())}
        self.query_one("#mentions-box").display = bool(shown)
        for key in MENTION_KEYS:
            self.query_one(f"#mention-{key}").display = key in shown
            if key in shown and key != "awarded":
                mention = shown[key]
                star = " *" if mention.required else ""
                hint = mention.hint or ("JJ/MM/AAAA" if mention.kind == "date" else "")
                hint = f" ({hint})" if hint else ""
                self.query_one(f"#label-{key}", Label).update(f"{mention.label}{hint}{star}")

    @on(RadioSet.Changed, "#reply")
    def reply_changed(self, event: RadioSet.Changed) -> None:
        self.show_reply(event.index == 1)

    def show_reply(self, allowed: bool) -> None:
        """A reply deadline is typed only when the recipient may reply."""
        self.query_one("#reply-deadline", Input).disabled = not allowed

    @on(Checkbox.Changed, "#awarded")
    def awarded_changed(self, event: Checkbox.Changed) -> None:
        self.show_awarded()
        typed = [
            f"« {FORM_LABELS[key]} »"
            for key in AWARD_MENTIONS
            if self.query_one(f"#input-{key}", Input).value.strip()
        ]
        if not event.value and typed:  # said, never dropped silently
            self.notify(
                "« Courrier envoyé après attribution » décoché : le courrier n'imprimera pas "
                + ", ".join(typed)
                + ". Ces mentions restent saisies ; Entrée sur la case les rétablit.",
                title="Mentions obligatoires",
                severity="warning",
            )

    def show_awarded(self) -> None:
        """The awardee's mentions are typed (and printed) only after the award."""
        awarded = self.query_one("#awarded", Checkbox).value
        for key in AWARD_MENTIONS:
            self.query_one(f"#input-{key}", Input).disabled = not awarded

    def decision_refusal(self, kind: MessageType) -> str | None:
        """Why the account may not write a decision letter of `kind`; None when it may."""
        return lacking(app_account(self), Right.DECIDE) if kind.decision else None

    def type_label(self, kind: MessageType) -> str:
        """A type's name in the list, said « non autorisé » when the account lacks the right."""
        return kind.label + (" (non autorisé)" if self.decision_refusal(kind) else "")

    @on(Select.Changed, "#type")
    def type_changed(self, event: Select.Changed) -> None:
        if self.context is None or not isinstance(event.value, MessageType):
            return
        refused = self.decision_refusal(event.value)
        if refused is not None:  # the type stays what it was, and the buyer is told why
            with self.prevent(Select.Changed):
                self.query_one("#type", Select).value = (self.applied or self.form()).type
            tell_refused(self, refused)
            self.run_checks()
            return
        form = self.form()
        changed = change_type(form, self.context, event.value, self.touched(form))
        self.fill(changed)
        # A field stays touched while it differs from the new type's presets.
        preset = preset_form(self.context, event.value, form.lot_numbers)
        self.applied = replace(
            changed, **{name: getattr(preset, name) for name in PRESET_ATTRIBUTES.values()}
        )

    @on(SelectionList.SelectedChanged, "#lots")
    def lots_changed(self) -> None:
        """Recipients still as preset for the former lots are preset again for the new ones:
        a notification goes to the awardee of the chosen lots only. Chosen ones are kept."""
        if self.context is None or self.applied is None:
            return
        form = self.form()
        before = self.applied.lot_numbers
        if form.lot_numbers == before or (
            self.recipients != preset_recipients(self.context, form.type, before)
        ):
            return
        self.recipients = preset_recipients(self.context, form.type, form.lot_numbers)
        self.applied = replace(
            self.applied, lot_numbers=form.lot_numbers, recipients=self.recipients
        )
        self.show_recipients()

    # Recipients ---------------------------------------------------------------------------

    def company_names(self) -> dict[str, str]:
        """The registers' company of each address (casefolded)."""
        addresses = self.context.addresses if self.context else ()
        return {a.email.casefold(): a.company_name for a in addresses}

    def show_recipients(self) -> None:
        names = self.company_names()
        lines = []
        for recipient in self.recipients:
            line = Text(recipient.email)
            company = names.get(recipient.email.casefold())
            if company:
                line.append(f" — {company}", style="dim")
            lines.append(line)
        self.query_one("#recipients", RemovableList).show(lines)
        self.query_one("#recipients-box").border_title = f"Destinataires * ({len(self.recipients)})"

    def add_recipients(self, added: tuple[DraftRecipient, ...]) -> int:
        """Add, merging duplicates (case ignored); returns how many were new."""
        before = len(self.recipients)
        self.recipients = unique_recipients(self.recipients + added)
        self.show_recipients()
        self.schedule_check()
        return len(self.recipients) - before

    @on(Input.Submitted, "#new-address")
    def address_typed(self, event: Input.Submitted) -> None:
        problem = self.query_one("#address-error", Static)
        try:
            address = check_email(event.value, field="recipients")
        except ValidationFailed as failed:
            wrong = failed.errors[0].message
        else:
            added = self.add_recipients((DraftRecipient(address),))
            wrong = "" if added else f"« {address} » est déjà destinataire."
        problem.update(literal(f"Destinataires : {wrong}", style="red") if wrong else "")
        problem.display = bool(wrong)
        if not wrong:  # a wrong address stays in the field, to be corrected
            event.input.value = ""

    @on(RemovableList.Remove)
    def remove_item(self, event: RemovableList.Remove) -> None:
        if event.option_list.id == "recipients":
            del_at = event.option_index
            self.recipients = self.recipients[:del_at] + self.recipients[del_at + 1 :]
            self.show_recipients()
        else:  # a line of the attachments box says which collection it comes from
            kind, index = (event.option.id or "").split("-")
            if kind == "letter":
                self.files = self.files.without_letter(int(index))
            else:
                self.files = self.files.without_attachment(int(index))
            self.show_attachments()
        self.schedule_check()

    def action_pick_recipients(self) -> None:

        if self.context is None:
            return

        def picked(chosen: tuple[DraftRecipient, ...] | None) -> None:
            if chosen:
                added = self.add_recipients(chosen)
                self.notify(
                    f"{added} destinataire(s) ajouté(s)"
                    + (f", {len(chosen) - added} déjà présent(s)" if added < len(chosen) else "")
                    + ".",
                    title="Destinataires",
                )

        self.app.push_screen(RecipientPicker(self.context), picked)

    # Attachments --------------------------------------------------------------------------

    @property
    def attachments(self) -> tuple[DocumentInfo, ...]:
        """The files sent to every recipient."""
        return self.files.attachments

    @property
    def letters(self) -> tuple[tuple[str, DocumentInfo], ...]:
        """The generated letters, each with the recipient whose copy carries it."""
        return self.files.letters

    def show_attachments(self) -> None:
        lines: dict[str, Text] = {}  # by option id: "attachment-<i>" or "letter-<i>"
        for index, document in enumerate(self.attachments):
            line = Text(f"{document.filename} ({size_text(document.size)})")
            if document.antivirus is AntivirusVerdict.NOT_SCANNED:
                line.append(" — non analysé", style="bold yellow")
            lines[f"attachment-{index}"] = line
        for index, (email, document) in enumerate(self.letters):
            lines[f"letter-{index}"] = Text.assemble(
                f"{document.filename} ({size_text(document.size)})",
                (f" — pour {email} seulement", "italic"),
            )
        self.query_one("#attachment-list", RemovableList).show(lines.values(), ids=lines.keys())
        self.query_one("#attachments-box").border_title = f"Pièces jointes ({len(lines)})"

    def attachment_note(self, note: str | Text) -> None:
        """What happened to the last file (scanning, refused); kept apart from the checks."""
        widget = self.query_one("#attachment-error", Static)
        widget.update(literal(note))
        widget.display = bool(note)

    def attached(self, document: DocumentInfo) -> None:
        self.attachment_note("")
        if self.files.holds(document):
            notify_literal(self, f"« {document.filename} » est déjà joint.", title="Pièces jointes")
            return
        self.files = self.files.attach(document)
        self.show_attachments()
        self.schedule_check()
        self.read_attachments()

    def read_attachments(self) -> None:
        """Read what the attachments not read yet say, off the screen's thread (rule 4 looks
        for the asker in them; a long PDF takes a while), then check again. A reading
        cancelled by a newer one is read by it: it takes every file not read."""
        known = {reading.document_id for reading in self.readings}
        unread = [document for document in self.attachments if document.id not in known]
        if not unread or self.context is None:
            return
        askers = self.context.askers
        self.store_task(
            lambda store: read_attachments(store, unread, askers),
            self.attachments_read,
            group="attachment-text",
        )

    def attachments_read(self, readings: tuple[AttachedText, ...]) -> None:
        self.readings = merged_readings(self.readings, readings)
        self.schedule_check()

    def action_generate_letters(self) -> None:
        """The type's model letter, one per recipient, attached to that recipient's copy."""
        if self.context is None:
            return
        from messagerie.letters.pdf.generate import generate_letters

        context, form = self.context, self.form()
        today = paris_today(self.app.clock())
        basis = LetterBasis.of(form, dated=today)  # sending checks the letters still say it
        settings = self.app.settings()
        actor = self.app.actor
        self.attachment_note(Text(f"Génération de {len(self.recipients)} courrier(s)…"))
        self.store_task(
            lambda store: generate_letters(
                store,
                context,
                form,
                dated=today,
                platform_url=settings.link_base,
                actor=actor,
                templates_dir=settings.templates_dir,
            ),
            lambda letters: self.letters_generated(letters, basis),
            self.letters_refused,
            group="letters",
        )

    def letters_generated(self, letters: tuple[PersonalLetter, ...], basis: LetterBasis) -> None:
        self.files = self.files.with_letters(
            ((letter.email, letter.document) for letter in letters), basis
        )
        self.attachment_note("")
        self.show_attachments()
        self.schedule_check()
        self.notify(
            f"{len(letters)} courrier(s) généré(s), chacun joint à l'exemplaire de son "
            "destinataire.",
            title="Générer le courrier",
        )

    def letters_refused(self, refusal: Refusal) -> None:
        self.attachment_note(Text(f"Courrier : {refusal}", style="red"))
        field = getattr(refusal, "field", None)
        if field and self.query(f"#input-{field}"):
            self.query_one(f"#input-{field}").focus()

    def attach_refused(self, refusal: Refusal) -> None:
        self.attachment_note(Text(f"Pièces jointes : {refusal}", style="red"))

    def action_attach_local(self) -> None:
        from messagerie.letters.intake.files import attach_file

        actor = self.app.actor

        def chosen(path) -> None:  # type: ignore[no-untyped-def]
            if path is None:
                return
            self.attachment_note(f"Analyse de « {path.name} » par l'antivirus…")
            self.store_task(
                lambda store: attach_file(
                    store,
                    path,
                    options=self.app.intake_options(),
                    consultation_id=self.consultation_id,
                    actor=actor,
                ),
                self.attached,
                self.attach_refused,
                group="attach",
            )

        picker = FilePicker("Importer un fichier depuis le poste local", antivirus=True)
        self.app.push_screen(picker, chosen)

    def action_attach_space(self) -> None:

        def chosen(document: DocumentInfo | None) -> None:
            if document is not None:
                self.attached(document)

        self.app.push_screen(DocumentSpacePicker(self.consultation_id), chosen)

    # Live checks --------------------------------------------------------------------------

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(RadioSet.Changed)
    @on(Checkbox.Changed)
    @on(SelectionList.SelectedChanged)
    def edited(self) -> None:
        self.schedule_check()

    @on(SelectionList.SelectedChanged, "#lots")  # only then: a label's update lays out the form
    def show_lots(self) -> None:
        selected = self.query_one("#lots", SelectionList).selected
        self.query_one("#field-lots > Label", Label).update(
            f"{FORM_LABELS['lots']} : "
            + (f"{len(selected)} lot(s) coché(s)" if selected else "Tous les lots")
        )

    def schedule_check(self) -> None:
        if hasattr(self, "_check_timer"):
            self._check_timer.stop()
        self.checks_due = True
        self._check_timer = self.set_timer(CHECK_DELAY, self.run_checks)

    def slot_shown(self, slot: str) -> bool:
        """Whether the line under field `slot` can be seen: the field is there and shown."""
        found = self.query(f"#problem-{slot}")
        return bool(found) and all(node.display for node in found.first().ancestors)

    def run_checks(self) -> FormCheck | None:
        """Show each wrong field and each rule next to the field it concerns."""
        self.checks_due = False
        if self.context is None:
            return None
        form = self.form()
        check = check_form(form, self.context, self.app.clock(), self.readings)
        self.check = check
        slots: dict[str, Text] = {}

        def add(field: str, text: str, style: str) -> None:
            slot = VERDICT_SLOT.get(field, field)
            if not self.slot_shown(slot):  # no such field, or hidden (the lots of none)
                slot = "type"
            line = slots.setdefault(slot, Text())
            if line:
                line.append("\n")
            line.append(text, style=style)

        for error in check.errors:
            add(error.field, f"{error.label} : {error.message}", "red")
        refused = self.decision_refusal(form.type)
        if refused is not None:  # a draft of a decision letter, opened by another account
            add("type", f"Bloquant : {refused}", "bold red")
        for verdict in check.verdicts:
            if verdict.blocks and verdict.rule in check.overridden:
                reason = next(o.reason for o in self.overrides if o.rule == verdict.rule)
                add(verdict.field or "type", f"Règle {verdict.rule} levée : {reason}", "dim")
            elif verdict.blocks:
                add(verdict.field or "type", f"Bloquant : {verdict.message}", "bold red")
            else:
                add(verdict.field or "type", f"Attention : {verdict.message}", "yellow")
        if check.countdown:
            add("bid_deadline", check.countdown, "green")
        for problem in self.query(".problem").results(Static):
            slot = (problem.id or "").removeprefix("problem-")
            update_if_changed(problem, literal(slots.get(slot, "")))
            problem.display = slot in slots
        status = self.query_one("#status", Static)
        if check.ready and refused is None:
            update_if_changed(status, Text("Prêt à envoyer (^e).", style="green"))
        else:
            count = len(check.errors) + len(check.blocks)
            count += refused is not None
            update_if_changed(
                status, Text(f"{count} point(s) à corriger avant l'envoi.", style="bold red")
            )
        return check

    # Actions ------------------------------------------------------------------------------

    def action_override(self) -> None:

        check = self.run_checks()
        if check is None or not check.blocks:
            self.notify("Aucune règle bloquante à lever.", title="Passer outre")
            return

        def given(override: Override | None) -> None:
            if override is not None:
                kept = (o for o in self.overrides if o.rule != override.rule)
                self.overrides = (*kept, override)
                self.run_checks()

        self.app.push_screen(OverrideDialog(check.blocks), given)

    def action_preview(self) -> None:

        if self.context is not None:
            public_url = self.app.settings().link_base
            self.app.push_screen(
                PreviewScreen(self.context, self.form(), self.attachments, public_url)
            )

    def action_save(self) -> None:
        if self.context is None or self.busy:
            return
        self.write_form(save_draft, self.draft_saved)

    def write_form(self, write: Callable[..., T], done: Callable[[T], None]) -> None:
        """Save or queue the form as it stands; a second press does nothing meanwhile."""
        self.busy = True
        form = self.form()
        actor = self.app.actor
        self.store_task(lambda store: write(store, form, actor=actor), done, self.failed)

    def draft_saved(self, form: FormInput) -> None:
        self.busy = False
        self.draft_id, self.revision = form.draft_id, form.revision
        self.saved = self.form()
        self.notify("Brouillon enregistré.", title="Messagerie sécurisée")

    def action_send(self) -> None:
        if self.context is None or self.busy:
            return
        refused = self.decision_refusal(self.form().type)
        if refused is not None:
            tell_refused(self, refused)
            return
        check = self.run_checks()
        if check is not None and not check.ready:
            shown = [p for p in self.query(".problem") if p.display]
            if shown:
                shown[0].scroll_visible()
            self.notify(
                "Corrigez les points signalés (en rouge) avant l'envoi.",
                title="Envoi impossible",
                severity="error",
            )
            return
        form = self.form()
        # The queue checks again, with what other buyers wrote meanwhile, and refuses a
        # warning the buyer has not been shown here.
        send = partial(queue_message, seen=frozenset() if check is None else check.warned)
        if form.type is MessageType.REJECTION and self.rejected_again_for != _addressed(form):
            self.busy = True
            emails, actor = [one.email for one in form.recipients], self.app.actor
            self.store_task(
                lambda store: rejected_before(
                    store, form.consultation_id, form.lot_numbers, emails, actor=actor
                ),
                lambda found: self.rejected_found(form, found, send),
                self.failed,
            )
            return
        self.write_form(send, self.queued)

    def rejected_found(
        self, form: FormInput, found: dict[str, datetime], send: Callable[..., QueuedMessage]
    ) -> None:
        """Send, unless some recipients were rejected before: then say whom, and wait for a
        second Ctrl+E (a corrected letter is deliberate; the same one sent twice is not)."""
        self.busy = False
        if not found:
            self.write_form(send, self.queued)
            return
        self.rejected_again_for = _addressed(form)
        names = self.company_names()
        shown = [
            names.get(one.email.casefold(), one.email)
            for one in form.recipients
            if one.email.lower() in found
        ]
        notify_literal(
            self,
            f"{rejected_again(shown, found, concerning(form.lot_numbers))}\n{PRESS_AGAIN}",
            title="Courrier de rejet",
            severity="warning",
            timeout=15,
        )

    def queued(self, queued: QueuedMessage) -> None:
        self.saved = self.form()
        self.app.wake_outbox()
        self.app.notify(
            f"« {queued.type.label} » validé pour {queued.recipients} destinataire(s) : il "
            "part avec la file d'envoi.",
            title="Message envoyé",
        )
        self.dismiss()

    def failed(self, refusal: Refusal) -> None:
        self.busy = False
        if isinstance(refusal, FormRefused):
            # Refused on what the store held then: the form's lines say it too.
            if refusal.context is not None:
                self.context = refusal.context
            self.readings = merged_readings(self.readings, refusal.readings)
            self.run_checks()

    def typed(self) -> FormInput | None:
        """The form as typed, when it differs from what the store holds (or from the presets
        it opened with)."""
        if self.context is None:
            return None
        form = self.form()
        return form if form != (self.saved or self.applied) else None

    def unsaved(self) -> Unsaved | None:
        """The letter as typed, kept as a draft at a hang-up or on « Enregistrer et quitter »;
        none while a save or a send is under way (its own transaction keeps the text, or it
        is sent)."""
        form = None if self.busy else self.typed()
        if form is None or self.context is None:
            return None
        subject = f"« {cut(form.subject, 40)} »" if form.subject.strip() else "sans objet"

        def keep(store: Store, actor: str, at_hang_up: bool) -> None:
            with self.keeping:  # the dialog's worker, or the UI thread at a hang-up
                if form == self.kept_typing:
                    return
                keep_typing(store, form, actor=actor, at_hang_up=at_hang_up)
                self.kept_typing = form

        reference = self.context.detail.identity.reference
        return Unsaved(f"le message {subject}", reference, keep, KEPT_DRAFT_FOUND)

    def action_leave(self) -> None:
        """Échap: back to the consultation; with typing unsaved, after « Quitter la
        messagerie » (keep it as a draft, leave without it, or stay)."""
        leave_or_ask(self, self.unsaved(), "Quitter la messagerie", lambda _: self.app.pop_screen())


def _addressed(form: FormInput) -> tuple[tuple[int, ...], frozenset[str]]:
    """Whom a rejection is about: its lots and its addresses, case aside."""
    return form.lot_numbers, frozenset(one.email.lower() for one in form.recipients)


def _field(name: str, widget: Widget, *, required: bool = False) -> ComposeResult:
    with Vertical(id=f"field-{name}", classes="field"):
        yield Label(FORM_LABELS[name] + (" *" if required or name == "type" else ""))
        yield widget
        yield Static("", id=f"problem-{name}", classes="problem")


def _press(radios: RadioSet, index: int) -> None:
    buttons = list(radios.query(RadioButton))
    buttons[index].value = True


def _identity(context: ComposeContext) -> Text:
    detail = context.detail
    identity = detail.identity
    text = Text()
    for label, value in (
        ("Référence", identity.reference),
        ("Intitulé", identity.title),
        ("Objet", identity.object),
        ("Date et heure limite de remise des plis", paris_minutes(detail.bid_deadline)),
    ):
        text.append(f"{label} : ", style="bold")
        text.append(f"{value}\n")
    text.rstrip()
    return literal(text)
