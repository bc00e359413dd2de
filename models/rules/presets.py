"""What each message type presets: send mode, reply options, subject and body (the guide's
"Options d'envoi et de réponse … pré-paramétrées")."""

from __future__ import annotations

from dataclasses import dataclass

from messagerie.models.store.enums import MessageType, SendMode

BODY_PLACEHOLDER = "[Contenu du message à renseigner]"
SUBJECT_PLACEHOLDER = "[objet à adapter]"
GREETING = "Bonjour,"
CLOSING = "Merci de votre intérêt pour cette consultation citée en référence."


@dataclass(frozen=True)
class Preset:
    send_mode: SendMode
    reply_allowed: bool
    reply_deadline_required: bool
    subject: str
    body: str


def _body(content: str = BODY_PLACEHOLDER) -> str:
    return f"{GREETING}\n\n{content}\n\n{CLOSING}"


PRESETS: dict[MessageType, Preset] = {
    MessageType.FREE: Preset(SendMode.WITH_AR, False, False, "Courrier", _body()),
    MessageType.INVITATION: Preset(
        SendMode.WITH_AR, False, False, "Invitation à concourir", _body()
    ),
    MessageType.MODIFICATION: Preset(
        SendMode.WITH_AR,
        False,
        False,
        "Information sur la modification du DCE",
        _body(
            "Le dossier de consultation des entreprises (DCE) a été modifié. "
            "Nous vous invitons à télécharger la nouvelle version des documents.\n\n"
            + BODY_PLACEHOLDER
        ),
    ),
    MessageType.ANSWER: Preset(SendMode.WITH_AR, False, False, "Réponse à votre question", _body()),
    MessageType.COMPLEMENT_REQUEST: Preset(
        SendMode.WITH_AR, True, True, "Demande de complément", _body()
    ),
    MessageType.AWARD: Preset(SendMode.WITH_AR, False, False, "Courrier d'attribution", _body()),
    MessageType.NOTIFICATION: Preset(
        SendMode.WITH_AR, False, False, "Courrier de notification", _body()
    ),
    MessageType.REJECTION: Preset(SendMode.WITH_AR, False, False, "Courrier de rejet", _body()),
    MessageType.CANCELLATION: Preset(
        SendMode.WITH_AR, False, False, "Information d'annulation", _body()
    ),
}
