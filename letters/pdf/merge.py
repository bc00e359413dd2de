"""Rejections in one action (mail-merge): from the analysis file, one rejection message per
non-retained bidder of a lot, each with its own letter (its reasons, score and rank), all
queued together or none.

The bidders are found in the consultation's dépôts by company name (case and accents
ignored); a bidder with no address there stops the batch, naming its line in the file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from messagerie.letters.pdf.documents import (
    RejectionLetter,
    drawn_letter,
    rejection_letters,
)
from messagerie.models.errors import Refusal
from messagerie.models.formatting import lot_label
from messagerie.models.messages.drafts import DraftRecipient
from messagerie.models.messages.form import ComposeContext, FormInput, LetterBasis
from messagerie.models.messages.merge import AnalysisRow, rejected_bids
from messagerie.models.messages.presets import preset_form
from messagerie.models.messages.queue import QueuedMessage, authorize_sending, queue_within
from messagerie.models.rules.validation import MAX_LOT_NUMBER
from messagerie.models.store.database import Store
from messagerie.models.store.documents import NewDocument, insert_documents
from messagerie.models.store.enums import MessageType, RegisterKind
from messagerie.models.text import ascii_digits, fold, whole_number


@dataclass(frozen=True)
class MergeLine:
    """One bidder to reject: its letter and the address it goes to."""

    row: AnalysisRow
    letter: RejectionLetter
    recipient: DraftRecipient

    @property
    def lot_number(self) -> int | None:
        """The lot it rejects from; None in a consultation without lots."""
        return _lot_number(self.row.lot)


def plan_rejections(
    context: ComposeContext,
    rows: Sequence[AnalysisRow],
    retained: str,
    *,
    dated: date,
) -> tuple[MergeLine, ...]:
    """The letters of one lot's non-retained bidders, each with its dépôt's address."""
    detail = context.detail
    lot_number = _lot_number(rows[0].lot) if rows else None
    lots = tuple(lot_label(n, t) for n, t in detail.lots if n == lot_number) or None
    # Allotted: the letter names the lot it rejects from. Without lots: the file names none.
    if rows and (lots is None if detail.lots else rows[0].lot):
        raise _lot_refused(rows[0], detail.lots)
    bids = rejected_bids(rows, retained)
    # A MAPA has no standstill unless the buyer chose one: the merge announces none there.
    standstill = detail.procedure.formalised
    letters = rejection_letters(
        bids, consultation=detail.identity, dated=dated, lots=lots, standstill=standstill
    )
    by_company = {fold(row.company): row for row in rows}
    deposits = {
        fold(a.company_name): a for a in context.addresses if RegisterKind.DEPOSIT in a.kinds
    }
    lines = []
    for letter in letters:
        row = by_company[fold(letter.company)]
        address = deposits.get(fold(letter.company))
        if address is None:
            raise Refusal(
                f"Ligne {row.line}, colonne « entreprise » : « {row.company} » n'est pas dans "
                "le registre des dépôts de cette consultation ; corrigez le nom."
            )
        lines.append(
            MergeLine(
                row,
                letter,
                DraftRecipient(address.email, address.company_id, address.contact_name),
            )
        )
    return tuple(lines)


def queue_rejections(
    store: Store,
    context: ComposeContext,
    lines: Sequence[MergeLine],
    *,
    actor: str,
    progress: Callable[[int, int], object] = lambda done, total: None,
    templates_dir: Path | None = None,
) -> tuple[QueuedMessage, ...]:
    """Render every letter (telling `progress` after each), then, in one transaction, keep
    them in the document space and queue one rejection per bidder, each letter attached to
    its copy: all or none (a refused batch leaves no letter behind)."""
    with store.engine.connect() as connection:  # refused before any letter is drawn
        authorize_sending(connection, actor, context.detail.id, MessageType.REJECTION)
    letters: list[NewDocument] = []
    for done, line in enumerate(lines, start=1):
        letters.append(drawn_letter(store, line.letter, consultation_id=context.detail.id,
                                    actor=actor, templates_dir=templates_dir))  # fmt: skip
        progress(done, len(lines))
    preset = preset_form(context, MessageType.REJECTION)
    with store.engine.begin() as connection:
        kept = insert_documents(connection, letters)
        forms = [_form(preset, line, info.id) for line, info in zip(lines, kept, strict=True)]
        return queue_within(connection, store, forms, actor=actor)


def _form(preset: FormInput, line: MergeLine, document_id: int) -> FormInput:
    letter = line.letter
    number = line.lot_number
    form = replace(
        preset,
        recipients=(line.recipient,),
        lot_numbers=(number,) if number is not None else (),
        body=(
            "Bonjour,\n\nVeuillez trouver ci-joint notre courrier relatif à votre offre.\n\n"
            "Cordialement."
        ),
        mentions={
            "reasons": letter.reasons,
            "awarded": "oui" if letter.award_known else "",
            "awardee": letter.awardee,
            "award_reasons": letter.award_reasons,
            "signature_date": (
                letter.signing_from.strftime("%d/%m/%Y") if letter.signing_from else ""
            ),
        },
        letters=((line.recipient.email, document_id),),
    )
    return replace(form, letters_basis=LetterBasis.of(form))  # drawn from the same line


def _lot_refused(row: AnalysisRow, lots: Sequence[tuple[int, str]]) -> Refusal:
    """A letter must name the lot it rejects from: the row's lot is none of the consultation's
    (the letter would reject from every lot), or the consultation has no lots."""
    where = f"Ligne {row.line}, colonne « lot » : "
    if not lots:
        return Refusal(
            f"{where}cette consultation n'est pas allotie : laissez la colonne vide "
            f"(« {row.lot} »)."
        )
    numbers = ", ".join(str(number) for number, _ in lots)
    if not row.lot:
        return Refusal(f"{where}vide : indiquez le lot de chaque offre (lots : {numbers}).")
    return Refusal(
        f"{where}« {row.lot} » n'est pas un lot de cette consultation (lots : {numbers}) ; "
        "corrigez le fichier."
    )


def _lot_number(lot: str) -> int | None:
    """ "2", "Lot 2", "Lot n°2 - Vins" → 2; "" → None."""
    digits = "".join(c if ascii_digits(c) else " " for c in lot).split()
    return whole_number(digits[0], MAX_LOT_NUMBER) if digits else None
