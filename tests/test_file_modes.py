"""Files private by default: the SQLite store (every token, the page's secret) is created 0600
with its -wal and -shm files, and the data folder with documents/ and signature/ 0700, by the
real `messagerie` commands, even when the umask would let every account read them."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from messagerie.models.store.database import open_store
from messagerie.models.store.enums import MessageState, SendMode
from messagerie.models.store.tables import Message, Recipient, StoreMeta, table_of
from tests.helpers.cli import messagerie

pytestmark = pytest.mark.services  # the `messagerie` command in child processes


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The loosest umask there is, inherited by the commands: nothing private by accident."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def default_store(folder: Path) -> dict[str, str]:
    """The settings of a buyer who sets only the data folder: the store is its SQLite file."""
    return {"MESSAGERIE_DATA_DIR": str(folder), "MESSAGERIE_DB": ""}


def test_db_upgrade_makes_a_private_store_in_a_private_folder(tmp_path, open_umask):
    folder = tmp_path / "données" / "messagerie"
    upgraded = messagerie("db", "upgrade", env=default_store(folder))
    assert upgraded.returncode == 0, upgraded.stderr
    database = folder / "messagerie.sqlite3"
    assert mode(database) == 0o600
    assert mode(folder) == mode(folder.parent) == 0o700  # the parent made for it too

    # While the store is written to, SQLite's write-ahead log and index are as private.
    store = open_store(f"sqlite:///{database}")
    try:
        with store.engine.begin() as connection:
            connection.execute(sa.insert(table_of(StoreMeta)).values(key="essai", value="1"))
        assert mode(folder / "messagerie.sqlite3-wal") == 0o600
        assert mode(folder / "messagerie.sqlite3-shm") == 0o600
    finally:
        store.close()


def test_the_demo_and_its_signature_are_private(tmp_path, open_umask):
    """`messagerie demo` (built beside the store, then renamed over it), its documents, then
    the demonstration certificate made by the first AR."""
    folder = tmp_path / "donnees"
    env = default_store(folder)
    built = messagerie("demo", env=env)
    assert built.returncode == 0, built.stderr
    assert mode(folder) == 0o700
    assert mode(folder / "messagerie.sqlite3") == 0o600
    documents = folder / "documents"
    assert mode(documents) == 0o700
    shards = [path for path in documents.iterdir() if path.is_dir()]
    assert shards and {mode(shard) for shard in shards} == {0o700}
    assert not [path for path in folder.iterdir() if ".building-" in path.name]

    recipient = first_opened_recipient(folder / "messagerie.sqlite3")
    written = messagerie("ar", str(recipient), "--out", str(tmp_path / "ar.pdf"), env=env)
    assert written.returncode == 0, written.stderr
    assert mode(folder / "signature") == 0o700
    assert mode(folder / "signature" / "plateforme-demonstration.key.pem") == 0o600


def first_opened_recipient(database: Path) -> int:
    """A recipient who opened a message sent "avec AR": one with an AR."""
    message, recipient = table_of(Message), table_of(Recipient)
    store = open_store(f"sqlite:///{database}")
    try:
        with store.engine.connect() as connection:
            return connection.execute(
                sa.select(sa.func.min(recipient.c.id))
                .join(message, message.c.id == recipient.c.message_id)
                .where(
                    message.c.send_mode == SendMode.WITH_AR,
                    message.c.state != MessageState.DRAFT,
                    recipient.c.read_at.is_not(None),
                )
            ).scalar_one()
    finally:
        store.close()
