""" "La loupe": one message in full (as sent, in both modes), its lots and attachments (size,
SHA-256, antivirus verdict), every recipient with its whole event timeline, the replies with
their files, and the overrides recorded for it. And one reply, opened (then marked read)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from messagerie.letters.mail.content import content_of, recipient_of
from messagerie.letters.mail.mime import page_text, render_parts
from messagerie.models.formatting import paris_minutes, paris_seconds, size_text
from messagerie.models.messages.detail import (
    MessageDetail,
    ReplyDetail,
    ReplyView,
    message_detail,
    open_reply,
    save_files,
)
from messagerie.models.messages.inbound import other_sender
from messagerie.models.store.documents import DocumentInfo
from messagerie.models.store.enums import SendMode
from messagerie.screens.ar_download import AR_KEY, download_ar
from messagerie.screens.base import StoreScreen
from messagerie.screens.dialogs import ask_until_valid, save_folder, saved_into, typed_path
from messagerie.screens.widgets import back_key, harmless, literal, notify_literal

LINK_BASE = "https://lien-personnel"  # the detail shows the notice, never a real link


def heading(text: str) -> Text:
    return Text(f"\n{text}\n", style="bold underline")


def origin_lines(reply: ReplyDetail, email: str) -> Text:
    """Where an e-mailed reply comes from. From another address than the recipient's: its
    reply address is in every copy of the thread, so anyone holding one could write it.
    Its DKIM signature: which domain vouches for it, if any. Said, never hidden."""
    text = Text()
    elsewhere = other_sender(reply.sender, email)
    if elsewhere is not None:
        text.append(
            f"Attention : envoyée depuis {elsewhere}, une autre adresse que celle du "
            "destinataire.\n",
            style="bold yellow",
        )
    if reply.dkim is not None:
        # As the R event said it: without a From, a signature is no one's in particular.
        said = reply.dkim.said(reply.sender)
        trusted = reply.dkim.vouches_for(reply.sender)
        text.append(
            f"{said[0].upper()}{said[1:]}.\n" if trusted else f"Attention : {said}.\n",
            style="green" if trusted else "bold yellow",
        )
    return text


def files_text(files: tuple[DocumentInfo, ...]) -> Text:
    shown = Text()
    for info in files:
        shown.append(f"• {info.filename}", style="bold")
        shown.append(f" ({size_text(info.size)}, antivirus : {info.antivirus.label})\n")
        shown.append(f"  SHA-256 {info.sha256}\n", style="dim")
    return literal(shown)


def sent_text(detail: MessageDetail) -> str:
    """The e-mail's text exactly as the outbox renders it, the personal token left out."""
    message = detail.message
    to = next((one.email for one in detail.recipients), "")
    text, _ = render_parts(content_of(message), recipient_of(message, to, public_url=LINK_BASE))
    return text


def detail_text(detail: MessageDetail, focused: int | None) -> Text:
    outgoing = detail.message
    text = Text()
    text.append(f"{outgoing.type.label}\n", style="bold")
    text.append(f"Objet : {outgoing.subject}\n")
    text.append(f"Envoyé par {detail.author}")
    text.append(f" le {paris_seconds(detail.queued_at)}\n" if detail.queued_at else "\n")
    text.append(f"Mode : {outgoing.send_mode.label}\n")
    if outgoing.reply_allowed:
        deadline = outgoing.reply_deadline
        # « jusqu'au », as the e-mail, the page and the AR say it: the page takes a reply
        # given at the deadline itself.
        text.append("Réponse attendue" + (f" jusqu'au {paris_minutes(deadline)}\n" if deadline
                                           else " sans date limite\n"))  # fmt: skip
    if detail.lots:
        text.append("Lots : " + ", ".join(detail.lots) + "\n")

    text.append_text(heading("Contenu du message"))
    if outgoing.send_mode is SendMode.WITH_AR:  # on the page; the e-mail is a notice
        text.append(page_text(content_of(outgoing)))
        text.append_text(heading("Courriel envoyé (avis avec lien personnel)"))
        text.append(sent_text(detail), style="dim")
    else:
        text.append(sent_text(detail))

    text.append_text(heading(f"Pièces jointes ({len(detail.files)})"))
    for file in detail.files:
        text.append(f"• {file.filename}", style="bold")
        text.append(f" ({size_text(file.size)}, antivirus : {file.antivirus.label})")
        text.append(" — pièce propre à un destinataire\n" if file.personal else "\n")
        text.append(f"  SHA-256 {file.sha256}\n", style="dim")

    text.append_text(heading(f"Destinataires ({len(detail.recipients)})"))
    for one in detail.recipients:
        style = "bold reverse" if one.id == focused else "bold"
        text.append(f"n° {one.id} ", style="dim")  # what `messagerie ar ID` asks for
        text.append(f"{one.email}", style=style)
        text.append(f" — {one.company or 'entreprise non renseignée'} — {one.status.label}")
        if one.resent_from_id:
            text.append(f" (renvoi du destinataire n° {one.resent_from_id})")
        text.append("\n")
        for event in one.events:
            text.append(f"  {paris_seconds(event.at)}  ")
            text.append(f"{event.kind.label:<11}", style="bold")
            text.append(f" {event.detail or ''}")
            if event.client_address or event.user_agent:
                text.append(f" [{event.client_address or '?'} · {event.user_agent or '?'}]")
            text.append("\n")

    text.append_text(heading(f"Réponses ({len(detail.replies)})"))
    emails = {one.id: one.email for one in detail.recipients}
    for reply in detail.replies:
        text.append(f"{emails.get(reply.recipient_id, '?')}", style="bold")
        text.append(f" — {paris_seconds(reply.received_at)} — {reply.disposition.label}")
        text.append(" — lue\n" if reply.read_at else " — non lue\n")
        text.append_text(origin_lines(reply, emails.get(reply.recipient_id, "")))
        text.append(reply.body.strip() + "\n")
        text.append_text(files_text(reply.files))

    text.append_text(heading("Dérogations"))
    if not detail.overrides:
        text.append("Aucune règle n'a été levée pour ce message.\n")
    for override in detail.overrides:
        rule = f"règle {override.rule}" if override.rule else override.action
        text.append(f"{paris_seconds(override.at)} — {override.actor} — {rule} : ")
        text.append(f"{override.reason}\n", style="italic")
    return literal(text)


