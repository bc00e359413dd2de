"""What `pip install` puts on a machine: the wheel holds every file of the four folders, and
a base created by the installed program has every table. An editable install (the tests',
the README's) reads the checkout, so it cannot show a file the wheel leaves out: the
migration scripts once were (`db upgrade` then wrote nothing and said « Base à jour »)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.services  # pip builds and installs in child processes

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("tui", "screens", "models", "letters")
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc")


def source_files() -> set[str]:
    return {
        f"messagerie/{path.relative_to(ROOT).as_posix()}"
        for folder in FOLDERS
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the checkout (a build writes build/ beside its sources)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, source / folder, ignore=SKIPPED)
    built = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(built), str(source)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    (found,) = built.glob("*.whl")
    return found


def test_the_wheel_holds_every_file_of_the_four_folders(wheel):
    with zipfile.ZipFile(wheel) as archive:
        installed = {name for name in archive.namelist() if name.startswith("messagerie/")}
    assert source_files() - installed == set()  # templates, fonts, migrations, styles…


def test_the_installed_program_creates_a_whole_base(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
         str(wheel)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    base = tmp_path / "base.sqlite3"
    env = {
        **os.environ,
        "PYTHONPATH": str(target),  # before the checkout's links on the venv's path
        "MESSAGERIE_DB": f"sqlite:///{base}",
        "MESSAGERIE_DATA_DIR": str(tmp_path / "data"),
    }
    where = subprocess.run(
        [sys.executable, "-c", "import messagerie.models.store.migrate as m; print(m.__file__)"],
        env=env, cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.startswith(str(target))  # the installed copy, not the checkout
    upgraded = subprocess.run(
        [target / "bin" / "messagerie", "db", "upgrade"],  # the console script pip wrote
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert upgraded.returncode == 0, upgraded.stderr
    with sqlite3.connect(base) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
    assert {"consultation", "message", "recipient", "reply", "audit_log"} <= tables
