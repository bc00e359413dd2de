"""Building the engine from a database URL, and turning connection faults into clear errors."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DatabaseError, NoSuchModuleError, OperationalError


class StoreError(Exception):
    """A fault of the store the buyer can fix; the message says what to do (in French)."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA busy_timeout = 5000")
    cursor.close()


def describe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def create_store_engine(url: str) -> Engine:
    """An engine for `url` (sqlite:///FILE or postgresql+psycopg://…), checked by connecting."""
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
        event.listen(engine, "connect", _sqlite_pragmas)
    check_connection(engine)
    return engine


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
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise StoreError(
            f"Base de données injoignable ({where}) : {reason}. "
            "Vérifiez MESSAGERIE_DB, le serveur et les droits d'accès."
        ) from None
    except DatabaseError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise StoreError(
            f"Base de données illisible ({where}) : {reason}. "
            "Le fichier est peut-être corrompu : restaurez une sauvegarde ou choisissez un "
            "autre MESSAGERIE_DB."
        ) from None
