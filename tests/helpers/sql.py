"""Counting what a call sends to the store (the cost of a rights check, of a read)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa

from messagerie.models.store.database import Store

T = TypeVar("T")


def statements_of(store: Store, call: Callable[[], T]) -> tuple[int, T]:
    """How many SQL statements `call()` sends to the store, and what it returned."""
    sent: list[str] = []

    def count(*_args: object) -> None:
        sent.append("")

    sa.event.listen(store.engine, "before_cursor_execute", count)
    try:
        result = call()
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", count)
    return len(sent), result
