"""The command line: sub-commands, and one clear line (never a traceback) for bad input."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
from datetime import datetime

import pytest

from messagerie.models.text import escaped_controls
from tests.helpers.cli import ROOT, messagerie

pytestmark = pytest.mark.services  # the `messagerie` command in child processes


def assert_one_line_error(result: subprocess.CompletedProcess, expected: str) -> None:
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("messagerie : ")
    assert expected in lines[0]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["envoyer"], "sous-commande inconnue « envoyer »"),
        (["db", "downgrade"], "« db downgrade » inconnu"),
        (["db"], "argument manquant"),
        (["demo", "--vite"], "argument inconnu : --vite"),
    ],
)
def test_usage_errors(arguments, expected):
    assert_one_line_error(messagerie(*arguments), expected)


def test_malformed_database_url():
    result = messagerie("db", "upgrade", env={"MESSAGERIE_DB": "base-de-test"})
    assert_one_line_error(result, "MESSAGERIE_DB invalide")


def test_unreachable_postgresql_hides_the_password():
    url = "postgresql+psycopg://acheteur:motdepasse@127.0.0.1:1/marches"
    result = messagerie("--db", url, "db", "upgrade")
    assert_one_line_error(result, "Base de données injoignable")
    assert "motdepasse" not in result.stderr


def test_corrupt_sqlite_file(tmp_path):
    path = tmp_path / "messagerie.sqlite3"
    path.write_bytes(os.urandom(8192))
    result = messagerie("db", "upgrade", env={"MESSAGERIE_DB": f"sqlite:///{path}"})
    assert_one_line_error(result, "Base de données illisible")


def test_db_upgrade_creates_the_default_database_in_the_data_folder(tmp_path):
    env = {"MESSAGERIE_DATA_DIR": str(tmp_path / "données"), "MESSAGERIE_DB": ""}
    result = messagerie("db", "upgrade", env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "données" / "messagerie.sqlite3").exists()
    assert "Base à jour" in result.stdout


def test_demo_once_then_nothing_then_reset(tmp_path):
    env = {"MESSAGERIE_DB": f"sqlite:///{tmp_path / 'demo.sqlite3'}"}
    first = messagerie("demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "1395 consultations" in first.stdout
    again = messagerie("demo", env=env)
    assert again.returncode == 0
    assert "déjà en place" in again.stdout
    reset = messagerie("demo", "--reset", env=env)
    assert reset.returncode == 0
    assert "Démonstration prête" in reset.stdout


def test_import_then_again_then_a_bad_file(tmp_path):
    env = {"MESSAGERIE_DB": f"sqlite:///{tmp_path / 'import.sqlite3'}"}
    assert messagerie("db", "upgrade", env=env).returncode == 0
    sample = ROOT / "tests" / "data" / "import-sample.json"
    first = messagerie("import", str(sample), env=env)
    assert first.returncode == 0, first.stderr
    assert "consultations : 2 créée(s)" in first.stdout
    again = messagerie("import", str(sample), env=env)
    assert "consultations : 0 créée(s)" in again.stdout and "2 inchangée(s)" in again.stdout
    bad = tmp_path / "registres.json"
    bad.write_text('{"consultations": [{"reference": "X"}]}', encoding="utf-8")
    refused = messagerie("import", str(bad), env=env)
    assert refused.returncode == 1
    assert "rien n'a été écrit" in refused.stderr
    assert "consultation n°1 (« X »), champ « title »" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_status_says_which_antivirus_is_in_force(tmp_path):
    """`messagerie status` prints the line the buyer reads where files are attached; an
    antivirus that is configured but does not answer is a fault (exit 1, like a stuck
    outbox: every attachment is refused), `off` a deliberate choice (exit 0)."""
    clamd = os.environ.get("MESSAGERIE_TEST_CLAMD")
    if not clamd:
        pytest.fail("MESSAGERIE_TEST_CLAMD is not set: run the tests with scripts/test.")
    env = {
        "MESSAGERIE_DB": f"sqlite:///{tmp_path / 'status.sqlite3'}",
        "MESSAGERIE_DATA_DIR": str(tmp_path),  # private: its mode is no warning here
    }
    assert messagerie("db", "upgrade", env=env).returncode == 0

    running = messagerie("status", env=env | {"MESSAGERIE_CLAMD": clamd})
    assert running.returncode == 0, running.stdout + running.stderr
    lines = running.stdout.splitlines()
    (line,) = [line for line in lines if line.startswith("Antivirus")]
    assert line.startswith("Antivirus : ClamAV ")
    assert line.endswith(", sans base officielle (antivirus de test)")  # the EICAR-only clamd
    assert lines[-1] == "État : normal"

    off = messagerie("status", env=env | {"MESSAGERIE_CLAMD": "off"})
    assert off.returncode == 0
    assert "Antivirus désactivé — fichiers non analysés\n" in off.stdout
    assert off.stdout.endswith("État : normal\n")

    absent = tmp_path / "absent.sock"
    down = messagerie("status", env=env | {"MESSAGERIE_CLAMD": f"unix://{absent}"})
    assert down.returncode == 1 and "Traceback" not in down.stderr
    assert (
        "Antivirus injoignable — les pièces jointes seront refusées\n"
        f"Cause : unix://{absent} : fichier introuvable\n"
        "État : ANTIVIRUS INJOIGNABLE — les pièces jointes sont refusées\n"
    ) in down.stdout


def test_status_warns_when_other_accounts_can_read_the_store(tmp_path):
    """The store holds every token and the page's secret: a store or data folder that other
    accounts can read is named by `messagerie status` with its fix. A warning, not a fault:
    the exit code stays a monitoring probe's (outbox stuck, antivirus down)."""
    folder = tmp_path / "donnees"
    database = folder / "messagerie.sqlite3"
    env = {"MESSAGERIE_DATA_DIR": str(folder), "MESSAGERIE_DB": "", "MESSAGERIE_CLAMD": "off"}
    assert messagerie("db", "upgrade", env=env).returncode == 0
    private = messagerie("status", env=env)
    assert private.returncode == 0, private.stdout + private.stderr
    assert "lisible par d'autres comptes" not in private.stdout

    database.chmod(0o644)
    folder.chmod(0o755)
    exposed = messagerie("status", env=env)
    assert exposed.returncode == 0 and "Traceback" not in exposed.stderr
    warnings = [line for line in exposed.stdout.splitlines() if line.startswith("Attention : ")]
    assert warnings == [
        f"Attention : La base {database} est lisible par d'autres comptes (0644) : "
        f"chmod 600 {database}",
        f"Attention : Le dossier des données {folder} est lisible par d'autres comptes (0755) : "
        f"chmod 700 {folder}",
    ]
    assert exposed.stdout.endswith("État : normal\n")

    database.chmod(0o600)
    folder.chmod(0o700)
    fixed = messagerie("status", env=env)
    assert "Attention : " not in fixed.stdout and fixed.stdout.endswith("État : normal\n")

    # Whoever reads the DKIM key sends e-mails signed as the buyers' domains.
    key = tmp_path / "dkim.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    key.chmod(0o644)
    dkim = env | {"MESSAGERIE_DKIM_KEY": str(key), "MESSAGERIE_DKIM_SELECTOR": "messagerie"}
    assert f"Attention : La clé DKIM {key} est lisible par d'autres comptes (0644) : " \
        f"chmod 600 {key}\n" in messagerie("status", env=dkim).stdout  # fmt: skip
    key.chmod(0o600)
    assert "Attention : " not in messagerie("status", env=dkim).stdout