class ReadingScreen(StoreScreen[None]):
    """A text read from the store, scrolled with the keys; "Chargement…" until it comes."""

    BOX: ClassVar[str]  # the scrolled box's id; the text's is "BOX-text"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id=self.BOX, can_focus=True):
            yield Static("Chargement…", id=f"{self.BOX}-text")

    def show_text(self, text: Text) -> None:
        self.query_one(f"#{self.BOX}-text", Static).update(text)


class MessageDetailScreen(ReadingScreen):
    """Everything about one message, read-only; Échap goes back to the table."""

    AUTO_FOCUS, BOX = "#detail", "detail"
    BINDINGS = [
        back_key(),
        AR_KEY,
    ]

    def __init__(self, message_id: int, recipient_id: int | None = None) -> None:
        super().__init__()
        self.message_id, self.recipient_id = message_id, recipient_id

    def on_mount(self) -> None:
        self.sub_title = "Détail du message"
        self.store_task(
            lambda store: message_detail(store, self.message_id, actor=self.app.actor), self.show
        )

    def show(self, detail: MessageDetail) -> None:
        reference = detail.message.consultation.identity.reference
        self.sub_title = harmless(f"{reference} | Détail du message")
        self.show_text(detail_text(detail, self.recipient_id))

    def action_ar(self) -> None:
        """The AR of the recipient whose line la loupe was opened on (shown reversed)."""
        if self.recipient_id is None:
            self.notify(
                "Ouvrez la loupe depuis la ligne du destinataire, dans le suivi des messages.",
                title="Télécharger l'AR",
            )
            return
        download_ar(self, self.recipient_id)


class ReplyScreen(ReadingScreen):
    """One reply, opened: it becomes "lue"; its files can be saved to a folder."""

    AUTO_FOCUS, BOX = "#reply", "reply"
    BINDINGS = [
        back_key("dismiss"),
        Binding("s", "save", "Enregistrer", tooltip="Enregistrer les pièces de la réponse"),
    ]

    def __init__(self, reply_id: int) -> None:
        super().__init__()
        self.reply_id = reply_id
        self.view: ReplyView | None = None

    def on_mount(self) -> None:
        self.sub_title = "Réponse"
        actor = self.app.actor
        self.store_task(lambda store: open_reply(store, self.reply_id, actor=actor), self.show)

    def show(self, view: ReplyView) -> None:
        self.view = view
        reply = view.reply
        text = Text()
        text.append(f"Réponse de {view.company or view.email}", style="bold")
        text.append(f" ({view.email})\n")
        text.append(f"à « {view.subject} »\n")
        text.append(f"Reçue le {paris_seconds(reply.received_at)} — {reply.disposition.label}\n")
        text.append_text(origin_lines(reply, view.email))
        text.append("\n")
        text.append(reply.body.strip() + "\n")
        text.append_text(heading(f"Pièces jointes ({len(reply.files)})"))
        text.append_text(files_text(reply.files))
        if reply.files:
            text.append("\ns : enregistrer les pièces dans un dossier\n", style="dim")
        self.show_text(literal(text))

    def action_save(self) -> None:
        if self.view is None or not self.view.reply.files:
            self.notify("Cette réponse n'a pas de pièce jointe.", title="Enregistrer")
            return
        files = self.view.reply.files

        def save(answer: str) -> str | None:
            folder, problem = typed_path(answer, folder=True)
            if folder is None:
                return problem
            saved_into(self.app, folder)
            self.store_task(
                lambda store: save_files(store, files, folder),
                lambda written: notify_literal(
                    self, "\n".join(str(path) for path in written), title="Pièces enregistrées"
                ),
                group="save",
            )
            return None

        ask_until_valid(
            self, "Enregistrer les pièces", "Dossier où enregistrer les pièces :",
            str(save_folder(self.app)), save,
        )  # fmt: skip
