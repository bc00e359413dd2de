"""The rejection mail-merge: the analysis of the offers (CSV) → one rejection per bidder.

The buyer exports the analysis of the offers from a spreadsheet, one row per offer and lot:
entreprise, lot, note, rang, motifs (French headers, any case or accents, other columns
ignored). The file may be UTF-8 with or without BOM, separated by `;` (French Excel) or `,`;
the note may use a decimal comma. A file with rows that cannot be read is refused with every
fault's line and column, in French (the first 20, then how many more), and nothing is merged.

Each row must name a bidder of its lot: a company whose dépôts cover it (a dépôt naming no
lot covers them all); and every bidder of the lot the file leaves out is named to the buyer,
who would otherwise believe each had been written to.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from messagerie.models.errors import Refusal
from messagerie.models.messages.rejections import NAME_LENGTH
from messagerie.models.rules.validation import MAX_LOT_NUMBER
from messagerie.models.store.rows import from_row
from messagerie.models.text import (
    ascii_digits,
    control_character_problem,
    cut,
    fold,
    lf_lines,
    whole_number,
)

# Header (as written in the file, folded) -> attribute of AnalysisRow.
COLUMNS = {
    "entreprise": "company",
    "lot": "lot",
    "note": "score",
    "rang": "rank",
    "motifs": "reasons",
}
COLUMN_OF = {attribute: name for name, attribute in COLUMNS.items()}
MAX_RANK = 9999  # more offers than this in one lot is a typo (and int() refuses 4,300 digits)
MAX_SHOWN_FAULTS = 20  # as the register import: enough to fix a file at once, not a wall


class AnalysisRefused(Refusal):
    """The analysis file cannot be merged; `line` and `column` say where (the first fault's,
    when there are several: `faults` holds each), when known."""

    def __init__(self, message: str, *, line: int | None = None, column: str | None = None):
        super().__init__(message)
        self.line = line
        self.column = column
        self.faults: tuple[AnalysisRefused, ...] = (self,)

    @classmethod
    def of(cls, faults: Sequence[AnalysisRefused]) -> AnalysisRefused:
        """One refusal saying every fault, in line order: one alone as it is, several under
        a heading, the first MAX_SHOWN_FAULTS then how many more."""
        faults = sorted(
            (one for fault in faults for one in fault.faults), key=lambda f: f.line or 0
        )
        if len(faults) == 1:
            return faults[0]
        shown = [str(fault) for fault in faults[:MAX_SHOWN_FAULTS]]
        if len(faults) > MAX_SHOWN_FAULTS:
            shown.append(f"… et {len(faults) - MAX_SHOWN_FAULTS} autre(s) erreur(s).")
        refused = cls(
            f"Fichier d'analyse refusé ({len(faults)} erreurs), aucun courrier n'est "
            "préparé :\n" + "\n".join(shown),
            line=faults[0].line,
            column=faults[0].column,
        )
        refused.faults = tuple(faults)
        return refused


@dataclass(frozen=True)
class AnalysisRow:
    """One offer of the analysis. `score` and `rank` are None for an offer left unranked
    (irregular or unacceptable), which is rejected on its reasons alone."""

    line: int  # where the row starts in the file (the header is line 1)
    company: str
    lot: str  # as written in the file ("1", "Lot 2"); empty when the contract has no lots
    score: Decimal | None
    rank: int | None
    reasons: str  # why this offer is rejected, or why it is chosen for the retained one


@dataclass(frozen=True)
class RejectedBid:
    """What the rejection letter of one non-retained bidder says."""

    company: str
    lot: str
    reasons: str
    score: Decimal | None
    rank: int | None
    ranked_offers: int  # how many offers of the lot were ranked ("classée 3e sur 5")
    awardee: str
    award_reasons: str  # the retained row's motifs: why its offer was chosen
    awardee_score: Decimal | None


# --- Reading the file ---------------------------------------------------------------------


def read_analysis(data: bytes | str) -> tuple[AnalysisRow, ...]:
    """The rows of an analysis CSV, in file order; refuses the whole file naming every fault
    (a file that cannot be decoded, or whose header misses a column, at once)."""
    text = lf_lines(_decoded(data) if isinstance(data, bytes) else data.removeprefix("\ufeff"))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise AnalysisRefused("Le fichier d'analyse est vide.", line=1)
    positions = _positions(header)
    rows: list[AnalysisRow] = []
    faults: list[AnalysisRefused] = []
    row_start = reader.line_num + 1
    for cells in reader:
        if any(cell.strip() for cell in cells) and (
            row := _row(cells, positions, row_start, faults)
        ):
            rows.append(row)
        row_start = reader.line_num + 1  # a quoted field may span several lines
    faults += _duplicates(rows)
    if faults:
        raise AnalysisRefused.of(faults)
    if not rows:
        raise AnalysisRefused("Le fichier d'analyse ne contient aucune offre.", line=2)
    return tuple(rows)


def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise AnalysisRefused(
            f"Ligne {line} : le fichier n'est pas encodé en UTF-8 (octet "
            f"0x{data[error.start]:02X}) ; enregistrez-le en UTF-8 et recommencez.",
            line=line,
        ) from error


def _delimiter(text: str) -> str:
    """`;` or `,`, whichever the header line uses more (headers hold neither)."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if header.count(";") >= header.count(",") and ";" in header else ","


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _positions(header: list[str]) -> dict[str, int]:
    folded = [_fold(cell) for cell in header]
    missing = [name for name in COLUMNS if name not in folded]
    if missing:
        names = ", ".join(f"« {name} »" for name in missing)
        raise AnalysisRefused(
            f"Ligne 1 (en-tête) : colonne{'s' if len(missing) > 1 else ''} {names} "
            f"absente{'s' if len(missing) > 1 else ''}. L'en-tête attendu est : "
            + ";".join(COLUMNS)
            + ".",
            line=1,
            column=missing[0],
        )
    return {COLUMNS[name]: folded.index(name) for name in COLUMNS}