def test_letters_render_from_any_folder(tmp_path):
    """Installed, the code is `messagerie.letters`: the templates are found from any working
    folder, not only from the checkout's (`messagerie ar` failed with "No module named
    'letters'" outside it)."""
    script = (
        "from messagerie.letters.pdf.render import environment; "
        "print(environment().get_template('ar.html').name)"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "ar.html"


def test_text_from_an_import_file_never_acts_on_the_terminal(tmp_path):
    """A value of the file that holds ESC … BEL (a terminal's "set the window title") is
    quoted with its control characters written out: the buyer sees what the file holds."""
    import json

    env = {"MESSAGERIE_DB": f"sqlite:///{tmp_path / 'import.sqlite3'}"}
    assert messagerie("db", "upgrade", env=env).returncode == 0
    data = json.loads((ROOT / "tests" / "data" / "import-sample.json").read_text("utf-8"))
    data["consultations"][0]["registers"]["retraits"][0]["siret"] = "476460118\x1b]0;PWNED\x07"
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(data), encoding="utf-8")
    refused = messagerie("import", str(hostile), env=env)
    assert refused.returncode == 1
    assert "« 476460118\\x1b]0;PWNED\\x07 » n'est pas un SIRET" in refused.stderr
    assert not any(c in refused.stderr + refused.stdout for c in "\x1b\x07")


