"""Domain vocabularies, with the platform's French labels."""

from __future__ import annotations

from enum import StrEnum


class LabelledEnum(StrEnum):
    """A string enum whose members carry the label the buyer reads."""

    label: str

    def __new__(cls, value: str, label: str = "") -> LabelledEnum:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


class ConsultationStatus(LabelledEnum):
    """The five statuses of the platform's "Statuts" panel, in lifecycle order."""

    DRAFTING = "drafting", "Elaboration"
    AWAITING_VALIDATION = "awaiting_validation", "En attente de validation"
    OPEN = "open", "Consultation"
    OPENING_ANALYSIS = "opening_analysis", "Ouverture et analyse"
    DECISION = "decision", "Décision"


class Procedure(LabelledEnum):
    OPEN_TENDER = "open_tender", "Appel d'offres ouvert"
    RESTRICTED_TENDER = "restricted_tender", "Appel d'offres restreint"
    ADAPTED = "adapted", "Procédure adaptée (MAPA)"
    NEGOTIATED = "negotiated", "Procédure avec négociation"
    COMPETITIVE_DIALOGUE = "competitive_dialogue", "Dialogue compétitif"

    @property
    def formalised(self) -> bool:
        """Formalised procedures carry the strictest rules (LEGAL.md 2, 7, 8)."""
        return self is not Procedure.ADAPTED

    @property
    def restricted(self) -> bool:
        """Procedures where only admitted candidates are invited to tender."""
        return self in {
            Procedure.RESTRICTED_TENDER,
            Procedure.NEGOTIATED,
            Procedure.COMPETITIVE_DIALOGUE,
        }


class RegisterKind(LabelledEnum):
    WITHDRAWAL = "withdrawal", "Retraits"
    QUESTION = "question", "Questions"
    DEPOSIT = "deposit", "Dépôts"


class MessageType(LabelledEnum):
    """The nine message types, in the platform's order."""

    FREE = "free", "Courrier libre"
    INVITATION = "invitation", "Invitation à concourir"
    MODIFICATION = "modification", "Information de modification de la consultation"
    ANSWER = "answer", "Réponse à une question"
    COMPLEMENT_REQUEST = "complement_request", "Demande de complément"
    AWARD = "award", "Courrier d'attribution"
    NOTIFICATION = "notification", "Courrier de notification"
    REJECTION = "rejection", "Courrier de rejet"
    CANCELLATION = "cancellation", "Information d'annulation"

    @property
    def decision(self) -> bool:
        """The decision letters, which need the `decide` right besides `send` (issue 19)."""
        return self in DECISION_LETTERS


DECISION_LETTERS = frozenset(
    {MessageType.REJECTION, MessageType.AWARD, MessageType.NOTIFICATION, MessageType.CANCELLATION}
)


class SendMode(LabelledEnum):
    WITH_AR = (
        "with_ar",
        "Courrier électronique avec accusé de réception généré lors de l'accès au contenu "
        "du courrier",
    )
    SIMPLE = "simple", "Courrier électronique simple sans accusé de réception"


class MessageState(LabelledEnum):
    DRAFT = "draft", "Brouillon"
    QUEUED = "queued", "Validé"


class DeliveryState(LabelledEnum):
    """Where one recipient's copy is in the outbox: held → queued → claimed → accepted/refused."""

    HELD = "held", "Brouillon"
    QUEUED = "queued", "En file d'attente"
    CLAIMED = "claimed", "En cours d'envoi"
    ACCEPTED = "accepted", "Accepté par le relais"
    REFUSED = "refused", "Refusé"


class RecipientStatus(LabelledEnum):
    """The status word of the tracking table ("Statut / Evénements")."""

    PENDING = "pending", "En attente"
    SENT = "sent", "Envoyé"
    DELIVERED = "delivered", "Délivré"
    NOT_DELIVERED = "not_delivered", "Non délivré"
    READ = "read", "Lu"
    REPLY_UNREAD = "reply_unread", "Réponse non lue"
    REPLY_READ = "reply_read", "Réponse lue"