def _row(
    cells: list[str], positions: dict[str, int], line: int, faults: list[AnalysisRefused]
) -> AnalysisRow | None:
    """The row, or None once its faults (every column's) are added to `faults`."""
    values: dict[str, Any] = {}
    for attribute, read in READERS.items():
        index = positions[attribute]
        text = cells[index].strip() if index < len(cells) else ""
        try:
            # The text goes into letters and messages: refused here, with its line and
            # column, not by the send checks once every letter is drawn.
            if problem := control_character_problem(text, multiline=attribute == "reasons"):
                raise _refused(line, COLUMN_OF[attribute], problem)
            values[attribute] = read(text, line)
        except AnalysisRefused as fault:
            faults.append(fault)
    if len(values) < len(READERS):
        return None
    return AnalysisRow(line=line, **values)


def _company(text: str, line: int) -> str:
    if not text:
        raise _refused(line, "entreprise", "le nom de l'entreprise est vide.")
    return text


def _text(text: str, _line: int) -> str:
    return text


def _score(text: str, line: int) -> Decimal | None:
    if not text:
        return None
    try:
        score = Decimal(text.replace("\u202f", "").replace("\xa0", "").replace(",", "."))
    except InvalidOperation:
        score = None
    if score is None or not score.is_finite():
        raise _refused(line, "note", f"« {text} » n'est pas un nombre (exemple : 14,5).")
    return score


def _rank(text: str, line: int) -> int | None:
    if not text:
        return None
    if not ascii_digits(text):
        raise _refused(line, "rang", f"« {text} » n'est pas un nombre entier.")
    if len(text.lstrip("0")) > len(str(MAX_RANK)):
        raise _refused(line, "rang", f"« {cut(text, 20)} » : un rang va de 1 à {MAX_RANK}.")
    if int(text) < 1:
        raise _refused(line, "rang", f"« {text} » : le rang commence à 1.")
    return int(text)


