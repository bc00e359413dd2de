"""The dashboard's first page read by a child forked at start (tui/prefetch.py, issue 18).

Each check runs `messagerie`'s start in a new Python process: forking is only done before any
thread exists, which a pytest worker is not.
"""

import json
import os
import subprocess
import sys
from datetime import date

import pytest

from messagerie.models.demo.builder import seed_demo
from tests.helpers.cli import ROOT
from tests.helpers.terminal import Tmux

pytestmark = pytest.mark.services  # child Python processes

# The page the child sends, and the page the app's own query reads in the same process, as
# the account of MESSAGERIE_DEMO_LOGIN; then whether a child or a pipe is left behind.
CHILD_AND_APP_PAGES = """
import json, os
from messagerie.models.consultations.dashboard import dashboard_page
from messagerie.models.consultations.views import DashboardQuery, page_to_json
from messagerie.tui import cli, prefetch

args = cli.build_parser().parse_args([])
pipes = len(os.listdir("/proc/self/fd"))
started = prefetch.prefetch_first_page(lambda: cli.open_tui_store(args), cli.account_of)
sent = started.take()
try:
    os.waitpid(-1, os.WNOHANG)
    left = "a child"
except ChildProcessError:
    left = "nothing"
left_pipes = len(os.listdir("/proc/self/fd")) - pipes
store = cli.open_tui_store(args)
page = dashboard_page(store, DashboardQuery(), account=cli.account_of(store))
print(json.dumps({
    "child": json.loads(sent), "app": page_to_json(page), "equal": prefetch.page_of(sent) == page,
    "left": left, "left_pipes": left_pipes,
}))
"""

# `messagerie`'s start (tui/cli.py run_tui), headless, its child made to fail as argv[1] says:
# prints the results' title once the store's page is painted, then what is left of the child.
BROKEN_CHILD = """
import os, sys, time
import messagerie.tui.app as app_module
from messagerie.tui import cli, prefetch

app_module.OUTBOX_START_DELAY = 3600
prefetch.TIMEOUT = 2.0
KIND = sys.argv[1]
real = prefetch.first_page_json

def broken(open_store, account_of):
    if KIND == "dies":
        os._exit(3)
    if KIND == "hangs":
        time.sleep(3600)
    if KIND == "truncated":  # half an answer
        return real(open_store, account_of)[:100]
    return real(open_store, account_of)

prefetch.first_page_json = broken
started = time.monotonic()

def run(app):
    class Watched(type(app)):
        def on_dashboard_screen_page_shown(self, event):
            if not event.stale:
                print(self.screen.query_one("#results").border_title, flush=True)
                self.exit()
    app.__class__ = Watched
    app.run(headless=True, size=(80, 24))

code = cli.run_tui(cli.build_parser().parse_args([]), run=run)
try:
    os.waitpid(-1, os.WNOHANG)
    print("a child is left")
except ChildProcessError:
    print(f"exit {code}, no child left")
"""


def python(code: str, *arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *arguments],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def demo_environment(store, store_url, tmp_path) -> dict[str, str]:
    """A demo on each backend (the child works on PostgreSQL too), opened as paul.weber, who
    sees the consultations of one purchasing entity only."""
    seed_demo(store, today=date(2026, 11, 27))
    return {
        "MESSAGERIE_DB": store_url,
        "MESSAGERIE_DATA_DIR": str(tmp_path),
        "MESSAGERIE_DEMO_LOGIN": "paul.weber",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }


def test_the_child_sends_the_page_the_app_would_read(demo_environment):
    result = python(CHILD_AND_APP_PAGES, env=demo_environment)
    assert result.returncode == 0, result.stderr
    pages = json.loads(result.stdout)
    assert pages["equal"] and pages["child"] == pages["app"]
    # paul.weber's own page: his entity's consultations, not the demo's 1,395.
    assert 0 < pages["child"]["total"] < 1395
    assert pages["left"] == "nothing" and pages["left_pipes"] == 0


@pytest.mark.parametrize("kind", ["dies", "hangs", "truncated"])
def test_without_the_childs_page_the_dashboard_reads_the_store_itself(demo_url, tmp_path, kind):
    environment = {"MESSAGERIE_DB": demo_url, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = python(BROKEN_CHILD, kind, env=environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "1\u202f395 Résultats de recherche",
        "exit 0, no child left",
    ]


def test_a_login_without_account_is_refused_as_without_the_child(demo_url, tmp_path):
    environment = {
        "MESSAGERIE_DB": demo_url,
        "MESSAGERIE_DEMO_LOGIN": "inconnu",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    result = python(BROKEN_CHILD, "works", env=environment)
    assert result.stdout.splitlines() == ["exit 2, no child left"]
    assert "« inconnu » n'a pas de compte dans cette base" in result.stderr


def test_messagerie_in_a_terminal_shows_the_live_page_and_leaves_no_child(demo_url, tmp_path):
    tmux = Tmux(
        80,
        24,
        {
            "MESSAGERIE_DB": demo_url,
            "MESSAGERIE_DATA_DIR": str(tmp_path),
            "MESSAGERIE_SMTP_URL": "smtp://127.0.0.1:9",  # a relay: no local demo services
            "XDG_CACHE_HOME": str(tmp_path / "cache"),  # no page of an earlier run
            "TERM": "xterm-256color",
        },
    )
    try:
        shown = tmux.wait_for("Résultats de recherche")
        assert "actualisation" not in shown and "Page 1 sur 140" in shown
        tmux.wait_for("toutes les organisations")  # signed in: the support account in the header
        pid = tmux.run("list-panes", "-F", "#{pane_pid}").strip()
        children = subprocess.run(
            ["ps", "-o", "stat=", "--ppid", pid], capture_output=True, text=True
        ).stdout.split()
        assert not [state for state in children if state.startswith("Z")]  # no zombie
    finally:
        tmux.close()
