"""The rules of the Code de la commande publique the messaging checks (LEGAL.md).

Each rule is a plain function over plain data returning a verdict, or None when it is met.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from messagerie.models.formatting import PARIS, as_utc, duration_text, paris_minutes, paris_span
from messagerie.models.rules.standstill import (
    ELECTRONIC_DAYS,
    NO_STANDSTILL,
    Standstill,
    concerns_lots,
    signing_from,
)
from messagerie.models.store.enums import MessageType, SendMode
from messagerie.models.text import first_few, fold

# A reason that engages the buyer (an override's, a standstill exemption's) is written out:
# shorter than this, it is no reason.
REASON_MIN_LENGTH = 10
WRITTEN_OUT = f", en toutes lettres (au moins {REASON_MIN_LENGTH} caractères)."  # asks for one

SINGLE_ANSWER_REASONS = (
    "La réponse contient des données personnelles",
    "La question ne concerne que ce candidat",
)


VerdictKey = tuple[int, str, str]  # rule, field, subject (RuleVerdict.key)


@dataclass(frozen=True)
class RuleVerdict:
    rule: int
    level: Literal["warning", "block"]
    message: str
    field: str | None = None  # the form field it concerns, when there is one
    # What the warning is about, when other buyers' writes can change it (the notification
    # it names, the request it compares with, what names the asker): part of its `key`
    subject: str = ""

    @property
    def blocks(self) -> bool:
        return self.level == "block"

    @property
    def key(self) -> VerdictKey:
        """Which check spoke and about what, whatever its wording of the moment (a lateness
        that grows): a warning read is not another one with the same key."""
        return self.rule, self.field or "", self.subject


def written_reason(reason: str) -> bool:
    """A reason written out: at least REASON_MIN_LENGTH characters, spaces run together."""
    return len(" ".join(reason.split())) >= REASON_MIN_LENGTH


def too_short(reason: str) -> str:
    """What to add to a refusal when a reason was typed but not written out ("" if none)."""
    if not reason.strip() or written_reason(reason):
        return ""
    return (
        f" Le motif « {reason.strip()} » est trop court : écrivez-le en toutes lettres (au "
        f"moins {REASON_MIN_LENGTH} caractères)."
    )


def answer_to_one_company(register_addresses: int, reason: str) -> RuleVerdict | None:
    """Rule 1: an answer goes to every company of the registers unless a reason is given."""
    if register_addresses <= 1 or written_reason(reason):
        return None
    return RuleVerdict(
        rule=1,
        level="block",
        field="reason",
        message=(
            "Égalité de traitement : une réponse utile à tous doit être envoyée aux "
            f"{register_addresses} entreprises des registres. Pour ne répondre qu'à ce "
            "candidat, indiquez la raison (données personnelles, question qui ne concerne "
            "que lui)." + too_short(reason)
        ),
    )


# Rule 4's warning, by where the asker shows: the message's text, or a file it carries
ASKER_SHOWS = {
    "question": ("Anonymisez la question avant diffusion : ", "."),
    "attachments": (
        "Une pièce jointe envoyée à plusieurs entreprises semble identifier qui a posé la "
        "question : ",
        ". Anonymisez-la avant diffusion.",
    ),
}


def asker_identified(
    leaks: tuple[str, ...], recipients: int, field: str = "question"
) -> RuleVerdict | None:
    """Rule 4: what is sent to several companies (the text, or a Q/A document attached by
    hand: `field` "attachments", its leaks naming their file) must not reveal who asked."""
    if not leaks or recipients <= 1:
        return None
    before, after = ASKER_SHOWS[field]
    subject = " ; ".join(sorted(set(leaks)))  # what shows, in whatever order it was read
    return RuleVerdict(4, "warning", before + " ; ".join(leaks) + after, field, subject)


# --- Rule 2: answers in time (R2132-6) -------------------------------------------------------

ANSWER_NOTICE = timedelta(days=6)
URGENT_ANSWER_NOTICE = timedelta(days=4)


def days_before(moment: datetime, days: timedelta) -> datetime:
    """`days` before `moment` on the clocks of Paris: the code counts days, and a day across
    a change of time lasts 23 or 25 hours (6 × 24 h before a Friday noon after the October
    change is a Saturday 13:00, not noon)."""
    return as_utc(moment).astimezone(PARIS) - days


def answer_notice(*, urgent: bool) -> timedelta:
    """How long before the bid deadline answers go out at the latest: 6 days, 4 if urgent."""
    return URGENT_ANSWER_NOTICE if urgent else ANSWER_NOTICE


def answer_limit(bid_deadline: datetime, *, urgent: bool) -> datetime:
    """The last moment an answer can go out: 6 days before the bid deadline (4 if urgent)."""
    return days_before(bid_deadline, answer_notice(urgent=urgent))


def answer_time_left(
    bid_deadline: datetime, now: datetime, *, urgent: bool
) -> tuple[datetime, timedelta]:
    """Rule 2's limit, and the time left before it (negative: how late)."""
    limit = answer_limit(bid_deadline, urgent=urgent)
    return limit, paris_span(now, limit)


