"""Rejections in one action (mail-merge): from the analysis file, one rejection message per
non-retained bidder of a lot, each with its own letter (its reasons, score and rank), all
queued together or none.

The bidders are found in the consultation's dépôts by company name (case and accents
ignored); a row naming a company with no dépôt for the lot (none at all, or for other lots
only) stops the batch, every such line named, before any letter is drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Connection

from messagerie.letters.pdf.documents import (
    RejectionLetter,
    drawn_letter,
    rejection_letters,
)
from messagerie.models.consultations.detail import lock_consultation
from messagerie.models.consultations.registers import register_page
from messagerie.models.errors import Refusal
from messagerie.models.formatting import lot_label
from messagerie.models.messages.drafts import DraftRecipient
from messagerie.models.messages.form import ComposeContext, FormInput, LetterBasis
from messagerie.models.messages.merge import (
    AnalysisRefused,
    AnalysisRow,
    Bidder,
    bidders_of,
    deposit_faults,
    lot_number,
    rejected_bids,
    unanswered_bidders,
)
from messagerie.models.messages.presets import preset_form
from messagerie.models.messages.queue import QueuedMessage, authorize_sending, queue_within
from messagerie.models.store import audit
from messagerie.models.store.accounts import authorize_reading
from messagerie.models.store.database import Store
from messagerie.models.store.documents import NewDocument, insert_documents
from messagerie.models.store.enums import MessageType, RegisterKind
from messagerie.models.text import fold


@dataclass(frozen=True)
class MergeLine:
    """One bidder to reject: its letter and the address it goes to."""

    row: AnalysisRow
    letter: RejectionLetter
    recipient: DraftRecipient

    @property
    def lot_number(self) -> int | None:
        """The lot it rejects from; None in a consultation without lots."""
        return lot_number(self.row.lot)


def plan_rejections(
    context: ComposeContext,
    rows: Sequence[AnalysisRow],
    retained: str,
    *,
    dated: date,
    bidders: Sequence[Bidder] | None = None,
) -> tuple[MergeLine, ...]:
    """The letters of one lot's non-retained bidders, each with its dépôt's address; refused
    naming every row that names no bidder of the lot or lacks its reasons. `bidders` are the
    dépôts with their lots (`lot_bidders`); without them only `queue_rejections` checks that
    each bidder's dépôts cover the lot."""
    detail = context.detail
    number = lot_of(rows)
    lots = tuple(lot_label(n, t) for n, t in detail.lots if n == number) or None
    # Allotted: the letter names the lot it rejects from. Without lots: the file names none.
    if rows and (lots is None if detail.lots else rows[0].lot):
        raise _lot_refused(rows[0], detail.lots)
    deposits = {
        fold(a.company_name): a for a in context.addresses if RegisterKind.DEPOSIT in a.kinds
    }
    if bidders is None:
        bidders = bidders_of((address.company_name, ()) for address in deposits.values())
    faults = deposit_faults(rows, bidders, number, retained)
    try:
        bids = rejected_bids(rows, retained)
    except AnalysisRefused as refused:
        raise AnalysisRefused.of([*faults, refused]) from None
    if faults:
        raise AnalysisRefused.of(faults)
    # A MAPA has no standstill unless the buyer chose one: the merge announces none there.
    standstill = detail.procedure.formalised
    letters = rejection_letters(
        bids,
        consultation=detail.identity,
        dated=dated,
        lots=lots,
        standstill=standstill,
        candidature=detail.candidatures,
    )
    by_company = {fold(row.company): row for row in rows}
    lines = []
    for letter in letters:
        row = by_company[fold(letter.company)]
        address = deposits.get(fold(letter.company))
        if address is None:  # the dépôts changed since `bidders` were read
            raise AnalysisRefused.of(deposit_faults([row], (), number))
        lines.append(
            MergeLine(
                row,
                letter,
                DraftRecipient(address.email, address.company_id, address.contact_name),
            )
        )
    return tuple(lines)


def lot_bidders(store: Store, consultation_id: int, *, actor: str) -> tuple[Bidder, ...]:
    """The consultation's bidders with the lots of their dépôts, once `actor` sees it."""
    with store.engine.connect() as connection:
        authorize_reading(connection, actor, consultation_id)
        return _bidders(connection, consultation_id)


def left_out(rows: Sequence[AnalysisRow], bidders: Sequence[Bidder]) -> tuple[str, ...]:
    """The bidders of the rows' lot that the file neither retains nor rejects."""
    return unanswered_bidders(rows, bidders, lot_of(rows))


def lot_of(rows: Sequence[AnalysisRow]) -> int | None:
    """The number of the lot of one lot's rows; None without lots (or rows)."""
    return lot_number(rows[0].lot) if rows else None


def _bidders(connection: Connection, consultation_id: int) -> tuple[Bidder, ...]:
    entries, page, pages = [], 1, 1
    while page <= pages:  # the register's pages, as its screen reads them
        found = register_page(
            connection, consultation_id, RegisterKind.DEPOSIT, page=page, per_page=500
        )
        entries += [(row.company_name, row.lot_numbers) for row in found.rows]
        page, pages = page + 1, found.page_count
    return bidders_of(entries)


MERGE_CONFIRMED = "merge.confirmed"  # rejections sent despite the merge's warnings


def queue_rejections(
    store: Store,
    context: ComposeContext,
    lines: Sequence[MergeLine],
    *,
    actor: str,
    progress: Callable[[int, int], object] = lambda done, total: None,
    templates_dir: Path | None = None,
    confirmed: Sequence[str] = (),
) -> tuple[QueuedMessage, ...]:
    """Render every letter (telling `progress` after each), then, in one transaction, keep
    them in the document space and queue one rejection per bidder, each letter attached to
    its copy: all or none (a refused batch leaves no letter behind). The warnings the buyer
    `confirmed` (bidders left without a letter, or sent a second one) go to the audit log."""
    with store.engine.connect() as connection:  # refused before any letter is drawn
        authorize_sending(connection, actor, context.detail.id, MessageType.REJECTION)
        # The dépôts as they are now, whoever planned the lines: no letter rejects an offer
        # its company never made.
        bidders = _bidders(connection, context.detail.id)
        faults = [f for line in lines for f in deposit_faults([line.row], bidders, line.lot_number)]
        if faults:
            raise AnalysisRefused.of(faults)
    letters: list[NewDocument] = []
    for done, line in enumerate(lines, start=1):
        letters.append(drawn_letter(store, line.letter, consultation_id=context.detail.id,
                                    actor=actor, templates_dir=templates_dir))  # fmt: skip
        progress(done, len(lines))
    preset = preset_form(context, MessageType.REJECTION)
    with store.engine.begin() as connection:
        # Held before the letters are kept, as queue_within holds it: their rows name the
        # consultation, and on PostgreSQL two merges that each kept theirs first then waited
        # for each other to hold it (one was refused, « réessayez »).
        lock_consultation(connection, context.detail.id)
        kept = insert_documents(connection, letters)
        forms = [_form(preset, line, info.id) for line, info in zip(lines, kept, strict=True)]
        queued = queue_within(connection, store, forms, actor=actor)
        if confirmed:
            audit.append(
                connection,
                action=MERGE_CONFIRMED,
                actor=actor,
                consultation_id=context.detail.id,
                detail=f"{len(lines)} courrier(s) de rejet envoyés après cet avertissement : "
                + " ".join(confirmed),
            )
        return queued


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
    # drawn from the same line, on the letter's day
    return replace(form, letters_basis=LetterBasis.of(form, dated=letter.dated))


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
