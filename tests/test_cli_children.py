"""The tests' `messagerie` runs (tests/helpers/cli.py) are children forked by a server that
imported the command's libraries once (tests/helpers/zygote.py). Each must say and exit
exactly as `python -m messagerie.tui.cli` started afresh, with the test's own variables: or a
test could pass on the fork and fail for a buyer."""

import os
import subprocess
import sys

import pytest

from tests.helpers.cli import ROOT, TIMEOUT, messagerie

pytestmark = pytest.mark.services  # the `messagerie` command in child processes


def fresh(*arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "messagerie.tui.cli", *arguments],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def settings(folder) -> dict[str, str]:
    return {"MESSAGERIE_DATA_DIR": str(folder), "MESSAGERIE_DB": "", "MESSAGERIE_CLAMD": "off"}


@pytest.mark.parametrize(
    "arguments",
    [
        ["--help"],
        ["envoyer"],  # a usage error: one French line, exit 2
        ["db", "upgrade"],  # "Base à jour", on the store the variables name
        ["comptes", "lister"],  # the system login has no account there: refused, exit 2
        ["status"],
    ],
    ids=" ".join,
)
def test_a_forked_run_says_and_exits_as_a_fresh_process(tmp_path, arguments):
    env = settings(tmp_path / "données")
    assert fresh("db", "upgrade", env=env).returncode == 0
    forked, started = messagerie(*arguments, env=env), fresh(*arguments, env=env)
    assert (forked.returncode, forked.stdout, forked.stderr) == (
        started.returncode,
        started.stdout,
        started.stderr,
    )


def test_each_run_reads_its_own_variables(tmp_path):
    for name in ("un", "deux"):
        done = messagerie("db", "upgrade", env=settings(tmp_path / name))
        assert done.returncode == 0, done.stderr
        assert (tmp_path / name / "messagerie.sqlite3").exists()
