"""INSERT … ON CONFLICT, as each database says it: two writers adding the same new row at
once (a company by its SIRET, a buyer's kept answer) meet on its unique key instead of one
of them failing on it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def insert_or_keep(
    connection: sa.Connection,
    table: sa.Table,
    values: Mapping[str, Any],
    *,
    key: Sequence[str],
    update: Sequence[str] = (),
) -> None:
    """Insert `values`; when a row with the same `key` columns is there (or being written by
    another transaction, which PostgreSQL waits for), keep it, with its `update` columns set
    from `values`."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(dict(values))
    if update:
        statement = statement.on_conflict_do_update(
            index_elements=list(key), set_={name: statement.excluded[name] for name in update}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(key))
    connection.execute(statement)
