"""The outbox's promise, with real processes: kill it (SIGKILL) in the middle of a
1,000-recipient send and restart it, or run two of them on one PostgreSQL store; a relay in
another process counts what it receives. Nothing is lost; the only duplicate possible is the
e-mails in flight when a worker was killed (one per connection), resent with the same
Message-ID."""

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from messagerie.letters.mail.transport import CONNECTIONS
from messagerie.models.messages.drafts import DraftRecipient
from messagerie.models.store.enums import (
    DeliveryState,
    MessageType,
)
from messagerie.models.store.tables import Message, Recipient, table_of
from messagerie.tui.embedded import free_port
from tests.helpers.factories import paris
from tests.helpers.messages import consultation_with_deposit, queue_preset

pytestmark = pytest.mark.services  # outbox processes, an aiosmtpd process, a web server

ROOT = Path(__file__).resolve().parents[1]
RECIPIENTS = 1000
recipient = table_of(Recipient)


@pytest.fixture
def recorder(tmp_path):
    received = tmp_path / "received.txt"
    port = free_port()
    server = start_recorder(port, received)
    yield f"smtp://127.0.0.1:{port}", received
    server.terminate()
    server.wait()


def start_recorder(port: int, received: Path) -> subprocess.Popen:
    """A relay in its own process that writes each recipient it accepts in `received`."""
    import socket

    received.touch()
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c",
         "tests.helpers.smtp_recorder.Recorder", str(received)],
        cwd=ROOT,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return server


def queue_thousand(store) -> None:
    queue_preset(
        store,
        consultation_with_deposit(store, "2026MASS", "Envoi en nombre"),
        MessageType.FREE,
        body="Bonjour,\n\nUn message à beaucoup d'entreprises.",
        recipients=tuple(DraftRecipient(f"r{n:04}@entreprise.example") for n in range(RECIPIENTS)),
    )


def queue_one(store, reference: str) -> None:
    queue_preset(
        store,
        consultation_with_deposit(store, reference, "Un seul destinataire"),
        MessageType.FREE,
        body="Bonjour,\n\nUn message qui attend.",
        recipients=(DraftRecipient("attente@entreprise.example"),),
    )


def outbox(store_url: str, smtp_url: str) -> subprocess.Popen:
    environment = {
        **os.environ,
        "MESSAGERIE_SMTP_URL": smtp_url,
        "MESSAGERIE_OUTBOX_LEASE": "1",  # a killed worker's claims come back after a second
    }
    return subprocess.Popen(
        [sys.executable, "-m", "messagerie.tui.cli", "--db", store_url, "outbox", "--once"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
    )


def accepted(store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).where(recipient.c.delivery_state == DeliveryState.ACCEPTED)
        ).scalar_one()


def finish(store, store_url, smtp_url) -> None:
    """Run the outbox until every recipient is accepted (leases of the killed run out)."""
    for _ in range(20):
        if accepted(store) == RECIPIENTS:
            return
        time.sleep(1.1)
        assert outbox(store_url, smtp_url).wait(timeout=120) == 0
    assert accepted(store) == RECIPIENTS


def received(path: Path) -> Counter:
    return Counter(line.split()[0] for line in path.read_text().splitlines())


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_killed_and_restarted_loses_nothing(store, store_url, recorder):
    smtp_url, path = recorder
    queue_thousand(store)
    kills = 0
    rng = random.Random(20261127)
    for _ in range(4):
        before = len(path.read_text().splitlines())
        worker = outbox(store_url, smtp_url)
        # Kill it while it sends: after it has handed over a few more e-mails.
        deadline = time.monotonic() + 30
        wanted = before + rng.randint(20, 150)
        while len(path.read_text().splitlines()) < wanted and time.monotonic() < deadline:
            if worker.poll() is not None:
                break
            time.sleep(0.01)
        if worker.poll() is None:
            worker.send_signal(signal.SIGKILL)
            kills += 1
        worker.wait()
        time.sleep(1.1)  # the lease of what it held runs out
    assert kills >= 3, "the outbox should still have been sending when killed"
    finish(store, store_url, smtp_url)
    counts = received(path)
    with store.engine.connect() as connection:
        headers = set(connection.execute(sa.select(recipient.c.message_id_header)).scalars())
    assert set(counts) == headers  # 0 lost: every recipient's Message-ID reached the relay
    duplicates = sum(count - 1 for count in counts.values())
    assert duplicates <= kills * CONNECTIONS  # at most the e-mails in flight at each kill


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_two_workers_on_postgresql_never_send_twice(store, store_url, recorder):
    smtp_url, path = recorder
    queue_thousand(store)
    workers = [outbox(store_url, smtp_url) for _ in range(2)]
    assert [worker.wait(timeout=300) for worker in workers] == [0, 0]
    finish(store, store_url, smtp_url)
    counts = received(path)
    assert len(counts) == RECIPIENTS and max(counts.values()) == 1


