"""Cold start to the painted dashboard on the demo database, against a minimal Textual app.

Each sample is a new Python process, run headless, that exits as soon as its frame is painted:
- "minimal": a Textual app showing one label;
- "dashboard frame": our app, first frame of the dashboard (before the store answers);
- "dashboard painted": our app, first page of consultations on screen.
Prints the medians and the ratio painted/minimal (target ≤ 1.5×).

    python bench/dashboard_start.py [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = """
from textual.app import App
from textual.widgets import Label
class Minimal(App):
    def compose(self):
        yield Label("Messagerie sécurisée")
    def on_mount(self):
        self.call_after_refresh(self.exit)
Minimal().run(headless=True)
"""

DASHBOARD = """
import sys
from tui.app import MessagerieApp
from tui.cli import build_parser, open_store_for
WAIT_FOR_DATA = sys.argv[1] == "painted"
args = build_parser().parse_args([])
class Timed(MessagerieApp):
    def on_mount(self):
        super().on_mount()
        if not WAIT_FOR_DATA:
            self.call_after_refresh(self.exit)
    def on_dashboard_screen_page_shown(self):
        self.call_after_refresh(self.exit)
app = Timed(open_store=lambda: open_store_for(args))
app.run(headless=True)
sys.exit(app.return_code or 0)
"""


def sample(code: str, *arguments: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *arguments], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "MESSAGERIE_DB": f"sqlite:///{folder}/demo.sqlite3"}
        subprocess.run(
            [sys.executable, "-m", "tui.cli", "demo"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        timings: dict[str, list[float]] = {"minimal": [], "frame": [], "painted": []}
        for _ in range(runs):  # interleaved, so that machine noise hits all three alike
            timings["minimal"].append(sample(MINIMAL, env=env))
            timings["frame"].append(sample(DASHBOARD, "frame", env=env))
            timings["painted"].append(sample(DASHBOARD, "painted", env=env))
    medians = {name: statistics.median(values) for name, values in timings.items()}
    print(f"runs: {runs} of each, headless, demo database on SQLite")
    print(f"minimal Textual app, first frame:        {medians['minimal']:.3f} s")
    print(
        f"messagerie, first dashboard frame:       {medians['frame']:.3f} s "
        f"({medians['frame'] / medians['minimal']:.2f}×)"
    )
    print(
        f"messagerie, dashboard painted with data: {medians['painted']:.3f} s "
        f"({medians['painted'] / medians['minimal']:.2f}×, target ≤ 1.5×)"
    )


if __name__ == "__main__":
    main()
