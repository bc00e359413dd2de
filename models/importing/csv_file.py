"""The CSV import format: one line per register entry, the consultation's columns repeated."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from messagerie.models.importing.reading import (
    CONSULTATION_FIELDS,
    ENTRY_FIELDS,
    REQUIRED_CONSULTATION_FIELDS,
    Group,
    Reading,
    register_kind,
)
from messagerie.models.rules.validation import MAX_LOT_NUMBER, lot_number_problem
from messagerie.models.text import ascii_digits, lf_lines, whole_number

CSV_REQUIRED_COLUMNS = (*REQUIRED_CONSULTATION_FIELDS, "register", *ENTRY_FIELDS[:5])
CSV_COLUMNS = (
    *CONSULTATION_FIELDS,
    "lots",
    "register",
    *ENTRY_FIELDS,
    "entry_lots",
)


@dataclass
class _CsvConsultation:
    """A consultation of the CSV file: its group, and the line and columns that defined it."""

    group: Group
    line: int
    values: dict[str, str]
    disagreeing: set[str] = field(default_factory=set)  # columns reported already


def read_csv(text: str, reading: Reading) -> list[Group]:
    text = lf_lines(text)  # an address on two lines, from Excel
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip().lower() for name in next(rows)]
    if not _csv_header(header, reading):
        return []
    consultations: dict[str, _CsvConsultation] = {}
    try:
        for line, values in _csv_lines(rows):
            if len(values) == len(header):
                row = {name: value.strip() for name, value in zip(header, values, strict=True)}
                _csv_row(row, line, consultations, reading)
            else:
                reading.add(
                    f"ligne {line}",
                    None,
                    f"{len(values)} valeurs pour {len(header)} colonnes (séparateur "
                    f"« {delimiter} » ; mettez entre guillemets un texte qui le contient).",
                )
    except csv.Error as error:
        reading.add(f"ligne {rows.line_num}", None, f"CSV illisible ({error}).")
    return [consultation.group for consultation in consultations.values()]


def _csv_header(header: list[str], reading: Reading) -> bool:
    """Whether the header names every required column, once, and no unknown one."""
    where = "ligne 1 (en-tête)"
    before = len(reading)
    missing = [name for name in CSV_REQUIRED_COLUMNS if name not in header]
    if missing:
        reading.add(where, None, f"colonne(s) manquante(s) : {', '.join(missing)}.")
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        reading.add(
            where,
            None,
            f"colonne(s) inconnue(s) : {', '.join(unknown)} "
            f"(colonnes permises : {', '.join(CSV_COLUMNS)}).",
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        reading.add(where, None, f"colonne(s) en double : {', '.join(repeated)}.")
    return len(reading) == before


def _csv_lines(rows: Any) -> Iterator[tuple[int, list[str]]]:
    """The non-empty rows after the header, each with the line it starts on."""
    previous = rows.line_num
    for values in rows:
        if any(value.strip() for value in values):
            yield previous + 1, values
        previous = rows.line_num


def _csv_row(
    row: dict[str, str], line: int, consultations: dict[str, _CsvConsultation], reading: Reading
) -> None:
    """One line: its consultation (new, or the same as on its first line) and its entry."""
    where = f"ligne {line}"
    reference = row["reference"]
    if not reference:
        reading.add(where, "reference", "ce champ est obligatoire.")
        return
    values = {name: row.get(name, "") for name in (*CONSULTATION_FIELDS, "lots")}
    if reference not in consultations:
        group = reading.group(
            row, where, lambda group: _csv_lots(group, values["lots"], where, reading)
        )
        consultations[reference] = _CsvConsultation(group, line, values)
    first = consultations[reference]
    for name, value in values.items():
        if value != first.values[name] and name not in first.disagreeing:
            first.disagreeing.add(name)
            reading.add(
                where,
                name,
                f"« {value} » diffère de la ligne {first.line} (« {first.values[name]} ») : "
                f"les colonnes de la consultation « {reference} » doivent être identiques "
                "sur chacune de ses lignes.",
            )
    kind = register_kind(row["register"])
    if kind is None:
        reading.add(
            where, "register", f"« {row['register']} » : écrivez retrait, question ou depot."
        )
        return
    lots = row.get("entry_lots", "")
    reading.add_entry(first.group, kind, row, where, lots=lots, lots_name="entry_lots")


def _csv_lots(group: Group, text: str, where: str, reading: Reading) -> None:
    """Lots written "1:Chocolat au lait|2:Chocolat noir"."""
    for part in filter(None, (part.strip() for part in text.split("|"))):
        number, colon, title = part.partition(":")
        number = number.strip()
        digits = colon and ascii_digits(number)
        lot = whole_number(number, MAX_LOT_NUMBER) if digits else None
        if digits and lot is None:
            reading.add(where, "number", lot_number_problem(number))
        elif lot is not None:
            reading.add_lot(group, lot, title.strip(), where)
        else:
            reading.add(
                where,
                "lots",
                f"« {part} » : écrivez numéro:intitulé, les lots séparés par | "
                "(par exemple 1:Chocolat au lait|2:Chocolat noir).",
            )
