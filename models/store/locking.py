"""Rows held until the transaction ends, before reading what a write depends on (a chain's
head, the next question number, whether a recipient may be sent again)."""

from __future__ import annotations

import zlib
from typing import Any

import sqlalchemy as sa

from messagerie.models.store.tables import store_meta


def locked_rows(
    connection: sa.Connection,
    table: sa.Table,
    condition: sa.ColumnElement[bool],
    *columns: sa.ColumnElement[Any],
) -> list[sa.Row[Any]]:
    """The `columns` of the rows of `table` that `condition` selects, held until the
    transaction ends.

    PostgreSQL locks them as it reads them (SELECT … FOR UPDATE). SQLite has no row locks, and
    its driver opens the transaction only at the first write: a read before it sees a state
    another writer may change before this one writes, and two writers then chain from one head
    or take one number. A write that changes nothing takes the database's write lock first."""
    query = sa.select(*columns).where(condition)
    if connection.dialect.name != "sqlite":
        return list(connection.execute(query.with_for_update()).all())
    column = next(c for c in table.c if not (c.primary_key or c.foreign_keys))
    connection.execute(sa.update(table).where(condition).values({column: column}))
    return list(connection.execute(query).all())


def lock_rows(connection: sa.Connection, table: sa.Table, condition: sa.ColumnElement[bool]) -> int:
    """Hold the rows of `table` that `condition` selects (see `locked_rows`); how many."""
    key = next(iter(table.primary_key.columns))
    return len(locked_rows(connection, table, condition, key))


def one_at_a_time(connection: sa.Connection, work: str) -> None:
    """Until the transaction ends, no other transaction that asks for `work` runs: two
    imports of new rows at the same moment each found no organisation, entity or
    consultation, and both created it (a unique key refused the second, or, for a purchasing
    entity, the store held two of one name). PostgreSQL has a lock named for it; SQLite
    takes its one write lock at once, which every other writer waits for."""
    if connection.dialect.name == "sqlite":
        connection.execute(sa.update(store_meta).where(sa.false()).values(value=store_meta.c.value))
    else:
        key = zlib.crc32(f"messagerie:{work}".encode())
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