def answer_countdown(bid_deadline: datetime, now: datetime, *, urgent: bool) -> str:
    """The countdown the answer form shows: time left before the rule 2 limit, or how late."""
    _, left = answer_time_left(bid_deadline, now, urgent=urgent)
    if left >= timedelta(0):
        return f"Il reste {duration_text(left)} pour répondre dans le délai."
    return f"Le délai de réponse est dépassé de {duration_text(-left)}."


def answer_in_time(bid_deadline: datetime, now: datetime, *, formalised: bool, urgent: bool) -> str:
    """Rule 2's countdown while an answer is still in time, for the form to show before it
    is late ("" once late, where `answer_timing` warns, or outside a formalised procedure)."""
    limit, left = answer_time_left(bid_deadline, now, urgent=urgent)
    if not formalised or left < timedelta(0):
        return ""
    days = answer_notice(urgent=urgent).days
    return (
        f"Règle 2 : {answer_countdown(bid_deadline, now, urgent=urgent)} Réponse à envoyer "
        f"au plus tard le {paris_minutes(limit)}, {days} jours avant la date limite de remise "
        "des plis (article R2132-6)."
    )


def answer_countdown_line(
    bid_deadline: datetime, now: datetime, *, formalised: bool, urgent: bool
) -> tuple[str, bool] | None:
    """Rule 2 in one short line, for a frame's edge: (the time left, or how late; whether
    late). None outside a formalised procedure."""
    if not formalised:
        return None
    limit, left = answer_time_left(bid_deadline, now, urgent=urgent)
    if left >= timedelta(0):
        return f"Règle 2 : il reste {duration_text(left)}, jusqu'au {paris_minutes(limit)}", False
    return f"⚠ Règle 2 : délai dépassé de {duration_text(-left)} ({paris_minutes(limit)})", True


def answer_timing(
    bid_deadline: datetime, now: datetime, *, formalised: bool, urgent: bool
) -> RuleVerdict | None:
    """Rule 2: in a formalised procedure, an answer sent later than 6 days (4 if urgent)
    before the bid deadline is a warning, with the countdown."""
    limit = answer_limit(bid_deadline, urgent=urgent)
    if not formalised or as_utc(now) <= as_utc(limit):
        return None
    days = answer_notice(urgent=urgent).days
    left = paris_span(now, bid_deadline)
    after = (
        f"il reste {duration_text(left)} avant la date limite de remise des plis"
        if left > timedelta(0)
        else "la date limite de remise des plis est déjà passée"
    )
    return RuleVerdict(
        rule=2,
        level="warning",
        field="bid_deadline",
        message=(
            f"{answer_countdown(bid_deadline, now, urgent=urgent)} Les réponses doivent être "
            f"envoyées au plus tard {days} jours avant la date limite de remise des plis "
            f"({paris_minutes(bid_deadline)}), soit le {paris_minutes(limit)} "
            f"(article R2132-6) ; {after}. Envisagez de reporter la date limite "
            "(article R2151-4)."
        ),
    )


# --- Rule 5: Demande de complément (R2144-2 / R2152-2) ----------------------------------------


