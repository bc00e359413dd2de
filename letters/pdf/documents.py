"""The buyer's model letters (Kit Les Essentiels): rejection, award, notification, invitation
to tender and cancellation, as PDFs with their mandatory mentions checked (LEGAL.md rules 6,
7, 8 and 10).

Each letter is a frozen dataclass of what it prints. `missing_mentions()` names the mandatory
mentions left empty as (field, French label); `render_letter` refuses to generate a letter
while one is missing (`LetterRefused`, naming the field), then renders its template
(`letters/templates/<kind>.html`, which extends `courrier.html`) through the shared pipeline.
An organisation's own templates, in `templates_dir`, win over the built-in ones.
"""

from __future__ import annotations

import html as html_module
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from messagerie.letters.pdf.render import TemplateProblem, date_fr, html_to_pdf, render_html
from messagerie.models.consultations.identity import ConsultationIdentity
from messagerie.models.errors import Refusal
from messagerie.models.formatting import PARIS
from messagerie.models.messages.merge import RejectedBid
from messagerie.models.rules.checks import too_short, written_reason
from messagerie.models.rules.standstill import signing_from, standstill_days
from messagerie.models.store.database import Store
from messagerie.models.store.documents import NewDocument, put_bytes
from messagerie.models.store.enums import DocumentOrigin, MessageType
from messagerie.models.text import ascii_digits

DEFAULT_SIGNATORY = "Le représentant du pouvoir adjudicateur"


class Mention(NamedTuple):
    """A mandatory mention: the letter's field and its French label."""

    field: str
    label: str


class LetterRefused(Refusal):
    """A letter that may not be generated yet; `field` is the first field to fill in."""

    def __init__(self, kind: MessageType, missing: tuple[Mention, ...], detail: str = ""):
        self.kind = kind
        self.missing = missing
        self.field = missing[0].field
        labels = ", ".join(f"« {mention.label} »" for mention in missing)
        plural = "s" if len(missing) > 1 else ""
        super().__init__(
            f"{kind.label} : génération impossible, mention{plural} obligatoire{plural} "
            f"manquante{plural} : {labels}.{detail}"
        )


@dataclass(frozen=True, kw_only=True)
class Letter:
    """What every letter holds: sender, consultation, addressee, date and signatory."""

    kind: ClassVar[MessageType]
    template: ClassVar[str]
    # The mentions that must never be blank, in the order of the form.
    required: ClassVar[tuple[Mention, ...]] = ()

    consultation: ConsultationIdentity  # what the letter is about, and its letterhead
    company: str  # the addressee
    dated: date  # the letter's date, which is its send date
    lots: tuple[str, ...] = ()  # lot labels ("Lot n°1 - Chocolat au lait"); () = no lots
    address: str = ""  # postal address of the addressee, several lines
    signatory: str = DEFAULT_SIGNATORY

    def missing_mentions(self) -> tuple[Mention, ...]:
        """The mandatory mentions left empty (LEGAL.md), in the order of the form."""
        return self._blank_among(Mention("company", "Entreprise destinataire"), *self.required)

    def refusal_detail(self) -> str:
        """A sentence added to the refusal, when the missing mention needs explaining."""
        return ""

    def printed(self) -> tuple[tuple[str, str], ...]:
        """What the rendered letter must show, as (French label, text): the addressee and
        each mandatory mention given in words. An organisation's template may not drop one."""
        return tuple(
            (mention.label, value)
            for mention in (Mention("company", "Entreprise destinataire"), *self.required)
            if isinstance(value := getattr(self, mention.field), str) and value.strip()
        )

    def _blank_among(self, *mentions: Mention) -> tuple[Mention, ...]:
        return tuple(mention for mention in mentions if _blank(getattr(self, mention.field)))


def _blank(value: object) -> bool:
    return not value.strip() if isinstance(value, str) else value is None


