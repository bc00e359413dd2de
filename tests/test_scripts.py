"""scripts/lib.sh's antivirus for scripts/demo and scripts/test: the real bash functions start
a real clamd (EICAR signature only) in a folder of the test, and the app's client talks to it.
Starting it takes about a second here."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from messagerie.letters.intake.antivirus import (
    AntivirusState,
    antivirus_status,
    parse_clamd_address,
    scan,
)
from messagerie.models.store.enums import AntivirusVerdict
from tests.helpers.antivirus import EICAR

pytestmark = pytest.mark.services  # the scripts' shell functions, clamd

ROOT = Path(__file__).resolve().parents[1]


def lib(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """`script` run by bash after sourcing scripts/lib.sh, as scripts/demo does (set -euo)."""
    clean = {k: v for k, v in os.environ.items() if k not in ("MESSAGERIE_CLAMD", "TMPDIR")}
    clean.pop("MESSAGERIE_TEST_CLAMD", None)
    return subprocess.run(
        ["bash", "-c", f'set -euo pipefail; . "{ROOT}/scripts/lib.sh"; {script}'],
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=180,  # clamd starting on a machine loaded by the suite and stress-ng took 60+ s
    )


def stop(pid_file: Path) -> None:
    """Stop the clamd this test started (by its pid), and wait until it is gone."""
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


@pytest.fixture
def tmpdir_short() -> Iterator[Path]:
    """A TMPDIR with a short path: a Unix socket path holds at most 107 bytes."""
    with tempfile.TemporaryDirectory(prefix="av", dir="/tmp") as folder:
        yield Path(folder)
        stop(Path(folder) / "messagerie-clamd" / "clamd.pid")


def pong(path: str) -> bytes:
    with socket.socket(socket.AF_UNIX) as connection:
        connection.settimeout(2)
        connection.connect(path)
        connection.sendall(b"zPING\0")
        return connection.recv(16)


def test_the_demo_starts_the_eicar_clamd_and_the_tests_share_it(tmpdir_short):
    demo = lib('ensure_demo_clamd; printf %s "$MESSAGERIE_CLAMD"', {"TMPDIR": str(tmpdir_short)})
    assert demo.returncode == 0, demo.stderr
    socket_path = tmpdir_short / "messagerie-clamd" / "clamd.sock"
    assert demo.stdout == f"unix://{socket_path}", demo.stderr
    # Said on stderr: a demo antivirus, one signature, EICAR only.
    assert "with 1 signature(s), the EICAR test file's only: it detects no real virus" in (
        demo.stderr
    )
    assert pong(str(socket_path)) == b"PONG\0"
    address = parse_clamd_address(demo.stdout)
    assert scan(EICAR, "eicar.com", address).verdict is AntivirusVerdict.INFECTED
    status = antivirus_status(demo.stdout)
    assert status.state is AntivirusState.ON and status.line.endswith("(antivirus de test)")

    # scripts/test's ensure_clamd goes through the same function and finds it running.
    tests = lib('ensure_clamd; printf %s "$MESSAGERIE_TEST_CLAMD"', {"TMPDIR": str(tmpdir_short)})
    assert tests.returncode == 0, tests.stderr
    assert tests.stdout == demo.stdout and "starting clamd" not in tests.stderr


def test_the_users_own_antivirus_is_kept(tmpdir_short):
    mine = lib(
        'ensure_demo_clamd; printf %s "$MESSAGERIE_CLAMD"',
        {"TMPDIR": str(tmpdir_short), "MESSAGERIE_CLAMD": "tcp://clamav.interne:3310"},
    )
    assert mine.returncode == 0
    assert mine.stdout == "tcp://clamav.interne:3310" and "(yours)" in mine.stderr
    assert not (tmpdir_short / "messagerie-clamd").exists()  # no clamd of ours started


def test_the_demo_runs_with_scanning_off_when_clamd_cannot_start(tmpdir_short):
    # A real failure: a socket path longer than Unix sockets allow, clamd exits at once.
    too_deep = tmpdir_short / ("x" * 100)
    too_deep.mkdir()
    demo = lib('ensure_demo_clamd; printf %s "$MESSAGERIE_CLAMD"', {"TMPDIR": str(too_deep)})
    assert demo.returncode == 0, demo.stderr
    assert demo.stdout == "off"
    assert "the demo runs with scanning off (MESSAGERIE_CLAMD=off)" in demo.stderr
    stop(too_deep / "messagerie-clamd" / "clamd.pid")
    # scripts/test, in the same case, stops: no tests without their antivirus.
    tests = lib('ensure_clamd; echo "not reached"', {"TMPDIR": str(too_deep)})
    assert tests.returncode == 1 and "not reached" not in tests.stdout