def complement_reply_deadline(reply_deadline: datetime | None, now: datetime) -> RuleVerdict | None:
    """Rule 5: a request for complements needs a reply deadline, in the future."""
    if reply_deadline is None:
        problem = "Indiquez la date limite de réponse"
    elif as_utc(reply_deadline) <= as_utc(now):
        problem = (
            f"La date limite de réponse ({paris_minutes(reply_deadline)}) est déjà passée : "
            "fixez une date à venir"
        )
    else:
        return None
    return _complement_block(
        f"{problem}. Une demande de complément laisse à chaque candidat concerné un même "
        "délai approprié (articles R2144-2 et R2152-2)."
    )


def complement_batch_deadlines(deadlines: Iterable[datetime | None]) -> RuleVerdict | None:
    """Rule 5: the requests of one batch share one reply deadline."""
    distinct = {None if moment is None else as_utc(moment) for moment in deadlines}
    if len(distinct) <= 1:
        return None
    return _complement_block(
        f"Les demandes de complément de cet envoi ont {len(distinct)} dates limites de "
        "réponse différentes : fixez la même date pour tous les candidats concernés "
        "(articles R2144-2 et R2152-2)."
    )


def complement_same_delay(
    running: Iterable[tuple[frozenset[int], datetime, datetime]],
    lot_numbers: Iterable[int],
    reply_deadline: datetime | None,
    now: datetime,
) -> RuleVerdict | None:
    """Rule 5 across messages: a request for complements sent while an earlier one of the
    same lots still runs ((its lots, empty = all; sent; reply deadline)) gives the candidates
    the same delay, R2144-2's « identique pour tous »: the same deadline, or as many days
    from today. A warning: another phase (the offers after the candidatures) may differ."""
    if reply_deadline is None:
        return None
    lots = frozenset(lot_numbers)
    earlier = [
        (sent, deadline)
        for of_lots, sent, deadline in running
        if as_utc(deadline) > as_utc(now) and concerns_lots(of_lots, lots)
    ]
    if not earlier:
        return None
    # The round's first request sets the delay: one aligned on its day gives fewer days,
    # and a third that matched those would drift from what the first candidates had.
    sent, deadline = earlier[0]
    days, mine = _days_between(sent, deadline), _days_between(now, reply_deadline)
    if as_utc(deadline) == as_utc(reply_deadline) or days == mine:
        return None
    as_many = as_utc(deadline).astimezone(PARIS) + timedelta(days=_days_between(sent, now))
    return RuleVerdict(
        rule=5,
        level="warning",
        field="reply_deadline",
        message=(
            f"La demande de complément envoyée le {_day(sent)} laisse {_days(days)} aux "
            f"candidats (jusqu'au {paris_minutes(deadline)}), celle-ci {_days(mine)} : le "
            "délai doit être identique pour tous les candidats concernés (article R2144-2 ; "
            "pour la régularisation des offres, article R2152-2 et égalité de traitement). "
            f"Fixez la date limite au {paris_minutes(deadline)}, ou laissez {_days(days)} à "
            f"compter d'aujourd'hui (jusqu'au {paris_minutes(as_many)}). Si cette demande "
            "relève d'une autre phase de la procédure, ignorez cet avertissement."
        ),
        subject=f"{as_utc(sent).isoformat()} {as_utc(deadline).isoformat()}",
    )


def _days_between(start: datetime, end: datetime) -> int:
    """Calendar days from `start` to `end`, on the clocks of Paris."""
    return (as_utc(end).astimezone(PARIS).date() - as_utc(start).astimezone(PARIS).date()).days


def _days(number: int) -> str:
    return f"{number} jour{'s' if number > 1 else ''}" if number > 0 else "moins d'un jour"


def _complement_block(message: str) -> RuleVerdict:
    """Rule 5 blocks on the reply deadline field."""
    return RuleVerdict(rule=5, level="block", field="reply_deadline", message=message)


# --- Rule 6: Invitation à concourir (R2144-8 / R2144-9) ---------------------------------------