# --- The five letters ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RejectionLetter(Letter):
    """Courrier de rejet (guide, case G; R2181-3): the reasons for rejecting this bidder and,
    once the award is decided, the awardee, the reasons for its choice and the date from which
    the contract may be signed (R2182-1)."""

    kind = MessageType.REJECTION
    template = "rejet.html"
    required = (Mention("reasons", "Motifs du rejet"),)

    reasons: str
    score: Decimal | None = None
    rank: int | None = None
    ranked_offers: int | None = None  # "classée 3e sur 5"
    awardee: str = ""  # empty while the award is not decided
    award_reasons: str = ""
    awardee_score: Decimal | None = None
    electronic: bool = True  # sent by the platform: 11 days of standstill, else 16
    # The lot has a standstill (models.rules.standstill): by law in a formalised procedure, by
    # the buyer's choice in a MAPA. Without one the letter announces no signature date.
    standstill: bool = True
    # The date the form announces (the e-mail's mention): the letter says the same, unless
    # it came before the standstill's end (which the send checks refuse, rule 7).
    signature_date: date | None = None
    # A restricted procedure's first stage rejects candidatures, not offers (R2181-1).
    candidature: bool = False

    @property
    def rejected(self) -> str:
        """What the company submitted and the letter rejects: « candidature » or « offre »."""
        return "candidature" if self.candidature else "offre"

    @property
    def award_known(self) -> bool:
        return bool(self.awardee.strip() or self.award_reasons.strip())

    @property
    def signing_from(self) -> date | None:
        """The date printed as the earliest signature of the contract, once awarded."""
        if not (self.award_known and self.standstill):
            return None
        earliest = signing_from(self.dated, electronic=self.electronic)
        return max(earliest, self.signature_date or earliest)

    @property
    def standstill_days(self) -> int:
        return standstill_days(electronic=self.electronic)

    @property
    def rank_text(self) -> str:
        """ "1re", "3e" (an offer is feminine)."""
        return "" if self.rank is None else ("1re" if self.rank == 1 else f"{self.rank}e")

    def printed(self) -> tuple[tuple[str, str], ...]:
        shown = super().printed()
        if self.award_known:
            shown += (("Attributaire", self.awardee), ("Motifs du choix", self.award_reasons))
        if (day := self.signing_from) is not None:
            shown += (("Date à partir de laquelle le marché peut être signé", date_fr(day)),)
        return shown

    def missing_mentions(self) -> tuple[Mention, ...]:
        missing = super().missing_mentions()
        if self.award_known:  # R2181-3: once awarded, the letter names the awardee and why
            missing += self._blank_among(
                Mention("awardee", "Attributaire"),
                Mention("award_reasons", "Motifs du choix de l'attributaire"),
            )
        return missing


@dataclass(frozen=True, kw_only=True)
class AwardLetter(Letter):
    """Courrier d'attribution (guide, case H): the offer of `company` is retained for the lots,
    and the pieces it must provide before the contract is signed (R2144-4, R2144-7)."""

    kind = MessageType.AWARD
    template = "attribution.html"

    amount: Decimal | None = None  # the retained offer, excluding VAT
    pieces: tuple[str, ...] = ()  # pieces to provide, e.g. "Attestation de régularité fiscale"
    pieces_deadline: date | None = None  # required when pieces are asked for

    def printed(self) -> tuple[tuple[str, str], ...]:
        shown = super().printed() + tuple(("Pièces à fournir", piece) for piece in self.pieces)
        if self.pieces and self.pieces_deadline is not None:
            shown += (("Date limite de remise des pièces", date_fr(self.pieces_deadline)),)
        return shown

    def missing_mentions(self) -> tuple[Mention, ...]:
        missing = super().missing_mentions()
        if self.pieces and self.pieces_deadline is None:
            missing += (Mention("pieces_deadline", "Date limite de remise des pièces"),)
        return missing


