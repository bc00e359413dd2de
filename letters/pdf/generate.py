""" "Générer le courrier": the message type's model letter, filled from the message form for
each recipient, rendered, kept in the document space (origin "Courrier généré") and attached
to that recipient's copy only. Sent "avec AR", each company reads its own letter on its page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from messagerie.letters.pdf.documents import (
    AwardLetter,
    CancellationLetter,
    InvitationLetter,
    Letter,
    NotificationLetter,
    RejectionLetter,
    drawn_letter,
)
from messagerie.models.errors import Refusal
from messagerie.models.formatting import PARIS, lot_label
from messagerie.models.messages.drafts import unique_recipients
from messagerie.models.messages.form import ComposeContext, FormInput, pieces_of
from messagerie.models.messages.queue import authorize_sending
from messagerie.models.rules.standstill import standstill_applies
from messagerie.models.rules.validation import ValidationFailed, parse_paris_day
from messagerie.models.store.database import Store
from messagerie.models.store.documents import DocumentInfo, document_infos, insert_documents
from messagerie.models.store.enums import MessageType

WITH_LETTER = (
    MessageType.REJECTION,
    MessageType.AWARD,
    MessageType.NOTIFICATION,
    MessageType.INVITATION,
    MessageType.CANCELLATION,
)


@dataclass(frozen=True)
class PersonalLetter:
    email: str  # the recipient whose copy carries it
    document: DocumentInfo


def _announced_day(text: str) -> date | None:
    """The form's « JJ/MM/AAAA »; None when blank or unreadable (the send checks say why)."""
    try:
        return parse_paris_day(text) if text.strip() else None
    except ValidationFailed:
        return None


def letter_for(
    context: ComposeContext,
    form: FormInput,
    email: str,
    *,
    dated: date,
    platform_url: str,
    enclosures: tuple[str, ...] = (),
) -> Letter:
    """The letter of `form`'s type for one recipient, from the form's mentions; `enclosures`
    names the files the message carries beside it (a notification's signed contract)."""
    detail = context.detail
    company = next(
        (a.company_name for a in context.addresses if a.email.lower() == email.lower()), email
    )
    common: dict[str, Any] = {  # what every letter has
        "consultation": detail.identity,
        "company": company,
        "dated": dated,
        "lots": tuple(
            lot_label(number, title) for number, title in detail.lots if number in form.lot_numbers
        ),
    }
    awarded = form.mention("awarded") not in ("", "non")
    if form.type is MessageType.REJECTION:
        return RejectionLetter(
            **common,
            reasons=form.mention("reasons"),
            awardee=form.mention("awardee") if awarded else "",
            award_reasons=form.mention("award_reasons") if awarded else "",
            # A MAPA's letter announces a standstill only when the buyer gave its date.
            standstill=standstill_applies(
                formalised=detail.procedure.formalised,
                chosen=bool(form.mention("signature_date")),
            ),
            signature_date=_announced_day(form.mention("signature_date")),
            candidature=detail.candidatures,
        )
    if form.type is MessageType.AWARD:
        return AwardLetter(
            **common,
            pieces=pieces_of(form.mention("pieces")),
            pieces_deadline=_announced_day(form.mention("pieces_deadline")),
        )
    if form.type is MessageType.NOTIFICATION:
        standstill = context.standstill(form.lot_numbers)  # the same as the send checks
        last = standstill.last_rejection
        return NotificationLetter(
            **common,
            last_rejection_sent=last.astimezone(PARIS).date() if last else None,
            rejections_electronic=standstill.electronic,
            standstill_unbegun=standstill.unbegun,
            exemption_reason=form.mention("exemption_reason"),
            enclosures=enclosures,
        )
    if form.type is MessageType.INVITATION:
        return InvitationLetter(
            **common,
            notice_reference=form.mention("notice_reference"),
            bid_deadline=detail.bid_deadline,
            platform_url=platform_url,
            access_code=detail.access_code or "",
            submission=form.mention("submission"),
            documents=form.mention("documents"),
        )
    if form.type is MessageType.CANCELLATION:
        return CancellationLetter(**common, reasons=form.mention("reasons"))
    raise Refusal(
        f"Il n'y a pas de modèle de courrier pour « {form.type.label} » : joignez votre "
        "document (F4)."
    )


def generate_letters(
    store: Store,
    context: ComposeContext,
    form: FormInput,
    *,
    dated: date,
    platform_url: str,
    actor: str,
    templates_dir: Path | None = None,
) -> tuple[PersonalLetter, ...]:
    """One letter per recipient of the form, checked (a missing mention refuses them all,
    naming the field, before anything is stored), rendered and stored; `actor` needs the
    right to send the form's type (`decide` too for a decision letter), checked first."""
    with store.engine.connect() as connection:
        authorize_sending(connection, actor, form.consultation_id, form.type)
    recipients = unique_recipients(form.recipients)
    if not recipients:
        raise Refusal("Ajoutez d'abord les destinataires : un courrier est fait pour chacun.")
    enclosures = tuple(d.filename for d in document_infos(store, form.attachment_ids, actor=actor))
    letters = [
        (r.email, letter_for(context, form, r.email, dated=dated, platform_url=platform_url,
                             enclosures=enclosures))
        for r in recipients
    ]  # fmt: skip
    drawn = [drawn_letter(store, letter, consultation_id=form.consultation_id, actor=actor,
                          templates_dir=templates_dir) for _, letter in letters]  # fmt: skip
    with store.engine.begin() as connection:  # every letter kept, or none
        kept = insert_documents(connection, drawn)
    return tuple(
        PersonalLetter(email, info) for (email, _), info in zip(letters, kept, strict=True)
    )