def invitation_body(
    body: str, access_code: str | None, contextual_block: bool
) -> RuleVerdict | None:
    """Rule 6: the invitation carries the restricted access code and the contextual block."""
    missing = []
    code = (access_code or "").strip()
    if not code:
        missing.append("le code d'accès restreint (aucun code n'a été généré)")
    elif code not in body:
        missing.append("le code d'accès restreint dans le corps du message")
    if not contextual_block:
        missing.append("le bloc contextuel de la consultation")
    if not missing:
        return None
    return RuleVerdict(
        rule=6,
        level="block",
        field="body",
        message=(
            "Invitation à concourir incomplète : ajoutez " + " ; ".join(missing) + " "
            "(articles R2144-8 et R2144-9)."
        ),
    )


def invitation_mentions(
    notice_reference: str, bid_deadline: datetime | None, submission: str, documents: str
) -> RuleVerdict | None:
    """Rule 6: the invitation names the notice, the bid deadline, where and how to submit and
    the documents to provide. `field` is the first mention missing."""
    missing = [
        (field, label)
        for field, label, present in (
            ("notice_reference", "la référence de l'avis publié", bool(notice_reference.strip())),
            ("bid_deadline", "la date limite de remise des offres", bid_deadline is not None),
            (
                "submission",
                "l'adresse et les modalités de remise des offres",
                bool(submission.strip()),
            ),
            ("documents", "les documents à fournir", bool(documents.strip())),
        )
        if not present
    ]
    return _missing_mentions(
        6, missing, "Mentions obligatoires manquantes dans l'invitation à concourir", "R2144-9"
    )


def invitation_candidates(
    candidates: Iterable[tuple[str, str]], recipients: Iterable[str]
) -> RuleVerdict | None:
    """Rule 6: on a suite, every admitted candidate (address, company) is invited at once,
    so every one is among the recipients (addresses compared whatever their case)."""
    missing = _missing(
        ((email, f"{company} ({email})" if company else email) for email, company in candidates),
        recipients,
    )
    if not missing:
        return None
    return RuleVerdict(
        rule=6,
        level="block",
        field="recipients",
        message=(
            "Tous les candidats admis sont invités à concourir en même temps (article "
            f"R2144-8) : ajoutez aux destinataires {first_few(missing)} (F3, puis « c » : "
            "les candidats de la suite)."
        ),
    )


# --- Rule 7: Courrier de rejet (R2181-3, R2182-1) ---------------------------------------------


def rejection_letter(
    now: datetime,
    *,
    formalised: bool,
    reasons: str,
    awarded: bool,
    awardee: str = "",
    award_reasons: str = "",
    signature_date: date | None = None,
    awards_sent: tuple[str, ...] = (),
) -> RuleVerdict | None:
    """Rule 7: a rejection letter (formalised procedure) states the reasons for rejection and,
    after award, the awardee, the reasons for that choice and the signature date: after an
    award letter of its lots went (`awards_sent`, to whom), it is one sent after award. A
    signature date, when one is announced (a MAPA's chosen standstill too), may not be
    earlier than the standstill allows for a letter sent `now`. `field` is the first gap."""
    gaps: list[tuple[str, str]] = []
    if formalised and awards_sent and not awarded:
        gaps.append(
            (
                "awarded",
                f"la lettre d'attribution de ce marché est déjà partie ({', '.join(awards_sent)})"
                " : cochez « Courrier envoyé après attribution » et donnez l'attributaire, les "
                "motifs de son choix et la date à partir de laquelle le marché peut être signé",
            )
        )
    if formalised:
        gaps.extend(_award_gaps(reasons, awarded, awardee, award_reasons, signature_date))
    earliest = signing_from(now)
    if signature_date is not None and signature_date < earliest:
        gaps.append(
            (
                "signature_date",
                f"la date de signature ne peut être antérieure au {_day(earliest)} "
                f"({ELECTRONIC_DAYS} jours après l'envoi, article R2182-1)",
            )
        )
    return _missing_mentions(7, gaps, "Courrier de rejet incomplet", "R2181-3")


