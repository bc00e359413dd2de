"""ORM classes over the Core tables (`Recipient`, `Message`…), for code and tests that build
or read rows as objects. Made on first use (models/store/tables.py `__getattr__`): the
application's queries use the Core tables and never load the ORM."""

from __future__ import annotations

import functools

from sqlalchemy.orm import DeclarativeBase

from messagerie.models.store.tables import MAPPED_CLASSES, metadata


class MappedRow(DeclarativeBase):
    metadata = metadata


@functools.cache
def mapped_class(name: str) -> type[MappedRow]:
    """The class `name` of tables.MAPPED_CLASSES, mapped to its table (once)."""
    table = MAPPED_CLASSES[name]
    return type(name, (MappedRow,), {"__table__": table, "__tablename__": table.name})
