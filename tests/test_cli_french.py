"""`messagerie --help` and argparse's own errors, in French (argparse writes "usage:",
"positional arguments", "show this help message and exit", "invalid int value")."""

import re

import pytest

from tests.helpers.cli import messagerie, messagerie_at_a_terminal

pytestmark = pytest.mark.services  # the `messagerie` command in child processes

ENGLISH = re.compile(
    r"usage:|positional arguments|show this help|error:|invalid|expected|required|"
    r"unrecognized|ambiguous|argument \S+:"
)


@pytest.mark.parametrize("arguments", [["--help"], ["ar", "--help"], ["comptes", "ajouter", "-h"]])
def test_help_is_french(arguments):
    result = messagerie(*arguments)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage : messagerie")
    assert "-h, --help" in result.stdout and "afficher cette aide et quitter" in result.stdout
    assert "\narguments:\n" in result.stdout or "\noptions:\n" in result.stdout
    assert not ENGLISH.search(result.stdout), result.stdout


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["ar", "douze"], "ID : « douze » n'est pas un nombre entier — voir « messagerie ar"),
        # SQLite's OverflowError, as a traceback
        (["ar", "9" * 30], f"ID : « {'9' * 24} » n'est pas un numéro de destinataire"),
        (["inbound", "--port", "x"], "--port : « x » n'est pas un nombre entier"),
        (["outbox", "--every", "souvent"], "--every : « souvent » n'est pas un nombre"),
        (["--db"], "--db attend une valeur"),
        (["export", "2025VINS"], "argument manquant : --out"),
        # Once a traceback each: bind() raised OverflowError, time.sleep() ValueError.
        (["inbound", "--port", "99999"], "--port : « 99999 » n'est pas un port (1 à 65535)"),
        (["serve", "--port", "0"], "--port : « 0 » n'est pas un port (1 à 65535)"),
        (["outbox", "--every", "inf"], "--every : « inf » : plus de 0 et 86400 secondes au plus"),
        (["outbox", "--every", "-5"], "--every : « -5 » : plus de 0 et 86400 secondes au plus"),
    ],
)
def test_a_bad_argument_is_one_french_line(arguments, expected):
    result = messagerie(*arguments)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("messagerie : ") and expected in line, line
    assert not ENGLISH.search(line), line


def test_a_wrong_setting_ends_the_app_and_the_commands_in_one_french_line(tmp_path):
    """The app reads its settings after its first page (issue 18): a wrong one must still end
    it with one French line and exit code 2, as it does for every command."""
    assert messagerie("--data-dir", str(tmp_path), "db", "upgrade").returncode == 0
    env = {"MESSAGERIE_DATA_DIR": str(tmp_path), "MESSAGERIE_PORTAL_PORT": "huit"}
    line = (
        "messagerie : réglage invalide : MESSAGERIE_PORTAL_PORT : « huit » n'est pas un "
        "nombre entier"
    )
    status = messagerie("status", env=env)
    assert (status.returncode, status.stderr.strip()) == (2, line)
    app = messagerie_at_a_terminal(env=env)  # the TUI: it ends by itself
    assert app.returncode == 2 and "Traceback" not in app.stderr
    assert app.stderr.rstrip().endswith(line)


NOT_A_PAGE = "n'est pas l'adresse d'une page web (http:// ou https://, sans ? ni #)"
NOT_PAGES = ("javascript:alert(1)", "messagerie.ville.fr", "https://[::1", "https://ville.fr/?x=1",
             "https://ville.fr/#m", "https://ville .fr")  # fmt: skip


@pytest.mark.parametrize(
    ("variable", "value", "fault"),
    [
        ("MESSAGERIE_ATTACHMENT_MAX_MB", "inf", "n'est pas un nombre fini"),  # int(inf) once
        ("MESSAGERIE_ATTACHMENT_MAX_MB", "nan", "n'est pas un nombre fini"),
        ("MESSAGERIE_ATTACHMENT_MAX_MB", "0", "est trop petit (il faut plus de 0)"),
        ("MESSAGERIE_OUTBOX_LEASE", "1e308", "est trop grand (86400 au plus)"),  # timedelta
        ("MESSAGERIE_UNMATCHED_RETENTION_DAYS", "99999999999", "est trop grand (36500 au plus)"),
        # The start of every personal link in the e-mails: « javascript:… » was taken.
        *(("MESSAGERIE_PUBLIC_URL", url, NOT_A_PAGE) for url in NOT_PAGES),
    ],
)
def test_a_setting_out_of_bounds_is_named_with_its_bound(tmp_path, variable, value, fault):
    env = {"MESSAGERIE_DATA_DIR": str(tmp_path), variable: value}
    status = messagerie("status", env=env)
    assert status.returncode == 2
    assert (
        status.stderr.strip() == f"messagerie : réglage invalide : {variable} : « {value} » {fault}"
    )


def test_the_pages_public_address_loses_its_last_slash(monkeypatch):
    """« https://messagerie.ville.fr/ » gave links « …fr//m/… »."""
    from messagerie.tui.settings import Settings

    monkeypatch.setenv("MESSAGERIE_PUBLIC_URL", "https://messagerie.ville.fr/")
    assert Settings().link_base == "https://messagerie.ville.fr"
    monkeypatch.setenv("MESSAGERIE_PUBLIC_URL", "https://ville.fr/messagerie")
    assert Settings().link_base == "https://ville.fr/messagerie"