@dataclass(frozen=True, kw_only=True)
class NotificationLetter(Letter):
    """Courrier de notification (guide, case I): the contract is notified to `company`; it
    takes effect on receipt (R2182-4). Refused while the standstill runs (LEGAL.md rule 8)
    unless an exemption is given."""

    kind = MessageType.NOTIFICATION
    template = "notification.html"

    amount: Decimal | None = None  # the contract, excluding VAT
    last_rejection_sent: date | None = None  # None: no rejection letter was sent
    rejections_electronic: bool = True
    standstill_unbegun: str = ""  # why the standstill has not begun (rules.standstill)
    exemption_reason: str = ""  # e.g. "Une seule offre reçue" (R2182-1)
    # The files the message carries beside the letter: the copy of the signed contract the
    # notification transmits. The letter says « ci-joint » only when there is one.
    enclosures: tuple[str, ...] = ()

    @property
    def notifiable_from(self) -> date | None:
        if self.last_rejection_sent is None:
            return None
        return signing_from(self.last_rejection_sent, electronic=self.rejections_electronic)

    @property
    def in_standstill(self) -> bool:
        first_day = self.notifiable_from
        return bool(self.standstill_unbegun) or (first_day is not None and self.dated < first_day)

    @property
    def held_by_standstill(self) -> bool:
        """Inside the standstill without an exemption written out (the send checks' rule 8:
        a letter the form would refuse to send is not drawn either)."""
        return self.in_standstill and not written_reason(self.exemption_reason)

    def missing_mentions(self) -> tuple[Mention, ...]:
        missing = super().missing_mentions()
        if self.held_by_standstill:
            missing += (Mention("exemption_reason", "Motif de dispense du délai de suspension"),)
        return missing

    def refusal_detail(self) -> str:
        if not self.held_by_standstill:
            return ""
        days = standstill_days(electronic=self.rejections_electronic)
        if self.standstill_unbegun:
            situation = (
                f" Délai de suspension pas encore commencé : {self.standstill_unbegun} ({days} "
                "jours, article R2182-1)"
            )
        else:
            assert self.last_rejection_sent is not None and self.notifiable_from is not None
            situation = (
                f" Délai de suspension en cours : les courriers de rejet ont été envoyés le "
                f"{_day(self.last_rejection_sent)} ; le marché peut être notifié à partir du "
                f"{_day(self.notifiable_from)} ({days} jours, article R2182-1)"
            )
        return (
            f"{situation}, sauf dispense prévue par le code (par exemple une seule offre reçue)."
            + too_short(self.exemption_reason)
        )


@dataclass(frozen=True, kw_only=True)
class InvitationLetter(Letter):
    """Invitation à concourir (guide, case F; R2144-8 / R2144-9, LEGAL.md rule 6): the
    candidates admitted are invited, all at once, to submit an offer on the restricted
    consultation."""

    kind = MessageType.INVITATION
    template = "invitation.html"
    required = (
        Mention("notice_reference", "Référence de l'avis publié"),
        Mention("bid_deadline", "Date et heure limite de remise des plis"),
        Mention("platform_url", "Adresse de la plateforme"),
        Mention("access_code", "Code d'accès restreint"),
        Mention("submission", "Adresse et modalités de remise des offres"),
        Mention("documents", "Documents à fournir"),
    )

    notice_reference: str
    bid_deadline: datetime | None
    platform_url: str
    access_code: str
    submission: str  # where and how to submit the offer
    documents: str  # the documents to provide with it


@dataclass(frozen=True, kw_only=True)
class CancellationLetter(Letter):
    """Information d'annulation (LEGAL.md rule 10; R2185-1 / R2185-2): the procedure, or some
    of its lots, is declared "sans suite", with its reasons."""

    kind = MessageType.CANCELLATION
    template = "annulation.html"
    required = (Mention("reasons", "Motifs de la déclaration sans suite"),)

    reasons: str


LETTER_KINDS: tuple[type[Letter], ...] = (
    RejectionLetter,
    AwardLetter,
    NotificationLetter,
    InvitationLetter,
    CancellationLetter,
)


# --- Checking and rendering ---------------------------------------------------------------


def check_letter(letter: Letter) -> None:
    """Raises `LetterRefused` naming the missing mandatory mentions, if any."""
    missing = letter.missing_mentions()
    if missing:
        raise LetterRefused(letter.kind, missing, letter.refusal_detail())


def letter_context(letter: Letter) -> dict[str, Any]:
    """What the templates read: `letter` (the dataclass, with its properties) and the
    letterhead of `base.html`."""
    created = datetime.combine(letter.dated, time(9, 0), tzinfo=PARIS)
    return {
        "letter": letter,
        "consultation": letter.consultation,
        "kind_label": letter.kind.label,
        "organisation": letter.consultation.organisation,
        "entity": letter.consultation.entity,
        # The PDF's creation date is the letter's date: the same letter gives the same bytes,
        # so the SHA-256 printed on the AR identifies it.
        "created_w3c": created.isoformat(),
    }


def letter_html(letter: Letter, *, templates_dir: Path | None = None) -> str:
    """The HTML of a letter (its mentions checked first), for a preview or a test."""
    check_letter(letter)
    return render_html(letter.template, letter_context(letter), templates_dir=templates_dir)


