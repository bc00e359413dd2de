"""Migrations produce exactly the models' schema, on SQLite and on PostgreSQL."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError

from messagerie.models.store import migrate
from messagerie.models.store.database import open_store
from messagerie.models.store.engine import StoreError, create_store_engine
from messagerie.models.store.tables import AuditEntry


def test_upgrading_an_empty_database_yields_the_models_schema(store_url):
    engine = create_store_engine(store_url)
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.HEAD_REVISION
    assert migrate.schema_differences(engine) == []
    tables = set(sa.inspect(engine).get_table_names())
    assert {"consultation", "recipient", "event", "reply", "audit_log", "dce_piece"} <= tables
    engine.dispose()


def test_head_constant_matches_alembic():
    assert migrate.script_head() == migrate.HEAD_REVISION


def test_reset_gives_an_empty_schema_again(store):
    with store.engine.begin() as connection:
        connection.execute(sa.insert(AuditEntry).values(actor="a", action="test"))
    migrate.reset(store.engine)
    assert migrate.schema_differences(store.engine) == []
    with store.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar() == 0


def test_audit_log_is_append_only(store):
    with store.engine.begin() as connection:
        connection.execute(
            sa.insert(AuditEntry).values(
                actor="marie", action="override", rule=3, override_reason="Report accordé"
            )
        )
    for statement in (sa.update(AuditEntry).values(actor="x"), sa.delete(AuditEntry)):
        with pytest.raises(DatabaseError, match="append-only"), store.engine.begin() as connection:
            connection.execute(statement)
    with store.engine.connect() as connection:
        assert connection.execute(sa.select(AuditEntry.actor)).scalar_one() == "marie"


def test_times_come_back_aware_and_in_utc(store):
    moment = datetime(2026, 2, 14, 12, 0, tzinfo=UTC)
    with store.engine.begin() as connection:
        connection.execute(sa.insert(AuditEntry).values(actor="a", action="t", at=moment))
    with store.engine.connect() as connection:
        stored = connection.execute(sa.select(AuditEntry.at)).scalar_one()
    assert stored == moment
    assert stored.utcoffset().total_seconds() == 0


def test_naive_times_are_refused(store):
    with pytest.raises(sa.exc.StatementError, match="timezone"), store.engine.begin() as c:
        c.execute(sa.insert(AuditEntry).values(actor="a", action="t", at=datetime(2026, 1, 1)))


def test_open_store_refuses_an_unmigrated_database(store_url):
    with pytest.raises(StoreError, match="db upgrade"):
        open_store(store_url)


def test_open_store_refuses_a_database_behind_the_code(store_url):
    engine = create_store_engine(store_url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '0000'"))
    engine.dispose()
    with pytest.raises(StoreError, match="révision 0000"):
        open_store(store_url)


def test_sqlite_runs_with_foreign_keys_and_wal(sqlite_url):
    store = open_store(sqlite_url, upgrade=True)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        with pytest.raises(sa.exc.IntegrityError):
            connection.execute(
                sa.text("INSERT INTO lot (consultation_id, number, title) VALUES (999, 1, 'x')")
            )
    store.close()
