"""`messagerie import FILE`: consultations, lots, companies and registers from JSON or CSV.

All or nothing: the whole file is read and checked first, touching nothing, and every fault
is reported with its place (CSV line, or JSON record) and field; only a clean file is then
written, in one transaction. Importing the same file again changes nothing: consultations
are matched by reference in their organisation, lots by number, companies by SIRET,
organisations and purchasing entities by name, and register entries by (kind, SIRET,
e-mail, time, question text).
The formats are documented in README.md, "Importing registers (messagerie import)".
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from messagerie.models.clock import utc_now
from messagerie.models.errors import os_problem
from messagerie.models.importing.csv_file import read_csv
from messagerie.models.importing.json_file import read_json
from messagerie.models.importing.reading import ImportedConsultation, ImportRefused, Reading
from messagerie.models.importing.scope import check_import_scope, check_organisation_names
from messagerie.models.importing.write import ImportReport, write_import
from messagerie.models.regular_file import read_regular
from messagerie.models.store.accounts import authorize
from messagerie.models.store.database import Store
from messagerie.models.store.engine import (
    database_problem,
    database_reason,
    unique_key_refused,
)
from messagerie.models.store.enums import Right
from messagerie.models.store.locking import one_at_a_time

MAX_IMPORT_MB = 100  # an export of registers weighs a few megabytes: room to spare
MAX_IMPORT_BYTES = MAX_IMPORT_MB * 1024 * 1024


def import_file(
    store: Store, path: Path, *, actor: str, now: datetime | None = None
) -> ImportReport:
    """Check the whole file, then write it in one transaction; ImportRefused on any fault,
    and when `actor`'s account may not import, or not into the file's organisations. The
    right comes first: a refused account's file is not even read."""
    now = now or utc_now()
    with store.engine.connect() as connection:
        authorize(connection, actor, Right.IMPORT)
    consultations = read_file(path, now=now)
    try:
        with store.engine.begin() as connection:
            # Another import at the same moment would find none of the new rows this one
            # writes, and write them too.
            one_at_a_time(connection, "import")
            account = authorize(connection, actor, Right.IMPORT)
            check_import_scope(connection, account, path.name, consultations)
            check_organisation_names(connection, path.name, consultations)
            report = write_import(connection, path.name, consultations, actor=actor, now=now)
    except DBAPIError as error:
        if busy := database_problem(error):  # SQLite: another import held it over 5 s
            raise ImportRefused(path.name, [busy]) from error
        if not unique_key_refused(error):
            raise ImportRefused(
                path.name, [f"la base de données a refusé l'écriture ({database_reason(error)})."]
            ) from error
        # Not another import (they go one at a time): a buyer's suite of that reference.
        raise ImportRefused(
            path.name,
            ["un autre acheteur a créé au même moment ce que le fichier crée aussi (une "
             "référence de consultation, une organisation) ; rien n'a été enregistré : importez "
             "le fichier de nouveau, il le retrouvera ; si l'erreur se reproduit, vérifiez le "
             f"fichier (raison donnée par la base : {database_reason(error)})."],
        ) from error  # fmt: skip
    return report


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, once it is a file (a pipe would wait for ever, /dev/zero fill the
    memory) of at most MAX_IMPORT_MB."""
    data = read_regular(path, MAX_IMPORT_BYTES)
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportRefused(
            path.name,
            [f"« {path.name} » dépasse {MAX_IMPORT_MB} Mo : un export de registres est bien plus "
             "petit ; vérifiez le fichier choisi."],
        )  # fmt: skip
    return data


def read_file(path: Path, *, now: datetime) -> list[ImportedConsultation]:
    """The consultations of the file, checked; ImportRefused listing every fault."""
    suffix = path.suffix.lower()
    if suffix not in {".json", ".csv"}:
        raise ImportRefused(
            path.name,
            [f"« {path.name} » : format non reconnu, l'import lit un fichier .json ou .csv."],
        )
    text = _read_text(path)
    reading = Reading(now)
    groups = read_json(text, reading) if suffix == ".json" else read_csv(text, reading)
    if not reading and not groups:
        reading.add(path.name, None, "le fichier ne contient aucune consultation.")
    if reading:
        raise ImportRefused(path.name, reading.messages)
    return [
        ImportedConsultation(group.fields, group.lots, tuple(group.entries))
        for group in groups
        if group.fields  # always: a group without fields was reported
    ]


def _read_text(path: Path) -> str:
    try:
        data = _read_bytes(path)
    except OSError as error:
        raise ImportRefused(path.name, [f"« {path} » : {os_problem(error)}."]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ImportRefused(
            path.name,
            [
                f"ligne {line} : le fichier n'est pas encodé en UTF-8 (octet "
                f"0x{data[error.start]:02X}) ; enregistrez-le en UTF-8 et recommencez."
            ],
        ) from None
    if not text.strip():
        raise ImportRefused(path.name, [f"« {path.name} » est vide."])
    if (nul := text.find("\x00")) >= 0:  # a text file never holds one: CSV cut « 1 valeurs »
        line = text.count("\n", 0, nul) + 1
        raise ImportRefused(
            path.name,
            [
                f"ligne {line} : le fichier contient un caractère nul (U+0000), qu'un fichier "
                "texte ne contient jamais ; enregistrez-le de nouveau en CSV UTF-8 ou en JSON."
            ],
        )
    return text