def _award_gaps(
    reasons: str, awarded: bool, awardee: str, award_reasons: str, signature_date: date | None
) -> list[tuple[str, str]]:
    """The mentions R2181-3 requires of a formalised rejection letter that are still blank."""
    gaps: list[tuple[str, str]] = []
    if not reasons.strip():
        gaps.append(("reasons", "indiquez les motifs du rejet de la candidature ou de l'offre"))
    if not awarded:
        return gaps
    if not awardee.strip():
        gaps.append(("awardee", "indiquez le nom de l'attributaire"))
    if not award_reasons.strip():
        gaps.append(("award_reasons", "indiquez les motifs du choix de son offre"))
    if signature_date is None:
        gaps.append(
            ("signature_date", "indiquez la date à partir de laquelle le marché peut être signé")
        )
    return gaps


def awardee_rejected(awardee: str, recipients: Iterable[tuple[str, str]]) -> RuleVerdict | None:
    """Rule 7: a rejection letter naming its awardee never goes to that awardee. `recipients`
    are (address, company name); names are compared without case, accents or extra spaces."""
    name = _folded_name(awardee)
    if not name:
        return None
    addresses = [email for email, company in recipients if _folded_name(company) == name]
    if not addresses:
        return None
    return RuleVerdict(
        rule=7,
        level="block",
        field="recipients",
        message=(
            f"L'attributaire « {' '.join(awardee.split())} » est destinataire de ce courrier de "
            f"rejet ({first_few(addresses)}) : retirez-le des destinataires (Suppr). C'est le "
            "courrier d'attribution qui lui est destiné."
        ),
    )


def _folded_name(name: str) -> str:
    return fold(" ".join(name.split()))


# --- Rule 8: Courrier de notification (R2182-1) -----------------------------------------------


# The cases the code exempts from the standstill (R2182-1), as the block names them.
EXEMPTED_CASES = (
    "marché attribué au seul soumissionnaire, marché sans publicité ni mise en concurrence, "
    "marché fondé sur un accord-cadre"
)


def notification_standstill(
    standstill: Standstill, now: datetime, *, exemption_reason: str = ""
) -> RuleVerdict | None:
    """Rule 8: no notification while the lot's standstill runs (`rules.standstill`: by law in
    a formalised procedure, in a MAPA when its rejection letters announced one), unless an
    exemption reason is written out (`written_reason`)."""
    if not standstill.running(now) or written_reason(exemption_reason):
        return None
    chosen = "" if standstill.formalised else ", annoncé dans les courriers de rejet"
    if exemption_reason.strip():
        earlier = (
            "Le motif de dispense saisi est trop court : écrivez-le en toutes lettres (au "
            f"moins {REASON_MIN_LENGTH} caractères), par exemple"
        )
    else:
        earlier = (
            "Pour notifier plus tôt, écrivez le motif de dispense prévu par le code, par exemple"
        )
    return RuleVerdict(
        rule=8,
        level="block",
        field="exemption_reason",
        message=f"{standstill_situation(standstill, chosen)} {earlier} : {EXEMPTED_CASES}.",
    )


def standstill_situation(standstill: Standstill, chosen: str = "") -> str:
    """Why a notification must wait (rule 8), for the send checks and the letter's refusal."""
    if standstill.unbegun:
        return (
            f"Délai de suspension pas encore commencé ({standstill.days} jours{chosen}) : "
            f"{standstill.unbegun} (article R2182-1)."
        )
    assert standstill.first_day is not None and standstill.last_rejection is not None
    return (
        f"Délai de suspension en cours ({standstill.days} jours{chosen}) : les courriers de "
        f"rejet de ce lot ont été envoyés le {_day(standstill.last_rejection)}. La "
        f"notification est possible à partir du {_day(standstill.first_day)} (article "
        "R2182-1)."
    )


def standstill_exempted(standstill: Standstill, now: datetime, exemption_reason: str) -> bool:
    """Rule 8: whether the exemption reason is what lets the notification go now (the
    standstill runs, the reason is written out): the queue then records it in the audit log."""
    return standstill.running(now) and written_reason(exemption_reason)


