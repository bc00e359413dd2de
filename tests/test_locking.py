"""Rows held before a read that a write depends on (models/store/locking.py), on SQLite and
PostgreSQL: writers that read, then write what they read plus one, lose no update."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from messagerie.models.store.locking import lock_rows
from messagerie.models.store.tables import recipient
from tests.helpers.messages import A, queued_message, row_of


def test_writers_that_read_then_write_lose_no_update(store):
    """Eight writers add one to a recipient's attempts, ten times each, as a Renvoi reads a
    status then queues: without the lock, SQLite let two read the same count."""
    queued_message(store)
    target = row_of(store, A)
    start = threading.Barrier(8)

    def add_one() -> None:
        start.wait()
        for _ in range(10):
            with store.engine.begin() as connection:
                assert lock_rows(connection, recipient, recipient.c.id == target.id) == 1
                read = connection.execute(
                    sa.select(recipient.c.attempts).where(recipient.c.id == target.id)
                ).scalar_one()
                time.sleep(0.001)  # what a writer computes between its read and its write
                connection.execute(
                    sa.update(recipient)
                    .where(recipient.c.id == target.id)
                    .values(attempts=read + 1)
                )

    writers = [threading.Thread(target=add_one) for _ in range(8)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert row_of(store, A).attempts == target.attempts + 80


def test_no_row_is_no_lock(store):
    with store.engine.begin() as connection:
        assert lock_rows(connection, recipient, recipient.c.id == 404) == 0