def as_a_background_job() -> None:
    """Started as a shell starts « service & »: SIGINT ignored, inherited through exec. A
    service must stop on SIGTERM all the same (it did not when SIGTERM became SIGINT)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def claimed(store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).where(recipient.c.delivery_state == DeliveryState.CLAIMED)
        ).scalar_one()


def status(store_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "messagerie.tui.cli", "--db", store_url, "status"],
        cwd=ROOT, env={**os.environ, "MESSAGERIE_CLAMD": "off"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_sigterm_releases_what_it_holds_and_status_tells_a_stuck_queue(store, store_url, recorder):
    smtp_url, path = recorder
    queue_thousand(store)
    with store.engine.begin() as connection:  # queued twenty minutes ago, nothing sent since
        connection.execute(sa.update(table_of(Message)).values(queued_at=paris(2026, 1, 1)))
    stuck = status(store_url)
    assert stuck.returncode == 1 and "État : BLOQUÉ" in stuck.stdout
    assert f"{RECIPIENTS} en attente" in stuck.stdout

    worker = subprocess.Popen(  # the default lease (5 min): only a release frees its claims
        [sys.executable, "-m", "messagerie.tui.cli", "--db", store_url, "outbox", "--once"],
        cwd=ROOT, env={**os.environ, "MESSAGERIE_SMTP_URL": smtp_url}, stdout=subprocess.DEVNULL,
        preexec_fn=as_a_background_job,
    )  # fmt: skip
    while accepted(store) < 100:
        time.sleep(0.02)
    at_signal = accepted(store)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0  # a bound for a loaded machine, not a target
    assert claimed(store) == 0, "a stopped outbox must not keep recipients reserved"
    # It stops at once: a signal lost in a finaliser once let the pass send on to the end.
    assert accepted(store) <= at_signal + 50

    assert outbox(store_url, smtp_url).wait(timeout=120) == 0
    assert accepted(store) == RECIPIENTS
    counts = received(path)
    assert len(counts) == RECIPIENTS
    assert sum(n - 1 for n in counts.values()) <= CONNECTIONS  # only what was in flight
    healthy = status(store_url)
    assert healthy.returncode == 0 and "État : normal" in healthy.stdout
    assert "Dernier envoi : " in healthy.stdout and f"{RECIPIENTS} envoyé(s)" not in stuck.stdout


@pytest.mark.parametrize("service", ["inbound", "portal"])
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_listeners_stop_cleanly_on_sigterm(store, store_url, service):
    import socket

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "messagerie.tui.cli", "--db", store_url, service,
         "--port", str(port)],
        cwd=ROOT, env={**os.environ, "MESSAGERIE_CLAMD": "off"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=as_a_background_job,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            assert time.monotonic() < deadline, f"{service} did not listen"
            time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=10)
    output = process.stdout.read() if process.stdout else ""
    assert "Traceback" not in output
    if service == "portal":  # uvicorn shuts down, then re-raises the signal (systemd: clean)
        assert code in (0, -signal.SIGTERM) and "Finished server process" in output
    else:
        assert code == 0


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_relay_down_for_a_while_is_waited_for_not_given_up(store, store_url, tmp_path):
    """The service told « partiront quand il répondra », then stopped with exit 1: systemd
    restarted it five times in ten seconds and gave up, and nothing left until someone came.
    It now says it once, keeps trying, and sends when the relay answers."""
    port = free_port()  # nothing listens there yet
    queue_one(store, "2026DOWN")
    worker = subprocess.Popen(
        [sys.executable, "-m", "messagerie.tui.cli", "--db", store_url, "outbox", "--every",
         "0.2"],
        cwd=ROOT, env={**os.environ, "MESSAGERIE_SMTP_URL": f"smtp://127.0.0.1:{port}"},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        preexec_fn=as_a_background_job,
    )  # fmt: skip
    lines: list[str] = []  # its stderr, read as it comes
    reader = threading.Thread(target=lambda: lines.extend(worker.stderr or ()), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60  # its start-up, however loaded the machine
        while not any(line.startswith("messagerie : ") for line in lines):
            assert worker.poll() is None, "the outbox stopped while the relay was down"
            assert time.monotonic() < deadline, "the relay down was never said"
            time.sleep(0.1)
        time.sleep(1)  # five more passes, each refused
        assert worker.poll() is None, "the outbox stopped while the relay was down"
        server = start_recorder(port, tmp_path / "received.txt")
        try:
            deadline = time.monotonic() + 30
            # The log line follows the send: SIGTERM waits for it too.
            while accepted(store) < 1 or not any("succeeded again" in line for line in lines):
                assert time.monotonic() < deadline, "nothing sent once the relay answered"
                time.sleep(0.1)
        finally:
            server.terminate()
            server.wait()
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    reader.join(timeout=30)
    said = "".join(lines)
    assert "Traceback" not in said
    told = [line for line in said.splitlines() if line.startswith("messagerie : ")]
    assert len(told) == 1, said  # once, not at every pass
    assert "injoignable" in told[0] and "nouvel essai toutes les 0.2 s" in told[0]
    assert "outbox pass succeeded again" in said


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_busy_database_is_one_french_line_not_a_traceback(store, store_url, recorder):
    """Another process holds SQLite's write lock past the 5 s wait: `outbox --once` says so
    in French and exits 1, where an OperationalError's traceback ended it."""
    import sqlite3

    queue_one(store, "2026BUSY")
    smtp_url, _ = recorder
    other = sqlite3.connect(store.engine.url.database, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # the write lock, as another buyer's long write
        result = subprocess.run(
            [sys.executable, "-m", "messagerie.tui.cli", "--db", store_url, "outbox", "--once"],
            cwd=ROOT, env={**os.environ, "MESSAGERIE_SMTP_URL": smtp_url},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "messagerie : La base de données est occupée ou injoignable (database is locked)" in (
        result.stderr
    )
    assert accepted(store) == 0
    assert outbox(store_url, smtp_url).wait(timeout=120) == 0  # the lock gone, it is sent
    assert accepted(store) == 1
