"""Two buyers, or a buyer and a service, at the same moment: `right_after` runs another
writer's real work, on its own connection and thread, right after this thread's first
statement that reads a given text, so that a race the code must survive happens every time
instead of once in a thousand runs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from messagerie.models.store.database import Store


@contextmanager
def right_after(
    store: Store, statement: str, work: Callable[[], object], *, head_start: float | None = None
) -> Iterator[None]:
    """`work` runs (to its end, in another thread) right after this thread's first statement
    that contains `statement`; the block must run such a statement. With `head_start`, this
    thread goes on after that many seconds instead (`work` waiting meanwhile for a lock this
    thread holds), and `work` is waited for as the block ends."""
    reader, pending, failed = threading.current_thread(), [True], []
    other = threading.Thread(target=lambda: _run(work, failed))

    def between(connection, cursor, sql, *_) -> None:  # type: ignore[no-untyped-def]
        if pending[0] and statement in sql and threading.current_thread() is reader:
            pending[0] = False
            other.start()
            other.join(head_start)

    sa.event.listen(store.engine, "after_cursor_execute", between)
    try:
        yield
    finally:
        sa.event.remove(store.engine, "after_cursor_execute", between)
        if not pending[0]:
            other.join()
    assert not pending[0], f"no statement read « {statement} »"
    assert not failed, f"the other writer failed: {failed[0]!r}"


def _run(work: Callable[[], object], failed: list[BaseException]) -> None:
    try:
        work()
    except BaseException as error:  # said by right_after, in the test's thread
        failed.append(error)
