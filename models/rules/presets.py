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
    subject: str
    body: str
    send_mode: SendMode = SendMode.WITH_AR  # every type's letters are sent with AR
    reply_allowed: bool = False
    reply_deadline_required: bool = False


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
    MessageType.FREE: Preset("Courrier", _body()),
    MessageType.INVITATION: Preset("Invitation à concourir", _body()),
    MessageType.MODIFICATION: Preset("Information sur la modification du DCE", MODIFICATION_BODY),
    MessageType.ANSWER: Preset("Réponse à votre question", ANSWER_BODY),
    # The candidates concerned answer, by a reply deadline (rule 5).
    MessageType.COMPLEMENT_REQUEST: Preset(
        "Demande de complément", COMPLEMENT_BODY, reply_allowed=True, reply_deadline_required=True
    ),
    MessageType.AWARD: Preset("Courrier d'attribution", AWARD_BODY),
    MessageType.NOTIFICATION: Preset("Courrier de notification", NOTIFICATION_BODY),
    MessageType.REJECTION: Preset("Courrier de rejet", REJECTION_BODY),
    MessageType.CANCELLATION: Preset("Information d'annulation", CANCELLATION_BODY),
}
