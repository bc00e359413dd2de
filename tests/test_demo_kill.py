"""`messagerie demo --reset` killed (SIGKILL) at any moment leaves the store whole: the former
demo until the new one is renamed into place, then the new one (models/demo/install.py)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from messagerie.models.demo.builder import DEMO_MARKER_KEY
from messagerie.models.store.database import open_store
from tests.helpers.cli import ROOT, messagerie

pytestmark = pytest.mark.xdist_group("demo-kill")  # several full demo builds: one worker
KILLS = 10


def demo_command(folder: Path, *extra: str) -> list[str]:
    return [
        "--db",
        f"sqlite:///{folder / 'demo.sqlite3'}",
        "--data-dir",
        str(folder / "data"),
        "demo",
        *extra,
    ]


def whole_demo(folder: Path) -> tuple[str | None, int]:
    """The store's demo marker and its number of consultations, opened as the app opens it
    (refused if its schema is not at the code's revision)."""
    store = open_store(f"sqlite:///{folder / 'demo.sqlite3'}")
    try:
        with store.engine.connect() as connection:
            count = connection.exec_driver_sql("SELECT count(*) FROM consultation").scalar_one()
            tables = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE name LIKE '_alembic_tmp%'"
            ).all()
        assert tables == [], "an interrupted migration's table is left"
        return store.meta(DEMO_MARKER_KEY), count
    finally:
        store.close()


def test_a_reset_killed_at_any_moment_leaves_a_whole_demo(tmp_path):
    started = time.monotonic()
    built = messagerie(*demo_command(tmp_path))
    duration = time.monotonic() - started
    assert built.returncode == 0, built.stderr
    before = whole_demo(tmp_path)
    assert before[0] is not None and before[1] == 1395
    for kill in range(1, KILLS + 1):
        child = subprocess.Popen(
            [sys.executable, "-m", "messagerie.tui.cli", *demo_command(tmp_path, "--reset")],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(duration * kill / (KILLS + 1))  # spread over a whole build
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert whole_demo(tmp_path) == before, f"after the kill n°{kill}"
    rebuilt = messagerie(*demo_command(tmp_path, "--reset"))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout.startswith("Démonstration prête dans ")
    assert whole_demo(tmp_path)[1] == 1395
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data", "demo.sqlite3"]


def test_a_store_an_old_build_left_broken_is_rebuilt(tmp_path):
    """Before builds were renamed into place, a kill could leave `_alembic_tmp_message`
    behind, and every later reset failed with an Alembic traceback."""
    assert messagerie(*demo_command(tmp_path)).returncode == 0
    with closing(sqlite3.connect(tmp_path / "demo.sqlite3")) as connection:
        connection.execute("CREATE TABLE _alembic_tmp_message (id INTEGER)")
    rebuilt = messagerie(*demo_command(tmp_path, "--reset"))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert whole_demo(tmp_path)[1] == 1395


def test_a_store_of_real_data_is_not_replaced(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    open_store(url, upgrade=True).close()
    with closing(sqlite3.connect(tmp_path / "demo.sqlite3")) as connection:
        connection.execute("INSERT INTO organisation (name) VALUES ('Ville réelle')")
        connection.commit()
    size = (tmp_path / "demo.sqlite3").stat().st_size
    refused = messagerie(*demo_command(tmp_path, "--reset"))
    assert refused.returncode != 0
    assert "contient des données réelles (table organisation)" in refused.stderr
    assert (tmp_path / "demo.sqlite3").stat().st_size == size
    assert sorted(path.name for path in tmp_path.iterdir()) == ["demo.sqlite3"]


def test_the_demo_goes_into_a_folder_that_does_not_exist_yet(tmp_path):
    folder = tmp_path / "nouveau" / "dossier"
    built = messagerie(*demo_command(folder))
    assert built.returncode == 0, built.stderr
    assert whole_demo(folder)[1] == 1395
    assert folder.stat().st_mode & 0o777 == 0o700
