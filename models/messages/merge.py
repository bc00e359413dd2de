"""The rejection mail-merge: the analysis of the offers (CSV) → one rejection per bidder.

The buyer exports the analysis of the offers from a spreadsheet, one row per offer and lot:
entreprise, lot, note, rang, motifs (French headers, any case or accents, other columns
ignored). The file may be UTF-8 with or without BOM, separated by `;` (French Excel) or `,`;
the note may use a decimal comma. A row that cannot be read is refused with its line and
column, in French, and nothing is merged.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from messagerie.models.errors import Refusal
from messagerie.models.store.rows import from_row
from messagerie.models.text import ascii_digits, control_character_problem, cut, lf_lines

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


class AnalysisRefused(Refusal):
    """The analysis file cannot be merged; `line` and `column` say where, when known."""

    def __init__(self, message: str, *, line: int | None = None, column: str | None = None):
        super().__init__(message)
        self.line = line
        self.column = column


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
    """The rows of an analysis CSV, in file order; refuses the whole file on the first fault."""
    text = lf_lines(_decoded(data) if isinstance(data, bytes) else data.removeprefix("\ufeff"))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise AnalysisRefused("Le fichier d'analyse est vide.", line=1)
    positions = _positions(header)
    rows, row_start = [], reader.line_num + 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            rows.append(_row(cells, positions, row_start))
        row_start = reader.line_num + 1  # a quoted field may span several lines
    if not rows:
        raise AnalysisRefused("Le fichier d'analyse ne contient aucune offre.", line=2)
    _refuse_duplicates(rows)
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


def _row(cells: list[str], positions: dict[str, int], line: int) -> AnalysisRow:
    def cell(attribute: str) -> str:
        index = positions[attribute]
        text = cells[index].strip() if index < len(cells) else ""
        # The text goes into letters and messages: refused here, with its line and column,
        # not by the send checks once every letter is drawn.
        if problem := control_character_problem(text, multiline=attribute == "reasons"):
            raise _refused(line, COLUMN_OF[attribute], problem)
        return text

    company = cell("company")
    if not company:
        raise _refused(line, "entreprise", "le nom de l'entreprise est vide.")
    return AnalysisRow(
        line=line,
        company=company,
        lot=cell("lot"),
        score=_score(cell("score"), line),
        rank=_rank(cell("rank"), line),
        reasons=cell("reasons"),
    )


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


def _refuse_duplicates(rows: Iterable[AnalysisRow]) -> None:
    """One offer per company and lot, else a company would receive two different letters."""
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (_fold(row.company), _fold(row.lot))
        if key in seen:
            raise _refused(
                row.line,
                "entreprise",
                f"« {row.company} » figure déjà à la ligne {seen[key]} pour le même lot.",
            )
        seen[key] = row.line


# --- Merging ------------------------------------------------------------------------------


def rows_by_lot(rows: Iterable[AnalysisRow]) -> dict[str, tuple[AnalysisRow, ...]]:
    """The rows of each lot, lots in the order they first appear."""
    lots: dict[str, list[AnalysisRow]] = {}
    for row in rows:
        lots.setdefault(row.lot, []).append(row)
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
    if len({row.lot for row in rows}) > 1:
        raise ValueError("rejected_bids merges the rows of one lot at a time")
    winner = next((row for row in rows if _fold(row.company) == _fold(retained)), None)
    if winner is None:
        raise AnalysisRefused(
            f"L'entreprise retenue « {retained} » ne figure pas dans l'analyse de ce lot.",
            column="entreprise",
        )
    if not winner.reasons.strip():
        raise _refused(
            winner.line, "motifs", f"indiquez les motifs du choix de l'offre de {winner.company}."
        )
    ranked = sum(row.rank is not None for row in rows)
    bids = []
    for row in rows:
        if row is winner:
            continue
        if not row.reasons.strip():
            raise _refused(row.line, "motifs", f"indiquez les motifs du rejet de {row.company}.")
        bids.append(
            from_row(  # the bidder's company, lot, reasons, score and rank
                RejectedBid,
                row,
                ranked_offers=ranked,
                awardee=winner.company,
                award_reasons=winner.reasons,
                awardee_score=winner.score,
            )
        )
    return tuple(bids)