def repeated_notification(
    notified: Iterable[tuple[frozenset[int], datetime]], lot_numbers: Iterable[int]
) -> RuleVerdict | None:
    """A second notification of the same lot (or of the whole consultation) is probably a
    mistake: a warning naming the earlier one. `notified` holds (lots, empty = all; sent)."""
    lots = frozenset(lot_numbers)
    earlier = [(of_lots, at) for of_lots, at in notified if concerns_lots(of_lots, lots)]
    if not earlier:
        return None
    of_lots, at = earlier[-1]
    common = sorted(of_lots & lots) if of_lots and lots else sorted(of_lots or lots)
    numbers = " et ".join(f"n°{n}" for n in common)
    which = {0: "Le marché a", 1: f"Le lot {numbers} a"}.get(len(common), f"Les lots {numbers} ont")
    return RuleVerdict(
        rule=8,
        level="warning",
        field="lots",
        message=(
            f"{which} déjà été notifié{'s' if len(common) > 1 else ''} le {_day(at)} : un "
            "marché n'est notifié qu'une fois. Vérifiez les lots choisis avant d'envoyer."
        ),
        subject=" ".join(f"{sorted(of)}@{as_utc(at).isoformat()}" for of, at in earlier),
    )


# --- Rule 9: proof of receipt (R2182-4) -------------------------------------------------------

RECEIPT_TYPES = frozenset({MessageType.NOTIFICATION, MessageType.REJECTION, MessageType.AWARD})


def receipt_provable(message_type: MessageType, send_mode: SendMode) -> RuleVerdict | None:
    """Rule 9: notification, rejection and award letters go with an acknowledgement."""
    if message_type not in RECEIPT_TYPES or send_mode is not SendMode.SIMPLE:
        return None
    return RuleVerdict(
        rule=9,
        level="warning",
        field="send_mode",
        message=(
            f"Un {message_type.label.lower()} envoyé sans accusé de réception ne permet pas de "
            "prouver sa date de réception, qui fait courir ses effets (article R2182-4) : "
            "choisissez l'envoi avec accusé de réception."
        ),
    )


def contract_enclosed(
    message_type: MessageType, attachments: int, recipients: int
) -> RuleVerdict | None:
    """Rule 9, with R2182-4: notifying the contract is sending the holder a copy of it,
    signed; a notification that carries no file beside its letter notifies nothing. The
    files go to every recipient: several holders get one notification each."""
    if message_type is not MessageType.NOTIFICATION or attachments:
        return None
    each = (
        f" Ce message va à {recipients} destinataires, qui recevraient tous les mêmes fichiers "
        ": notifiez chaque titulaire par son propre message (ses lots, son marché)."
        if recipients > 1
        else ""
    )
    return RuleVerdict(
        rule=9,
        level="warning",
        field="attachments",
        message=(
            "Aucun fichier n'est joint : notifier le marché, c'est en transmettre au titulaire "
            "une copie signée (article R2182-4), et c'est sa réception qui le fait prendre "
            f"effet. Joignez le marché signé (F4 ou F5).{each}"
        ),
    )


# --- Rule 10: Information d'annulation (R2185-1 / R2185-2) -----------------------------------


def cancellation_reasons(reasons: str) -> RuleVerdict | None:
    """Rule 10: a procedure declared "sans suite" is communicated with its reasons."""
    if reasons.strip():
        return None
    return RuleVerdict(
        rule=10,
        level="block",
        field="reasons",
        message=(
            "Indiquez les motifs pour lesquels la procédure est déclarée sans suite "
            "(articles R2185-1 et R2185-2)."
        ),
    )


def cancellation_recipients(
    recipients: Iterable[str], register_addresses: Iterable[str]
) -> RuleVerdict | None:
    """Rule 10: the cancellation goes to every address of the three registers (case ignored);
    more addresses may be added."""
    missing = _missing(((email, email) for email in register_addresses), recipients)
    if not missing:
        return None
    one = len(missing) == 1
    are_not = "n'est" if one else "ne sont"
    return RuleVerdict(
        rule=10,
        level="block",
        field="recipients",
        message=(
            "L'information d'annulation doit être envoyée à tous les participants (articles "
            f"R2185-1 et R2185-2) : {len(missing)} adresse{'' if one else 's'} des registres "
            f"(retraits, questions, dépôts) {are_not} pas parmi les "
            f"destinataires : {first_few(missing)}. Ajoutez-{'la' if one else 'les'} (F3, "
            "puis « a » : les trois registres)."
        ),
    )


# --- All the rules of one message -------------------------------------------------------------