def _refused(line: int, column: str, problem: str) -> AnalysisRefused:
    return AnalysisRefused(
        f"Ligne {line}, colonne « {column} » : {problem}", line=line, column=column
    )


def lot_number(lot: str) -> int | None:
    """ "2", "Lot 2", "Lot n°2 - Vins" → 2; "" (or no number in it) → None."""
    digits = "".join(c if ascii_digits(c) else " " for c in lot).split()
    return whole_number(digits[0], MAX_LOT_NUMBER) if digits else None


def lot_key(lot: str) -> str:
    """Which lot a row is for, however written: "1", "Lot 1" and "lot n°01" are one lot (its
    number), else one letter of each would reject the same company from it twice."""
    number = lot_number(lot)
    return _fold(lot) if number is None else str(number)


def _duplicates(rows: Iterable[AnalysisRow]) -> list[AnalysisRefused]:
    """One offer per company and lot, else a company would receive two different letters."""
    seen: dict[tuple[str, str], int] = {}
    faults = []
    for row in rows:
        key = (_fold(row.company), lot_key(row.lot))
        if key in seen:
            faults.append(
                _refused(
                    row.line,
                    "entreprise",
                    f"« {row.company} » figure déjà à la ligne {seen[key]} pour le même lot.",
                )
            )
        else:
            seen[key] = row.line
    return faults


# Each column in file order, and how its text is read (raising AnalysisRefused).
READERS: dict[str, Callable[[str, int], object]] = {
    "company": _company,
    "lot": _text,
    "score": _score,
    "rank": _rank,
    "reasons": _text,
}


# --- Merging ------------------------------------------------------------------------------


def rows_by_lot(rows: Iterable[AnalysisRow]) -> dict[str, tuple[AnalysisRow, ...]]:
    """The rows of each lot (keyed by `lot_key`: "2" for "Lot 2"), lots in the order they
    first appear."""
    lots: dict[str, list[AnalysisRow]] = {}
    for row in rows:
        lots.setdefault(lot_key(row.lot), []).append(row)
    return {lot: tuple(lot_rows) for lot, lot_rows in lots.items()}


def ranked_first(rows: Sequence[AnalysisRow]) -> AnalysisRow:
    """The offer ranked 1 of one lot: the one the buyer retains unless stated otherwise."""
    first = [row for row in rows if row.rank == 1]
    if len(first) != 1:
        lot = f" du lot « {rows[0].lot} »" if rows and rows[0].lot else ""
        found = "aucune offre" if not first else f"{len(first)} offres"
        raise AnalysisRefused(
            f"Analyse{lot} : {found} au rang 1 ; indiquez l'entreprise retenue.", column="rang"
        )
    return first[0]


def rejected_bids(rows: Sequence[AnalysisRow], retained: str) -> tuple[RejectedBid, ...]:
    """One rejection per bidder of one lot other than `retained` (the awardee's company name,
    case and accents ignored), each with its own reasons, score and rank, in file order."""
    if len({lot_key(row.lot) for row in rows}) > 1:
        raise ValueError("rejected_bids merges the rows of one lot at a time")
    winner = next((row for row in rows if _fold(row.company) == _fold(retained)), None)
    if winner is None:
        raise AnalysisRefused(
            f"L'entreprise retenue « {retained} » ne figure pas dans l'analyse de ce lot.",
            column="entreprise",
        )
    ranked = sum(row.rank is not None for row in rows)
    # Every offer needs its reasons, the retained one the reasons of its choice: all the
    # rows without are named at once.
    faults = [_no_reasons(row, row is winner) for row in rows if not row.reasons.strip()]
    if faults:
        raise AnalysisRefused.of(faults)
    return tuple(
        from_row(  # the bidder's company, lot, reasons, score and rank
            RejectedBid,
            row,
            ranked_offers=ranked,
            awardee=winner.company,
            award_reasons=winner.reasons,
            awardee_score=winner.score,
        )
        for row in rows
        if row is not winner
    )


