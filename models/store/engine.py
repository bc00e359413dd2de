"""Building the engine from a database URL, and turning connection faults into clear errors."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
)

from messagerie.models.errors import Refusal, os_problem
from messagerie.models.text import without_password

# The SQLite file holds every token and the page's secret: its owner's alone.
PRIVATE_FILE = 0o600
OTHERS_READ = stat.S_IRGRP | stat.S_IROTH
OTHERS_ENTER = stat.S_IXGRP | stat.S_IXOTH  # a folder they may enter: its files they may open


class StoreError(Exception):
    """A fault of the store the buyer can fix; the message says what to do (in French)."""


class StoreUnavailable(Refusal):
    """The database did not answer this once (SQLite locked past its wait by another
    process, a PostgreSQL server restarting): the transaction was rolled back, nothing was
    written, and the same action may simply be tried again."""


class SystemProblem(Refusal):
    """The operating system refused a file (the documents folder on a full disk, its rights
    changed, its mount gone) or a connection: not the program's fault, nor the buyer's."""


@contextmanager
def answered_or_refused() -> Iterator[None]:
    """Turn a database that does not answer, or a folder that cannot be written, into a
    Refusal the screens show: an app's worker that let it through ended the app, and the
    buyer's typing with it. Documents are written before their rows, so a row never names a
    file that is not there."""
    try:
        yield
    except OperationalError as error:
        raise StoreUnavailable(
            f"La base de données est occupée ou injoignable ({database_reason(error)}) : rien "
            "n'a été enregistré ; réessayez dans un instant."
        ) from error
    except OSError as error:
        raise SystemProblem(_system_problem(error)) from error


def _system_problem(error: OSError) -> str:
    if error.filename:
        return (
            f"Le fichier « {error.filename} » n'a pas pu être lu ou écrit ({os_problem(error)}) : "
            "vérifiez la place sur le disque et les droits de son dossier, puis réessayez."
        )
    # A connection the lower layers did not word (they turn theirs into refusals).
    return (
        f"Le système a refusé l'opération ({os_problem(error)}) : réessayez, et signalez-le "
        "à l'administrateur si cela se reproduit."
    )


def database_problem(error: DBAPIError) -> str | None:
    """A database that is busy, unreachable or damaged, in French, for a command's one line;
    None for any other database error (a bug, that keeps its traceback)."""
    if not isinstance(error, OperationalError) and type(error) is not DatabaseError:
        return None
    return (
        "la base de données est occupée, injoignable ou endommagée "
        f"({database_reason(error)}) : la commande s'est arrêtée ; réessayez dans un instant, "
        "et si cela se reproduit, vérifiez le fichier ou le serveur de la base."
    )


def unique_key_refused(error: DBAPIError) -> bool:
    """The database refused a row whose unique key another row holds (PostgreSQL's SQLSTATE
    23505, SQLite's « UNIQUE constraint failed »)."""
    orig = error.orig
    return getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(orig)


def database_reason(error: DBAPIError) -> str:
    """The driver's first line: « database is locked », « connection refused »…"""
    return str(error.orig).strip().splitlines()[0] if error.orig else str(error)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA busy_timeout = 5000")
    cursor.close()


class StoreMissing(StoreError):
    """A SQLite store that is not there: said as an empty one, with the command that makes it."""

    def __init__(self, url: str) -> None:
        super().__init__(empty_store(url))


def empty_store(url: str) -> str:
    return (
        f"La base {describe_url(url)} est vide : lancez « messagerie db upgrade » "
        "(ou « messagerie demo » pour la base de démonstration)."
    )


def describe_url(url: str) -> str:
    """The URL without its password, for messages."""
    return without_password(url)


def create_store_engine(url: str, *, create: bool = True) -> Engine:
    """An engine for `url` (sqlite:///FILE or postgresql+psycopg://…), checked by connecting.
    Without `create`, a SQLite file that is not there is `StoreMissing`, and not made."""
    try:
        parsed = sa.make_url(url)
    except ArgumentError:
        raise StoreError(
            f"MESSAGERIE_DB invalide : « {url} » n'est pas une URL de base de données "
            "(exemples : sqlite:////chemin/messagerie.sqlite3, "
            "postgresql+psycopg://utilisateur:motdepasse@hôte/base)."
        ) from None
    backend = parsed.get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise StoreError(
            f"MESSAGERIE_DB : le moteur « {backend} » n'est pas pris en charge "
            "(sqlite ou postgresql)."
        )
    options: dict[str, Any] = {}
    if backend == "postgresql":
        options = {"pool_pre_ping": True, "connect_args": {"connect_timeout": 5}}
    try:
        engine = sa.create_engine(parsed, **options)
    except (ArgumentError, NoSuchModuleError) as error:
        raise StoreError(
            f"MESSAGERIE_DB : pilote introuvable pour « {parsed.drivername} » ({error})."
        ) from None
    if backend == "sqlite":
        path = _file_of(parsed)
        if not create and path is not None and not path.exists():
            engine.dispose()
            raise StoreMissing(url)
        _create_private(path)
        event.listen(engine, "connect", _sqlite_pragmas)
    check_connection(engine)
    return engine


def _file_of(parsed: sa.URL) -> Path | None:
    """The file of a SQLite URL; None for a server, an in-memory database or a URI."""
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return None if database.startswith("file:") else Path(database)


def store_file(url: str) -> Path | None:
    """The SQLite file of the store at `url` (None for PostgreSQL or a bad URL)."""
    try:
        return _file_of(sa.make_url(url))
    except ArgumentError:
        return None


def sqlite_files(database: Path) -> tuple[Path, ...]:
    """The store's file and the two SQLite keeps beside it in WAL mode."""
    return (database, *(database.with_name(database.name + end) for end in ("-wal", "-shm")))


def _create_private(path: Path | None) -> None:
    """Create the store's file 0600 before SQLite does, which would follow the umask (0644);
    SQLite then gives its -wal and -shm files the same mode. An existing file keeps its mode
    (`messagerie status` says when other accounts can read it); a file that cannot be made
    here is left to SQLite, whose error says why."""
    if path is None:
        return
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE)
    except OSError:
        return
    try:
        os.fchmod(descriptor, PRIVATE_FILE)  # whatever the umask took away
    finally:
        os.close(descriptor)


def readable_by_others(path: Path) -> int | None:
    """The permission bits of `path` when its group or other accounts may read it (or, a
    folder, enter it); None when only its owner can, or when it does not exist."""
    try:
        status = path.stat()
    except OSError:
        return None
    mode = stat.S_IMODE(status.st_mode)
    opened = OTHERS_READ | (OTHERS_ENTER if stat.S_ISDIR(status.st_mode) else 0)
    return mode if mode & opened else None


def check_connection(engine: Engine) -> None:
    """Connect once and read the schema, so that a bad file or server fails here, clearly."""
    where = describe_url(str(engine.url))
    try:
        with engine.connect() as connection:
            connection.execute(
                sa.text("SELECT count(*) FROM sqlite_master")
                if engine.dialect.name == "sqlite"
                else sa.text("SELECT 1")
            )
    except OperationalError as error:
        raise StoreError(
            f"Base de données injoignable ({where}) : {database_reason(error)}. "
            "Vérifiez MESSAGERIE_DB, le serveur et les droits d'accès."
        ) from None
    except DatabaseError as error:
        raise StoreError(
            f"Base de données illisible ({where}) : {database_reason(error)}. "
            "Le fichier est peut-être corrompu : restaurez une sauvegarde ou choisissez un "
            "autre MESSAGERIE_DB."
        ) from None
