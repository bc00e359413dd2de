"""A bad MESSAGERIE_DB is a clear French error naming what to fix."""

import pytest

from messagerie.models.store.engine import StoreError, create_store_engine


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("pas une url", "n'est pas une URL"),
        ("mysql://user@localhost/db", "« mysql » n'est pas pris en charge"),
        ("sqlite:////dossier/inexistant/base.sqlite3", "injoignable"),
        ("postgresql+psycopg://user:secret@127.0.0.1:1/db", "injoignable"),
    ],
)
def test_bad_database_urls(url, expected):
    with pytest.raises(StoreError, match=expected) as raised:
        create_store_engine(url)
    assert "secret" not in str(raised.value)


def test_a_corrupt_sqlite_file(tmp_path):
    path = tmp_path / "corrompu.sqlite3"
    path.write_bytes(b"ceci n'est pas une base SQLite " * 200)
    with pytest.raises(StoreError, match=r"illisible.*corrompu"):
        create_store_engine(f"sqlite:///{path}")


def test_a_refused_connection_nobody_worded_is_told_in_french():
    """An OSError without a file (here a real refused connection) that reached a screen's
    store call: one French line, not the C library's English, and no « fichier »."""
    import socket

    from messagerie.models.store.engine import SystemProblem, answered_or_refused
    from messagerie.tui.embedded import free_port

    with pytest.raises(SystemProblem) as raised, answered_or_refused():
        socket.create_connection(("127.0.0.1", free_port()), timeout=5)
    assert str(raised.value) == (
        "Le système a refusé l'opération (connexion refusée) : réessayez, et signalez-le à "
        "l'administrateur si cela se reproduit."
    )
