"""The TUI in a real terminal (tmux): 80×24 and 200×50, with and without colour, keys sent
and the screen read back, a resize that keeps the state; and `messagerie serve` answering a
browser's first request."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

from tests.test_cli import ROOT
from tests.test_outbox import free_port

# Colours as tmux writes them back: 256 colours ("38;5;N") or true colour ("38;2;R;G;B").
PALETTE = re.compile(r"[34]8;5;(\d+)")
TRUE_COLOUR = re.compile(r"[34]8;2;(\d+);(\d+);(\d+)")


def is_hue(index: int) -> bool:
    """A colour of the 256 palette that is not a grey (basic colours, or the 6×6×6 cube
    off its diagonal); 232-255 are greys."""
    if index < 16:
        return index not in (0, 7, 8, 15)
    if index < 232:
        cube = index - 16
        return len({cube // 36, (cube // 6) % 6, cube % 6}) > 1
    return False


def hues(screen: str) -> set[str]:
    """The colours used that are not greys: NO_COLOR leaves only greys (Textual's
    monochrome filter keeps contrast, drops hue)."""
    found = {m.group(0) for m in PALETTE.finditer(screen) if is_hue(int(m.group(1)))}
    found |= {m.group(0) for m in TRUE_COLOUR.finditer(screen) if len(set(m.groups())) > 1}
    return found


class Tmux:
    """One tmux server of our own, one session running the TUI."""

    def __init__(self, width: int, height: int, environment: dict[str, str]) -> None:
        if shutil.which("tmux") is None:
            pytest.fail("tmux is missing: scripts/test installs it.")
        self.socket = f"messagerie-{uuid.uuid4().hex[:8]}"
        command = [sys.executable, "-m", "tui.cli"]
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
            assert time.monotonic() < deadline, f"« {text} » never appeared:\n{shown}"
            time.sleep(0.2)

    def keys(self, *keys: str) -> None:
        self.run("send-keys", *keys)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def terminal_env(demo_url, tmp_path) -> dict[str, str]:
    return {
        "MESSAGERIE_DB": demo_url,
        "MESSAGERIE_DATA_DIR": str(tmp_path),
        "MESSAGERIE_SMTP_URL": "smtp://127.0.0.1:9",  # a relay: no local demo services here
        "TERM": "xterm-256color",
    }


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
@pytest.mark.parametrize("colour", [True, False], ids=["colour", "NO_COLOR"])
def test_keys_and_screens_in_a_real_terminal(terminal_env, size, colour):
    environment = dict(terminal_env) if colour else {**terminal_env, "NO_COLOR": "1"}
    tmux = Tmux(*size, environment)
    try:
        tmux.wait_for("Tableau de bord")
        tmux.keys("/")
        time.sleep(0.5)  # a person's pace: the search field has the focus before the text
        tmux.keys("2025vins", "Enter")
        tmux.wait_for("2025VINS")
        tmux.keys("e")  # "Messagerie sécurisée": the consultation's tracking
        shown = tmux.wait_for("Message sélectionné")
        assert "Statut" in shown and "Evénements" in shown
        assert max(len(line) for line in shown.splitlines()) <= size[0]
        assert bool(hues(tmux.screen(escapes=True))) is colour
        tmux.run("resize-window", "-x", str(size[0] + 20), "-y", str(size[1] + 6))
        shown = tmux.wait_for("Message sélectionné")  # same screen, same state, new size
        assert "2025VINS" in shown
        tmux.keys("Escape")
        tmux.wait_for("Tableau de bord")
    finally:
        tmux.close()


def test_serve_gives_the_app_to_a_browser(demo_url, tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--db", demo_url, "--data-dir", str(tmp_path),
         "serve", "--port", str(port)],
        cwd=ROOT, env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
                    page = answer.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline, "messagerie serve did not answer"
                time.sleep(0.2)
        assert "Messagerie sécurisée" in page and "ws" in page  # the page opens a websocket
    finally:
        server.terminate()
        server.wait(timeout=10)
