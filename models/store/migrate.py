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
    """One transaction, foreign keys off on SQLite meanwhile: a batch migration copies a
    table other rows refer to, and drops the original (SQLite's own recipe, "ALTER TABLE");
    the references are checked whole before the commit."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:  # pysqlite has not begun a transaction yet, so the pragma takes effect
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
        try:
            yield connection
            if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
                raise StoreError(f"La migration laisserait des références cassées : {broken[:5]}.")
            connection.commit()
        finally:
            if sqlite:
                connection.rollback()  # nothing when committed; the pragma needs no transaction
                connection.exec_driver_sql("PRAGMA foreign_keys = ON")


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
