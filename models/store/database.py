"""The store: opening it, its schema check, and the queries the screens need.

Screens never see a session: they call a Store method (in a worker) and get plain data back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import uuid4

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from messagerie.models.store import migrate
from messagerie.models.store.engine import (
    StoreError,
    create_store_engine,
    describe_url,
    empty_store,
)
from messagerie.models.store.tables import store_meta

if TYPE_CHECKING:
    from messagerie.models.store.blobs import BlobStore

STORE_KEY = "store_id"  # store_meta: the id `store_identity` draws


class Store:
    """The database, and the folder where the documents' bytes live (content-addressed)."""

    def __init__(self, engine: Engine, documents_dir: Path | None = None) -> None:
        self.engine = engine
        self.documents_dir = documents_dir

    @property
    def blobs(self) -> BlobStore:
        from messagerie.models.store.blobs import BlobStore

        if self.documents_dir is None:
            raise StoreError("Aucun dossier de documents n'est configuré (MESSAGERIE_DATA_DIR).")
        return BlobStore(self.documents_dir)

    @property
    def description(self) -> str:
        return describe_url(str(self.engine.url))

    @contextmanager
    def snapshot(self) -> Iterator[sa.Connection]:
        """A connection whose reads all see the store as it was at the first one. A history
        read in two statements (its events, then its head) while the web page or the outbox
        adds to it would look cut: PostgreSQL gives each statement its own snapshot unless
        the transaction is REPEATABLE READ, and pysqlite opens no transaction for reads."""
        with self.engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN")  # rolled back as the connection returns
                yield connection
            else:
                repeatable = connection.execution_options(isolation_level="REPEATABLE READ")
                with repeatable.begin():
                    yield repeatable

    def meta(self, key: str) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(
                sa.select(store_meta.c.value).where(store_meta.c.key == key)
            ).scalar()

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str, *, upgrade: bool = False, documents_dir: Path | None = None) -> Store:
    """Open the store at `url`; with `upgrade`, apply pending migrations first.

    Without `upgrade`, a store that is empty or behind the code is refused with the command
    that fixes it, rather than failing later on a missing column.
    """
    engine = create_store_engine(url, create=upgrade)  # reading a store never makes one
    if upgrade:
        migrate.upgrade(engine)
        return Store(engine, documents_dir)
    revision = migrate.current_revision(engine)
    if revision is None:
        engine.dispose()
        raise StoreError(empty_store(url))
    if revision != migrate.HEAD_REVISION:
        engine.dispose()
        raise StoreError(
            f"La base {describe_url(url)} est à la révision {revision}, le programme attend "
            f"{migrate.HEAD_REVISION} : lancez « messagerie db upgrade »."
        )
    return Store(engine, documents_dir)


def store_identity(store: Store, *, create: bool = False) -> str | None:
    """This store's own name in its bundles' manifests and its anchors (a random id, drawn at
    the first export or anchor; None before it unless `create`): `verify` tells by it a bundle
    of this store from one of another platform, `verify-store` an anchor of another store."""
    read = sa.select(store_meta.c.value).where(store_meta.c.key == STORE_KEY)
    with store.engine.connect() as connection:
        found = connection.execute(read).scalar_one_or_none()
    if found is not None or not create:
        return found
    try:
        with store.engine.begin() as connection:
            connection.execute(sa.insert(store_meta).values(key=STORE_KEY, value=uuid4().hex))
    except sa.exc.IntegrityError:
        pass  # another export drew it first
    with store.engine.connect() as connection:
        return connection.execute(read).scalar_one()
