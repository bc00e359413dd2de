"""Where the store is: --db and --data-dir, else MESSAGERIE_DB and MESSAGERIE_DATA_DIR, else
a SQLite file in the user data folder. Read without pydantic, which Settings (tui/settings.py)
imports: the TUI opens its store from this alone, so that its first page does not wait for
the import (issue 18); Settings takes its defaults from here, so both agree."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

DATABASE_FILENAME = "messagerie.sqlite3"
ENV_PREFIX = "MESSAGERIE_"


def default_data_dir() -> Path:
    return platformdirs.user_data_path("messagerie")


def documents_dir(data_dir: Path) -> Path:
    """Where documents (DCE pieces, letters, attachments) are kept, by SHA-256."""
    return data_dir / "documents"


def database_url(db: str | None, data_dir: Path) -> str:
    """`db`, or the SQLite file of `data_dir` (the folder made private first)."""
    if db:
        return db
    from messagerie.models.store.blobs import private_folder

    private_folder(data_dir)  # 0700: it holds the store, its tokens and secret
    return f"sqlite:///{data_dir / DATABASE_FILENAME}"


def environment_setting(name: str) -> str | None:
    """MESSAGERIE_<NAME>, its case ignored as pydantic-settings ignores it."""
    wanted = (ENV_PREFIX + name).lower()
    found = None
    for key, value in os.environ.items():  # the last one wins, as in pydantic-settings
        if key.lower() == wanted:
            found = value
    return found


@dataclass(frozen=True)
class StoreLocation:
    db: str | None
    data_dir: Path

    @classmethod
    def read(cls, db: str | None = None, data_dir: str | None = None) -> StoreLocation:
        """The flags given (None: not given) over the environment, over the defaults."""
        db = db if db is not None else environment_setting("db")
        data_dir = data_dir if data_dir is not None else environment_setting("data_dir")
        return cls(db, Path(data_dir) if data_dir is not None else default_data_dir())

    @property
    def database_url(self) -> str:
        return database_url(self.db, self.data_dir)

    @property
    def documents_dir(self) -> Path:
        return documents_dir(self.data_dir)
