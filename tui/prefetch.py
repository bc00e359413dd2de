"""The dashboard's first page, read by a forked child while the app imports Textual (issue 18).

Importing SQLAlchemy and the store's modules costs about as much as Textual's own start, and
Python runs them one after the other in one process. So `messagerie` forks before importing
Textual: the child opens the store, finds the account as the app does (tui/cli.py account_of)
and sends the first page of that account's dashboard (the screen's query,
models/consultations/dashboard.py) as JSON through a pipe, then exits. The app shows that page
when it arrives, then signs in itself: a refusal (no account for the login, a bad store) is
decided by the app as without the child, which sends nothing then. A child that fails, dies
or hangs only costs the wait: the dashboard then queries the store itself.

It only helps with a second core: on one, the child's imports take the app's time.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from messagerie.models.consultations.views import DashboardPage
    from messagerie.models.store.accounts import Account
    from messagerie.models.store.database import Store

# Beyond it the child is stopped and the dashboard queries the store itself: the child's
# imports and query take 0.3 to 1 s on a loaded machine.
TIMEOUT = 10.0


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


class Prefetch:
    """A forked child computing some bytes; `take` waits for them and reaps the child."""

    def __init__(self, pid: int, pipe: int) -> None:
        self._pid: int | None = pid
        self._pipe: int | None = pipe
        self._lock = threading.Lock()
        self._taking = False

    @classmethod
    def start(cls, compute: Callable[[], bytes | None]) -> Prefetch | None:
        """Fork a child running `compute` and sending its bytes; None (nothing started) on a
        platform without fork, with one core, once threads exist (forking them is unsafe) or
        when the fork fails."""
        if not hasattr(os, "fork") or usable_cores() < 2 or threading.active_count() > 1:
            return None
        try:
            read_end, write_end = os.pipe()
        except OSError:
            return None
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return None
        if pid == 0:  # the child: never returns, runs no handler of the parent's
            status = 1
            try:
                os.close(read_end)
                quiet = os.open(os.devnull, os.O_WRONLY)  # no warning over the app's screen
                os.dup2(quiet, 1)
                os.dup2(quiet, 2)
                data = compute()
                view = memoryview(data or b"")
                while view:
                    view = view[os.write(write_end, view) :]
                status = 0 if data else 1
            except BaseException:
                pass
            finally:
                os._exit(status)
        os.close(write_end)
        return cls(pid, read_end)

    def take(self, timeout: float | None = None) -> bytes | None:
        """The child's bytes once it has sent them all and exited cleanly; None when it failed,
        died or did not finish within `timeout` seconds (TIMEOUT; it is stopped then). Once
        only."""
        with self._lock:
            if self._taking or self._pipe is None:
                return None
            self._taking = True
            pipe = self._pipe
        chunks: list[bytes] | None = []
        deadline = time.monotonic() + (TIMEOUT if timeout is None else timeout)
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([pipe], [], [], left)[0]:
                    chunks = None  # it hangs
                    break
                chunk = os.read(pipe, 1 << 16)
                if not chunk:
                    break
                assert chunks is not None
                chunks.append(chunk)
        except (OSError, ValueError):  # ValueError: select refuses a descriptor past 1023
            chunks = None
        with self._lock:
            self._taking = False
            clean = self._finish(stop=chunks is None)
        return b"".join(chunks) if chunks and clean else None

    def close(self) -> None:
        """Stop the child if it still runs, reap it and close the pipe (any thread, any time)."""
        with self._lock:
            if self._taking:  # the reader sees the pipe close and finishes
                if self._pid is not None:
                    os.kill(self._pid, signal.SIGKILL)
                return
            self._finish(stop=True)

    def _finish(self, stop: bool) -> bool:
        """With the lock held: reap the child (killed first if `stop`), close the pipe; whether
        it exited with status 0."""
        if self._pid is None:
            return False
        if stop:
            os.kill(self._pid, signal.SIGKILL)  # not reaped yet: the pid is still its own
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None
        return os.waitstatus_to_exitcode(status) == 0


def first_page_json(
    open_store: Callable[[], Store], account_of: Callable[[Store], Account | None]
) -> bytes:
    """In the child: the first page of the dashboard of the account using the app, as JSON
    (AccountMissing, a bad store: raised, nothing is sent)."""
    import json

    from messagerie.models.consultations.dashboard import dashboard_page
    from messagerie.models.consultations.views import DashboardQuery, page_to_json

    store = open_store()
    try:
        page = dashboard_page(store, DashboardQuery(), account=account_of(store))
    finally:
        store.close()
    return json.dumps(page_to_json(page)).encode()


def prefetch_first_page(
    open_store: Callable[[], Store], account_of: Callable[[Store], Account | None]
) -> Prefetch | None:
    """Start the child reading the first page (call before Textual, or any thread, starts)."""
    return Prefetch.start(lambda: first_page_json(open_store, account_of))


def page_of(data: bytes | None) -> DashboardPage | None:
    import json

    from messagerie.models.consultations.views import page_from_json

    if data is None:
        return None
    try:
        return page_from_json(json.loads(data))
    except (ValueError, KeyError, TypeError):
        return None
