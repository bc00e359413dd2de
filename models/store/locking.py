"""Rows held until the transaction ends, before reading what a write depends on (a chain's
head, the next question number, whether a recipient may be sent again)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


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
