"""Cold start to the painted dashboard on the demo database, against a minimal Textual app.

Each sample is a new Python process, run headless, that prints the wall-clock time at which
its frame is painted and leaves at once (os._exit: tearing down is not counted):
- minimal: a Textual app showing one label;
- snapshot: the dashboard painted with the first page of the previous run (tui/snapshot.py),
  the normal case from the second start on;
- fresh: the dashboard painted with the store's answer, snapshot present;
- first start: the same with no snapshot (the very first start of a configuration): the page
  read by the child `messagerie` forks before importing Textual (tui/prefetch.py);
- the same without that child, as on a machine with one core;
- for reference, a process that only imports what the store's page needs (no Textual).
messagerie starts as the command does (tui/cli.py run_tui), headless. Both apps run at the
80×24 a terminal would report from the start, and messagerie with the garbage-collector
threshold its command sets (tui/cli.py main).
Prints the medians and each ratio to the minimal app (targets: the painted dashboard ≤ 1.5×,
the store's page without a snapshot ≤ 2×, issue 18), in wall-clock time and in CPU time (user +
system of the process and of its prefetch child): on a machine shared with other work, the CPU
time is the steadier one. The prefetch saves wall-clock time only: it needs a second core that
is free (the idle cores during the run are printed); it saves no CPU.

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

from messagerie.tui.prefetch import usable_cores

ROOT = Path(__file__).resolve().parents[1]

# A terminal's size is known from the start; headless, Textual first takes Rich's default
# (80×25) and then the driver's (80×24): a second layout of the whole screen no terminal causes.
PAINTED = """
import os, time
SIZE = (80, 24)
def painted(written=None):
    print(time.time(), flush=True)
    # The dashboard's worker writes its snapshot just after the paint: the next sample
    # reads it. Ending before (os._exit) left none now and then, and that sample waited.
    for _ in range(500):
        if written is None or written.exists():
            break
        time.sleep(0.01)
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
Minimal().run(headless=True, size=SIZE)
"""
)

# `messagerie` itself (tui/cli.py run_tui: the prefetch child forked before Textual is imported,
# the snapshot, the account of the login), only run headless and timed.
DASHBOARD = (
    PAINTED
    + """
import gc, sys
gc.set_threshold(10_000, 20, 20)  # as `messagerie` starts (tui/cli.py main), before its imports
from messagerie.tui import cli, prefetch
MODE = sys.argv[1]
if "no-prefetch" in sys.argv[2:]:
    prefetch.usable_cores = lambda: 1  # what a one-core machine does: no child
def run(app):
    class Timed(type(app)):
        def on_dashboard_screen_page_shown(self, event):
            if event.stale == (MODE == "snapshot"):  # posted once the page has been painted
                if self._prefetch is not None:
                    self._prefetch.close()  # no orphan left running into the next sample
                painted(self._snapshot.path if self._snapshot else None)
    app.__class__ = Timed
    app.run(headless=True, size=SIZE)
cli.run_tui(cli.build_parser().parse_args([]), run=run)
"""
)

# For reference, no Textual: what the store's page needs imported before its query can run
# (SQLAlchemy, mostly), the floor that any start showing the store's page pays on top.
STORE_IMPORTS = (
    PAINTED
    + """
import gc
gc.set_threshold(10_000, 20, 20)
import messagerie.models.consultations.dashboard, messagerie.models.store.database
painted()
"""
)


def cpu_times() -> tuple[float, float]:
    """The machine's idle and total time since boot, summed over its cores (/proc/stat)."""
    try:
        fields = [float(f) for f in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    return fields[3] + fields[4], sum(fields[:8])  # idle + iowait; user … steal


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
        timeout=300,  # a start that never paints fails the bench instead of hanging CI
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
        kinds = ("minimal", "snapshot", "fresh", "first start", "no prefetch", "store imports")
        timings: dict[str, list[tuple[float, float]]] = {name: [] for name in kinds}
        idle, total = cpu_times()
        for _ in range(runs):  # interleaved, so that machine noise hits every kind alike
            timings["minimal"].append(sample(MINIMAL, env=env))
            shutil.rmtree(cache, ignore_errors=True)
            timings["first start"].append(sample(DASHBOARD, "fresh", env=env))
            for mode in ("snapshot", "fresh"):
                timings[mode].append(sample(DASHBOARD, mode, env=env))
            shutil.rmtree(cache, ignore_errors=True)
            timings["no prefetch"].append(sample(DASHBOARD, "fresh", "no-prefetch", env=env))
            timings["store imports"].append(sample(STORE_IMPORTS, env=env))
        idle, total = cpu_times()[0] - idle, cpu_times()[1] - total
    wall = {name: statistics.median(t[0] for t in values) for name, values in timings.items()}
    cpu = {name: statistics.median(t[1] for t in values) for name, values in timings.items()}
    cores = usable_cores()
    print(f"runs: {runs} of each, headless, demo database (1,395 consultations) on SQLite")
    if total:  # the bench's own processes count as busy: a quiet machine shows about cores - 1
        print(f"cores: {cores}, idle on average during the run: {cores * idle / total:.2f}")
    print(f"{'medians':45}{'wall clock':>17}{'CPU time':>17}")
    for name, label, target in (
        ("minimal", "minimal Textual app, first frame:", ""),
        ("snapshot", "messagerie, dashboard painted (snapshot):", "  (target ≤ 1.5×)"),
        ("fresh", "messagerie, fresh page from the store:", ""),
        ("first start", "messagerie, fresh page, no snapshot yet:", "  (target ≤ 2×)"),
        ("no prefetch", "the same without the prefetch child (1 core):", ""),
        ("store imports", "for reference, the store's imports alone:", ""),
    ):
        figures = "".join(
            f"{kind[name]:9.3f} s {kind[name] / kind['minimal']:4.2f}×" for kind in (wall, cpu)
        )
        print(f"{label:45}{figures}{target}")


if __name__ == "__main__":
    main()