def render_letter(letter: Letter, *, templates_dir: Path | None = None) -> bytes:
    """The PDF of a letter. Raises `LetterRefused` (a mention is missing) or
    `letters.render.TemplateProblem` (an override template is broken)."""
    check_letter(letter)
    html = render_html(letter.template, letter_context(letter), templates_dir=templates_dir)
    shown = _words(html_module.unescape(_TAG.sub(" ", html)))  # what a reader sees
    if left_out := [label for label, text in letter.printed() if _words(text) not in shown]:
        raise TemplateProblem(
            f"Le modèle « {letter.template} » n'imprime pas : {', '.join(left_out)}. Un "
            "courrier sans ces mentions n'a pas la valeur qu'il doit avoir : corrigez le modèle "
            "(MESSAGERIE_TEMPLATES_DIR).",
            template=letter.template,
        )
    return html_to_pdf(html, extra_roots=(templates_dir,) if templates_dir else ())


def _words(text: str) -> str:
    """The words of `text`, as a template may set them: in capitals, with typographic
    apostrophes, its lines joined."""
    return " ".join(text.replace("\u2019", "'").casefold().split())


def drawn_letter(
    store: Store,
    letter: Letter,
    *,
    consultation_id: int,
    actor: str,
    templates_dir: Path | None = None,
) -> NewDocument:
    """The letter rendered, its PDF in the blob store: the document row is the caller's to
    write (`insert_documents`), in the transaction of what goes with it, so that a refusal
    keeps no letter (a blob without a row is harmless: the same bytes are reused)."""
    pdf = render_letter(letter, templates_dir=templates_dir)
    filename = letter_filename(letter)
    return NewDocument(
        stored=put_bytes(store.blobs, pdf, filename),
        filename=filename,
        origin=DocumentOrigin.LETTER,
        consultation_id=consultation_id,
        actor=actor,
    )


_UNSAFE = re.compile(r"[^A-Za-z0-9._]+")
_TAG = re.compile(r"<[^>]*>")


def _safe(text: str, limit: int = 40) -> str:
    ascii_text = (
        unicodedata.normalize("NFKD", text.replace("°", "o")).encode("ascii", "ignore").decode()
    )
    return _UNSAFE.sub("-", ascii_text)[:limit].strip(".-_")


def letter_filename(letter: Letter) -> str:
    """A safe ASCII file name, distinct per kind, consultation, lot and company:
    "Courrier-de-rejet_202601_Lot-no1_N.B.C.-FR.pdf"."""
    parts = [
        _safe(letter.kind.label),
        _safe(letter.consultation.reference) or "consultation",
        *(_safe(lot, 20) for lot in letter.lots[:1] if len(letter.lots) == 1),
        _safe(letter.company) or "entreprise",
    ]
    return "_".join(part for part in parts if part) + ".pdf"


# --- The mail-merge of rejections ---------------------------------------------------------


def rejection_letters(
    bids: Iterable[RejectedBid],
    *,
    consultation: ConsultationIdentity,
    dated: date,
    lots: tuple[str, ...] | None = None,
    electronic: bool = True,
    standstill: bool = True,
    candidature: bool = False,
    signatory: str = DEFAULT_SIGNATORY,
) -> tuple[RejectionLetter, ...]:
    """One rejection letter per bid of `models.merge.rejected_bids`. `lots` is the lot's label
    for the letters; None prints the lot as written in the analysis file. `standstill`: the
    letters announce the date from which the contract may be signed (R2182-1)."""
    return tuple(
        RejectionLetter(
            consultation=consultation,
            dated=dated,
            lots=lots if lots is not None else _lot_as_written(bid.lot),
            signatory=signatory,
            electronic=electronic,
            standstill=standstill,
            candidature=candidature,
            **{name: getattr(bid, name) for name in _FROM_THE_BID},
        )
        for bid in bids
    )


# What a rejection letter prints as the analysis file gives it (RejectedBid's fields).
_FROM_THE_BID = (
    "company",
    "reasons",
    "score",
    "rank",
    "ranked_offers",
    "awardee",
    "award_reasons",
    "awardee_score",
)


def _lot_as_written(lot: str) -> tuple[str, ...]:
    """ "2" → ("Lot n°2",); "Lot 2 - Vins" stays as it is; "" → () (no lots)."""
    if not lot:
        return ()
    return (f"Lot n°{lot}",) if ascii_digits(lot) else (lot,)


def _day(day: date) -> str:
    return day.strftime("%d/%m/%Y")
