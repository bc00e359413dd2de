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


# The type's sentences: sendable as they are ("Ne modifiez rien", says the guide), except a
# free letter, whose whole content the buyer writes. A body that announces a file
# ("ci-joint") is refused until one is attached (messages.form).
ANSWER_BODY = _body(
    "Nous avons bien reçu votre question concernant la consultation citée en référence. "
    "Vous trouverez ci-joint la réponse qui y est apportée."
)
MODIFICATION_BODY = _body(
    "Le dossier de consultation des entreprises (DCE) a été modifié. Nous vous invitons à "
    "télécharger la nouvelle version des documents sur la plateforme et à en tenir compte "
    "pour la préparation de votre pli."
)
COMPLEMENT_BODY = _body(
    "Après examen de votre dossier, des pièces ou des informations manquent ou sont "
    "incomplètes. Nous vous remercions de bien vouloir nous les transmettre en répondant à ce "
    "message, avant la date limite de réponse indiquée."
)
AWARD_BODY = _body(
    "Nous avons le plaisir de vous informer que votre offre a été retenue. Ce courrier ne vaut "
    "pas notification : le marché vous sera notifié par un courrier distinct."
)
NOTIFICATION_BODY = _body(
    "Nous avons le plaisir de vous notifier le marché conclu à l'issue de la consultation "
    "citée en référence. Vous trouverez ci-joint le courrier de notification. Le marché prend "
    "effet à la date de réception de la présente notification (article R2182-4 du code de la "
    "commande publique)."
)
REJECTION_BODY = _body(
    "Nous avons le regret de vous informer que votre candidature ou votre offre n'a pas été "
    "retenue."
)
CANCELLATION_BODY = _body(
    "Nous vous informons que la procédure citée en référence est déclarée sans suite, pour les "
    "motifs indiqués ci-dessous (articles R2185-1 et R2185-2 du code de la commande publique)."
)

PRESETS: dict[MessageType, Preset] = {
    MessageType.FREE: Preset(SendMode.WITH_AR, False, False, "Courrier", _body()),
    MessageType.INVITATION: Preset(
        SendMode.WITH_AR, False, False, "Invitation à concourir", _body()
    ),
    MessageType.MODIFICATION: Preset(
        SendMode.WITH_AR, False, False, "Information sur la modification du DCE", MODIFICATION_BODY
    ),
    MessageType.ANSWER: Preset(
        SendMode.WITH_AR, False, False, "Réponse à votre question", ANSWER_BODY
    ),
    MessageType.COMPLEMENT_REQUEST: Preset(
        SendMode.WITH_AR, True, True, "Demande de complément", COMPLEMENT_BODY
    ),
    MessageType.AWARD: Preset(SendMode.WITH_AR, False, False, "Courrier d'attribution", AWARD_BODY),
    MessageType.NOTIFICATION: Preset(
        SendMode.WITH_AR, False, False, "Courrier de notification", NOTIFICATION_BODY
    ),
    MessageType.REJECTION: Preset(
        SendMode.WITH_AR, False, False, "Courrier de rejet", REJECTION_BODY
    ),
    MessageType.CANCELLATION: Preset(
        SendMode.WITH_AR, False, False, "Information d'annulation", CANCELLATION_BODY
    ),
}
