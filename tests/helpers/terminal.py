"""A real terminal: tmux running the TUI, read back with capture-pane."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.helpers.cli import ROOT

# The app ends at most 10 s after its hang-up (tui/app.py, HANG_UP_GRACE); a loaded machine
# gets more.
HANG_UP_BOUND = 30


class Tmux:
    """One tmux server of our own, one session running the TUI."""

    def __init__(self, width: int, height: int, environment: dict[str, str]) -> None:
        if shutil.which("tmux") is None:
            pytest.fail("tmux is missing: scripts/test installs it.")
        self.socket = f"messagerie-{uuid.uuid4().hex[:8]}"
        command = [sys.executable, "-m", "messagerie.tui.cli"]
        variables = [f"-e{name}={value}" for name, value in environment.items()]
        self.run("new-session", "-d", "-x", str(width), "-y", str(height), *variables,
                 "-c", str(ROOT), " ".join(command))  # fmt: skip

    def run(self, *arguments: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *arguments],
            check=True, capture_output=True, text=True, timeout=20,
        ).stdout  # fmt: skip

    def screen(self, escapes: bool = False) -> str:
        return self.run("capture-pane", "-p", *(["-e"] if escapes else []))

    def wait_for(self, text: str, seconds: float = 30) -> str:
        deadline = time.monotonic() + seconds
        while True:
            shown = self.screen()
            if text in shown:
                return shown
            assert time.monotonic() < deadline, (
                f"« {text} » never appeared in the pane ({self.size()}):\n{shown}"
            )
            time.sleep(0.2)

    def size(self) -> str:
        """The pane's size as tmux sees it, as its pty tells the program, and the program's
        COLUMNS/LINES (which would override the pty): what a misdrawn pane is checked against."""
        pane, tty, pid = self.run(
            "display-message", "-p", "#{pane_width}x#{pane_height} #{pane_tty} #{pane_pid}"
        ).split()
        pty = subprocess.run(["stty", "-F", tty, "size"], capture_output=True, text=True)
        try:
            names = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            overrides = [n.decode() for n in names if n.startswith((b"COLUMNS=", b"LINES="))]
        except OSError:
            overrides = ["?"]
        return (
            f"tmux {pane}, pty {pty.stdout.strip() or pty.stderr.strip()} (rows cols), {overrides}"
        )

    def keys(self, *keys: str) -> None:
        self.run("send-keys", *keys)

    def close(self) -> None:
        """Hang up the terminal (tmux's server killed: SIGHUP, as a dropped SSH connection
        sends), then check that the TUI ended: one that outlived its terminal would spin on a
        server for ever (an app waiting on its own worker did, at 100 % of a core)."""
        listed = subprocess.run(
            ["tmux", "-L", self.socket, "list-panes", "-a", "-F", "#{pane_pid}"],
            capture_output=True, text=True,
        )  # fmt: skip
        pids = [int(pid) for pid in listed.stdout.split()]
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)
        deadline = time.monotonic() + HANG_UP_BOUND
        while (alive := [pid for pid in pids if Path(f"/proc/{pid}").exists()]) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.1)
        for pid in alive:
            os.kill(pid, signal.SIGKILL)
        assert not alive, f"the TUI (pid {alive}) outlived its terminal by {HANG_UP_BOUND} s"