# Rule 3: inside this many days of the bid deadline, a DCE change is blocked.
MODIFICATION_WINDOW = timedelta(days=6)


def modification_window_check(bid_deadline: datetime, now: datetime) -> RuleVerdict | None:
    """LEGAL.md rule 3 (R2151-4): inside 6 days of the deadline a DCE change is blocked.

    None when the deadline is 6 days away or more; else a block that says how long is left
    and the two ways out: set a new deadline, or give the reason for going ahead.
    """
    if as_utc(now) <= as_utc(days_before(bid_deadline, MODIFICATION_WINDOW)):
        return None
    left = paris_span(now, bid_deadline)
    deadline = paris_minutes(bid_deadline)
    if left > timedelta(0):
        situation = (
            f"Il reste {duration_text(left)} avant la date limite de remise des plis ({deadline}). "
            "À moins de 6 jours de cette date"
        )
    else:
        situation = (
            f"La date limite de remise des plis ({deadline}) est dépassée depuis "
            f"{duration_text(-left)}. Après cette date"
        )
    return RuleVerdict(
        rule=3,
        level="block",
        message=(
            f"{situation}, une modification du DCE impose de reporter la date limite en "
            "proportion (article R2151-4 du code de la commande publique) : fixez une nouvelle "
            "date limite, ou indiquez le motif pour lequel vous ne la reportez pas."
        ),
        field="bid_deadline",
    )


@dataclass(frozen=True)
class MessageFacts:
    """The plain facts of a draft the rules need; those a type does not use keep defaults."""

    type: MessageType
    formalised: bool = False  # Procedure.formalised (rules 2, 7, 8)
    urgent: bool = False  # urgency declared (rule 2: 4 days instead of 6)
    bid_deadline: datetime | None = None  # rules 2, 3 and 6
    send_mode: SendMode = SendMode.WITH_AR  # rule 9
    attachments: int = 0  # files the message carries for all, beside its letters (rule 9)
    body: str = ""  # rule 6: must hold the access code
    recipients: int = 0  # distinct recipient addresses (rules 1, 4)
    register_addresses: int = 0  # union of the three registers, de-duplicated (rule 1)
    # Each distinct recipient: (address, its company's name, "" when unknown) (rules 6, 7, 10)
    addressees: tuple[tuple[str, str], ...] = ()
    register_emails: tuple[str, ...] = ()  # every address of the three registers (rule 10)
    candidates: tuple[tuple[str, str], ...] = ()  # a suite's admitted (address, company), rule 6
    single_answer_reason: str = ""  # rule 1: why only some companies are answered
    asker_leaks: tuple[str, ...] = ()  # rule 4: models.anonymise.identity_leaks
    attachment_leaks: tuple[str, ...] = ()  # rule 4: the same in the attachments, by file
    dce_changed: bool = False  # rule 3: the modification changes the DCE
    reply_deadline: datetime | None = None  # rule 5
    batch_reply_deadlines: tuple[datetime | None, ...] = ()  # rule 5: the whole batch
    # Rule 5: the requests for complements already sent (their lots, empty = all; when
    # sent; their reply deadline)
    complements: tuple[tuple[frozenset[int], datetime, datetime], ...] = ()
    access_code: str | None = None  # rule 6
    contextual_block: bool = False  # rule 6: the consultation block is in the message
    notice_reference: str = ""  # rule 6
    submission: str = ""  # rule 6: where and how to submit
    documents: str = ""  # rule 6: documents to provide
    reasons: str = ""  # rules 7 (rejection) and 10 (cancellation)
    awarded: bool = False  # rule 7: the letter is sent after award
    awards_sent: tuple[str, ...] = ()  # rule 7: whom the award letters of its lots went to
    awardee: str = ""  # rule 7
    award_reasons: str = ""  # rule 7
    signature_date: date | None = None  # rule 7
    standstill: Standstill = NO_STANDSTILL  # rule 8: the lots' (rules.standstill)
    lot_numbers: tuple[int, ...] = ()  # the lots of the message (empty: all)
    notified: tuple[tuple[frozenset[int], datetime], ...] = ()  # notifications already sent
    exemption_reason: str = ""  # rule 8


