"""`messagerie demo [--reset]`: the demo put in place so that a kill at any moment leaves the
store whole.

On a SQLite file the demo is built into a new file beside the store and renamed over it:
whoever opens the store finds the former demo or the new one, never half of each, and a
store an earlier build left broken (an interrupted migration's `_alembic_tmp_message`) is
simply replaced. On PostgreSQL the store is emptied and filled in place (`seed_demo`).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import date
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from messagerie.models.demo.builder import (
    DemoReport,
    read_report,
    refuse_real_data,
    seed_demo,
)
from messagerie.models.demo.marker import DEMO_MARKER_KEY
from messagerie.models.store.database import Store, open_store
from messagerie.models.store.engine import (
    StoreError,
    create_store_engine,
    describe_url,
    sqlite_files,
    store_file,
)
from messagerie.models.text import ascii_digits

BUILDING = ".building-"  # the new file's name: ".<store>.building-<pid>"


def install_demo(url: str, documents_dir: Path | None, today: date, *, reset: bool) -> DemoReport:
    """The demo in the store at `url`: left as it is, or (re)built for `today`."""
    path = store_file(url)
    if path is None:
        store = open_store(url, upgrade=True, documents_dir=documents_dir)
        try:
            return seed_demo(store, today, reset=reset)
        finally:
            store.close()
    if path.exists() and not _replaceable(url, documents_dir, reset=reset):
        store = open_store(url, upgrade=True, documents_dir=documents_dir)
        try:
            return read_report(store)  # a demo already there, and no reset asked
        finally:
            store.close()
    return _build_beside(path, documents_dir, today)


def _replaceable(url: str, documents_dir: Path | None, *, reset: bool) -> bool:
    """Whether the existing file may be replaced: a demo to reset, or a store with no data.

    StoreError when it holds real data, or is not a store at all; the file is not changed.
    """
    store = Store(create_store_engine(url), documents_dir)
    try:
        try:
            marker = store.meta(DEMO_MARKER_KEY)
        except DBAPIError:  # no store_meta table: empty, or not one of ours
            marker = None
        if marker is not None:
            return reset
        with contextlib.suppress(DBAPIError):  # a table missing: it holds no real data
            refuse_real_data(store)
        return True
    finally:
        store.close()


def _build_beside(path: Path, documents_dir: Path | None, today: date) -> DemoReport:
    """Build the demo in a new file next to `path`, then rename it over `path`."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # a new folder is private
    _remove_abandoned_builds(path)
    building = path.with_name(f".{path.name}{BUILDING}{os.getpid()}")
    building.unlink(missing_ok=True)
    try:
        store = open_store(f"sqlite:///{building}", upgrade=True, documents_dir=documents_dir)
        try:
            report = seed_demo(store, today)
        finally:
            store.close()
        _settle(building)
        _close_journal(path)
        os.replace(building, path)
    finally:
        for leftover in sqlite_files(building):
            leftover.unlink(missing_ok=True)
    return report


def _settle(database: Path) -> None:
    """Fold the write-ahead log into the file and leave it alone on disk (nothing beside it
    that could be applied to another file), then flush it."""
    with contextlib.closing(sqlite3.connect(database)) as connection:
        connection.execute("PRAGMA journal_mode = DELETE")
    with open(database, "rb") as file:
        os.fsync(file.fileno())


def _close_journal(path: Path) -> None:
    """Fold the former store's journal into it, so that no log of the old file remains to be
    replayed into the new one; refused while another program has the store open."""
    if not path.exists():
        return
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=5)) as connection:
            connection.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.DatabaseError as error:
        raise StoreError(
            f"La base {describe_url(f'sqlite:///{path}')} est ouverte par un autre programme "
            f"({error}) : fermez-le, puis relancez « messagerie demo --reset »."
        ) from None


def _remove_abandoned_builds(path: Path) -> None:
    """Files of builds killed before their rename, by processes that no longer run."""
    for building in path.parent.glob(f".{path.name}{BUILDING}*"):
        # ".demo.sqlite3.building-123", and its "-wal" and "-shm" beside it
        pid = building.name.removeprefix(f".{path.name}{BUILDING}").split("-")[0]
        if ascii_digits(pid) and not _running(int(pid)):
            building.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
