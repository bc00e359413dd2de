"""Cold start to the painted dashboard on the demo database, against a minimal Textual app.

Each sample is a new Python process, run headless, that prints the wall-clock time at which
its frame is painted and leaves at once (os._exit: tearing down is not counted):
- minimal: a Textual app showing one label;
- snapshot: the dashboard painted with the first page of the previous run (tui/snapshot.py),
  the normal case from the second start on;
- fresh: the dashboard painted with the store's answer, snapshot present;
- first start: the same with no snapshot (the very first start of a configuration).
Prints the medians and each ratio to the minimal app (targets: the painted dashboard ≤ 1.5×,
the store's page without a snapshot ≤ 2×, issue 18), in wall-clock time and in CPU time (user +
system of the process): on a machine shared with other work, the CPU time is the steadier one.

    python bench/dashboard_start.py [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PAINTED = """
import os, time
def painted():
    print(time.time(), flush=True)
    os._exit(0)
"""

MINIMAL = (
    PAINTED
    + """
from textual.app import App
from textual.widgets import Label
class Minimal(App):
    def compose(self):
        yield Label("Messagerie sécurisée")
    def on_mount(self):
        self.call_after_refresh(painted)
Minimal().run(headless=True)
"""
)

DASHBOARD = (
    PAINTED
    + """
import sys
from messagerie.tui.app import MessagerieApp
from messagerie.tui.cli import build_parser, open_tui_store
from messagerie.tui.snapshot import StartupSnapshot
MODE = sys.argv[1]
args = build_parser().parse_args([])
class Timed(MessagerieApp):
    def on_dashboard_screen_page_shown(self, event):
        if event.stale == (MODE == "snapshot"):  # posted once the page has been painted
            painted()
app = Timed(open_store=lambda: open_tui_store(args), snapshot=StartupSnapshot(None, None))
app.run(headless=True)
"""
)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def sample(code: str, *arguments: str, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from the start of a new process to its painted frame: wall clock, CPU."""
    cpu = children_cpu()
    started = time.time()
    result = subprocess.run(
        [sys.executable, "-c", code, *arguments],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return float(result.stdout.split()[-1]) - started, children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    # As an installed package would be: byte-compiled (this machine sets PYTHONDONTWRITEBYTECODE).
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "tui", "screens", "models"], cwd=ROOT, check=True
    )
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder) / "cache"
        env = {
            **os.environ,
            "MESSAGERIE_DB": f"sqlite:///{folder}/demo.sqlite3",
            "XDG_CACHE_HOME": str(cache),
        }
        subprocess.run(
            [sys.executable, "-m", "messagerie.tui.cli", "demo"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        timings: dict[str, list[tuple[float, float]]] = {
            name: [] for name in ("minimal", "snapshot", "fresh", "first start")
        }
        for _ in range(runs):  # interleaved, so that machine noise hits every kind alike
            timings["minimal"].append(sample(MINIMAL, env=env))
            shutil.rmtree(cache, ignore_errors=True)
            timings["first start"].append(sample(DASHBOARD, "fresh", env=env))
            for mode in ("snapshot", "fresh"):
                timings[mode].append(sample(DASHBOARD, mode, env=env))
    wall = {name: statistics.median(t[0] for t in values) for name, values in timings.items()}
    cpu = {name: statistics.median(t[1] for t in values) for name, values in timings.items()}
    print(f"runs: {runs} of each, headless, demo database (1,395 consultations) on SQLite")
    print(f"{'medians':43}{'wall clock':>17}{'CPU time':>17}")
    for name, label, target in (
        ("minimal", "minimal Textual app, first frame:", ""),
        ("snapshot", "messagerie, dashboard painted (snapshot):", "  (target ≤ 1.5×)"),
        ("fresh", "messagerie, fresh page from the store:", ""),
        ("first start", "messagerie, fresh page, no snapshot yet:", "  (target ≤ 2×)"),
    ):
        figures = "".join(
            f"{kind[name]:9.3f} s {kind[name] / kind['minimal']:4.2f}×" for kind in (wall, cpu)
        )
        print(f"{label:43}{figures}{target}")


if __name__ == "__main__":
    main()