def _no_reasons(row: AnalysisRow, retained: bool) -> AnalysisRefused:
    why = "choix de l'offre" if retained else "rejet"
    return _refused(row.line, "motifs", f"indiquez les motifs du {why} de {row.company}.")


# --- The bidders of the lot (the dépôts) --------------------------------------------------


@dataclass(frozen=True)
class Bidder:
    """A company of the dépôts, and the lots its offers are for (empty: every lot)."""

    company: str
    lots: frozenset[int]

    def bid_for(self, lot: int | None) -> bool:
        """Whether it filed an offer for `lot` (None: a consultation without lots)."""
        return lot is None or not self.lots or lot in self.lots


def bidders_of(deposits: Iterable[tuple[str, Collection[int]]]) -> tuple[Bidder, ...]:
    """The bidders of the dépôts (company name, its lots), one per company (case and accents
    ignored) in register order: a company's dépôts add up, and one naming no lot is for all."""
    lots: dict[str, set[int]] = {}
    names: dict[str, str] = {}
    every_lot: set[str] = set()
    for company, numbers in deposits:
        key = fold(company)
        names.setdefault(key, company)
        lots.setdefault(key, set()).update(numbers)
        if not numbers:
            every_lot.add(key)
    return tuple(
        Bidder(name, frozenset() if key in every_lot else frozenset(lots[key]))
        for key, name in names.items()
    )


def deposit_faults(
    rows: Iterable[AnalysisRow], bidders: Iterable[Bidder], lot: int | None, retained: str = ""
) -> list[AnalysisRefused]:
    """The rows naming no bidder of `lot`: a company absent from the dépôts (but `retained`,
    whom this merge writes no letter), or whose dépôts are all for other lots — its letter
    would reject an offer it never made."""
    found = {fold(bidder.company): bidder for bidder in bidders}
    faults = []
    for row in rows:
        bidder = found.get(fold(row.company))
        if bidder is None and fold(row.company) != fold(retained):
            faults.append(_refused(row.line, "entreprise",
                                   f"« {row.company} » n'est pas dans le registre des dépôts de "
                                   "cette consultation ; corrigez le nom."))  # fmt: skip
        elif bidder is not None and not bidder.bid_for(lot):
            faults.append(_refused(row.line, "entreprise",
                                   f"« {row.company} » n'a remis d'offre que pour "
                                   f"{lots_text(bidder.lots)}, pas pour le lot {lot} ; corrigez "
                                   "le nom ou le lot de cette ligne."))  # fmt: skip
    return faults


def unanswered_bidders(
    rows: Iterable[AnalysisRow], bidders: Iterable[Bidder], lot: int | None
) -> tuple[str, ...]:
    """The bidders of `lot` the file neither retains nor rejects, in register order: the
    merge writes them nothing, and the buyer must know it before sending."""
    named = {fold(row.company) for row in rows}
    return tuple(
        bidder.company
        for bidder in bidders
        if bidder.bid_for(lot) and fold(bidder.company) not in named
    )


def left_out_warning(names: Sequence[str], lot: int | None) -> str:
    """What the buyer reads before sending without the bidders `names` of `lot` (None: a
    consultation without lots): every one named, as each would be left without a letter."""
    listed = ", ".join(cut(name, NAME_LENGTH) for name in names)
    where = "cette consultation" if lot is None else f"le lot {lot}"
    return (
        f"Absentes du fichier, mais au registre des dépôts pour {where} : {listed}. Elles ne "
        "recevraient aucun courrier : complétez le fichier, ou Ctrl+E deux fois pour envoyer "
        "sans elles."
    )


def lots_text(lots: Collection[int]) -> str:
    """« le lot 2 », « les lots 2 et 3 », « les lots 1, 2 et 4 »."""
    numbers = [str(number) for number in sorted(lots)]
    if len(numbers) == 1:
        return f"le lot {numbers[0]}"
    return f"les lots {', '.join(numbers[:-1])} et {numbers[-1]}"
