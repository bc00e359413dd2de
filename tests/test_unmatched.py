"""Mail the listener could not match to a message is kept aside in the data folder's
unmatched/ (tracker issue 17) — measured on main, never cleaned: it now stays
MESSAGERIE_UNMATCHED_RETENTION_DAYS (90 by default), the listener deletes what is older as it
works, and `messagerie status` says how many are kept and since when. The clock is moved
with time-machine; the listener is the real one."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
import time_machine

from messagerie.letters.mail.unmatched import keep_file, kept_aside
from messagerie.tui.settings import Settings
from tests.helpers.antivirus import intake
from tests.helpers.cli import messagerie
from tests.helpers.smtp import inbound_listener, send_mail

START = datetime(2026, 9, 2, 10, 0, tzinfo=UTC)  # 12:00 in Paris


def stray(subject: str) -> bytes:
    """A reply to an e-mail we never sent: no recipient to match, so kept aside."""
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = (
        "a@entreprise.example",
        "marches@alsace.example",
        subject,
    )
    mail["In-Reply-To"] = f"<{subject}@inconnu.example>"
    mail.set_content(f"Réponse égarée : {subject}.")
    return bytes(mail)


def subjects(folder) -> list[str]:
    """What unmatched/ holds, oldest first, by subject."""
    files = sorted(folder.glob("*.eml"), key=lambda path: path.stat().st_mtime)
    return [next(line for line in path.read_text().splitlines() if line.startswith("Subject:"))
            .removeprefix("Subject: ") for path in files]  # fmt: skip


@pytest.mark.services
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_listener_deletes_what_it_kept_aside_after_90_days(store, tmp_path, caplog):
    folder = tmp_path / "unmatched"
    assert Settings().unmatched_retention_days == 90
    with (
        time_machine.travel(START, tick=True) as clock,
        inbound_listener(store, intake()) as port,
        caplog.at_level(logging.INFO, logger="messagerie.inbound"),
    ):
        assert send_mail(port, "marches@alsace.example", stray("premier"))[0] == 250
        clock.move_to(START + timedelta(days=60))
        assert send_mail(port, "marches@alsace.example", stray("deuxieme"))[0] == 250
        assert subjects(folder) == ["premier", "deuxieme"]
        assert kept_aside(folder).count == 2
        assert abs(kept_aside(folder).oldest - START) < timedelta(minutes=1)  # the app's clock
        clock.move_to(START + timedelta(days=89, hours=23))  # not yet 90 days
        assert send_mail(port, "marches@alsace.example", stray("troisieme"))[0] == 250
        assert subjects(folder) == ["premier", "deuxieme", "troisieme"]
        clock.move_to(START + timedelta(days=90, hours=1))
        assert send_mail(port, "marches@alsace.example", stray("quatrieme"))[0] == 250
        assert subjects(folder) == ["deuxieme", "troisieme", "quatrieme"]
    logged = [r.getMessage() for r in caplog.records if "deleted" in r.getMessage()]
    assert logged == [f"unmatched: 1 e-mail(s) kept aside over 90 days deleted from {folder}"]


@pytest.mark.services
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_shorter_retention_and_a_file_put_back_by_hand(store, tmp_path):
    """The retention is the handler's (run_inbound gives it the setting); a file the operator
    copied back keeps the date it was kept aside on, and goes in its turn."""
    folder = tmp_path / "unmatched"
    keep_file(folder, "ancien", b"Subject: ancien\r\n\r\nx\r\n", START - timedelta(days=8))
    with (
        time_machine.travel(START, tick=True),
        inbound_listener(store, intake(), unmatched_retention=timedelta(days=7)) as port,
    ):
        assert send_mail(port, "marches@alsace.example", stray("recent"))[0] == 250
    assert subjects(folder) == ["recent"]


def test_status_tells_how_many_are_kept_and_since_when(tmp_path):
    env = {
        "MESSAGERIE_DB": f"sqlite:///{tmp_path / 'status.sqlite3'}",
        "MESSAGERIE_DATA_DIR": str(tmp_path),
        "MESSAGERIE_CLAMD": "off",
    }
    assert messagerie("db", "upgrade", env=env).returncode == 0
    folder = tmp_path / "unmatched"

    def line() -> str:
        status = messagerie("status", env=env)
        assert status.returncode == 0, status.stdout + status.stderr
        (found,) = [x for x in status.stdout.splitlines() if x.startswith("Courriels non")]
        return found

    assert line() == f"Courriels non rattachés (dossier {folder}) : aucun (effacés après 90 jours)"
    keep_file(folder, "a", b"x", START)
    keep_file(folder, "b", b"y", START + timedelta(days=3))
    (folder / ".en-cours").write_bytes(b"z")  # a file being written is not an e-mail kept
    os.utime(folder / ".en-cours", (0, 0))
    env["MESSAGERIE_UNMATCHED_RETENTION_DAYS"] = "30"
    assert line() == (
        f"Courriels non rattachés (dossier {folder}) : 2 (effacés après 30 jours), le plus "
        "ancien mis de côté le 02/09/2026 - 12:00:00"
    )
