"""Applying and checking Alembic migrations, without an alembic.ini."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from messagerie.models.store.engine import StoreError

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest revision; tests check it against Alembic's own view, so that opening the TUI
# can compare revisions without importing Alembic (≈ 0.3 s).
HEAD_REVISION = "0015"


def _config(connection: sa.Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrations up to `revision`, in one transaction (`_migrating`)."""
    from alembic import command

    check_scripts()
    with _migrating(engine) as connection:
        command.upgrade(_config(connection), revision)


@contextmanager
def _migrating(engine: Engine) -> Iterator[sa.Connection]:
    """One transaction: the whole migration or nothing, a failure said in French. On
    SQLite, foreign keys are off meanwhile (a batch migration copies a table other rows
    refer to, and drops the original: SQLite's own recipe), and BEGIN is said here: the
    driver opens no transaction before DDL, and a failed migration left its `_alembic_tmp_`
    table behind, which every retry tripped on. The references it would break are refused;
    those broken before it (a row deleted by hand) are not its doing."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:  # pysqlite has not begun a transaction yet, so the pragma takes effect
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
            connection.exec_driver_sql("BEGIN")
            broken_before = _broken_references(connection)
        try:
            yield connection
            if sqlite and (broken := _broken_references(connection) - broken_before):
                shown = " ; ".join(
                    f"« {table} » n° {row} vers « {parent} »"
                    for table, row, parent in sorted(broken)[:5]
                )
                raise StoreError(
                    f"La migration laisserait des références cassées ({shown}) : la base n'a "
                    "pas été modifiée."
                )
            connection.commit()
        except sa.exc.DBAPIError as error:
            raise StoreError(
                f"La migration a échoué ({error.orig}) : la base n'a pas été modifiée."
            ) from error
        finally:
            if sqlite:
                connection.rollback()  # nothing when committed; the pragma needs no transaction
                connection.exec_driver_sql("PRAGMA foreign_keys = ON")


def _broken_references(connection: sa.Connection) -> set[tuple[str, int, str]]:
    """SQLite's rows whose reference finds no row: (table, rowid, referred table)."""
    rows = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    return {(table, rowid, parent) for table, rowid, parent, _ in rows}


def script_head() -> str | None:
    """The newest revision among the migration scripts installed, None when there are none."""
    from alembic.script import ScriptDirectory

    config = _config(None)  # type: ignore[arg-type]
    return ScriptDirectory.from_config(config).get_current_head()


def check_scripts() -> None:
    """Refuse to migrate with scripts missing. A wheel built without `migrations/versions/`
    "upgraded" a new base to nothing: it wrote only `alembic_version` and said it was up to
    date."""
    found = script_head()
    if found != HEAD_REVISION:
        raise StoreError(
            f"Cette installation de messagerie n'a pas toutes ses migrations (la dernière "
            f"trouvée : {found or 'aucune'}, attendue : {HEAD_REVISION}, dans {MIGRATIONS}) : "
            "réinstallez le paquet. La base n'a pas été modifiée."
        )


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it has never been migrated."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def schema_differences(engine: Engine) -> list[Any]:
    """What Alembic's autogenerate sees between the database and the models (empty = same)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from messagerie.models.store.tables import metadata

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def revision(engine: Engine, message: str, rev_id: str) -> None:
    """Autogenerate a new migration script (developers only)."""
    from alembic import command

    with engine.begin() as connection:
        command.revision(_config(connection), message=message, autogenerate=True, rev_id=rev_id)


def reset(engine: Engine) -> None:
    """Drop every table (migrations down to nothing), then migrate up again.

    On SQLite, foreign keys are off meanwhile: DROP TABLE deletes row by row and checks every
    reference to each row, which made the demo's reset take several seconds.
    """
    downgrade(engine, "base", then_upgrade=True)


def downgrade(engine: Engine, revision: str, *, then_upgrade: bool = False) -> None:
    """Migrations down to `revision` (and up to head again with `then_upgrade`), in one
    transaction, foreign keys off on SQLite (a batch migration copies referenced tables)."""
    from alembic import command

    check_scripts()
    with _migrating(engine) as connection:
        config = _config(connection)
        command.downgrade(config, revision)
        if then_upgrade:
            command.upgrade(config, "head")