class EventKind(LabelledEnum):
    """What happened to one recipient's copy; L only by the recipient's own act on the page."""

    SENT = "sent", "E"
    DELIVERED = "delivered", "D"
    NOT_DELIVERED = "not_delivered", "Non délivré"
    READ = "read", "L"
    REPLIED = "replied", "R"
    # A reply that gives no R (late, not allowed, automatic, empty): its seal all the same, so
    # that it cannot be edited unseen either.
    REPLY_KEPT = "reply_kept", "Réponse reçue, sans R"
    RETRY = "retry", "Nouvelle tentative"
    OPENED_AGAIN = "opened_again", "Nouvelle consultation"
    # A GET of the personal link before L: the landing page was shown, never the content.
    LINK_VISITED = "link_visited", "Lien visité"
    # A fetch by a mail security gateway, a crawler or a script: kept for information only.
    LINK_SCANNED = "link_scanned", "Analyse automatique du lien"
    # A delivery report naming neither the Message-ID nor the ENVID sent to the recipient.
    REPORT_SET_ASIDE = "report_set_aside", "Rapport non rattaché"
    # A failure report contradicting a later D, L or R: kept, status unchanged.
    REPORT_IGNORED = "report_ignored", "Rapport de non-remise ignoré"


class ReplyChannel(LabelledEnum):
    WEB = "web", "Page de consultation"
    EMAIL = "email", "Courrier électronique"


class ReplyDisposition(LabelledEnum):
    """A reply is always kept; a late one, one to a no-reply message, an automatic or an
    empty one is shown as such (and only ON_TIME gives R). Append only: stored as text."""

    ON_TIME = "on_time", "Reçue dans le délai"
    LATE = "late", "Reçue après la date limite"
    NOT_ALLOWED = "not_allowed", "Réponse non autorisée"
    # An out-of-office or other automatic reply (RFC 3834, or a null sender): kept, never R.
    AUTOMATIC = "automatic", "Réponse automatique"
    # An e-mail with neither text nor file: kept, never R (the page refuses empty replies).
    EMPTY = "empty", "Réponse vide"


class DkimResult(LabelledEnum):
    """What an e-mailed reply's DKIM signature says of where it comes from (RFC 6376),
    checked once, at its arrival: the domain's key is in the DNS of that day."""

    PASS = "pass", "Signature DKIM valide"
    FAIL = "fail", "Signature DKIM invalide"
    NONE = "none", "Non signé (DKIM)"
    # The domain's DNS did not answer: the signature could be neither accepted nor refused.
    TEMPERROR = "temperror", "Signature DKIM invérifiable"
    # Valid over the first part of the text only (a body length, l=): what follows it is
    # no one's. Said apart from « invalide », which a genuine one is not.
    PARTIAL = "partial", "Signature DKIM partielle"


class AntivirusVerdict(LabelledEnum):
    CLEAN = "clean", "Sain"
    INFECTED = "infected", "Infecté"
    NOT_SCANNED = "not_scanned", "Non analysé"


class DocumentOrigin(LabelledEnum):
    DCE = "dce", "DCE"
    LETTER = "letter", "Courrier généré"
    ATTACHMENT = "attachment", "Pièce jointe"
    REPLY = "reply", "Pièce de réponse"


class Right(LabelledEnum):
    """What an account may do in its organisation (accounts, issue 19). Stored as text in
    account_right: append only."""

    CONSULT = "consult", "Consulter"
    ANSWER = "answer", "Répondre aux questions"
    DCE = "dce", "Modifier le DCE"
    SEND = "send", "Envoyer des messages"
    DECIDE = "decide", "Envoyer les courriers de décision"
    EXPORT = "export", "Exporter les preuves et AR"
    IMPORT = "import", "Importer des registres"
    MANAGE = "manage", "Gérer les comptes de l'organisation"
