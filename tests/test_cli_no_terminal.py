"""What the command line does where nothing can be shown or nothing is there yet: the TUI
without a terminal (cron, a pipe, a service) says so instead of drawing escape codes into a
log, and a command reading a SQLite store that does not exist creates no empty file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers.cli import ROOT, messagerie

pytestmark = pytest.mark.services  # the `messagerie` command in child processes


def test_the_tui_without_a_terminal_says_so_and_draws_nothing(tmp_path):
    environment = {**os.environ, "MESSAGERIE_DATA_DIR": str(tmp_path)}
    environment.pop("TEXTUAL_DRIVER", None)
    done = subprocess.run([sys.executable, "-m", "messagerie.tui.cli"], cwd=ROOT,
                          env=environment, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""  # no escape code in a log or a pipe
    assert done.stderr == (
        "messagerie : l'interface a besoin d'un terminal (ici, l'entrée ou la sortie n'en est "
        "pas un) ; sans terminal, utilisez les commandes (messagerie --help).\n"
    )


@pytest.mark.parametrize("command", [["status"], ["verify-store"], ["comptes", "lister"]])
def test_a_store_that_does_not_exist_is_not_created_by_reading_it(tmp_path, command):
    missing = tmp_path / "absente.sqlite3"
    done = messagerie("--db", f"sqlite:///{missing}", *command,
                      env={"MESSAGERIE_CLAMD": "off"})  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == (
        f"messagerie : La base sqlite:///{missing} est vide : lancez « messagerie db upgrade » "
        "(ou « messagerie demo » pour la base de démonstration).\n"
    )
    assert not missing.exists()
    upgraded = messagerie("--db", f"sqlite:///{missing}", "db", "upgrade")
    assert upgraded.returncode == 0 and missing.exists()  # the one command that creates it