def check_message(draft: MessageFacts, now: datetime) -> tuple[RuleVerdict, ...]:
    """Every rule that applies to the draft's type, in rule order; empty when all are met."""
    kind = draft.type
    verdicts: list[RuleVerdict | None] = []
    answered = _emails(draft.addressees)
    if kind in (MessageType.ANSWER, MessageType.MODIFICATION) and _missing(
        ((email, email) for email in draft.register_emails), answered
    ):  # one company of the registers left out is enough: another address is no stand-in
        verdicts.append(answer_to_one_company(draft.register_addresses, draft.single_answer_reason))
    if kind is MessageType.ANSWER and draft.bid_deadline is not None:
        verdicts.append(
            answer_timing(draft.bid_deadline, now, formalised=draft.formalised, urgent=draft.urgent)
        )
    if kind is MessageType.MODIFICATION and draft.dce_changed and draft.bid_deadline is not None:
        verdicts.append(modification_window_check(draft.bid_deadline, now))
    verdicts.append(asker_identified(draft.asker_leaks, draft.recipients))
    verdicts.append(asker_identified(draft.attachment_leaks, draft.recipients, "attachments"))
    if kind is MessageType.COMPLEMENT_REQUEST:
        verdicts.append(complement_reply_deadline(draft.reply_deadline, now))
        verdicts.append(complement_batch_deadlines(draft.batch_reply_deadlines))
        verdicts.append(
            complement_same_delay(draft.complements, draft.lot_numbers, draft.reply_deadline, now)
        )
    if kind is MessageType.INVITATION:
        verdicts.append(invitation_body(draft.body, draft.access_code, draft.contextual_block))
        verdicts.append(
            invitation_mentions(
                draft.notice_reference, draft.bid_deadline, draft.submission, draft.documents
            )
        )
        verdicts.append(invitation_candidates(draft.candidates, answered))
    if kind is MessageType.REJECTION:
        verdicts.append(
            rejection_letter(
                now,
                formalised=draft.formalised,
                reasons=draft.reasons,
                awarded=draft.awarded,
                awardee=draft.awardee,
                award_reasons=draft.award_reasons,
                signature_date=draft.signature_date,
                awards_sent=draft.awards_sent,
            )
        )
        if draft.awarded:
            verdicts.append(awardee_rejected(draft.awardee, draft.addressees))
    if kind is MessageType.NOTIFICATION:
        verdicts.append(
            notification_standstill(draft.standstill, now, exemption_reason=draft.exemption_reason)
        )
        verdicts.append(repeated_notification(draft.notified, draft.lot_numbers))
    verdicts.append(receipt_provable(kind, draft.send_mode))
    verdicts.append(contract_enclosed(kind, draft.attachments, draft.recipients))
    if kind is MessageType.CANCELLATION:
        verdicts.append(cancellation_reasons(draft.reasons))
        verdicts.append(cancellation_recipients(answered, draft.register_emails))
    return tuple(verdict for verdict in verdicts if verdict is not None)


def _emails(addressees: Iterable[tuple[str, str]]) -> list[str]:
    return [email for email, _ in addressees]


def _day(day: date) -> str:
    """JJ/MM/AAAA; a moment is shown as its Europe/Paris day."""
    if isinstance(day, datetime):
        day = day.astimezone(PARIS).date()
    return day.strftime("%d/%m/%Y")


def _missing(required: Iterable[tuple[str, str]], recipients: Iterable[str]) -> list[str]:
    """The labels of the (address, label) pairs whose address is none of the recipients',
    addresses compared whatever their case, once each."""
    present = {email.strip().casefold() for email in recipients}
    missing: dict[str, str] = {}
    for email, label in required:
        key = email.strip().casefold()
        if key not in present:
            missing.setdefault(key, label)
    return list(missing.values())


def _missing_mentions(
    rule: int, missing: list[tuple[str, str]], heading: str, article: str
) -> RuleVerdict | None:
    """One block naming every missing (field, French description); the first field is focused."""
    if not missing:
        return None
    return RuleVerdict(
        rule=rule,
        level="block",
        field=missing[0][0],
        message=f"{heading} : {' ; '.join(text for _, text in missing)} (article {article}).",
    )