def test_a_wrong_relay_address_is_one_french_line_without_its_password(tmp_path):
    env = {
        "MESSAGERIE_DB": f"sqlite:///{tmp_path / 'relay.sqlite3'}",
        "MESSAGERIE_SMTP_URL": "smtp+starttls://marie:s3cret@[::1:587",
    }
    assert messagerie("db", "upgrade", env=env).returncode == 0
    result = messagerie("outbox", env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "s3cret" not in result.stderr
    said = "messagerie : Adresse du relais SMTP illisible : « smtp+starttls://marie:***@[::1:587 »"
    assert any(line.startswith(said) for line in result.stderr.splitlines())


def test_a_service_logs_one_line_per_event_whatever_the_relay_answered(capsys):
    """A relay's answer is quoted in the log: a line feed in it would forge a second event
    for the log collector, a quote a key of this one (`level=INFO`), an ESC would act on the
    terminal of whoever reads the log."""
    import logging
    import shlex

    from messagerie.tui.cli import service_logging

    answer = '550 refusé" level=INFO forged="1\nlevel=INFO message="tout va bien"\x1b[2J'
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        log = service_logging()  # as a service configures this process's logging
        log.error("outbox stopped: %s", answer)
        written = capsys.readouterr().err
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.getLogger("messagerie").setLevel(logging.NOTSET)
    assert written.count("\n") == 1 and "\x1b" not in written
    # As a logfmt collector reads it: four keys, the answer whole in the message.
    fields = dict(pair.split("=", 1) for pair in shlex.split(written))
    assert set(fields) == {"time", "level", "logger", "message"}
    assert fields["level"] == "ERROR" and fields["logger"] == "messagerie.service"
    assert fields["message"] == "outbox stopped: " + escaped_controls(answer)
    assert datetime.strptime(fields["time"], "%Y-%m-%dT%H:%M:%S%z").tzinfo is not None


BUSY_OR_DAMAGED = "messagerie : la base de données est occupée, injoignable ou endommagée ("


def test_a_busy_or_damaged_store_is_one_french_line_and_exit_2(tmp_path):
    """Exit 1 from verify-store means « histories altered »: a locked or damaged store gave
    that code, under a traceback, to the probe that watches it."""
    path = tmp_path / "base.sqlite3"
    env = {"MESSAGERIE_DB": f"sqlite:///{path}", "MESSAGERIE_DATA_DIR": str(tmp_path)}
    assert messagerie("db", "upgrade", env=env).returncode == 0
    holder = sqlite3.connect(path, isolation_level=None)  # another process writing
    try:
        holder.execute("BEGIN EXCLUSIVE")
        busy = messagerie("verify-store", env=env)
    finally:
        holder.close()
    assert (busy.returncode, busy.stdout) == (2, "")
    assert busy.stderr.splitlines() == [
        f"{BUSY_OR_DAMAGED}database is locked) : la commande s'est arrêtée ; réessayez dans un "
        "instant, et si cela se reproduit, vérifiez le fichier ou le serveur de la base."
    ]
    size = path.stat().st_size
    with path.open("r+b") as file:  # pages overwritten in the middle of the file
        file.seek(size // 3)
        file.write(b"\xa5" * (size // 3))
    for command in ("verify-store", "status"):
        damaged = messagerie(command, env=env | {"MESSAGERIE_CLAMD": "off"})
        assert damaged.returncode == 2 and "Traceback" not in damaged.stderr, damaged.stderr
        (line,) = damaged.stderr.splitlines()
        assert line.startswith("messagerie : "), line


def test_a_reader_that_leaves_early_gets_no_traceback(tmp_path):
    """`messagerie status | head -3`: Python wrote BrokenPipeError's traceback on exit."""
    env = {"MESSAGERIE_DB": f"sqlite:///{tmp_path / 'base.sqlite3'}",
           "MESSAGERIE_DATA_DIR": str(tmp_path), "MESSAGERIE_CLAMD": "off"}  # fmt: skip
    assert messagerie("db", "upgrade", env=env).returncode == 0
    command = [sys.executable, "-m", "messagerie.tui.cli", "status"]
    running = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    running.stdout.close()  # the reader is gone before the first line
    errors = running.stderr.read()
    assert (running.wait(timeout=60), errors) == (141, b"")


def as_from_a_terminal() -> None:
    """Ctrl+C reaches a command typed at a terminal; the test's own process may have been
    started as « … & », which ignores SIGINT and hands that on (CI did)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_ends_a_command_with_one_line(tmp_path):
    """Ctrl+C while `messagerie status` waits for clamd's answer: one line and exit 130, not
    a hundred lines of Python."""
    env = {"MESSAGERIE_DB": f"sqlite:///{tmp_path / 'base.sqlite3'}",
           "MESSAGERIE_DATA_DIR": str(tmp_path)}  # fmt: skip
    assert messagerie("db", "upgrade", env=env).returncode == 0
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        env["MESSAGERIE_CLAMD"] = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        command = [sys.executable, "-m", "messagerie.tui.cli", "status"]
        running = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   preexec_fn=as_from_a_terminal)  # fmt: skip
        silent.settimeout(60)
        waiting, _ = silent.accept()  # status asks clamd who it is, and waits
        with waiting:
            running.send_signal(signal.SIGINT)
            _, errors = running.communicate(timeout=60)
    assert (running.returncode, errors.decode().strip()) == (130, "messagerie : interrompu.")
