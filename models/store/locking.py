"""Rows held until the transaction ends, before reading what a write depends on (a chain's
head, the next question number, whether a recipient may be sent again)."""

from __future__ import annotations

import sqlalchemy as sa


def lock_rows(connection: sa.Connection, table: sa.Table, condition: sa.ColumnElement[bool]) -> int:
    """Hold the rows of `table` that `condition` selects; how many there are.

    PostgreSQL locks them (SELECT … FOR UPDATE). SQLite has no row locks, and its driver
    opens the transaction only at the first write: a read before it sees a state another
    writer may change before this one writes, and two writers then chain from one head or
    take one number. A write that changes nothing takes the database's write lock first."""
    if connection.dialect.name == "sqlite":
        column = next(c for c in table.c if not (c.primary_key or c.foreign_keys))
        return connection.execute(
            sa.update(table).where(condition).values({column: column})
        ).rowcount
    key = next(iter(table.primary_key.columns))
    return len(connection.execute(sa.select(key).where(condition).with_for_update()).all())
